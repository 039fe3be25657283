/**
 * The committed gen/go and gen/python trees must be exactly what
 * buf.gen.clients.yaml generates from proto/ (`npm run generate` rewrites
 * them), as test/contract/generated-code.test.ts holds gen/ (TypeScript) to it.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, requireInstalled } from "./programs.js";

const run = promisify(execFile);
const env = { ...process.env, PATH: `${ROOT}/node_modules/.bin:${process.env.PATH ?? ""}` };

/** Generated files only: gen/go keeps its hand-written go.mod and go.sum beside them. */
const GENERATED = /\.(go|py|pyi)$/;

async function generatedFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && GENERATED.test(e.name))
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe("the generated clients", () => {
  let out: string;

  beforeAll(async () => {
    // The pinned generators scripts/test-deps.sh installs (clients/toolchain.sh).
    for (const tool of [".cache/bin/protoc-gen-go", ".cache/bin/protoc-gen-connect-go", ".cache/venv/bin/python"]) {
      await requireInstalled(tool);
    }
    out = await mkdtemp(path.join(tmpdir(), "kw-gen-clients-"));
    await run("buf", ["generate", "--template", "buf.gen.clients.yaml", "-o", out], { cwd: ROOT, env });
  });

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it.each(["gen/go", "gen/python"])("has a %s tree identical to a fresh buf generate", async (tree) => {
    const fresh = path.join(out, tree);
    const committed = path.join(ROOT, tree);
    const freshFiles = await generatedFiles(fresh);
    expect(freshFiles.length).toBeGreaterThan(0);
    expect(await generatedFiles(committed), `${tree} has missing or extra files: run npm run generate`).toEqual(
      freshFiles,
    );
    for (const file of freshFiles) {
      const [a, b] = await Promise.all([
        readFile(path.join(fresh, file), "utf8"),
        readFile(path.join(committed, file), "utf8"),
      ]);
      expect(b, `${tree}/${file} is stale: run npm run generate`).toBe(a);
    }
  });

  it("generates the Go client for authn.v1 and gRPC health, the Python client for authn.v1", async () => {
    expect(await generatedFiles(path.join(ROOT, "gen/go"))).toEqual(
      expect.arrayContaining([
        "authn/v1/auth.pb.go",
        "authn/v1/authnv1connect/auth.connect.go",
        "grpc/health/v1/healthv1connect/health.connect.go",
      ]),
    );
    expect(await generatedFiles(path.join(ROOT, "gen/python"))).toEqual(
      expect.arrayContaining(["authn/v1/auth_pb2.py", "authn/v1/auth_pb2.pyi", "authn/v1/auth_pb2_grpc.py"]),
    );
  });
});
