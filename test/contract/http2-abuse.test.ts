/**
 * HTTP/2 abuse on the RPC port, reproduced on loopback against a real
 * service process, with bounded loops: stream floods without a service token,
 * rapid reset, idle and excess connections, cancelled uploads. Each time a
 * normal client's Verify must stay answered within a bound, and the attacker
 * must be cut off rather than served.
 */
import http2 from "node:http2";
import net from "node:net";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VerifyCode } from "../../gen/authn/v1/auth_pb.js";
import { eventually } from "../support/eventually.js";
import { bearer, newKey, newOrganization } from "../support/fixtures.js";
import { clientsFor } from "../support/keyward.js";
import type { Clients } from "../support/keyward.js";
import { labelledValue } from "../support/metrics.js";
import { startReplica } from "../support/replicas.js";
import type { Replica } from "../support/replicas.js";

const token = randomBytes(24).toString("base64url");
const LIMITS = { streams: 100, connections: 40, idleMs: 500 };
/** What a normal Verify may take while the port is under attack (2 shared cores). */
const ANSWER_BOUND_MS = 500;
const VERIFY_PATH = "/authn.v1.AuthService/Verify";

let service: Replica;
let clients: Clients;
let key: string;

beforeAll(async () => {
  service = await startReplica({
    KEYWARD_INTERNAL_TOKENS: token,
    KEYWARD_H2_MAX_CONCURRENT_STREAMS: String(LIMITS.streams),
    KEYWARD_MAX_CONNECTIONS: String(LIMITS.connections),
    KEYWARD_IDLE_TIMEOUT_MS: String(LIMITS.idleMs),
    KEYWARD_REQUEST_TIMEOUT_MS: "3000",
  });
  clients = clientsFor(service.rpcUrl, "grpc", token);
  const org = await newOrganization(clients);
  ({ key } = await newKey(clients, org));
});
afterAll(async () => {
  await service?.stop();
});

/** A normal caller's Verify and how long it took. */
async function timedVerify(): Promise<number> {
  const started = performance.now();
  const verdict = await clients.auth.verify({ headers: bearer(key) });
  expect(verdict.code).toBe(VerifyCode.OK);
  return performance.now() - started;
}

function connect(): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(service.rpcUrl);
    session.once("connect", () => resolve(session));
    session.once("error", reject);
  });
}

const closed = (session: http2.ClientHttp2Session) =>
  new Promise<void>((resolve) => (session.closed || session.destroyed ? resolve() : session.once("close", () => resolve())));

const rss = () => labelledValue(service.httpUrl, "process_resident_memory_bytes");

