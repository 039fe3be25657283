import type { ConnectRouter } from "@connectrpc/connect";
import { ApiKeyService } from "../../gen/authn/v1/api_key_pb.js";
import { AuditService } from "../../gen/authn/v1/audit_pb.js";
import { AuthService } from "../../gen/authn/v1/auth_pb.js";
import { OrganizationService } from "../../gen/authn/v1/organization_pb.js";
import { Authorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import type { ApiKeys } from "../app/api-keys.js";
import type { AuditTrail } from "../app/audit-trail.js";
import type { Organizations } from "../app/organizations.js";
import type { Verifier } from "../app/verify.js";
import { apiKeyService } from "./api-key-service.js";
import { auditService } from "./audit-service.js";
import { authService } from "./auth-service.js";
import { HealthStatus, healthService } from "./health-service.js";
import { organizationService } from "./organization-service.js";
import { registerReflection } from "./reflection.js";

export interface RpcDeps {
  verifier: Verifier;
  apiKeys: ApiKeys;
  organizations: Organizations;
  audit: AuditTrail;
}

/** keyward's own services: health reports on them, reflection describes them. */
export const AUTHN_SERVICES = [AuthService, ApiKeyService, OrganizationService, AuditService] as const;

/**
 * Every service of the RPC port. `health` is the status grpc.health.v1.Health
 * reports; the server turns it NOT_SERVING when it starts to drain.
 */
export function rpcRoutes(deps: RpcDeps, health = new HealthStatus(AUTHN_SERVICES.map((s) => s.typeName))) {
  return (router: ConnectRouter) => {
    router.service(AuthService, authService(deps.verifier));
    router.service(ApiKeyService, apiKeyService(deps.apiKeys));
    router.service(OrganizationService, organizationService(deps.organizations));
    router.service(AuditService, auditService(deps.audit));
    router.service(Health, healthService(health));
    // Envoy's Authorization (registered by the gateway doors) is described too.
    registerReflection(router, [...AUTHN_SERVICES, Health, Authorization]);
  };
}
