/**
 * Runs the client programs of clients/ (Go, Python) and checks what they
 * report: both walk the same story and print the same JSON shape.
 */
import { execFile } from "node:child_process";
import { access } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";

export const ROOT = path.resolve(import.meta.dirname, "../..");

/** A service token for tests that start keyward with KEYWARD_INTERNAL_TOKENS. */
export const SERVICE_TOKEN = "clients-test-token-0123456789";

export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; a non-zero exit is a result, not an exception. */
export function runProgram(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, timeout: options.timeoutMs, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(new Error(`${command} did not run: ${error.message}\n${stderr}`));
          return;
        }
        resolve({ code: typeof error?.code === "number" ? error.code : 0, stdout, stderr });
      },
    );
  });
}

/** Fails with the installer to run when a toolchain file is missing (never a skip). */
export async function requireInstalled(file: string): Promise<string> {
  const full = path.join(ROOT, file);
  try {
    await access(full);
  } catch {
    throw new Error(`${file} is missing: run bash scripts/test-deps.sh (or npm test), which installs it`);
  }
  return full;
}

/** PATH with Go, which the machine image keeps in /usr/local/go/bin. */
export function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${process.env.PATH ?? ""}:/usr/local/go/bin`,
    // scripts/test-deps.sh downloads the modules; a test never reaches the network.
    GOPROXY: "off",
    GOFLAGS: `${process.env.GOFLAGS ?? ""} -mod=readonly`.trim(),
  };
}

interface Verdict {
  allowed: boolean;
  code: string;
  organizationId: string;
  keyId: string;
  mode: string;
  scopes: string[];
  http: { status: number; headers?: { name: string; value: string }[]; body?: string };
}

export interface LifecycleReport {
  health: Record<string, string>;
  organizationId: string;
  keyId: string;
  hint: string;
  verdicts: { sent: Verdict; bearer: Verdict; revoked: Verdict };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The program's stdout, parsed, after its exit code says it finished well. */
export function parseReport<T = LifecycleReport>(run: Finished): T {
  expect(run.code, `exit code; stderr:\n${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as T;
}

/** What both programs must have seen: the story of one key, told by the service. */
export function expectLifecycle(report: LifecycleReport): void {
  expect(report.health).toEqual({
    "": "SERVING",
    "authn.v1.AuthService": "SERVING",
    "authn.v1.ApiKeyService": "SERVING",
    "authn.v1.OrganizationService": "SERVING",
    "no.such.Service": "not_found",
  });
  expect(report.organizationId).toMatch(UUID);
  expect(report.keyId).not.toBe("");
  expect(report.hint).toMatch(/^sk_live_[0-9A-Za-z]{4}…[0-9A-Za-z]{4}$/);

  const allowed = {
    allowed: true,
    code: "VERIFY_CODE_OK",
    organizationId: report.organizationId,
    keyId: report.keyId,
    mode: "MODE_LIVE",
    kind: "KEY_KIND_STANDARD",
    principal: "PRINCIPAL_API_KEY",
    scopes: ["send", "read"],
    unscoped: false,
    http: expect.objectContaining({ status: 200 }),
  };
  expect(report.verdicts.sent).toMatchObject(allowed);
  expect(report.verdicts.bearer).toMatchObject(allowed);

  const revoked = report.verdicts.revoked;
  expect(revoked).toMatchObject({ allowed: false, code: "VERIFY_CODE_KEY_REVOKED", http: { status: 401 } });
  expect(revoked.http.headers?.map((h) => h.name.toLowerCase())).toContain("www-authenticate");
  expect(JSON.parse(revoked.http.body ?? "{}")).toMatchObject({ status: 401 });
}
