// Throwaway Redis and FerretDB servers on loopback ports, for the vitest global
// setup and for tests that need a private server they can stop and restart.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FERRETDB_BIN = join(REPO_ROOT, '.cache', 'ferretdb', 'ferretdb');

const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 3_000;
const POLL_MS = 50;
const HINT =
  'Run `npm test` (scripts/test-deps.sh installs redis-server and builds FerretDB), ' +
  'or `bash scripts/test-deps.sh` once before `npx vitest`.';

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface FerretDbServer {
  uri: string;
  port: number;
  /** The server's process id: tests hang it with SIGSTOP and resume it with SIGCONT. */
  pid: number;
  dir: string;
  /** Stops the server; the data dir is kept (for a restart) unless removeDir. */
  stop(opts?: { removeDir?: boolean }): Promise<void>;
}

/** A port that was free a moment ago: bind 127.0.0.1:0, read it, close. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

export async function startRedis(opts: { port?: number } = {}): Promise<RedisServer> {
  const bin = findOnPath('redis-server');
  if (bin === undefined) {
    throw new Error(`redis-server is not installed (not found on PATH). ${HINT}`);
  }
  return withPortRetry(opts.port, async (port) => {
    const proc = launch('redis-server', bin, [
      // No persistence: every test run starts from an empty, disposable server.
      '--save', '',
      '--appendonly', 'no',
      '--bind', '127.0.0.1',
      '--port', String(port),
    ]);
    await waitReady(proc, () => pingRedis(port, proc.child.pid));
    return { url: `redis://127.0.0.1:${port}`, port, stop: () => stopProc(proc) };
  });
}

export interface RedisClusterNode {
  port: number;
  /** The server's process id: the failover test kills a master with SIGKILL. */
  pid: number;
  /** `host:port` as the cluster names it in CLUSTER NODES. */
  address: string;
}

export interface RedisClusterServer {
  nodes: RedisClusterNode[];
  /** `127.0.0.1:p1,127.0.0.1:p2,...`: the value of KEYWARD_REDIS_CLUSTER_NODES. */
  seeds: string;
  /** Stops every node (those already killed included) and removes their directories. */
  stop(): Promise<void>;
}

/** How soon a master that stopped answering is failed over to its replica. */
export const CLUSTER_NODE_TIMEOUT_MS = 1000;
const CLUSTER_NODES = 6;

/**
 * A Redis Cluster of six `redis-server` processes on loopback: 3 masters and
 * 3 replicas (`redis-cli --cluster create --cluster-replicas 1`), a short
 * `cluster-node-timeout` so a killed master is replaced within seconds, no
 * persistence, each node in its own temporary directory (its nodes.conf).
 * Resolves once every node reports `cluster_state:ok` and knows all six.
 */
export async function startRedisCluster(): Promise<RedisClusterServer> {
  const server = findOnPath('redis-server');
  const cli = findOnPath('redis-cli');
  if (server === undefined || cli === undefined) {
    throw new Error(`redis-server and redis-cli must be installed (not found on PATH). ${HINT}`);
  }
  const procs: Proc[] = [];
  const dirs: string[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((proc) => stopProc(proc)));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    for (const dir of dirs) ownedDirs.delete(dir);
  };
  try {
    const nodes: RedisClusterNode[] = [];
    // One node at a time, each on a fresh pair of ports: a port that another
    // test took between freePort() and the bind is retried, not a failure.
    for (let i = 0; i < CLUSTER_NODES; i++) {
      const node = await withPortRetry(undefined, async (port) => {
        // A directory per attempt: a node that failed to bind leaves no nodes.conf behind for the next.
        const dir = await mkdtemp(join(tmpdir(), 'keyward-redis-cluster-'));
        dirs.push(dir);
        ownedDirs.add(dir);
        const busPort = await freePort();
        const proc = launch(`redis-server (cluster node ${port})`, server, [
          '--save', '',
          '--appendonly', 'no',
          '--bind', '127.0.0.1',
          '--port', String(port),
          '--cluster-enabled', 'yes',
          '--cluster-port', String(busPort),
          '--cluster-config-file', join(dir, 'nodes.conf'),
          '--cluster-node-timeout', String(CLUSTER_NODE_TIMEOUT_MS),
          '--dir', dir,
        ]);
        procs.push(proc);
        await waitReady(proc, () => pingRedis(port, proc.child.pid));
        return { port, pid: proc.child.pid ?? 0, address: `127.0.0.1:${port}` };
      });
      nodes.push(node);
    }
    await promisify(execFile)(
      cli,
      ['--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', '1', '--cluster-yes'],
      { timeout: START_TIMEOUT_MS },
    );
    await waitClusterOk(nodes.map((n) => n.port));
    return { nodes, seeds: nodes.map((n) => n.address).join(','), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitClusterOk(ports: number[]): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  const clients = ports.map(
    (port) => new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 0, retryStrategy: () => null }),
  );
  for (const client of clients) client.on('error', () => {});
  try {
    for (;;) {
      const infos = await Promise.all(
        clients.map(async (c) => `${await c.cluster('INFO')}${await c.info('replication')}`).map((p) => p.catch(() => '')),
      );
      // Every node agrees, and every replica has synced (one that never did would not be promoted).
      const ok = infos.every(
        (info) =>
          /^cluster_state:ok/m.test(info) &&
          new RegExp(`^cluster_known_nodes:${ports.length}`, 'm').test(info) &&
          (/^role:master/m.test(info) || /^master_link_status:up/m.test(info)),
      );
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`Redis Cluster not ok after ${START_TIMEOUT_MS / 1000} s:\n${infos.join('\n')}`);
      await sleep(POLL_MS);
    }
  } finally {
    for (const client of clients) client.disconnect();
  }
}

