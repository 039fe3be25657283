/**
 * Operator CLI: every management action through a running service's RPC
 * port. `npm run cli -- help` lists the commands, `help <command>` explains
 * one. Mistakes in the command line are one line on stderr and exit code 2;
 * a refusal by the service is one line and exit code 1.
 */
import { parseArgs } from "node:util";
import { Code as ConnectErrorCodes, ConnectError, createClient } from "@connectrpc/connect";
import type { Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ApiKeyService } from "../gen/authn/v1/api_key_pb.js";
import { AuditService } from "../gen/authn/v1/audit_pb.js";
import { OrganizationService } from "../gen/authn/v1/organization_pb.js";
import { COMMANDS, UsageError } from "./cli/commands.js";
import type { Command, Options } from "./cli/commands.js";

const COMMON_USAGE = `common options:
  --url URL     the RPC port (default $KEYWARD_RPC_URL or http://127.0.0.1:50051)
  --token T     a service token (default $KEYWARD_SERVICE_TOKEN; none needed on loopback in development)
  --help        this help`;

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "usage: npm run cli -- <command> [options]",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${"help".padEnd(width)}  help <command> shows a command's options`,
    "",
    COMMON_USAGE,
  ].join("\n");
}

function commandHelp(command: Command): string {
  return [`usage: npm run cli -- ${command.name} ${command.usage}`, "", command.summary, "", COMMON_USAGE].join("\n");
}

function fail(message: string, code: number): never {
  process.stderr.write(`keyward: ${message}\n`);
  process.exit(code);
}

// `npm run cli -- list-keys … | head` closes stdout early: that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || name === "help" || name === "--help" || name === "-h") {
  const topic = name === "help" ? rest[0] : undefined;
  if (topic === undefined) {
    process.stdout.write(`${overview()}\n`);
    process.exit(0);
  }
  const command = COMMANDS.find((c) => c.name === topic);
  if (!command) fail(`unknown command "${topic}" (npm run cli -- help lists them)`, 2);
  process.stdout.write(`${commandHelp(command)}\n`);
  process.exit(0);
}

const command = COMMANDS.find((c) => c.name === name);
if (!command) fail(`unknown command "${name}" (npm run cli -- help lists them)`, 2);

let values: Record<string, unknown>;
try {
  ({ values } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: false,
    options: Object.fromEntries([
      ...[...command.options, "url", "token"].map((o) => [o, { type: "string" as const }]),
      ["help", { type: "boolean" as const }],
    ]),
  }));
} catch (error) {
  // Node's own message names the option; the second line of it is advice for programmers.
  const first = (error as Error).message.split("\n")[0]?.replace(/\. To specify.*$/, "") ?? "bad arguments";
  fail(`${first} (npm run cli -- help ${command.name})`, 2);
}
if (values.help) {
  process.stdout.write(`${commandHelp(command)}\n`);
  process.exit(0);
}

const options: Options = {
  get: (option) => {
    const value = values[option];
    return typeof value === "string" ? value : undefined;
  },
  required: (option) => {
    const value = values[option];
    if (typeof value !== "string" || value === "") throw new UsageError(`--${option} is required`);
    return value;
  },
};

const token = options.get("token") ?? process.env.KEYWARD_SERVICE_TOKEN;
const bearer: Interceptor = (next) => (req) => {
  if (token) req.header.set("authorization", `Bearer ${token}`);
  return next(req);
};
const transport = createGrpcTransport({
  baseUrl: options.get("url") ?? process.env.KEYWARD_RPC_URL ?? "http://127.0.0.1:50051",
  interceptors: [bearer],
});

try {
  const output = await command.run(
    {
      apiKeys: createClient(ApiKeyService, transport),
      organizations: createClient(OrganizationService, transport),
      audit: createClient(AuditService, transport),
    },
    options,
  );
  process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
  if (command.note) process.stderr.write(`${command.note}\n`);
} catch (error) {
  if (error instanceof UsageError) fail(`${error.message} (npm run cli -- help ${command.name})`, 2);
  if (error instanceof ConnectError) fail(`${ConnectErrorCodes[error.code]}: ${error.rawMessage}`, 1);
  fail((error as Error).message, 1);
}

