/**
 * Helpers for the REST tests: the real service with user tokens enabled,
 * signed user tokens, a small fetch client, and raw HTTP/TCP requests for
 * what fetch will not send (invalid UTF-8, lying or huge bodies).
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { SignJWT } from "jose";
import { expect } from "vitest";
import type { AuditEventJson } from "../../src/rest/audit-event-json.js";
import { newOrganization } from "../support/fixtures.js";
import { startTestKeyward } from "../support/keyward.js";
import type { TestKeyward, TestKeywardOptions } from "../support/keyward.js";

export const JWT_SECRET = "keyward-rest-tests-hs256-secret-0123456789";

/** The real service (real MongoDB-compatible store) accepting user tokens signed with JWT_SECRET. */
export function startRestKeyward(env: Record<string, string> = {}, options: Omit<TestKeywardOptions, "env"> = {}): Promise<TestKeyward> {
  return startTestKeyward({ ...options, env: { KEYWARD_JWT_SECRET: JWT_SECRET, ...env } });
}

/** A fresh organization id; a UUID so the x-api-key + x-sender-id style works too. */
export const newOrganizationId = (): string => randomUUID();

/** The user id (`sub`) in the organization's user tokens. */
export const userIdOf = (organizationId: string): string => `user-${organizationId.slice(0, 8)}`;

/** A user access token (HS256) of the organization, valid for 5 minutes unless told. */
export function userToken(organizationId: string, options: { expiresIn?: string; secret?: string } = {}): Promise<string> {
  return new SignJWT({ org_id: organizationId })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(userIdOf(organizationId))
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "5m")
    .sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}

export const bearer = (credential: string): Record<string, string> => ({ authorization: `Bearer ${credential}` });

export interface JsonReply {
  status: number;
  headers: Headers;
  /** The parsed body, or undefined when empty. */
  body: any;
  text: string;
}

/** fetch against the HTTP port: JSON bodies are serialized and parsed. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; json?: unknown; body?: string | Uint8Array } = {},
): Promise<JsonReply> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Uint8Array | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** A client bound to one base URL and one credential. */
export function client(baseUrl: string, headers: Record<string, string>) {
  return (method: string, path: string, options: { headers?: Record<string, string>; json?: unknown; body?: string | Uint8Array } = {}) =>
    call(baseUrl, method, path, { ...options, headers: { ...headers, ...options.headers } });
}

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One request through node:http with exact body bytes (fetch would re-encode strings). */
export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(baseUrl);
    // host/port/path given apart, so the path is sent exactly as written (no URL normalization).
    const req = http.request({ host: hostname, port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

export interface TcpReply {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
  /** Whether the server closed the connection after answering. */
  closed: boolean;
}

/**
 * Writes raw bytes on a TCP connection (each piece as its own write) and reads
 * one HTTP response. Resolves once the response is complete; reports whether
 * the server then closed the connection.
 */
export function tcpExchange(port: number, pieces: readonly (string | Buffer)[]): Promise<TcpReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let received = Buffer.alloc(0);
    let reply: Omit<TcpReply, "closed"> | null = null;
    let settled = false;
    const settle = (closed: boolean): void => {
      if (settled || !reply) return;
      settled = true;
      socket.destroy();
      resolve({ ...reply, closed });
    };
    socket.on("connect", () => {
      for (const piece of pieces) socket.write(piece);
    });
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const headerEnd = received.indexOf("\r\n\r\n");
      if (headerEnd === -1) return;
      const [statusLine = "", ...lines] = received.subarray(0, headerEnd).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers["content-length"] ?? "0");
      const body = received.subarray(headerEnd + 4);
      if (body.length < length) return;
      reply = { status: Number(statusLine.split(" ")[1]), headers, body: body.subarray(0, length).toString("utf8") };
      if (headers["connection"] !== "close") settle(false);
    });
    socket.on("end", () => settle(true));
    socket.on("close", () => {
      if (!reply && !settled) reject(new Error(`connection closed before a complete response: ${received.toString("latin1")}`));
      settle(true);
    });
    socket.on("error", (error) => {
      if (reply) settle(true);
      else reject(error);
    });
  });
}

/** The exact field set of a key object (Sendook's fields, plus kind, mode, scopes, ... and enabled). */
export const API_KEY_FIELDS = [
  "active",
  "createdAt",
  "credits",
  "enabled",
  "expiresAt",
  "hint",
  "id",
  "ipAllowlist",
  "kind",
  "lastUsedAt",
  "metadata",
  "mode",
  "name",
  "organizationId",
  "scopes",
  "updatedAt",
  "workspaceId",
];

/** A key as create and roll answer it: the key object and its plaintext. */
export interface IssuedKeyJson {
  id: string;
  key: string;
  [field: string]: unknown;
}

export type DashboardOrganization = Awaited<ReturnType<typeof dashboardOrganization>>;

/**
 * A registered organization (workspaces ws-1 and ws-2, a generous plan) and
 * its signed-in user, over the REST API: make keys as the user, call as any
 * key, read the organization's keys and audit events.
 */
export async function dashboardOrganization(service: TestKeyward) {
  const baseUrl = service.keyward.server.httpUrl;
  const organizationId = await newOrganization(service.clients("connect"));
  const user = client(baseUrl, bearer(await userToken(organizationId)));
  return {
    organizationId,
    userId: userIdOf(organizationId),
    user,
    /** Creates a key as the user (201 expected). */
    async make(json: Record<string, unknown>): Promise<IssuedKeyJson> {
      const reply = await user("POST", "/v1/api-keys", { json: { name: "test key", ...json } });
      expect(reply.status, reply.text).toBe(201);
      return reply.body as IssuedKeyJson;
    },
    /** A client calling with this key (and any extra headers, e.g. x-workspace-id). */
    as: (key: { key: string }, headers: Record<string, string> = {}) => client(baseUrl, { ...bearer(key.key), ...headers }),
    /** Every key of the organization, as the user reads them. */
    async keys(): Promise<unknown[]> {
      const reply = await user("GET", "/v1/api-keys?limit=100");
      expect(reply.status, reply.text).toBe(200);
      return reply.body as unknown[];
    },
    /** The organization's audit events, newest first (`query`: more parameters). */
    async events(query = ""): Promise<AuditEventJson[]> {
      const reply = await user("GET", `/v1/audit-events?limit=100${query ? `&${query}` : ""}`);
      expect(reply.status, reply.text).toBe(200);
      return reply.body as AuditEventJson[];
    },
  };
}
