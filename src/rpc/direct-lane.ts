/**
 * The direct lane: the hot unary methods (Verify, Envoy's Check) served on
 * node:http2's stream API, without connect-node's per-call machinery
 * (compatibility request/response objects, Headers, AbortControllers, async
 * iterators). It takes only the common, well-formed call: POST, Connect
 * unary (`application/proto`, `application/json`) or gRPC
 * (`application/grpc[+proto]`), no request compression, a valid or absent
 * deadline, one complete message. Everything else — another content type or
 * protocol, a compressed or oversized body, a split or garbled frame, a bad
 * timeout header — goes to connect-node unchanged (`fallback` before the
 * body is read, `delegate` with the bytes read so far after), so whatever a
 * caller can observe is connect-node's: the answers this lane writes are
 * built with connect-es's own functions (serialization, compression
 * negotiation, error bodies, trailer status).
 */
import { createMethodSerializationLookup } from "@connectrpc/connect/protocol";
import type { Compression, MethodSerializationLookup } from "@connectrpc/connect/protocol";
import { compressionNegotiate } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes, parseTimeout as parseConnectTimeout } from "@connectrpc/connect/protocol-connect";
import { parseTimeout as parseGrpcTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { Code, ConnectError } from "@connectrpc/connect";
import type { DescMessage, DescMethodUnary, JsonReadOptions, MessageShape } from "@bufbuild/protobuf";
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";

/**
 * What a lane method gets besides its request message: the call's headers,
 * deadline, and response headers and trailers to set — the part of
 * connect-es's HandlerContext the hot methods use, made only when asked for.
 */
export class DirectCall {
  private readonly deadline: number | undefined;
  private request: Headers | undefined;
  /** The response headers and trailers a method set, if any (the writers read them). */
  header_: Headers | undefined;
  trailer_: Headers | undefined;

  constructor(
    private readonly headers: IncomingHttpHeaders,
    timeoutMs: number | undefined,
  ) {
    // Whole milliseconds, as connect-es's Date-based deadline (grpc-timeout may say "n" or "u").
    this.deadline = timeoutMs === undefined ? undefined : Math.trunc(Date.now() + timeoutMs);
  }

  /** A request header's value as `Headers.get` reads it, or null. */
  header(name: string): string | null {
    return joined(this.headers[name.toLowerCase()]) ?? null;
  }

  /** Every request header but the pseudo-headers, as connect-node gives them. */
  get requestHeader(): Headers {
    return (this.request ??= webHeaders(this.headers));
  }

  get responseHeader(): Headers {
    return (this.header_ ??= new Headers());
  }

  get responseTrailer(): Headers {
    return (this.trailer_ ??= new Headers());
  }

  /** Milliseconds left before the caller's deadline; undefined: none. */
  timeoutMs(): number | undefined {
    return this.deadline === undefined ? undefined : this.deadline - Date.now();
  }
}

export interface DirectMethod<I extends DescMessage = DescMessage, O extends DescMessage = DescMessage, In = MessageShape<I>> {
  method: DescMethodUnary<I, O>;
  /** The method's work; a thrown error is answered as connect-node would answer it. */
  call(input: In, call: DirectCall): Promise<MessageShape<O>>;
  /** What `call` takes, made of the request message protobuf-es read; absent: the message itself. */
  input?: (message: MessageShape<I>) => In;
  /** Writes the output in the binary format, byte for byte as toBinary would; absent: toBinary. */
  encode?: (output: MessageShape<O>) => Uint8Array;
  /** Reads the binary input as fromBinary (then `input`) would, or answers null to leave it to fromBinary. */
  decode?: (bytes: Uint8Array) => In | null;
  /** The same for the JSON format: byte for byte as toJsonString would write it (as UTF-8). */
  encodeJson?: (output: MessageShape<O>) => Uint8Array;
  /** Reads JSON input as fromJsonString (then `input`) would, or answers null to leave it to fromJsonString. */
  decodeJson?: (bytes: Uint8Array) => In | null;
}

/** A lane method's own readers and writers, each optional (protobuf-es's otherwise). */
export type DirectCodec<I extends DescMessage, O extends DescMessage, In = MessageShape<I>> = Pick<
  DirectMethod<I, O, In>,
  "input" | "encode" | "decode" | "encodeJson" | "decodeJson"
>;

/** Any lane method, as the lane's list holds them. */
export type AnyDirectMethod = DirectMethod<DescMessage, DescMessage, unknown>;

/** A lane method, its types erased for the lane's list. */
export function directMethod<I extends DescMessage, O extends DescMessage, In = MessageShape<I>>(
  method: DescMethodUnary<I, O>,
  call: (input: In, call: DirectCall) => Promise<MessageShape<O>>,
  codec: DirectCodec<I, O, In> = {},
): AnyDirectMethod {
  return { method, call, ...codec } as unknown as AnyDirectMethod;
}

/** Told of every call the lane answered (or refused), for the access log and metrics. */
export interface DirectCallRecord {
  requestId: string;
  method: DescMethodUnary;
  /** The RPC code; undefined: ok. */
  code: Code | undefined;
  output: unknown;
  startedAt: number;
}

export interface DirectLaneOptions {
  methods: readonly AnyDirectMethod[];
  /** Largest request message, as connect-node's readMaxBytes. */
  readMaxBytes: number;
  jsonOptions: Partial<JsonReadOptions>;
  acceptCompression: readonly Compression[];
  /** Responses at least this large are compressed when the client accepts it (connect-es's default: 1024). */
  compressMinBytes: number;
  /** The call's request id, from the stream's headers. */
  requestId(headers: IncomingHttpHeaders): string;
  /** Whether the call may go on (service token); false: `refuse` answers it. */
  admit(path: string, headers: IncomingHttpHeaders): boolean;
  refuse(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, requestId: string): void;
  /** Maps what a method threw to the error the caller sees. */
  toConnectError(error: unknown): ConnectError;
  onCall(record: DirectCallRecord): void;
  onError(error: unknown): void;
}

/** What the stream carries: the protocol and message format its content type names. */
interface Wire {
  grpc: boolean;
  binary: boolean;
}

const WIRES: Readonly<Record<string, Wire>> = {
  "application/proto": { grpc: false, binary: true },
  "application/json": { grpc: false, binary: false },
  "application/grpc": { grpc: true, binary: true },
  "application/grpc+proto": { grpc: true, binary: true },
};

const GRPC_HEADER_BYTES = 5;
const GRPC_OK: OutgoingHttpHeaders = { "grpc-status": "0" };

function sendOkTrailers(this: ServerHttp2Stream): void {
  this.sendTrailers(GRPC_OK);
}

interface Route {
  method: AnyDirectMethod;
  serialization: MethodSerializationLookup<DescMessage, DescMessage>;
}

/**
 * A handler for the HTTP/2 server's `stream` event: the lane's methods are
 * answered here; `fallback` gets every other stream untouched, `delegate`
 * the streams the lane started to read and hands back with their bytes.
 */
export function directLane(options: DirectLaneOptions) {
  const routes = new Map<string, Route>();
  for (const method of options.methods) {
    const serialization = createMethodSerializationLookup(method.method, undefined, options.jsonOptions, {
      readMaxBytes: options.readMaxBytes,
      writeMaxBytes: 0xffffffff,
    });
    routes.set(`/${method.method.parent.typeName}/${method.method.name}`, { method, serialization });
  }

  return (
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    fallback: () => void,
    delegate: (body: readonly Buffer[]) => void,
  ): void => {
    const path = headers[":path"] ?? "";
    const route = routes.get(path);
    const wire = WIRES[joined(headers["content-type"]) ?? ""];
    if (
      route === undefined ||
      wire === undefined ||
      headers[":method"] !== "POST" ||
      headers["content-encoding"] !== undefined ||
      headers["grpc-encoding"] !== undefined
    ) {
      return fallback();
    }
    const timeoutHeader = joined(headers[wire.grpc ? "grpc-timeout" : "connect-timeout-ms"]);
    let timeoutMs: number | undefined;
    if (timeoutHeader !== undefined) {
      const parsed = wire.grpc
        ? parseGrpcTimeout(timeoutHeader, Number.MAX_SAFE_INTEGER)
        : parseConnectTimeout(timeoutHeader, Number.MAX_SAFE_INTEGER);
      if (parsed.error) return fallback();
      timeoutMs = parsed.timeoutMs;
    }
    const declared = wire.grpc ? undefined : joined(headers["content-length"]);
    if (declared !== undefined && Number(declared) > options.readMaxBytes) return fallback();

    const startedAt = performance.now();
    const requestId = options.requestId(headers);
    if (!options.admit(path, headers)) {
      options.refuse(stream, headers, requestId);
      options.onCall({ requestId, method: route.method.method, code: Code.Unauthenticated, output: undefined, startedAt });
      return;
    }

    const limit = options.readMaxBytes + (wire.grpc ? GRPC_HEADER_BYTES : 0);
    const chunks: Buffer[] = [];
    let length = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      if (length > limit) {
        // Too large for the lane: connect-node reads the rest and answers.
        stream.off("data", onData);
        stream.off("end", onEnd);
        stream.pause();
        delegate(chunks);
      }
    };
    const onEnd = (): void => {
      stream.off("data", onData);
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length);
      const message = messageOf(body, wire, declared);
      let input: unknown;
      try {
        if (message === null) throw new Error("not a single well-formed message");
        const read = wire.binary ? route.method.decode : route.method.decodeJson;
        input = read?.(message) || inputOf(route, route.serialization.getI(wire.binary).parse(message));
      } catch {
        // connect-node words the error (and the status) for a malformed body.
        delegate(chunks);
        return;
      }
      answer(stream, headers, wire, route, input, { requestId, timeoutMs, startedAt }, options);
    };
    stream.on("data", onData);
    stream.once("end", onEnd);
  };
}

