/** One Verify through a real client: the bench measured an allowed verdict, not a denial. */
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService } from "../gen/authn/v1/auth_pb.js";
import { gatewayRequest } from "./payloads.js";
import { expectAllowed } from "./seed.js";

export async function checkVerify(rpcUrl: string, key: string, where: string): Promise<void> {
  const client = createClient(AuthService, createConnectTransport({ baseUrl: rpcUrl, httpVersion: "2" }));
  expectAllowed(await client.verify(gatewayRequest(key)), where);
}
