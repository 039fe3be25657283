/**
 * `npm run bench`: Verify against two baselines measured in the same run, on
 * the same machine, served the same way (h2c, one process each):
 *
 * - verify (cache hit): the real service on FerretDB + Redis, one hot key,
 *   the Redis GCRA limiter on every call (a plan that never denies);
 * - trivial-connect: the same connect-node stack answering a constant verdict;
 * - raw-http2: node:http2 answering the same bytes.
 *
 * Each over the Connect protocol (binary) and gRPC, with h2load: throughput
 * (saturating; median of three rounds), unloaded (one request at a time) for p50,
 * and paced at half of Verify's max throughput for p99. Then Verify on cache
 * misses (fresh processes, one never-seen key per request, Node generator),
 * on FerretDB and on the embedded store, and side measurements: Verify on
 * 2 node:cluster workers, Verify (one process and two workers) on a Redis
 * Cluster the bench starts, a key with an IP allowlist and credits, and the
 * trivial handler behind our rpcNodeHandler wrapper. Prints a table, writes JSON to bench/results/.
 * `npm run bench -- --profile` profiles instead (see profile.ts).
 * `npm run bench -- --compare-node /usr/bin/node` adds Verify and raw http2
 * served by that other Node binary to the cache-hit rounds (the Node 20 → 24
 * comparison in bench/README.md).
 */
import { execFileSync } from "node:child_process";
import { fromBinary, toJsonString } from "@bufbuild/protobuf";
import { VerifyResponseSchema } from "../gen/authn/v1/auth_pb.js";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { startFerretDb, startRedis, startRedisCluster } from "../test/setup/servers.js";
import { ensureDependencies, h2loadVersion } from "./deps.js";
import { h2load } from "./h2load.js";
import { nodeLoad } from "./node-load.js";
import type { Protocol } from "./payloads.js";
import { CHECK_PATH, VERIFY_PATH, WIRES, gatewayCheck, gatewayRequest } from "./payloads.js";
import { REPO_ROOT, compileServers, startNodeServer } from "./processes.js";
import type { NodeServer } from "./processes.js";
import { profile } from "./profile.js";
import { RAW, TARGETS, TRIVIAL, buildRows, formatTable, writeResults } from "./report.js";
import type { LoadKind, Resources, RunRecord } from "./report.js";
import { processCpuSeconds, redisCpuTotal, redisRoundTripMs } from "./resources.js";
import type { LoadResult } from "./stats.js";
import { seed } from "./seed.js";
import { checkVerify } from "./verify-check.js";

const VERIFY = "verify (cache hit)";
/** The same service with the direct lane off: every call through connect-node (the code before it). */
const VERIFY_CONNECT_NODE = "verify via connect-node";
/** Envoy's ext_authz Check for the same request, on the same server and path. */
const CHECK = "check (ext_authz, cache hit)";
/** The same service and data with the in-process limiter (no REDIS_URL): Verify without the Redis round trip. */
const VERIFY_LOCAL_LIMITER = "verify (cache hit, in-process limiter)";
/** The same server and path, with a key that has an IP allowlist and credits. */
const VERIFY_CONTROLS = "verify (cache hit, allowlist + credits)";
const MISS_FERRETDB = "verify (cache miss, FerretDB)";
const MISS_EMBEDDED = "verify (cache miss, embedded store)";
const VERIFY_CLUSTER = "verify, 2 cluster workers";
const VERIFY_REDIS_CLUSTER = "verify (cache hit), Redis Cluster";
const VERIFY_CLUSTER_REDIS_CLUSTER = "verify, 2 workers, Redis Cluster";

/** The load shapes, the same for every server (h2load). */
const LOADS = {
  /** Enough in flight to saturate one Node process (more does not go faster). */
  throughput: { clients: 4, streams: 16, durationS: 3, warmUpS: 1, rounds: 3 },
  unloaded: { clients: 1, streams: 1, durationS: 2, warmUpS: 0.5 },
  /** Paced: h2load clients started 1 ms apart (see h2load.ts), the rate split over them. */
  half: { clients: 10, streams: 16, durationS: 3 },
} as const;