describe("HTTP/2 on the RPC port is bounded", () => {
  it("caps streams per connection: a flood without a token holds at most the cap, and Verify stays answered", async () => {
    const before = await rss();
    const attacker = await connect();
    attacker.on("error", () => {});
    expect(attacker.remoteSettings.maxConcurrentStreams).toBe(LIMITS.streams);
    // Calls that never finish their body, without a service token.
    const streams = Array.from({ length: 2_000 }, () => {
      const stream = attacker.request({ ":method": "POST", ":path": VERIFY_PATH, "content-type": "application/grpc" });
      stream.on("error", () => {});
      stream.write(Buffer.alloc(1024));
      return stream;
    });
    for (let i = 0; i < 5; i++) expect(await timedVerify()).toBeLessThan(ANSWER_BOUND_MS);
    attacker.destroy();
    expect(streams.length).toBe(2_000);
    await eventually(async () => (await rss()) < before + 64 * 1024 * 1024);
  });

  it("closes a connection whose client resets streams faster than any real client (rapid reset)", async () => {
    const attacker = await connect();
    attacker.on("error", () => {});
    let goaway = false;
    attacker.on("goaway", () => {
      goaway = true;
    });
    let sent = 0;
    const MAX = 20_000;
    for (; sent < MAX && !attacker.destroyed && !attacker.closed && !goaway; sent++) {
      const stream = attacker.request({ ":method": "POST", ":path": VERIFY_PATH, "content-type": "application/grpc" });
      stream.on("error", () => {});
      stream.close(http2.constants.NGHTTP2_CANCEL);
      // Let the server's answer (GOAWAY) in now and then, as a real attacker's socket would.
      if (sent % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await closed(attacker);
    expect(goaway || attacker.destroyed).toBe(true);
    expect(sent).toBeLessThan(MAX); // cut off long before the loop's end
    expect(await timedVerify()).toBeLessThan(ANSWER_BOUND_MS);
  });

  it("closes idle connections, with and without an HTTP/2 preface", async () => {
    const sessions = await Promise.all(Array.from({ length: 5 }, connect));
    for (const session of sessions) session.on("error", () => {});
    const sockets = await Promise.all(
      Array.from({ length: 10 }, () => new Promise<net.Socket>((resolve) => {
        const socket = net.connect(Number(new URL(service.rpcUrl).port), "127.0.0.1", () => resolve(socket));
        socket.on("error", () => {});
      })),
    );
    const started = performance.now();
    await Promise.all([
      ...sessions.map(closed),
      ...sockets.map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once("close", () => resolve())))),
    ]);
    expect(performance.now() - started).toBeLessThan(LIMITS.idleMs * 4);
    expect(await timedVerify()).toBeLessThan(ANSWER_BOUND_MS);
  });

  it("refuses connections past the per-process cap, and serves again once they are gone", async () => {
    const port = Number(new URL(service.rpcUrl).port);
    const open: net.Socket[] = [];
    let refused = 0;
    await Promise.all(
      Array.from({ length: LIMITS.connections + 20 }, () => new Promise<void>((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        socket.on("error", () => {});
        socket.once("close", () => {
          refused++;
          resolve();
        });
        socket.once("connect", () => {
          open.push(socket);
          setTimeout(resolve, 50); // a refused one is closed at once
        });
      })),
    );
    expect(refused).toBeGreaterThanOrEqual(20 - 1); // the normal client's own connection counts too
    for (const socket of open) socket.destroy();
    await eventually(async () => {
      try {
        return (await timedVerify()) < ANSWER_BOUND_MS;
      } catch {
        return false;
      }
    });
  });

  it("recovers from cancelled uploads: the connection is closed cleanly or keeps serving, never stuck", async () => {
    for (let i = 0; i < 30; i++) {
      const session = await connect();
      session.on("error", () => {});
      const stream = session.request({
        ":method": "POST", ":path": VERIFY_PATH, "content-type": "application/grpc", authorization: `Bearer ${token}`,
      });
      stream.on("error", () => {});
      stream.write(Buffer.alloc(1024 * 1024));
      stream.close(http2.constants.NGHTTP2_CANCEL);
      session.close();
    }
    for (let i = 0; i < 3; i++) expect(await timedVerify()).toBeLessThan(ANSWER_BOUND_MS);
  });

  it("cancels a stream still open past the request timeout, however steadily it trickles, and only that stream", async () => {
    const session = await connect();
    session.on("error", () => {});
    // A byte every 200 ms keeps the connection from ever being idle; the body (a 1 KiB message announced) never ends.
    const trickle = () => {
      const stream = session.request({ ":method": "POST", ":path": VERIFY_PATH, "content-type": "application/grpc", authorization: `Bearer ${token}` });
      stream.on("error", () => {});
      stream.write(Buffer.from([0, 0, 0, 4, 0]));
      const drip = setInterval(() => stream.write(Buffer.from([0])), 200);
      const opened = performance.now();
      const cut = new Promise<{ afterMs: number; rstCode: number }>((resolve) =>
        stream.once("close", () => {
          clearInterval(drip);
          resolve({ afterMs: performance.now() - opened, rstCode: stream.rstCode });
        }));
      return { stream, cut };
    };
    const first = trickle();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const second = trickle();
    const firstCut = await first.cut;
    expect(firstCut.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(firstCut.afterMs).toBeGreaterThanOrEqual(3_000 - 50);
    expect(second.stream.closed).toBe(false); // younger: still within its time
    const secondCut = await second.cut;
    expect(secondCut.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(secondCut.afterMs).toBeGreaterThanOrEqual(3_000 - 50);
    // The connection itself was never at fault: it still answers.
    const verify = session.request({ ":method": "POST", ":path": VERIFY_PATH, "content-type": "application/grpc", authorization: `Bearer ${token}` });
    verify.end(Buffer.from([0, 0, 0, 0, 0]));
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => verify.once("response", resolve));
    expect(headers[":status"]).toBe(200);
    session.close();
  }, 15_000);

  it("answers a call without a service token from its headers alone: UNAUTHENTICATED before the body is read", async () => {
    const session = await connect();
    session.on("error", () => {});
    for (const [type, expectStatus] of [["application/grpc", 200], ["application/proto", 401], ["application/grpc-web+proto", 200]] as const) {
      const stream = session.request({ ":method": "POST", ":path": VERIFY_PATH, "content-type": type, "connect-protocol-version": "1" });
      stream.on("error", () => {});
      // A 4 MiB body announced, 64 KiB sent, the rest never: the answer must not wait for it.
      stream.write(Buffer.concat([Buffer.from([0, 0, 0x40, 0, 0]), Buffer.alloc(64 * 1024)]));
      const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => stream.once("response", resolve));
      expect(headers[":status"]).toBe(expectStatus);
      if (expectStatus === 200) expect(headers["grpc-status"]).toBe("16");
      expect(headers["x-request-id"]).toBeTruthy();
      stream.close();
    }
    session.close();
    expect(await labelledValue(service.httpUrl,
      'keyward_request_duration_seconds_count{transport="rpc",route="authn.v1.AuthService/Verify",status="unauthenticated"}')).toBeGreaterThanOrEqual(3);
  });
});