/** An HTTP/2 stream's headers as connect-node gives them to handlers: every one but the pseudo-headers. */
export function webHeaders(headers: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) out.append(name, String(one));
  }
  return out;
}

/** A header's value as connect-es reads it (`Headers.get`): repeated values joined by ", ". */
const joined = (value: string | string[] | undefined): string | undefined =>
  typeof value === "string" || value === undefined ? value : value.join(", ");

/** The message bytes of a complete body, or null when connect-node should judge it. */
function messageOf(body: Buffer, wire: Wire, declaredLength: string | undefined): Uint8Array | null {
  if (!wire.grpc) {
    return declaredLength === undefined || Number(declaredLength) === body.length ? body : null;
  }
  if (body.length < GRPC_HEADER_BYTES || body[0] !== 0) return null;
  return body.readUInt32BE(1) === body.length - GRPC_HEADER_BYTES ? body.subarray(GRPC_HEADER_BYTES) : null;
}

/** What the method takes, from the request message protobuf-es read. */
const inputOf = (route: Route, message: MessageShape<DescMessage>): unknown => (route.method.input ? route.method.input(message) : message);

function serialize(route: Route, wire: Wire, output: MessageShape<DescMessage>): Uint8Array {
  const encode = wire.binary ? route.method.encode : route.method.encodeJson;
  return encode ? encode(output) : route.serialization.getO(wire.binary).serialize(output);
}

