/**
 * Reading a JSON request body without trusting it: the content type must be
 * JSON, the size is bounded while reading (never buffered past the limit),
 * the bytes must be valid UTF-8 and the text valid JSON.
 */
import type { IncomingMessage } from "node:http";
import { RestProblem } from "./problem.js";

/**
 * Largest request body accepted; past it: 413. Room for a key at every
 * bound: name, 50 scopes and metadata of 32 entries of 64 + 512 ASCII characters.
 */
export const MAX_BODY_BYTES = 32 * 1024;
/**
 * How much of an unwanted or oversized body is read and discarded before
 * answering, so that the client reads the answer instead of a connection
 * reset. Past it the connection is closed without reading further.
 */
export const DRAIN_MAX_BYTES = 64 * 1024;

const JSON_TYPE = /^application\/json[ \t]*(;[ \t]*charset[ \t]*=[ \t]*"?utf-8"?[ \t]*)?$/i;

/** Whether the request carries a body at all (RFC 9112 §6.3). */
export function hasBody(req: IncomingMessage): boolean {
  if (req.headers["transfer-encoding"] !== undefined) return true;
  const length = req.headers["content-length"];
  return length !== undefined && length !== "0";
}

function declaredLength(req: IncomingMessage): number | null {
  const raw = req.headers["content-length"];
  return raw !== undefined && /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

function tooLarge(): RestProblem {
  return new RestProblem(413, "payload_too_large", `request body is larger than ${MAX_BODY_BYTES} bytes`);
}

/**
 * The parsed JSON body, or undefined when the request has none. Throws a
 * RestProblem: 415 not JSON, 413 too large, 400 not UTF-8 or not JSON.
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  if (!hasBody(req)) return undefined;
  const type = req.headers["content-type"] ?? "";
  if (!JSON_TYPE.test(type.trim())) {
    throw new RestProblem(415, "unsupported_media_type", "request body must be application/json (UTF-8)");
  }
  const length = declaredLength(req);
  if (length !== null && length > MAX_BODY_BYTES) throw tooLarge();

  const bytes = await readBounded(req, MAX_BODY_BYTES);
  if (bytes === null) throw tooLarge();

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new RestProblem(400, "invalid_utf8", "request body is not valid UTF-8");
  }
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new RestProblem(400, "invalid_json", "request body is not valid JSON");
  }
}

/** The whole body, or null as soon as it passes `limit` bytes (reading stops there). */
function readBounded(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (settle: () => void): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
      settle();
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        finish(() => resolve(null));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => finish(() => resolve(Buffer.concat(chunks, size)));
    const onClose = (): void =>
      finish(() => reject(new RestProblem(400, "incomplete_body", "request body ended early")));
    // After an abort the stream may still report an error; it has no one left to tell.
    req.on("error", () => {});
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("close", onClose);
  });
}

/**
 * Reads and discards what is left of the request body, up to
 * DRAIN_MAX_BYTES. True when the body was read to its end (the connection
 * can be kept); false when the connection must be closed.
 */
export function drainRequest(req: IncomingMessage): Promise<boolean> {
  if (req.readableEnded || !hasBody(req)) return Promise.resolve(true);
  const length = declaredLength(req);
  if (req.destroyed || (length !== null && length > DRAIN_MAX_BYTES)) return Promise.resolve(false);
  return new Promise((resolve) => {
    let size = 0;
    const finish = (ended: boolean): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
      if (!ended) req.pause();
      resolve(ended);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > DRAIN_MAX_BYTES) finish(false);
    };
    const onEnd = (): void => finish(true);
    const onClose = (): void => finish(false);
    req.on("error", () => {});
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("close", onClose);
    req.resume();
  });
}
