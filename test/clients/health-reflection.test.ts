/**
 * grpc.health.v1.Health and gRPC server reflection (v1, v1alpha) on the RPC
 * port of the real service: open without a service token, and complete
 * enough for a client with no .proto at hand to rebuild the contract.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ServerReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import type { ServerReflectionRequestSchema } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { PROTOCOLS, startTestKeyward, transportFor } from "../support/keyward.js";
import type { TestKeyward } from "../support/keyward.js";
import { ROOT, SERVICE_TOKEN } from "./programs.js";

const run = promisify(execFile);

type ReflectionRequest = MessageInitShape<typeof ServerReflectionRequestSchema>;

const AUTHN = ["authn.v1.AuthService", "authn.v1.ApiKeyService", "authn.v1.OrganizationService", "authn.v1.AuditService"];

async function* from<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of stream) all.push(item);
  return all;
}

describe("health and reflection", () => {
  let service: TestKeyward;
  // Tokens are configured, and these clients send none: both services are open.
  beforeAll(async () => {
    service = await startTestKeyward({ embedded: true, env: { KEYWARD_INTERNAL_TOKENS: SERVICE_TOKEN } });
  });
  afterAll(async () => {
    await service?.stop();
  });

  const reflect = async (version: "v1" | "v1alpha", requests: ReflectionRequest[]) => {
    const transport = transportFor(service.keyward.server.rpcUrl, "grpc");
    if (version === "v1alpha") {
      const client = createClient(ServerReflectionV1alpha, transport);
      return collect(client.serverReflectionInfo(from(requests as never[])));
    }
    const client = createClient(ServerReflectionV1, transport);
    return collect(client.serverReflectionInfo(from(requests)));
  };

  describe("grpc.health.v1.Health", () => {
    it.each(PROTOCOLS)("answers SERVING for the server and each authn.v1 service, NOT_FOUND for others (%s)", async (protocol) => {
      const health = createClient(Health, transportFor(service.keyward.server.rpcUrl, protocol));
      for (const name of ["", ...AUTHN]) {
        await expect(health.check({ service: name })).resolves.toMatchObject({ status: ServingStatus.SERVING });
      }
      const unknown = await health.check({ service: "authn.v1.NoSuchService" }).catch((e: unknown) => e);
      expect(ConnectError.from(unknown).code).toBe(Code.NotFound);
    });

    it("lists every status", async () => {
      const health = createClient(Health, transportFor(service.keyward.server.rpcUrl, "grpc"));
      const { statuses } = await health.list({});
      expect(Object.keys(statuses).sort()).toEqual(["", ...AUTHN].sort());
      for (const entry of Object.values(statuses)) expect(entry.status).toBe(ServingStatus.SERVING);
    });

    it("watches: the current status at once; SERVICE_UNKNOWN for an unknown service, without ending", async () => {
      const health = createClient(Health, transportFor(service.keyward.server.rpcUrl, "grpc"));
      for (const [name, expected] of [
        ["authn.v1.AuthService", ServingStatus.SERVING],
        ["no.such.Service", ServingStatus.SERVICE_UNKNOWN],
      ] as const) {
        const abort = new AbortController();
        const stream = health.watch({ service: name }, { signal: abort.signal })[Symbol.asyncIterator]();
        const first = await stream.next();
        expect(first.value?.status).toBe(expected);
        abort.abort();
        await expect(stream.next()).rejects.toMatchObject({ code: Code.Canceled });
      }
    });

    it("turns NOT_SERVING when the server drains, and ends Watch calls so they never hold the stop", async () => {
      const draining = await startTestKeyward({ embedded: true });
      const health = createClient(Health, transportFor(draining.keyward.server.rpcUrl, "grpc"));
      const stream = health.watch({ service: "" })[Symbol.asyncIterator]();
      expect((await stream.next()).value?.status).toBe(ServingStatus.SERVING);

      const started = Date.now();
      const stopped = draining.stop();
      expect((await stream.next()).value?.status).toBe(ServingStatus.NOT_SERVING);
      expect((await stream.next()).done).toBe(true);
      await stopped;
      expect(Date.now() - started).toBeLessThan(5_000); // the grace period is 10 s
    });
  });

  it("lets a grpcurl-style tool (buf curl) list and call the services with no .proto at hand", async () => {
    const buf = (...args: string[]) =>
      run(`${ROOT}/node_modules/.bin/buf`, ["curl", "--http2-prior-knowledge", ...args], { cwd: ROOT });
    const url = service.keyward.server.rpcUrl;
    const { stdout: methods } = await buf("--list-methods", url);
    expect(methods.split("\n")).toEqual(
      expect.arrayContaining([
        "authn.v1.AuthService/Verify",
        "authn.v1.ApiKeyService/CreateApiKey",
        "grpc.health.v1.Health/Check",
        "envoy.service.auth.v3.Authorization/Check",
      ]),
    );
    const { stdout: health } = await buf(
      ...["--protocol", "grpc", "-d", '{"service":"authn.v1.AuthService"}'],
      `${url}/grpc.health.v1.Health/Check`,
    );
    expect(JSON.parse(health)).toEqual({ status: "SERVING" });
    // The service token for Verify; buf curl sends it to reflection too, which ignores it.
    const { stdout: verdict } = await buf(
      ...["-H", `Authorization: Bearer ${SERVICE_TOKEN}`],
      ...["-d", '{"headers":[{"name":"accept","value":"*/*"}]}'],
      `${url}/authn.v1.AuthService/Verify`,
    );
    expect(JSON.parse(verdict)).toMatchObject({ code: "VERIFY_CODE_MISSING_CREDENTIALS", http: { status: 401 } });
  });

  describe.each(["v1", "v1alpha"] as const)("server reflection %s", (version) => {
    it("lists the authn.v1 services, health and reflection", async () => {
      const [answer] = await reflect(version, [{ messageRequest: { case: "listServices", value: "" } }]);
      expect(answer?.messageResponse.case).toBe("listServicesResponse");
      const names =
        answer?.messageResponse.case === "listServicesResponse"
          ? answer.messageResponse.value.service.map((s) => s.name)
          : [];
      expect(names).toEqual(expect.arrayContaining([...AUTHN, "grpc.health.v1.Health", "envoy.service.auth.v3.Authorization"]));
      expect(names).toContain(`grpc.reflection.${version}.ServerReflection`);
    });

    it("answers the files of a symbol with their imports, enough to rebuild the contract", async () => {
      const answers = await reflect(version, [
        { messageRequest: { case: "fileContainingSymbol", value: "authn.v1.AuthService" } },
        { messageRequest: { case: "fileContainingSymbol", value: "authn.v1.ApiKeyService.RollApiKey" } },
        { messageRequest: { case: "fileByFilename", value: "authn/v1/organization.proto" } },
      ]);
      expect(answers).toHaveLength(3);
      const files = answers.flatMap((a) =>
        a.messageResponse.case === "fileDescriptorResponse"
          ? a.messageResponse.value.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes))
          : [],
      );
      // Each answer starts with the file asked for.
      expect(
        answers.map((a) =>
          a.messageResponse.case === "fileDescriptorResponse"
            ? fromBinary(FileDescriptorProtoSchema, a.messageResponse.value.fileDescriptorProto[0]!).name
            : a.messageResponse.case,
        ),
      ).toEqual(["authn/v1/auth.proto", "authn/v1/api_key.proto", "authn/v1/organization.proto"]);
      const names = [...new Set(files.map((f) => f.name))];
      expect(names).toEqual(
        expect.arrayContaining([
          "authn/v1/auth.proto",
          "authn/v1/api_key.proto",
          "authn/v1/common.proto",
          "authn/v1/organization.proto",
          "google/protobuf/timestamp.proto",
          "google/protobuf/duration.proto",
          "google/protobuf/field_mask.proto",
        ]),
      );

      // Rebuild the contract from the answers alone, imports resolved among them.
      const byName = new Map(files.map((f) => [f.name, f]));
      const registry = createFileRegistry(
        ...["authn/v1/auth.proto", "authn/v1/api_key.proto"].map((name) =>
          createFileRegistry(byName.get(name)!, (dependency) => byName.get(dependency)),
        ),
      );
      const auth = registry.getService("authn.v1.AuthService");
      expect(auth?.methods.map((m) => m.name)).toEqual(["Verify"]);
      expect(auth?.methods[0]?.input.fields.map((f) => f.name)).toEqual(
        expect.arrayContaining(["headers", "required_scope", "method", "path", "workspace_id", "cost"]),
      );
      expect(registry.getService("authn.v1.ApiKeyService")?.methods.map((m) => m.name)).toContain("RollApiKey");
    });

    it("answers NOT_FOUND for what it does not know, and the stream goes on", async () => {
      const answers = await reflect(version, [
        { messageRequest: { case: "fileContainingSymbol", value: "authn.v1.Nothing" } },
        { messageRequest: { case: "fileByFilename", value: "nothing.proto" } },
        { messageRequest: { case: "fileContainingExtension", value: { containingType: "authn.v1.ApiKey", extensionNumber: 1000 } } },
        { messageRequest: { case: "allExtensionNumbersOfType", value: "authn.v1.ApiKey" } },
        { messageRequest: { case: "listServices", value: "" } },
      ]);
      expect(answers.map((a) => a.messageResponse.case)).toEqual([
        "errorResponse",
        "errorResponse",
        "errorResponse",
        "allExtensionNumbersResponse",
        "listServicesResponse",
      ]);
      for (const answer of answers.slice(0, 3)) {
        expect(answer.messageResponse.value).toMatchObject({ errorCode: Code.NotFound });
      }
      expect(answers[3]?.messageResponse.value).toMatchObject({ baseTypeName: "authn.v1.ApiKey", extensionNumber: [] });
      expect(answers[0]?.originalRequest?.messageRequest).toEqual({ case: "fileContainingSymbol", value: "authn.v1.Nothing" });
    });
  });
});