export async function startFerretDb(opts: { port?: number; dir?: string } = {}): Promise<FerretDbServer> {
  if (!isExecutable(FERRETDB_BIN)) {
    throw new Error(`FerretDB binary ${FERRETDB_BIN} is missing. ${HINT}`);
  }
  let dir = opts.dir;
  if (dir === undefined) {
    dir = await mkdtemp(join(tmpdir(), 'keyward-ferretdb-'));
    // Removed when this process exits, even if a test forgets stop({removeDir}).
    ownedDirs.add(dir);
    ensureExitHook();
  }
  const dataDir = dir;
  return withPortRetry(opts.port, async (port) => {
    const uri = `mongodb://127.0.0.1:${port}/`;
    const proc = launch('FerretDB', FERRETDB_BIN, ['-listen', `127.0.0.1:${port}`, '-dir', dataDir]);
    // FerretDB prints its URI before the listener is up: wait for a TCP accept,
    // then for a real MongoDB round trip.
    await waitReady(proc, async () => {
      await connectTcp(port);
      await pingMongo(uri, port, proc.child.pid);
    });
    return {
      uri,
      port,
      pid: proc.child.pid ?? 0,
      dir: dataDir,
      stop: async ({ removeDir = false } = {}) => {
        await stopProc(proc);
        if (removeDir) {
          await rm(dataDir, { recursive: true, force: true });
          ownedDirs.delete(dataDir);
        }
      },
    };
  });
}

export interface TcpServer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts any server (a gateway, in the gateway tests) and waits until it
 * accepts TCP on 127.0.0.1:port; it is killed with its spawner like the others.
 */
export async function startTcpServer(
  name: string,
  bin: string,
  args: string[],
  port: number,
  env?: NodeJS.ProcessEnv,
): Promise<TcpServer> {
  const proc = launch(name, bin, args, env);
  await waitReady(proc, () => connectTcp(port));
  return { port, pid: proc.child.pid ?? 0, stop: () => stopProc(proc) };
}

// ---------------------------------------------------------------------------
// Child process bookkeeping

interface Proc {
  name: string;
  child: ChildProcess;
  /** Set once the process has exited (or failed to spawn). */
  exitInfo: string | undefined;
  exited: Promise<void>;
  output(): string;
}

const live = new Set<ChildProcess>();
const ownedDirs = new Set<string>();
let exitHooked = false;

// Last resort for a process that ends without teardown. Synchronous, because
// 'exit' handlers must be: SIGKILL and rmSync.
function killAllSync(): void {
  for (const child of live) child.kill('SIGKILL');
  for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
}

function ensureExitHook(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', killAllSync);
  // In a vitest fork worker the IPC channel closes when the vitest process
  // dies; seen here: the orphaned worker lingers (busy) instead of exiting, so
  // its servers would live on with it.
  if (process.connected) process.once('disconnect', killAllSync);
}

// `setpriv --pdeathsig KILL` (util-linux) makes the kernel kill the server when
// the process that spawned it dies, even by SIGKILL, where no 'exit' handler
// runs. It execs the server, so the child pid is the server's own.
const SETPRIV = findOnPath('setpriv');

