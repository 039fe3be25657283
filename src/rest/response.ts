/** What a REST handler answers, and the one function that writes it. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { PROBLEM_JSON } from "./problem.js";
import type { RestProblem } from "./problem.js";
import { drainRequest } from "./request-body.js";

export type HeaderValues = Record<string, string | string[]>;

export interface RestResponse {
  status: number;
  headers?: HeaderValues;
  /** A JSON value (serialized here), or body text already serialized. */
  body?: { json: unknown; type?: string } | { text: string; type: string };
}

export function jsonResponse(status: number, json: unknown, headers: HeaderValues = {}): RestResponse {
  return { status, headers, body: { json } };
}

export function problemResponse(problem: RestProblem): RestResponse {
  return { status: problem.status, headers: { ...problem.headers }, body: { json: problem.body, type: PROBLEM_JSON } };
}

/** Headers every /v1 answer carries. */
const COMMON_HEADERS: HeaderValues = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
};

/**
 * Writes the response. A request body nobody read is discarded first (up to a
 * bound) so the client can read the answer; past the bound the connection is
 * closed instead of reading on.
 */
export async function writeResponse(
  req: IncomingMessage,
  res: ServerResponse,
  response: RestResponse,
  extraHeaders: HeaderValues = {},
): Promise<void> {
  const drained = await drainRequest(req);
  if (res.headersSent || res.destroyed) return;
  const headers: HeaderValues = { ...COMMON_HEADERS, ...extraHeaders };
  for (const [name, value] of Object.entries(response.headers ?? {})) headers[name.toLowerCase()] = value;
  if (!drained) headers["connection"] = "close";
  let payload: string | undefined;
  if (response.body && "text" in response.body) {
    payload = response.body.text;
    headers["content-type"] = response.body.type;
  } else if (response.body) {
    payload = JSON.stringify(response.body.json);
    headers["content-type"] = response.body.type ?? "application/json";
  }
  if (payload !== undefined) headers["content-length"] = String(Buffer.byteLength(payload));
  res.writeHead(response.status, headers);
  res.end(payload);
}
