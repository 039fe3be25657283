/**
 * The Connect conformance suite (connectrpc.com/conformance v1.0.7, installed
 * by scripts/test-deps.sh) against test/conformance/server.ts: the RPC port's
 * framing — the direct lane and connect-node behind it — serving the suite's
 * ConformanceService/Unary. Every case of test/conformance/config.yaml must
 * pass; the suite's reference clients are connect-go and grpc-go.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const RUNNER = ".cache/conformance/bin/connectconformance";

function run(laneCount: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      RUNNER,
      ["--mode", "server", "--conf", "test/conformance/config.yaml", "--", process.execPath, "--import", "tsx", "test/conformance/server.ts"],
      { timeout: 240_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, CONFORMANCE_LANE_COUNT: laneCount } },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: stdout + stderr }),
    );
  });
}

describe("Connect conformance suite, server mode", () => {
  it("passes every unary case over HTTP/1.1 and HTTP/2: Connect, gRPC and gRPC-Web, binary and JSON, with and without gzip", async () => {
    const laneCount = join(await mkdtemp(join(tmpdir(), "conformance-")), "lane-calls");
    const { code, output } = await run(laneCount);
    const total = Number(/Total cases: (\d+)/.exec(output)?.[1] ?? 0);
    const [, passed = "0", failed = "-1"] = /(\d+) passed, (\d+) failed/.exec(output) ?? [];
    process.stdout.write(`conformance: ${passed} of ${total} cases passed\n`);
    expect(Number(failed), output.slice(-6000)).toBe(0);
    expect(code, output.slice(-6000)).toBe(0);
    expect(total).toBeGreaterThanOrEqual(700); // the config's whole matrix ran, not a filtered few
    expect(Number(passed)).toBe(total);
    // The runner starts one server per protocol and HTTP version; the lane took
    // calls in them (the plain HTTP/2 Connect and gRPC ones), connect-node the rest.
    const laneCalls = (await readFile(laneCount, "utf8")).trim().split("\n").map(Number);
    process.stdout.write(`conformance: calls answered by the direct lane, per server: ${laneCalls.join(", ")}\n`);
    expect(laneCalls.reduce((a, b) => a + b, 0)).toBeGreaterThan(50);
  }, 300_000);
});
