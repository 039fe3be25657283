import type { ConnectRouter } from "@connectrpc/connect";
import { ApiKeyService } from "../../gen/authn/v1/api_key_pb.js";
import { AuthService } from "../../gen/authn/v1/auth_pb.js";
import { OrganizationService } from "../../gen/authn/v1/organization_pb.js";
import type { ApiKeys } from "../app/api-keys.js";
import type { Organizations } from "../app/organizations.js";
import type { Verifier } from "../app/verify.js";
import { apiKeyService } from "./api-key-service.js";
import { authService } from "./auth-service.js";
import { organizationService } from "./organization-service.js";

export interface RpcDeps {
  verifier: Verifier;
  apiKeys: ApiKeys;
  organizations: Organizations;
}

/** Every service of the RPC port. */
export function rpcRoutes(deps: RpcDeps) {
  return (router: ConnectRouter) => {
    router.service(AuthService, authService(deps.verifier));
    router.service(ApiKeyService, apiKeyService(deps.apiKeys));
    router.service(OrganizationService, organizationService(deps.organizations));
  };
}