interface CallState {
  requestId: string;
  timeoutMs: number | undefined;
  startedAt: number;
}

function answer(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  wire: Wire,
  route: Route,
  input: unknown,
  state: CallState,
  options: DirectLaneOptions,
): void {
  // What the caller accepts back (nothing requested: no negotiation to do).
  const accepted = joined(headers[wire.grpc ? "grpc-accept-encoding" : "accept-encoding"]);
  const compression = accepted
    ? compressionNegotiate(options.acceptCompression as Compression[], null, accepted, wire.grpc ? "grpc-accept-encoding" : "accept-encoding").response
    : null;
  let settled = false;
  const settle = (output: MessageShape<DescMessage> | undefined, error: ConnectError | undefined): void => {
    if (settled) return;
    settled = true;
    if (timer !== undefined) clearTimeout(timer);
    try {
      options.onCall({
        requestId: state.requestId,
        method: route.method.method,
        code: error?.code,
        output,
        startedAt: state.startedAt,
      });
    } catch (failure) {
      // The access log or a metric failed: the caller still gets its answer.
      options.onError(failure);
    }
    const reply: Reply = { stream, call, requestId: state.requestId, wire, route, output, error, compression, options };
    // Without compression the answer is written at once; compressing waits for zlib.
    if (compression !== null) {
      answerCompressed(reply, compression).catch(options.onError);
      return;
    }
    try {
      (wire.grpc ? writeGrpc : writeConnect)(reply, replyBytes(reply), false);
    } catch (failure) {
      // settle also runs from the deadline's timer: nothing may escape it.
      options.onError(failure);
    }
  };
  // The caller's deadline: answered DEADLINE_EXCEEDED when it passes first.
  const timer =
    state.timeoutMs === undefined
      ? undefined
      : setTimeout(() => settle(undefined, new ConnectError("the operation timed out", Code.DeadlineExceeded)), state.timeoutMs);
  const call = new DirectCall(headers, state.timeoutMs);
  let result: Promise<MessageShape<DescMessage>>;
  try {
    result = route.method.call(input, call);
  } catch (error) {
    result = Promise.reject(error); // a method that threw before its first await
  }
  result
    .then(
      (output) => settle(output, undefined),
      (error: unknown) => settle(undefined, options.toConnectError(error)),
    )
    .catch(options.onError);
}

/** What the writers need to answer one call: its output, or the error to answer instead. */
interface Reply {
  stream: ServerHttp2Stream;
  call: DirectCall;
  requestId: string;
  wire: Wire;
  route: Route;
  output: MessageShape<DescMessage> | undefined;
  error: ConnectError | undefined;
  compression: Compression | null;
  options: DirectLaneOptions;
}