/** The cache-miss runs (Node generator): each request a key the process has not seen. */
const MISS_LOADS = {
  throughput: { clients: 4, streams: 16, durationS: 3 },
  unloaded: { clients: 1, streams: 1, durationS: 2 },
  half: { clients: 4, streams: 16, durationS: 3 },
} as const;
/**
 * Keys per cache-miss store. FerretDB v1 (SQLite) pushes no filter down but
 * _id: every lookup by hash scans the collection, so a miss there costs
 * O(keys) — a few ms per 1,000 keys — and more keys only make the run slower.
 */
const MISS_KEYS = { ferretdb: 600, embedded: 6000 } as const;

const PROTOCOLS: readonly Protocol[] = ["connect", "connect-json", "grpc"];
/** The side measurements (workers, Redis Cluster) use the binary protocols only. */
const BINARY_PROTOCOLS: readonly Protocol[] = ["connect", "grpc"];

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
const cleanups: (() => Promise<void>)[] = [];

async function main(): Promise<void> {
  const startedAt = new Date();
  const profiling = process.argv.includes("--profile");
  const otherNode = optionValue("--compare-node");
  ensureDependencies(log);
  log("compiling the service and the bench servers (tsc -p tsconfig.bench.json)");
  compileServers();
  const loadAverage = os.loadavg()[0] ?? 0;
  if (loadAverage > 0.5) log(`warning: load average ${loadAverage.toFixed(2)} at start: other work competes for the CPUs`);

  const scratch = await mkdtemp(join(os.tmpdir(), "keyward-bench-"));
  cleanups.push(() => rm(scratch, { recursive: true, force: true }));
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  const mongoFromEnv = process.env.MONGODB_URI?.trim();
  const mongoUri = mongoFromEnv || (await startMongo());
  const serviceEnv: Record<string, string> = {
    MONGODB_URI: mongoUri,
    KEYWARD_MONGODB_DATABASE: `bench_${startedAt.getTime()}`,
    REDIS_URL: redis.url,
    KEYWARD_LOG_LEVEL: "warn",
    KEYWARD_ENV: "development",
    KEYWARD_HOST: "127.0.0.1",
    KEYWARD_RPC_PORT: "0",
    KEYWARD_HTTP_PORT: "0",
    KEYWARD_INTERNAL_TOKENS: "",
  };

  if (profiling) {
    await profile({ serviceEnv, scratch, log });
    return;
  }

  const verify = await startServer("keyward", "bench/keyward-server.ts", serviceEnv);
  log(`seeding: an organization with a huge plan, ${MISS_KEYS.ferretdb + 1} keys through the RPC API`);
  const data = await seed(verify.url, MISS_KEYS.ferretdb);
  const verdict = {
    BENCH_RESPONSE: Buffer.from(data.verdict).toString("base64"),
    BENCH_RESPONSE_JSON: Buffer.from(toJsonString(VerifyResponseSchema, fromBinary(VerifyResponseSchema, data.verdict))).toString("base64"),
  };
  const viaConnectNode = await startServer(VERIFY_CONNECT_NODE, "bench/keyward-server.ts", { ...serviceEnv, BENCH_DIRECT_LANE: "off" });
  const trivial = await startServer("trivial-connect", "bench/trivial-server.ts", verdict);
  const raw = await startServer("raw-http2", "bench/raw-server.ts", verdict);
  const localLimiter = await startServer(VERIFY_LOCAL_LIMITER, "bench/keyward-server.ts", { ...serviceEnv, REDIS_URL: "" });

  // What each scenario sends: its server, path and body per protocol; paced: also measured unloaded and at half load.
  interface Target {
    server: NodeServer;
    path: string;
    bodies: Partial<Record<Protocol, string>>;
    paced: boolean;
  }
  const bodyFile = async (name: string, bytes: Buffer): Promise<string> => {
    const file = join(scratch, `${name}.bin`);
    await writeFile(file, bytes);
    return file;
  };
  const verifyBodies = async (key: string, name: string): Promise<Partial<Record<Protocol, string>>> => {
    const bodies: Partial<Record<Protocol, string>> = {};
    for (const protocol of PROTOCOLS) bodies[protocol] = await bodyFile(`${name}-${protocol}`, WIRES[protocol].encode(gatewayRequest(key)));
    return bodies;
  };
  const hot = await verifyBodies(data.hotKey, "verify");
  const targets = new Map<string, Target>([
    [VERIFY, { server: verify, path: VERIFY_PATH, bodies: hot, paced: true }],
    [CHECK, { server: verify, path: CHECK_PATH, bodies: { grpc: await bodyFile("check-grpc", gatewayCheck(data.hotKey)) }, paced: true }],
    [VERIFY_CONNECT_NODE, { server: viaConnectNode, path: VERIFY_PATH, bodies: hot, paced: true }],
    [VERIFY_LOCAL_LIMITER, { server: localLimiter, path: VERIFY_PATH, bodies: hot, paced: true }],
    [VERIFY_CONTROLS, { server: verify, path: VERIFY_PATH, bodies: await verifyBodies(data.controlledKey, "verify-controls"), paced: false }],
    [TRIVIAL, { server: trivial, path: VERIFY_PATH, bodies: hot, paced: true }],
    [RAW, { server: raw, path: VERIFY_PATH, bodies: hot, paced: true }],
  ]);
  if (otherNode) {
    const major = execFileSync(otherNode, ["-p", "process.versions.node.split('.')[0]"], { encoding: "utf8" }).trim();
    for (const [scenario, file, env] of [
      [VERIFY, "bench/keyward-server.ts", serviceEnv],
      [RAW, "bench/raw-server.ts", verdict],
    ] as const) {
      const name = `${scenario} on Node ${major}`;
      targets.set(name, { server: await startServer(name, file, env, otherNode), path: VERIFY_PATH, bodies: hot, paced: true });
    }
  }

  const runs: RunRecord[] = [];
  const measure = async (
    scenario: string,
    target: Pick<Target, "server" | "path"> & { body: string },
    protocol: Protocol,
    load: LoadKind,
    options: { rate?: number; warmUpS?: number; redisNodes?: readonly string[] } = {},
  ): Promise<RunRecord> => {
    const shape = LOADS[load];
    const warmUpS = options.warmUpS ?? ("warmUpS" in shape ? shape.warmUpS : undefined);
    const { result, resources } = await metered(target.server, options.redisNodes ?? redis.url, () => h2load({
      url: target.server.url + target.path,
      headers: WIRES[protocol].headers,
      bodyFile: target.body,
      clients: shape.clients,
      streams: shape.streams,
      durationS: shape.durationS,
      ...(warmUpS ? { warmUpS } : {}),
      ...(options.rate ? { rate: options.rate } : {}),
      scratchDir: scratch,
    }));
    return {
      scenario,
      protocol,
      load,
      generator: "h2load",
      clients: shape.clients,
      streams: shape.streams,
      targetRps: options.rate ?? null,
      result,
      resources,
    };
  };
  const record = (run: RunRecord): void => {
    runs.push(run);
    log(describe(run));
  };

  for (const protocol of PROTOCOLS) {
    const here = [...targets].flatMap(([scenario, t]) => {
      const body = t.bodies[protocol];
      return body ? [{ scenario, paced: t.paced, target: { server: t.server, path: t.path, body } }] : [];
    });
    // Rounds alternate the servers, so a disturbance hits one round of each,
    // not all of one server's; the median round counts.
    const rounds = new Map<string, RunRecord[]>();
    for (let round = 0; round < LOADS.throughput.rounds; round++) {
      for (const { scenario, target } of here) {
        const run = await measure(scenario, target, protocol, "throughput", round > 0 ? { warmUpS: 0 } : {});
        rounds.set(scenario, [...(rounds.get(scenario) ?? []), run]);
      }
    }
    const best = new Map<string, RunRecord>();
    for (const [scenario, runs] of rounds) {
      const sorted = [...runs].sort((a, b) => a.result.reqPerSec - b.result.reqPerSec);
      const median = sorted[Math.floor(sorted.length / 2)] as RunRecord;
      best.set(scenario, { ...median, rounds: runs.map((r) => r.result.reqPerSec) });
    }
    for (const run of best.values()) record(run);
    const paced = here.filter((h) => h.paced);
    for (const { scenario, target } of paced) record(await measure(scenario, target, protocol, "unloaded"));
    // Every server paced at the same rate: half of Verify's max on this protocol.
    const half = Math.round((best.get(VERIFY)?.result.reqPerSec ?? 0) / 2);
    for (const { scenario, target } of paced) record(await measure(scenario, target, protocol, "half", { rate: half }));
  }
  await checkVerify(verify.url, data.hotKey, "after the cache-hit runs");
  for (const server of new Set([...targets.values()].map((t) => t.server))) await server.stop();

  // The same hot-key runs with every Redis use on a Redis Cluster (3 masters,
  // 3 replicas on this machine): one process, then two workers.
  log("Redis Cluster: 6 redis-server nodes, 3 masters");
  const redisCluster = await startRedisCluster();
  cleanups.push(() => redisCluster.stop());
  const clusterEnv = { ...serviceEnv, REDIS_URL: "", KEYWARD_REDIS_CLUSTER_NODES: redisCluster.seeds };
  const redisNodes = redisCluster.seeds.split(",").map((seed) => `redis://${seed}`);
  for (const [scenario, workers] of [[VERIFY_REDIS_CLUSTER, "1"], [VERIFY_CLUSTER_REDIS_CLUSTER, "2"]] as const) {
    const server = await startServer(scenario, "bench/keyward-server.ts", { ...clusterEnv, BENCH_WORKERS: workers });
    for (const protocol of BINARY_PROTOCOLS) {
      record(await measure(scenario, { server, path: VERIFY_PATH, body: hot[protocol] ?? "" }, protocol, "throughput", { warmUpS: 2, redisNodes }));
    }
    await checkVerify(server.url, data.hotKey, `after ${scenario}`);
    await server.stop();
  }
  await redisCluster.stop();

  log("2 node:cluster workers sharing the port");
  const cluster = await startServer("keyward-cluster", "bench/keyward-server.ts", { ...serviceEnv, BENCH_WORKERS: "2" });
  for (const protocol of BINARY_PROTOCOLS) {
    record(await measure(VERIFY_CLUSTER, { server: cluster, path: VERIFY_PATH, body: hot[protocol] ?? "" }, protocol, "throughput", { warmUpS: 2 }));
  }
  await checkVerify(cluster.url, data.hotKey, "after the cluster runs");
  await cluster.stop();

  log("cache misses on the embedded store: one new key per request");
  const embedded = await startServer("keyward-embedded", "bench/keyward-server.ts", { ...serviceEnv, MONGODB_URI: "" });
  const embeddedData = await seed(embedded.url, MISS_KEYS.embedded);
  const embeddedBody = join(scratch, "verify-embedded.bin");
  await writeFile(embeddedBody, WIRES.connect.encode(gatewayRequest(embeddedData.hotKey)));
  // The embedded store lives in that process, so its keys are verified where
  // they were created: creating a key does not fill the verification cache.
  for (const run of await cacheMiss(MISS_EMBEDDED, embedded, embeddedData.coldKeys, embeddedBody, scratch, redis.url)) record(run);
  await embedded.stop();

  // Last: FerretDB is the slowest part and may be left busy.
  log("cache misses on FerretDB: a fresh keyward process, one new key per request");
  const cold = await startServer("keyward-cold", "bench/keyward-server.ts", {
    ...serviceEnv,
    // FerretDB v1 holds its SQLite write lock through a batch of last_used_at
    // updates, and lookups queue behind it for seconds (seen: > 10 s). Not
    // what a miss costs on MongoDB: the batch waits until the process stops.
    KEYWARD_USAGE_FLUSH_MS: "3600000",
  });
  // A lookup scans the collection up to the match: keys in random order.
  for (const run of await cacheMiss(MISS_FERRETDB, cold, shuffle(data.coldKeys), hot.connect ?? "", scratch, redis.url)) record(run);
  await cold.stop(2000);

  const redisRoundTrip = await redisRoundTripMs(redis.url);
  const roundTrip = `back to back p50 ${redisRoundTrip.hot.p50Ms} ms (p99 ${redisRoundTrip.hot.p99Ms}); after 1 ms idle p50 ${redisRoundTrip.idle.p50Ms} ms (p99 ${redisRoundTrip.idle.p99Ms})`;
  log(`redis round trip from Node, one PING at a time: ${roundTrip}`);
  const rows = buildRows(runs, (scenario) =>
    scenario === VERIFY
      ? { baseline: RAW, minRatio: TARGETS.minRatioToRaw }
      : scenario === CHECK
        ? { baseline: VERIFY, minRatio: TARGETS.minCheckRatioToVerify }
        : null,
  );
  const finishedAt = new Date();
  const failed = runs.filter((r) => r.result.failed > 0);
  const report = {
    startedAt: startedAt.toISOString(),
    durationS: Math.round((finishedAt.getTime() - startedAt.getTime()) / 100) / 10,
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      h2load: h2loadVersion(),
      loadAverageAtStart: Math.round(loadAverage * 100) / 100,
    },
    git: gitState(),
    method: {
      servers: "one process each, h2c on 127.0.0.1; keyward on FerretDB + Redis (GCRA limiter on every call), KEYWARD_LOG_LEVEL=warn",
      request: "a gateway's VerifyRequest for POST /v1/send: 12 headers, Bearer key, method + path (scope send)",
      protocols: {
        connect: "Connect unary, application/proto",
        "connect-json": "Connect unary, application/json",
        grpc: "gRPC, application/grpc, framed, te: trailers",
      },
      loads: LOADS,
      throughput: `h2load -c ${LOADS.throughput.clients} -m ${LOADS.throughput.streams}; median of ${LOADS.throughput.rounds} rounds that alternate the servers`,
      halfLoad: "every server paced at the same rate, half of Verify's max on that protocol: h2load --rps with clients started 1 ms apart",
      cacheMiss: `fresh keyward processes: each request carries a key the process has never seen (Node http2 generator, Connect protocol, every answer checked allowed); keys: ${JSON.stringify(MISS_KEYS)}; loads: ${JSON.stringify(MISS_LOADS)}`,
      latency: "from stream start to end of response (h2load per-request log); nearest-rank percentiles",
    },
    targets: TARGETS,
    redisRoundTrip,
    rows,
    runs,
    ...(failed.length > 0 ? { warnings: failed.map((r) => `${r.scenario} ${r.protocol} ${r.load}: ${r.result.failed} failed requests`) } : {}),
  };
  const file = await writeResults(join(REPO_ROOT, "bench/results"), startedAt, report);
  process.stdout.write(`\n${formatTable(rows)}\n\n`);
  process.stdout.write(
    `req/s: max throughput; p50: unloaded (one request at a time); p99: paced at half of Verify's max ` +
      `(achieved rate after @); x: req/s ratio to the baseline on the same protocol; p99 x raw: p99 ÷ raw http2's at the same rate; ` +
      `KB/req: heap allocated per request (throughput run); GCs/10s: during the p99 run.\n`,
  );
  process.stdout.write(
    `Redis round trip from Node, one PING at a time: ${roundTrip}. ` +
      `"${VERIFY_LOCAL_LIMITER}" is the same Verify without that round trip.\n`,
  );
  for (const warning of report.warnings ?? []) process.stdout.write(`WARNING: ${warning}\n`);
  process.stdout.write(`wrote ${file} and bench/results/latest.json (${report.durationS} s)\n`);

  async function startMongo(): Promise<string> {
    const ferret = await startFerretDb();
    cleanups.push(() => ferret.stop({ removeDir: true }));
    return ferret.uri;
  }
}