function launch(name: string, bin: string, args: string[], env?: NodeJS.ProcessEnv): Proc {
  const [file, argv] =
    SETPRIV === undefined ? [bin, args] : [SETPRIV, ['--pdeathsig', 'KILL', '--', bin, ...args]];
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
  live.add(child);
  ensureExitHook();

  // Keep draining the pipes (a full pipe would block the server) and keep the
  // tail for error messages.
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const proc: Proc = {
    name,
    child,
    exitInfo: undefined,
    exited: new Promise<void>((resolve) => {
      const done = (info: string): void => {
        if (proc.exitInfo !== undefined) return;
        proc.exitInfo = info;
        live.delete(child);
        resolve();
      };
      child.once('exit', (code, signal) =>
        done(signal !== null ? `killed by ${signal}` : `exited with code ${String(code)}`),
      );
      child.once('error', (err) => done(`failed to spawn: ${err.message}`));
    }),
    output: () => tail.trim(),
  };
  return proc;
}

async function stopProc(proc: Proc): Promise<void> {
  if (proc.exitInfo !== undefined) return;
  proc.child.kill('SIGTERM');
  // A cleared timer, not a raced sleep(): a pending timer would hold the event
  // loop (and so the process) open for the whole grace period.
  const timedOut = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
    void proc.exited.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (timedOut) {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
}

async function waitReady(proc: Proc, probe: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError = 'no attempt finished';
  while (Date.now() < deadline) {
    if (proc.exitInfo !== undefined) {
      throw new StartError(`${proc.name} ${proc.exitInfo} during startup.\n${proc.output()}\n${HINT}`, proc);
    }
    try {
      await probe();
      return;
    } catch (err) {
      if (err instanceof PortInUseError) {
        await stopProc(proc);
        throw new StartError(`${proc.name}: ${err.message}`, proc, true);
      }
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(POLL_MS);
  }
  await stopProc(proc);
  throw new StartError(
    `${proc.name} did not become ready within ${START_TIMEOUT_MS / 1000} s (last error: ${lastError}).\n` +
      `${proc.output()}\n${HINT}`,
    proc,
  );
}

class StartError extends Error {
  constructor(
    message: string,
    readonly proc: Proc,
    readonly portInUse = /address already in use/i.test(proc.output()),
  ) {
    super(message);
  }
}

/** A server answered on the port, but not ours: the port was taken. */
class PortInUseError extends Error {}

function checkPid(port: number, expected: number | undefined, actual: number): void {
  if (actual !== expected) {
    throw new PortInUseError(`port ${port} is already in use by another server (pid ${actual})`);
  }
}

/**
 * Runs start(port). With no fixed port, a server that died on startup because
 * someone else took the port between freePort() and bind gets a new port.
 */
/**
 * Starts a server on `fixed`, or on a free port, trying another (up to three
 * times) when someone took the free port before the server could bind it.
 */
export async function withPortRetry<T>(fixed: number | undefined, start: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = fixed ?? (await freePort());
    try {
      return await start(port);
    } catch (err) {
      const portTaken = err instanceof StartError && err.portInUse;
      if (fixed !== undefined || !portTaken || attempt >= 3) throw err;
    }
  }
}

// ---------------------------------------------------------------------------
// Readiness probes (each fails fast; waitReady retries). A probe that reaches
// a server also checks its pid: had the port been taken before our server could
// bind it, the probe would otherwise succeed against someone else's server.

function connectTcp(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: '127.0.0.1', port, timeout: 1000 });
    sock.once('connect', () => {
      sock.destroy();
      resolve();
    });
    sock.once('timeout', () => {
      sock.destroy();
      reject(new Error(`TCP connect to 127.0.0.1:${port} timed out`));
    });
    sock.once('error', reject);
  });
}

async function pingRedis(port: number, pid: number | undefined): Promise<void> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null, // one attempt; waitReady does the retrying
    // disconnect() arms a timer of this length that only a later 'close' clears;
    // after a refused connect none comes, and the 2 s default held the process.
    disconnectTimeout: 100,
  });
  client.on('error', () => {}); // reported through the rejected promises below
  try {
    await client.connect();
    const reply = await client.ping();
    if (reply !== 'PONG') throw new Error(`unexpected PING reply ${reply}`);
    const info = await client.info('server');
    checkPid(port, pid, Number(/^process_id:(\d+)/m.exec(info)?.[1]));
  } finally {
    client.disconnect();
  }
}

async function pingMongo(uri: string, port: number, pid: number | undefined): Promise<void> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
  try {
    const admin = client.db('admin');
    await admin.command({ ping: 1 });
    checkPid(port, pid, Number((await admin.command({ serverStatus: 1 })).pid));
  } finally {
    await client.close();
  }
}

// ---------------------------------------------------------------------------

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findOnPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, cmd);
    if (isExecutable(file)) return file;
  }
  return undefined;
}
