/**
 * What goes on the wire: a gateway's VerifyRequest for one public request, and
 * how each protocol carries it (content type, headers, body framing).
 */
import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { VerifyRequestSchema } from "../gen/authn/v1/auth_pb.js";
import type { VerifyRequest } from "../gen/authn/v1/auth_pb.js";
import { CheckRequestSchema } from "../gen/envoy/service/auth/v3/external_auth_pb.js";

/** Connect unary with binary and with JSON messages, and gRPC. */
export type Protocol = "connect" | "connect-json" | "grpc";

export interface ProtocolWire {
  /** Request headers, as h2load -H 'name: value' pairs. */
  headers: Record<string, string>;
  encode(request: VerifyRequest): Buffer;
}

/** A gRPC length-prefixed message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

export const WIRES: Readonly<Record<Protocol, ProtocolWire>> = {
  connect: {
    headers: { "content-type": "application/proto", "connect-protocol-version": "1" },
    encode: (request) => Buffer.from(toBinary(VerifyRequestSchema, request)),
  },
  "connect-json": {
    headers: { "content-type": "application/json", "connect-protocol-version": "1" },
    encode: (request) => Buffer.from(toJsonString(VerifyRequestSchema, request)),
  },
  grpc: {
    headers: { "content-type": "application/grpc", te: "trailers" },
    encode: (request) => grpcFrame(toBinary(VerifyRequestSchema, request)),
  },
};

export const VERIFY_PATH = "/authn.v1.AuthService/Verify";
export const CHECK_PATH = "/envoy.service.auth.v3.Authorization/Check";

/**
 * Envoy's ext_authz Check for the same public request, framed for gRPC (how
 * Envoy asks): headers in the `headers` map, as Envoy sends them unless
 * `encode_raw_headers` is set (lower-case names, repeated values joined).
 */
export function gatewayCheck(key: string): Buffer {
  const request = gatewayRequest(key);
  return grpcFrame(
    toBinary(
      CheckRequestSchema,
      create(CheckRequestSchema, {
        attributes: {
          source: { address: { address: { case: "socketAddress", value: { address: request.clientIp } } } },
          request: {
            http: {
              method: request.method,
              path: request.path,
              headers: Object.fromEntries(request.headers.map((h) => [h.name.toLowerCase(), h.value])),
            },
          },
        },
      }),
    ),
  );
}

/**
 * The request an API gateway sends for `POST /v1/send` with a Bearer key:
 * the public request's headers as received (a realistic dozen), method and
 * path (so the route policy maps it to scope `send`), client IP.
 */
export function gatewayRequest(key: string): VerifyRequest {
  const headers = [
    ["Host", "api.example.com"],
    ["User-Agent", "senderkit-node/3.2.1 node/20.19.0"],
    ["Accept", "application/json"],
    ["Accept-Encoding", "gzip, deflate, br"],
    ["Content-Type", "application/json"],
    ["Content-Length", "312"],
    ["Authorization", `Bearer ${key}`],
    ["X-Request-Id", "4f1c2e9a-7b3d-4e5f-9a8b-1c2d3e4f5a6b"],
    ["X-Forwarded-For", "203.0.113.7"],
    ["X-Forwarded-Proto", "https"],
    ["Idempotency-Key", "b7e4c1d2-0a9f-4e8b-8c7d-6e5f4a3b2c1d"],
    ["Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
  ];
  return create(VerifyRequestSchema, {
    headers: headers.map(([name, value]) => ({ name, value })),
    method: "POST",
    path: "/v1/send",
    clientIp: "203.0.113.7",
  });
}