/**
 * Cache misses on a service process whose cache has never seen the keys.
 * Warmed on the hot key first (JIT, the organization's cache entry), then
 * every request carries a key the process has not seen: one storage lookup
 * each. Runs are time-bounded and share the keys: each key is sent once.
 */
async function cacheMiss(
  scenario: string,
  server: NodeServer,
  coldKeys: readonly string[],
  hotBody: string,
  scratch: string,
  redisUrl: string,
): Promise<RunRecord[]> {
  await h2load({
    url: server.url + VERIFY_PATH,
    headers: WIRES.connect.headers,
    bodyFile: hotBody,
    clients: 4,
    streams: 16,
    durationS: 2,
    scratchDir: scratch,
  });
  const bodies = coldKeys.map((key) => WIRES.connect.encode(gatewayRequest(key)));
  // Throughput may use up to 60% of the keys, the unloaded run 15%, the paced run the rest.
  const share = { throughput: 0.6, unloaded: 0.15, half: 1 } as const;
  let used = 0;
  const records: RunRecord[] = [];
  const run = async (load: LoadKind, rate?: number): Promise<number> => {
    const shape = MISS_LOADS[load];
    const end = load === "half" ? bodies.length : used + Math.floor(bodies.length * share[load]);
    const { result, resources } = await metered(server, redisUrl, () => nodeLoad({
      url: server.url,
      protocol: "connect",
      bodies: bodies.slice(used, end),
      once: true,
      durationS: shape.durationS,
      clients: shape.clients,
      streams: shape.streams,
      decodeEvery: 1,
      ...(rate ? { rate } : {}),
    }));
    used += result.requests;
    records.push({
      scenario,
      protocol: "connect",
      load,
      generator: "node",
      clients: shape.clients,
      streams: shape.streams,
      targetRps: rate ?? null,
      result,
      resources,
    });
    return result.reqPerSec;
  };
  const max = await run("throughput");
  await run("unloaded");
  await run("half", Math.max(1, Math.round(max / 2)));
  return records;
}

