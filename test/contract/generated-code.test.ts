/** The committed gen/ tree must be exactly what buf generates from proto/. */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const env = { ...process.env, PATH: `${root}/node_modules/.bin:${process.env.PATH ?? ""}` };

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe("the contract", () => {
  const temporary: string[] = [];
  afterAll(async () => {
    for (const dir of temporary) await rm(dir, { recursive: true, force: true });
  });

  it("passes buf lint (STANDARD)", async () => {
    await expect(run("buf", ["lint"], { cwd: root, env })).resolves.toMatchObject({ stdout: "" });
  });

  it("has a gen/ tree identical to a fresh buf generate", async () => {
    const out = await mkdtemp(path.join(tmpdir(), "kw-gen-"));
    temporary.push(out);
    await run("buf", ["generate", "--template", "buf.gen.yaml", "-o", out], { cwd: root, env });
    const fresh = path.join(out, "gen");
    const committed = path.join(root, "gen");
    const freshFiles = (await files(fresh)).filter((f) => f.endsWith("_pb.ts"));
    const committedFiles = (await files(committed)).filter((f) => f.endsWith("_pb.ts"));
    expect(committedFiles).toEqual(freshFiles);
    for (const file of freshFiles) {
      const [a, b] = await Promise.all([
        readFile(path.join(fresh, file), "utf8"),
        readFile(path.join(committed, file), "utf8"),
      ]);
      expect(b, `gen/${file} is stale: run npm run generate`).toBe(a);
    }
  });
});
