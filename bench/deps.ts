/**
 * What the bench needs on the machine: h2load (Debian's nghttp2-client),
 * redis-server and the FerretDB build the tests use. Installed when missing;
 * `apt-get update` runs only when the package cannot be found without it.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { FERRETDB_BIN, findOnPath, isExecutable } from "../test/setup/servers.js";
import { REPO_ROOT } from "./processes.js";

function asRoot(args: string[]): void {
  const root = process.getuid?.() === 0;
  const [file, argv] = root ? [args[0] ?? "", args.slice(1)] : ["sudo", args];
  execFileSync(file, argv, { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}

function aptInstall(pkg: string): void {
  const install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", pkg];
  try {
    asRoot(install);
  } catch {
    // An image with empty package lists knows no package yet: update, then retry once.
    asRoot(["apt-get", "update", "-qq"]);
    asRoot(install);
  }
}

export function ensureDependencies(log: (line: string) => void): void {
  if (!findOnPath("h2load")) {
    log("h2load missing: apt-get install nghttp2-client");
    aptInstall("nghttp2-client");
    if (!findOnPath("h2load")) throw new Error("h2load is still not on PATH after installing nghttp2-client");
  }
  if (!findOnPath("redis-server") || !isExecutable(FERRETDB_BIN)) {
    log("redis-server or FerretDB missing: running scripts/test-deps.sh");
    execFileSync("bash", [join(REPO_ROOT, "scripts/test-deps.sh")], { stdio: ["ignore", "inherit", "inherit"] });
  }
}

export function h2loadVersion(): string {
  return execFileSync("h2load", ["--version"], { encoding: "utf8" }).trim();
}
