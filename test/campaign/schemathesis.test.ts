/**
 * The REST campaign: schemathesis (PyPI, pinned in requirements.txt, in
 * .cache/campaign-venv) generates requests from the served OpenAPI document —
 * examples, boundary values, fuzzing and stateful sequences — against the
 * real service on FerretDB, with a fixed seed and a time bound. Every answer
 * must be no server error and conform to the document: status, content type,
 * headers, body schema; and a request the document forbids must be refused.
 *
 * Left out, on purpose: positive_data_acceptance (the document cannot say
 * "expiresAt in the future" or "one credential per request", so a schema-valid
 * request may rightly be a 400), and OPTIONS (a CORS preflight answers for
 * the path's pattern, whatever the id in it).
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../setup/servers.js";
import type { TestKeyward } from "../support/keyward.js";
import { newOrganizationId, startRestKeyward, userToken } from "../rest/support.js";

const ST = path.join(REPO_ROOT, ".cache", "campaign-venv", "bin", "st");
const MAX_SECONDS = 75;
const CHECKS = [
  "not_a_server_error",
  "status_code_conformance",
  "content_type_conformance",
  "response_headers_conformance",
  "response_schema_conformance",
  "negative_data_rejection",
];

let service: TestKeyward;
beforeAll(async () => {
  service = await startRestKeyward();
});
afterAll(() => service?.stop());

describe("schemathesis against GET /v1/openapi.json", () => {
  it("finds no server error and no mismatch with the document", async () => {
    const organization = newOrganizationId();
    const { key } = await service.clients("grpc").apiKeys.createApiKey({ organizationId: organization, name: "campaign" });
    const base = service.keyward.server.httpUrl;
    const args = [
      "--config-file", path.join(REPO_ROOT, "test", "campaign", "schemathesis.toml"),
      "run", `${base}/v1/openapi.json`,
      "--url", base,
      "--checks", CHECKS.join(","),
      "--exclude-method", "OPTIONS",
      "--max-time", String(MAX_SECONDS),
      "--seed", "20261203",
      // One worker: schemathesis's threads trip a CPython 3.11 AST error here.
      "--workers", "1",
      "--no-color",
    ];
    const env = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      KW_USER_TOKEN: await userToken(organization, { expiresIn: "1h" }),
      KW_API_KEY: key,
      KW_ORGANIZATION: organization,
    };
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(ST, args, { cwd: path.join(REPO_ROOT, ".cache"), env, timeout: (MAX_SECONDS + 60) * 1000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: `${stdout}\n${stderr}` });
      });
    });
    const summary = output.slice(output.lastIndexOf("SUMMARY"));
    expect(code, output.slice(-6000)).toBe(0);
    expect(summary).toMatch(/\d+ generated, \d+ passed/);
    expect(output).not.toContain(key.slice(8)); // credentials are filtered from reports
  }, (MAX_SECONDS + 90) * 1000);
});