/**
 * Runs a load and meters it: the server's and Redis's CPU over the run, per
 * request at the measured rate (a warm-up is assumed to run at that rate
 * too), and the GC pauses the server saw.
 */
/** `redis`: the URL of each Redis node whose CPU the run is charged with. */
async function metered(
  server: NodeServer,
  redis: string | readonly string[],
  load: () => Promise<LoadResult>,
): Promise<{ result: LoadResult; resources: Resources }> {
  const redisUrls = typeof redis === "string" ? [redis] : redis;
  await server.gcStats(); // starts the count afresh
  const cpu0 = processCpuSeconds(server.pid);
  const redis0 = await redisCpuTotal(redisUrls);
  const started = performance.now();
  const result = await load();
  const wallS = (performance.now() - started) / 1000;
  const cpu1 = processCpuSeconds(server.pid);
  const redis1 = await redisCpuTotal(redisUrls);
  const gc = await server.gcStats();
  const perRequest = (seconds: number | null): number | null =>
    seconds === null || result.reqPerSec <= 0 ? null : Math.round(((seconds / wallS) * 1e6 * 10) / result.reqPerSec) / 10;
  const serverS = cpu0 !== null && cpu1 !== null ? cpu1 - cpu0 : null;
  const redisS = redis0 !== null && redis1 !== null ? redis1 - redis0 : null;
  return {
    result,
    resources: {
      serverCores: serverS === null ? null : Math.round((serverS / wallS) * 100) / 100,
      serverUsPerRequest: perRequest(serverS),
      redisUsPerRequest: perRequest(redisS),
      bytesPerRequest: gc && result.reqPerSec > 0 ? Math.round(gc.allocatedBytes / (result.reqPerSec * wallS)) : null,
      gc: gc && { ...gc, maxPauseMs: Math.round(gc.maxPauseMs * 10) / 10, totalPauseMs: Math.round(gc.totalPauseMs) },
      seconds: Math.round(wallS * 10) / 10,
    },
  };
}

