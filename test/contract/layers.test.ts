/**
 * The layout's promise, checked: drivers stay in their adapters. Transports,
 * use cases and the domain never import `mongodb` or `ioredis`; adapters
 * translate the drivers' errors into the app's own.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../setup/servers.js";

const DRIVER_IMPORT = /from\s+["'](mongodb|ioredis)["']/;

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(REPO_ROOT, dir), { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith(".ts")).map((e) => path.join(e.parentPath, e.name));
}

describe("layers", () => {
  it.each(["src/domain", "src/app", "src/ports", "src/rest", "src/rpc", "src/edge"])("%s imports no storage or Redis driver", async (dir) => {
    const offenders: string[] = [];
    for (const file of await sources(dir)) {
      if (DRIVER_IMPORT.test(await readFile(file, "utf8"))) offenders.push(path.relative(REPO_ROOT, file));
    }
    expect(offenders).toEqual([]);
  });
});
