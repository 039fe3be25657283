/**
 * Baseline (a): the same connect-node stack as the service's RPC port — the
 * same node:http2 server options, the same router options — serving an
 * AuthService whose Verify does nothing but answer a constant VerifyResponse
 * (BENCH_RESPONSE: the base64 of a real allowed verdict, so both serialize
 * the same bytes). What is left is the floor the library sets.
 *
 * BENCH_HANDLER picks the Node handler:
 * - `adapter` (default): connect-node's connectNodeAdapter, the library alone;
 * - `keyward`: src/rpc/node-handler.ts's rpcNodeHandler with the service's
 *   interceptor, to see what our wrapper around the library costs.
 *
 * Keep the options in step with src/server.ts.
 */
import http2 from "node:http2";
import { fromBinary } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { pino } from "pino";
import { AuthService, VerifyResponseSchema } from "../gen/authn/v1/auth_pb.js";
import { errorMappingInterceptor } from "../src/rpc/error-mapping.js";
import { rpcNodeHandler } from "../src/rpc/node-handler.js";
import { exitWithParent, reportReady } from "./processes.js";
import { monitorGc } from "./resources.js";

monitorGc();

const response = fromBinary(VerifyResponseSchema, Buffer.from(process.env.BENCH_RESPONSE ?? "", "base64"));
const routes = (router: ConnectRouter): void => {
  router.service(AuthService, { verify: async () => response });
};
// As src/server.ts: READ_MAX_BYTES and the strict JSON options.
const routerOptions = { readMaxBytes: 4 * 1024 * 1024, jsonOptions: { ignoreUnknownFields: false } };

const handler =
  process.env.BENCH_HANDLER === "keyward"
    ? rpcNodeHandler({
        routes,
        ...routerOptions,
        interceptors: [errorMappingInterceptor(pino({ level: "warn" }))],
        onError: () => {},
      })
    : connectNodeAdapter({ routes, ...routerOptions });

const server = http2.createServer({ maxSessionMemory: 64, settings: { maxHeaderListSize: 64 * 1024 } }, handler);
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  reportReady(typeof address === "object" && address ? address.port : 0);
});
exitWithParent(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // h2load keeps its sessions open until it exits; nothing to drain here.
      setImmediate(() => resolve());
    }),
);
