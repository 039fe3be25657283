/**
 * The gateway tests' bench: the shipped configs of deploy/gateways/ run by
 * the real gateways (Debian's caddy and nginx, installed by
 * scripts/test-deps.sh) on free loopback ports, in front of a small upstream
 * that echoes what it received.
 */
import { createServer, request } from "node:http";
import type { Server } from "node:http";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { findOnPath, isExecutable, REPO_ROOT, startTcpServer, withPortRetry } from "../setup/servers.js";

export const DEPLOY = path.join(REPO_ROOT, "deploy/gateways");

/** What the upstream saw of one request. */
export interface Echo {
  method: string;
  url: string;
  /** Every header as received, names lower-cased, repeated ones kept apart. */
  headers: [string, string][];
}

export interface Upstream {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startEchoUpstream(): Promise<Upstream> {
  const server: Server = createServer((req, res) => {
    const headers: [string, string][] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      headers.push([(req.rawHeaders[i] ?? "").toLowerCase(), req.rawHeaders[i + 1] ?? ""]);
    }
    const echo: Echo = { method: req.method ?? "", url: req.url ?? "", headers };
    req.resume();
    res.writeHead(200, { "content-type": "application/json", "x-upstream": "echo" }).end(JSON.stringify(echo));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A command the tests need: missing is a failure that names the installer, never a skip. */
export function requireCommand(name: string): string {
  // nginx lives in /usr/sbin, which a user's PATH may lack.
  const found = findOnPath(name) ?? [`/usr/sbin/${name}`, `/usr/bin/${name}`].find(isExecutable);
  if (!found) {
    throw new Error(`${name} is not installed: run bash scripts/test-deps.sh (npm test does), which installs it with apt-get`);
  }
  return found;
}

export interface Gateway {
  /** `http://127.0.0.1:<port>`: where clients send their requests. */
  url: string;
  stop(): Promise<void>;
}

export interface GatewayTarget {
  /** keyward's internal port. */
  keywardPort: number;
  serviceToken: string;
  upstream: Upstream;
}

/** deploy/gateways/Caddyfile as shipped, configured through its environment variables. */
export async function startCaddy(target: GatewayTarget): Promise<Gateway> {
  const caddy = requireCommand("caddy");
  return withPortRetry(undefined, (port) => startCaddyOn(caddy, port, target));
}

async function startCaddyOn(caddy: string, port: number, target: GatewayTarget): Promise<Gateway> {
  const home = await mkdtemp(path.join(tmpdir(), "keyward-caddy-"));
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: home,
    XDG_DATA_HOME: home,
    XDG_CONFIG_HOME: home,
    LISTEN_ADDRESS: `http://127.0.0.1:${port}`,
    KEYWARD_ADDRESS: `127.0.0.1:${target.keywardPort}`,
    KEYWARD_SERVICE_TOKEN: target.serviceToken,
    UPSTREAM_ADDRESS: `127.0.0.1:${target.upstream.port}`,
    CADDY_ADMIN: "off",
  };
  const args = ["run", "--config", path.join(DEPLOY, "Caddyfile"), "--adapter", "caddyfile"];
  const server = await startTcpServer("caddy", caddy, args, port, env);
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      await server.stop();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** Replaces the given ${NAME}s only, as `envsubst '${A} ${B}'` does (nginx's own $variables stay). */
export function substitute(template: string, values: Readonly<Record<string, string>>): string {
  return Object.entries(values).reduce((text, [name, value]) => text.replaceAll(`\${${name}}`, value), template);
}

/** deploy/gateways/<file> as shipped, its ${NAME}s replaced, included in a minimal nginx.conf. */
export async function startNginx(file: "nginx.conf" | "nginx-compat.conf", target: GatewayTarget): Promise<Gateway> {
  const nginx = requireCommand("nginx");
  return withPortRetry(undefined, (port) => startNginxOn(nginx, port, file, target));
}

async function startNginxOn(nginx: string, port: number, file: "nginx.conf" | "nginx-compat.conf", target: GatewayTarget): Promise<Gateway> {
  const dir = await mkdtemp(path.join(tmpdir(), "keyward-nginx-"));
  // Workers run as nobody when the master is root: they must reach the temp dirs.
  await chmod(dir, 0o755);
  for (const temp of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) {
    await mkdir(path.join(dir, temp), { mode: 0o777 });
    await chmod(path.join(dir, temp), 0o777);
  }
  const site = substitute(await readFile(path.join(DEPLOY, file), "utf8"), {
    LISTEN_ADDRESS: `127.0.0.1:${port}`,
    KEYWARD_URL: `http://127.0.0.1:${target.keywardPort}`,
    KEYWARD_SERVICE_TOKEN: target.serviceToken,
    UPSTREAM_URL: target.upstream.url,
  });
  await writeFile(path.join(dir, "keyward.conf"), site);
  await writeFile(
    path.join(dir, "nginx.conf"),
    [
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      "worker_processes 1;",
      "events { worker_connections 256; }",
      "http {",
      "  access_log off;",
      ...["body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t === "body" ? "client_body" : t}_temp_path ${dir}/${t};`),
      `  include ${dir}/keyward.conf;`,
      "}",
      "",
    ].join("\n"),
  );
  const server = await startTcpServer("nginx", nginx, ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-g", "daemon off;"], port);
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request, its path sent exactly as given (fetch would resolve `..` and `%2e`). */
export function send(base: string, method: string, requestPath: string, headers: Record<string, string> = {}): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path: requestPath, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end(method === "POST" ? "{}" : undefined);
  });
}
