/**
 * grpc.health.v1.Health, gRPC's standard health checking, so load balancers,
 * Kubernetes gRPC probes and grpc-health-probe work unchanged. Open to any
 * caller (see internal-auth.ts): a status says nothing about keys.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../gen/grpc/health/v1/health_pb.js";

/** More services than this and List answers RESOURCE_EXHAUSTED (as the proto says). */
const LIST_LIMIT = 100;

/**
 * The serving status of the server ("") and of each service it names.
 * SERVING from the start; `shutdown()` turns everything NOT_SERVING for good,
 * so balancers stop sending calls while in-flight ones drain.
 */
export class HealthStatus {
  private readonly statuses: Map<string, ServingStatus>;
  private readonly listeners = new Set<() => void>();
  private stopping = false;

  /** @param services fully-qualified names, e.g. "authn.v1.AuthService" */
  constructor(services: Iterable<string>) {
    this.statuses = new Map([["", ServingStatus.SERVING]]);
    for (const name of services) this.statuses.set(name, ServingStatus.SERVING);
  }

  /** Undefined: a service this server does not know. */
  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  all(): ReadonlyMap<string, ServingStatus> {
    return this.statuses;
  }

  get shuttingDown(): boolean {
    return this.stopping;
  }

  /** Every service NOT_SERVING from now on; Watch calls send it and end. */
  shutdown(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const name of this.statuses.keys()) this.statuses.set(name, ServingStatus.NOT_SERVING);
    for (const listener of [...this.listeners]) listener();
  }

  /** Resolves at the next change, or when `signal` aborts. */
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.listeners.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.listeners.add(done);
      signal.addEventListener("abort", done, { once: true });
      if (signal.aborted) done();
    });
  }
}

export function healthService(health: HealthStatus): ServiceImpl<typeof Health> {
  return {
    check(req) {
      const status = health.get(req.service);
      if (status === undefined) {
        throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
      }
      return { status };
    },

    list() {
      const all = health.all();
      if (all.size > LIST_LIMIT) {
        throw new ConnectError(`more than ${LIST_LIMIT} services`, Code.ResourceExhausted);
      }
      return { statuses: Object.fromEntries([...all].map(([name, status]) => [name, { status }])) };
    },

    // The current status at once, then each change, until the caller leaves
    // or the server shuts down (so a watcher never holds up the drain).
    async *watch(req, context) {
      let last: ServingStatus | undefined;
      for (;;) {
        const status = health.get(req.service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (status !== last) {
          yield { status };
          last = status;
          continue; // it may have changed while the caller was reading
        }
        if (health.shuttingDown || context.signal.aborted) return;
        await health.changed(context.signal);
      }
    },
  };
}
