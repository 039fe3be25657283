import type { ServiceImpl } from "@connectrpc/connect";
import { OrganizationService } from "../../gen/authn/v1/organization_pb.js";
import type { Organizations } from "../app/organizations.js";
import { organizationFromProto, organizationToProto } from "./proto-mapping.js";
import { requestContextOf } from "./request-context.js";

/** authn.v1.OrganizationService over the organization use cases. */
export function organizationService(
  organizations: Organizations,
): ServiceImpl<typeof OrganizationService> {
  return {
    async upsertOrganization(req, ctx) {
      const record = await organizations.upsert(requestContextOf(ctx), organizationFromProto(req.organization));
      return { organization: organizationToProto(record) };
    },
    async getOrganization(req) {
      return { organization: organizationToProto(await organizations.get(req.id)) };
    },
    async suspendOrganization(req, ctx) {
      return { organization: organizationToProto(await organizations.suspend(requestContextOf(ctx), req.id)) };
    },
    async resumeOrganization(req, ctx) {
      return { organization: organizationToProto(await organizations.resume(requestContextOf(ctx), req.id)) };
    },
  };
}
