/**
 * Operator CLI: bootstrap and manage keys through a running service's RPC
 * port. `npm run cli -- help` lists the commands.
 */
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { toJson } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import type { Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ApiKeySchema, ApiKeyService } from "../gen/authn/v1/api_key_pb.js";
import { KeyKind, Mode } from "../gen/authn/v1/common_pb.js";

const USAGE = `usage: npm run cli -- <command> [options]

commands:
  create-key  --organization ID --name NAME [--mode live|test] [--kind standard|master]
              [--scopes a,b] [--workspace ID]      prints the new key once
  list-keys   --organization ID
  revoke-key  --organization ID --id KEY_ID

common options:
  --url URL     the RPC port (default $KEYWARD_RPC_URL or http://127.0.0.1:50051)
  --token T     a service token (default $KEYWARD_SERVICE_TOKEN)`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: "string" },
    token: { type: "string" },
    organization: { type: "string" },
    name: { type: "string" },
    mode: { type: "string" },
    kind: { type: "string" },
    scopes: { type: "string" },
    workspace: { type: "string" },
    id: { type: "string" },
  },
});

function required(name: keyof typeof values): string {
  const value = values[name];
  if (typeof value !== "string" || value === "") {
    process.stderr.write(`--${name} is required\n\n${USAGE}\n`);
    process.exit(2);
  }
  return value;
}

const token = values.token ?? process.env.KEYWARD_SERVICE_TOKEN;
const bearer: Interceptor = (next) => (req) => {
  if (token) req.header.set("authorization", `Bearer ${token}`);
  return next(req);
};
const client = createClient(
  ApiKeyService,
  createGrpcTransport({
    baseUrl: values.url ?? process.env.KEYWARD_RPC_URL ?? "http://127.0.0.1:50051",
    interceptors: [bearer],
  }),
);

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

try {
  switch (positionals[0]) {
    case "create-key": {
      const res = await client.createApiKey({
        organizationId: required("organization"),
        name: required("name"),
        mode: values.mode === "test" ? Mode.TEST : Mode.LIVE,
        kind: values.kind === "master" ? KeyKind.MASTER : KeyKind.STANDARD,
        scopes: values.scopes ? values.scopes.split(",").map((s) => s.trim()) : [],
        workspaceId: values.workspace ?? "",
      });
      print({ key: res.key, apiKey: toJson(ApiKeySchema, res.apiKey ?? create(ApiKeySchema)) });
      process.stderr.write("Store the key now: it is not shown again.\n");
      break;
    }
    case "list-keys": {
      const res = await client.listApiKeys({ organizationId: required("organization"), pageSize: 100 });
      print(res.apiKeys.map((k) => toJson(ApiKeySchema, k)));
      break;
    }
    case "revoke-key": {
      const res = await client.revokeApiKey({ organizationId: required("organization"), id: required("id") });
      print(toJson(ApiKeySchema, res.apiKey ?? create(ApiKeySchema)));
      break;
    }
    default:
      process.stdout.write(`${USAGE}\n`);
      process.exit(positionals[0] === "help" || positionals[0] === undefined ? 0 : 2);
  }
} catch (error) {
  process.stderr.write(`keyward: ${(error as Error).message}\n`);
  process.exit(1);
}