function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function startServer(name: string, file: string, env: Record<string, string>, node?: string): Promise<NodeServer> {
  return startNodeServer(name, file, { env, ...(node ? { node } : {}) }).then((server) => {
    cleanups.push(() => server.stop());
    return server;
  });
}

/** The value after `name` on the command line, if any. */
function optionValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

function describe(record: RunRecord): string {
  const r = record.result;
  const rate = record.targetRps ? ` (paced at ${record.targetRps})` : "";
  const rounds = record.rounds ? ` [rounds: ${record.rounds.map((x) => Math.round(x)).join(", ")}]` : "";
  return (
    `${record.scenario} / ${record.protocol} / ${record.load}${rate}: ${Math.round(r.reqPerSec)} req/s${rounds}, ` +
    `p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, max ${r.maxMs} ms, ${r.requests} requests` +
    (record.resources.serverUsPerRequest !== null ? `, ${record.resources.serverUsPerRequest} µs CPU/req` : "") +
    (record.resources.gc ? `, GC ${record.resources.gc.major} full / ${record.resources.gc.minor} minor, max pause ${record.resources.gc.maxPauseMs} ms` : "") +
    (r.failed ? `, ${r.failed} FAILED` : "")
  );
}

function gitState(): { commit: string; dirty: boolean } | null {
  try {
    const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: REPO_ROOT, encoding: "utf8" }).trim();
    const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: REPO_ROOT, encoding: "utf8" });
    return { commit, dirty: status.trim() !== "" };
  } catch {
    return null;
  }
}

async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup().catch((error: unknown) => log(`cleanup: ${String(error)}`));
  }
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping everything started`);
    void cleanUp().then(() => process.exit(130));
  });
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
