/**
 * `npm run bench -- --profile`: where a Verify's CPU time goes. The service
 * (cache hit, Redis limiter) and the trivial ConnectRPC handler each run under
 * `node --cpu-prof` while h2load saturates them, once per protocol (and
 * Envoy's Check on the service, over gRPC); each
 * profile is summarized (self time by owner, hottest functions, inclusive
 * time of our Verify path) and kept for Chrome DevTools.
 */
import { cp, readdir, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { formatSummary, rollUp, summarize } from "./cpu-profile.js";
import type { ProfileSummary, Share } from "./cpu-profile.js";
import { h2load } from "./h2load.js";
import type { Protocol } from "./payloads.js";
import { CHECK_PATH, VERIFY_PATH, WIRES, gatewayCheck, gatewayRequest } from "./payloads.js";
import { REPO_ROOT, startNodeServer } from "./processes.js";
import { writeResults } from "./report.js";
import { seed } from "./seed.js";

/** The functions of our Verify path, for inclusive time ("<name> <file>"). */
const OURS = [
  "answer src/rpc/direct-lane.ts",
  "writeConnect src/rpc/direct-lane.ts",
  "writeGrpc src/rpc/direct-lane.ts",
  "decodeVerifyRequest src/rpc/verify-request-binary.ts",
  "encodeVerifyResponse src/rpc/verify-response-binary.ts",
  "verify src/app/verify.ts",
  "checkHeaders src/domain/credentials.ts",
  "readCredential src/domain/credentials.ts",
  "parseKey src/domain/key-format.ts",
  "hashKey src/domain/key-format.ts",
  "get src/app/verification-cache.ts",
  "consume src/app/failover-rate-limiter.ts",
  "consume src/adapters/redis/redis-rate-limiter.ts",
  "recordUse src/app/usage-batcher.ts",
  "verdictToProto src/rpc/auth-service.ts",
  "allow src/domain/verdict.ts",
  "reclassifyParseErrors src/rpc/node-handler.ts",
  "decide src/edge/verification-edge.ts",
  "headersOf src/gateway/ext-authz.ts",
  "encodeCheckResponse src/rpc/check-response-binary.ts",
];

const LOAD = { clients: 4, streams: 16, durationS: 6, warmUpS: 2 };

export interface ProfileOptions {
  serviceEnv: Record<string, string>;
  scratch: string;
  log: (line: string) => void;
}

interface ProfileRun {
  server: string;
  protocol: Protocol;
  reqPerSec: number;
  /** CPU time of the server's main thread per request. */
  busyUsPerRequest: number;
  rolledUp: Share[];
  summary: ProfileSummary;
}

export async function profile({ serviceEnv, scratch, log }: ProfileOptions): Promise<void> {
  const startedAt = new Date();
  const seeder = await startNodeServer("keyward-seed", "bench/keyward-server.ts", { env: serviceEnv });
  const data = await seed(seeder.url, 0).finally(() => seeder.stop());
  const verdict = Buffer.from(data.verdict).toString("base64");
  const keep = join(os.tmpdir(), `keyward-profiles-${startedAt.getTime()}`);

  const targets = [
    { server: "verify (cache hit)", file: "bench/keyward-server.ts", env: serviceEnv },
    { server: "verify via connect-node", file: "bench/keyward-server.ts", env: { ...serviceEnv, BENCH_DIRECT_LANE: "off" } },
    { server: "trivial-connect", file: "bench/trivial-server.ts", env: { BENCH_RESPONSE: verdict } },
  ];
  const runs: ProfileRun[] = [];
  const checkBody = join(scratch, "profile-check.bin");
  await writeFile(checkBody, gatewayCheck(data.hotKey));
  const check = { server: "check (ext_authz)", file: "bench/keyward-server.ts", env: serviceEnv, path: CHECK_PATH, bodyFile: checkBody };
  for (const protocol of ["connect", "grpc"] as const) {
    const bodyFile = join(scratch, `profile-${protocol}.bin`);
    await writeFile(bodyFile, WIRES[protocol].encode(gatewayRequest(data.hotKey)));
    const here = [
      ...targets.map((target) => ({ ...target, path: VERIFY_PATH, bodyFile })),
      ...(protocol === "grpc" ? [check] : []),
    ];
    for (const target of here) {
      const { path, bodyFile } = target;
      const dir = join(scratch, `${target.server.replace(/\W/g, "_")}-${protocol}`);
      const server = await startNodeServer(target.server, target.file, {
        env: target.env,
        nodeArgs: ["--cpu-prof", "--cpu-prof-dir", dir],
      });
      let result;
      try {
        result = await h2load({ url: server.url + path, headers: WIRES[protocol].headers, bodyFile, ...LOAD, scratchDir: scratch });
      } finally {
        await server.stop(); // the profile is written as the process exits
      }
      const file = await mainThreadProfile(dir);
      const summary = summarize(file, OURS, 30);
      // The profile spans start-up, warm-up and the measured run: count every
      // request h2load sent (warm-up included) against the busy time.
      const requests = result.reqPerSec * (LOAD.durationS + LOAD.warmUpS);
      runs.push({
        server: target.server,
        protocol,
        reqPerSec: result.reqPerSec,
        busyUsPerRequest: Math.round((summary.busyMs * 1000) / requests),
        rolledUp: rollUp(summary),
        summary,
      });
      await cp(file, join(keep, `${target.server.replace(/\W+/g, "-")}-${protocol}.cpuprofile`));
      log(`${target.server} / ${protocol}: ${Math.round(result.reqPerSec)} req/s under the profiler`);
    }
  }

  for (const run of runs) {
    process.stdout.write(
      `\n=== ${run.server} / ${run.protocol}: ${Math.round(run.reqPerSec)} req/s, ~${run.busyUsPerRequest} µs CPU per request ===\n`,
    );
    process.stdout.write(`${formatSummary(run.summary)}\n`);
  }
  const file = await writeResults(join(REPO_ROOT, "bench/results"), startedAt, { startedAt: startedAt.toISOString(), load: LOAD, runs }, "profile-");
  process.stdout.write(`\nwrote ${file}; profiles for Chrome DevTools in ${keep}\n`);
}

/** node --cpu-prof writes one file per thread (tsx runs a loader thread): the busiest is the main one. */
async function mainThreadProfile(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((name) => name.endsWith(".cpuprofile")).map((name) => join(dir, name));
  const sized = await Promise.all(files.map(async (file) => ({ file, size: (await stat(file)).size })));
  const biggest = sized.sort((a, b) => b.size - a.size)[0];
  if (!biggest) throw new Error(`no .cpuprofile written in ${dir}`);
  return biggest.file;
}