/** The answer's body (or message), compressed when the caller accepts it and it is large enough. */
async function answerCompressed(reply: Reply, compression: Compression): Promise<void> {
  const write = reply.wire.grpc ? writeGrpc : writeConnect;
  const body = replyBytes(reply);
  if (body.byteLength < reply.options.compressMinBytes) return write(reply, body, false);
  write(reply, await compression.compress(body), true);
}

/** What the answer carries: the output in the call's format, or (Connect only) the error as JSON. */
function replyBytes({ route, wire, output, error, options }: Reply): Uint8Array {
  if (error || output === undefined) {
    // gRPC carries errors in trailers: no body.
    return wire.grpc ? NO_BYTES : errorToJsonBytes(failureOf(error), options.jsonOptions);
  }
  return serialize(route, wire, output);
}

const failureOf = (error: ConnectError | undefined): ConnectError => error ?? new ConnectError("internal error", Code.Internal);

/**
 * Connect unary: the message (or a JSON error) as the whole body; trailers
 * as `trailer-` headers. `body`: replyBytes's, compressed when `compressed`.
 */
function writeConnect(reply: Reply, body: Uint8Array, compressed: boolean): void {
  const { stream, call, requestId, wire, output, error, compression } = reply;
  const failed = error !== undefined || output === undefined;
  const status = failed ? codeToHttpStatus(failureOf(error).code) : 200;
  const type = failed || !wire.binary ? "application/json" : "application/proto";
  // In connect-node's order: a caller comparing bytes sees no difference.
  const headers: OutgoingHttpHeaders = { ":status": status, "x-request-id": requestId, "content-length": body.byteLength, "content-type": type };
  call.header_?.forEach((value, key) => void (headers[key] = value));
  headers["content-type"] = type;
  if (failed) failureOf(error).metadata.forEach((value, key) => void (headers[key] = value));
  if (compressed && compression) headers["content-encoding"] = compression.name;
  call.trailer_?.forEach((value, key) => void (headers[`trailer-${key}`] = value));
  headers["content-length"] = body.byteLength;
  if (stream.destroyed || stream.closed) return;
  stream.respond(rawHeaders(headers));
  // Ended once the body is written: `end(body)` on a stream whose request
  // already ended makes Node build an ERR_STREAM_DESTROYED (with its stack)
  // for every call when the stream closes under the pending write.
  stream.write(body, () => stream.end());
}

/** gRPC: headers, one length-prefixed message (none for an error), the status in trailers. `message`: replyBytes's, compressed when `compressed`. */
function writeGrpc(reply: Reply, message: Uint8Array, compressed: boolean): void {
  const { stream, call, requestId, output, error, compression } = reply;
  const headers: OutgoingHttpHeaders = { ":status": 200, "x-request-id": requestId, "content-type": "application/grpc+proto" };
  if (compression) headers["grpc-encoding"] = compression.name;
  call.header_?.forEach((value, key) => void (headers[key] = value));
  const failed = error !== undefined || output === undefined;
  let frame: Buffer | undefined;
  if (!failed) {
    frame = Buffer.allocUnsafe(GRPC_HEADER_BYTES + message.byteLength);
    frame[0] = compressed ? 1 : 0;
    frame.writeUInt32BE(message.byteLength, 1);
    frame.set(message, GRPC_HEADER_BYTES);
  }
  let trailers: OutgoingHttpHeaders = GRPC_OK;
  if (failed || call.trailer_) {
    const trailer = new Headers(call.trailer_);
    if (failed) setTrailerStatus(trailer, failureOf(error));
    else trailer.set("grpc-status", "0");
    trailers = {};
    trailer.forEach((value, key) => void (trailers[key] = value));
  }
  if (stream.destroyed || stream.closed) return;
  stream.respond(rawHeaders(headers), WAIT_FOR_TRAILERS);
  // 'wantTrailers' comes once. The common answer's listener is shared, not a closure per call.
  stream.on("wantTrailers", trailers === GRPC_OK ? sendOkTrailers : () => stream.sendTrailers(trailers));
  if (frame) stream.end(frame);
  else stream.end();
}

/**
 * Headers as the flat name/value list `respond` also takes. The stream keeps
 * what `respond` was given until V8's next full collection (an HTTP/2
 * stream outlives every minor one), and an object is kept as a dictionary
 * copy several times the size of this list; the bytes on the wire are the same.
 */
function rawHeaders(headers: OutgoingHttpHeaders): string[] {
  const raw: string[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const one of value) raw.push(name, one);
    else raw.push(name, String(value));
  }
  return raw;
}

const WAIT_FOR_TRAILERS = { waitForTrailers: true } as const;
const NO_BYTES = new Uint8Array(0);
