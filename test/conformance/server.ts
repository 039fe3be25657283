/**
 * The server under test of the Connect conformance suite
 * (`connectconformance --mode server`, test/conformance/conformance.test.ts):
 * ConformanceService/Unary served exactly as the RPC port serves Verify and
 * Check — the direct lane (src/rpc/direct-lane.ts) first, connect-node
 * (src/rpc/node-handler.ts) for whatever the lane hands back, on the same
 * listener (src/listeners.ts), with the same deadline and error handling.
 *
 * Protocol with the runner: a size-delimited ServerCompatRequest on stdin,
 * a size-delimited ServerCompatResponse (host, port) on stdout.
 *
 * The suite's protos are generated at test time into .cache/conformance/gen
 * (scripts/test-deps.sh), so they are loaded by path, not imported by name.
 */
import { writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { create, createRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescFile, DescMessage, DescMethodUnary, DescService, Message } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import type { Any } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { pino } from "pino";
import { DEFAULT_LIMITS } from "../../src/connection-limits.js";
import { dualProtocolServer } from "../../src/internal-port.js";
import { internalListener } from "../../src/listeners.js";
import { deadlineInterceptor } from "../../src/rpc/deadline.js";
import { directLane, directMethod } from "../../src/rpc/direct-lane.js";
import { refuseOnStream } from "../../src/rpc/early-refusal.js";
import { errorMappingInterceptor, toConnectError } from "../../src/rpc/error-mapping.js";
import { ACCEPT_COMPRESSION, rpcNodeHandler } from "../../src/rpc/node-handler.js";
import { requestIdFrom } from "../../src/domain/request-context.js";

const GEN = join(import.meta.dirname, "../../.cache/conformance/gen/connectrpc/conformance/v1");
const load = async (name: string) => (await import(pathToFileURL(join(GEN, name)).href)) as Record<string, unknown>;
const service = await load("service_pb.js");
const serverCompat = await load("server_compat_pb.js");

const ConformanceService = service.ConformanceService as DescService;
const UnaryRequestSchema = service.UnaryRequestSchema as DescMessage;
const UnaryResponseSchema = service.UnaryResponseSchema as DescMessage;
const RequestInfoSchema = service.ConformancePayload_RequestInfoSchema as DescMessage;
const ServerCompatRequestSchema = serverCompat.ServerCompatRequestSchema as DescMessage;
const ServerCompatResponseSchema = serverCompat.ServerCompatResponseSchema as DescMessage;

/** What a unary handler needs of its context: connect-es's HandlerContext and the lane's DirectCall both have it. */
interface UnaryContext {
  requestHeader: Headers;
  responseHeader: Headers;
  responseTrailer: Headers;
  timeoutMs(): number | undefined;
}

interface HeaderField {
  name: string;
  value: string[];
}
interface UnaryRequest extends Message {
  responseDefinition?: {
    responseHeaders: HeaderField[];
    responseTrailers: HeaderField[];
    responseDelayMs: number;
    response: { case: "responseData"; value: Uint8Array } | { case: "error"; value: { code: number; message?: string; details: Any[] } } | { case: undefined };
  };
}

/** ConformanceService/Unary as the suite describes it (docs/testing_servers.md of the suite). */
async function unary(request: UnaryRequest, ctx: UnaryContext): Promise<Message> {
  const definition = request.responseDefinition;
  const requestHeaders: HeaderField[] = [];
  ctx.requestHeader.forEach((value, name) => requestHeaders.push({ name, value: [value] }));
  const timeout = ctx.timeoutMs();
  const requestInfo = create(RequestInfoSchema, {
    requestHeaders,
    ...(timeout === undefined ? {} : { timeoutMs: BigInt(timeout) }),
    requests: [anyPack(UnaryRequestSchema, request)],
  } as never);
  for (const header of definition?.responseHeaders ?? []) for (const value of header.value) ctx.responseHeader.append(header.name, value);
  for (const header of definition?.responseTrailers ?? []) for (const value of header.value) ctx.responseTrailer.append(header.name, value);
  if (definition?.responseDelayMs) await sleep(definition.responseDelayMs);
  const response = definition?.response;
  if (response?.case === "error") {
    const { code, message, details } = response.value;
    const echoed = { desc: RequestInfoSchema, value: requestInfo as never };
    const given = details.map((detail) => ({ type: detail.typeUrl.slice(detail.typeUrl.lastIndexOf("/") + 1), value: detail.value }));
    throw new ConnectError(message ?? "", code as Code, undefined, [...given, echoed] as never);
  }
  return create(UnaryResponseSchema, {
    payload: { data: response?.case === "responseData" ? response.value : new Uint8Array(0), requestInfo },
  } as never);
}

const unaryMethod = ConformanceService.method.unary as DescMethodUnary;
const procedure = `${ConformanceService.typeName}/${unaryMethod.name}`;
const logger = pino({ level: "silent" });
const READ_MAX_BYTES = 4 * 1024 * 1024;
// JSON of the payload's google.protobuf.Any (the echoed request) needs the suite's types.
const jsonOptions = { ignoreUnknownFields: false, registry: createRegistry(service.file_connectrpc_conformance_v1_service as DescFile) };

/** Calls the lane answered itself; written to CONFORMANCE_LANE_COUNT (a file) at exit, for the test. */
let laneCalls = 0;
const rpc = rpcNodeHandler({
  routes: (router) => {
    router.service(ConformanceService, { unary: (request: Message, ctx: UnaryContext) => unary(request as UnaryRequest, ctx) } as never);
  },
  interceptors: [deadlineInterceptor(new Set([procedure])), errorMappingInterceptor(logger)],
  readMaxBytes: READ_MAX_BYTES,
  jsonOptions,
  onError: () => {},
});
const lane = directLane({
  methods: [directMethod(unaryMethod, (request, call) => unary(request as UnaryRequest, call))],
  readMaxBytes: READ_MAX_BYTES,
  jsonOptions,
  acceptCompression: ACCEPT_COMPRESSION,
  compressMinBytes: 1024,
  requestId: (headers) => requestIdFrom(headers["x-request-id"]),
  admit: () => true,
  refuse: (stream, headers, requestId) => refuseOnStream(stream, headers, { "x-request-id": requestId }),
  toConnectError: (error) => toConnectError(error, logger),
  onCall: () => void laneCalls++,
  onError: () => {},
});
const listener = internalListener(
  rpc,
  DEFAULT_LIMITS,
  (h2, handler, firstBytesTimeoutMs) => {
    const http1 = http.createServer(handler);
    return { server: dualProtocolServer(h2, http1, firstBytesTimeoutMs), http1 };
  },
  (stream, headers, compat) => lane(stream, headers, compat, (body) => rpc.delegate(stream, headers, body)),
);

/** Reads one size-delimited message from stdin. */
async function readRequest(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    const all = Buffer.concat(chunks);
    if (all.length >= 4 && all.length >= 4 + all.readUInt32BE(0)) return all.subarray(4, 4 + all.readUInt32BE(0));
  }
  throw new Error("stdin ended before a ServerCompatRequest");
}

const compat = fromBinary(ServerCompatRequestSchema, await readRequest()) as Message & { useTls: boolean };
if (compat.useTls) throw new Error("this server under test speaks h2c only (supports_tls: false)");
await new Promise<void>((resolve) => listener.server.listen(0, "127.0.0.1", resolve));
const address = listener.server.address();
const port = typeof address === "object" && address ? address.port : 0;
const answer = toBinary(ServerCompatResponseSchema, create(ServerCompatResponseSchema, { host: "127.0.0.1", port } as never));
const size = Buffer.alloc(4);
size.writeUInt32BE(answer.length);
process.stdout.write(Buffer.concat([size, answer]));
// The runner stops the server with a signal when the run ends.
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    if (process.env.CONFORMANCE_LANE_COUNT) writeFileSync(process.env.CONFORMANCE_LANE_COUNT, `${laneCalls}\n`, { flag: "a" });
    process.exit(0);
  });
}
