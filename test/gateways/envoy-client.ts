/** Runs test/gateways/envoy-client (Envoy's generated Go client) for a list of Check cases. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseReport, requireInstalled, runProgram } from "../clients/programs.js";

export interface CheckCase {
  name: string;
  /** Envoy's default encoding: one entry per name, repeated headers comma-joined. */
  headers?: Record<string, string>;
  /** Envoy's encode_raw_headers: one entry per header. */
  rawHeaders?: [string, string][];
  method: string;
  path: string;
  sourceIp?: string;
}

export interface HeaderOption {
  key: string;
  value: string;
  append: boolean | null;
}

export interface CheckResult {
  name: string;
  /** The gRPC error's code name when the call failed. */
  error?: string;
  /** ValidateAll's complaint; empty when Envoy's own validation accepts the response. */
  invalid: string;
  statusCode: number;
  allowed: boolean;
  response: "ok_response" | "denied_response" | "";
  httpStatus?: number;
  headers: HeaderOption[];
  responseHeadersToAdd: HeaderOption[];
  body?: string;
}

export async function check(port: number, token: string | null, cases: readonly CheckCase[]): Promise<Map<string, CheckResult>> {
  const bin = await requireInstalled(".cache/envoy-client/envoy-client");
  const dir = await mkdtemp(path.join(tmpdir(), "keyward-envoy-"));
  try {
    const file = path.join(dir, "cases.json");
    await writeFile(file, JSON.stringify(cases.map((c) => ({ sourceIp: "203.0.113.7", ...c }))));
    const args = ["-addr", `127.0.0.1:${port}`, "-cases", file, ...(token ? ["-token", token] : [])];
    const results = parseReport<CheckResult[]>(await runProgram(bin, args, { timeoutMs: 30_000 }));
    return new Map(results.map((r) => [r.name, r]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
