"""Walks one API key through its life against a running keyward with the
generated grpcio stubs (gen/python): health check, reflection, organization,
key, two Verify styles, revoke, Verify again.

    .cache/venv/bin/python clients/python/keyward_client.py --url http://127.0.0.1:50051 [--token T]

Prints one JSON object: what the service answered, verdicts in the protobuf
JSON mapping (lowerCamelCase fields, enum names). It judges nothing; an RPC
that fails ends it with exit code 1 and the error on stderr.
"""

import argparse
import json
import os
import sys
import uuid
from urllib.parse import urlparse

import grpc
from google.protobuf import descriptor_pool
from google.protobuf.json_format import MessageToDict
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

# The generated code imports itself as `authn.v1`: gen/python is its root.
# No __pycache__ written into the committed tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "gen", "python"))

from authn.v1 import api_key_pb2, api_key_pb2_grpc  # noqa: E402
from authn.v1 import auth_pb2, auth_pb2_grpc  # noqa: E402
from authn.v1 import common_pb2  # noqa: E402
from authn.v1 import organization_pb2, organization_pb2_grpc  # noqa: E402

TIMEOUT_S = 10


def verdict(response: auth_pb2.VerifyResponse) -> dict:
    # False, zero and empty fields written out, as the Go client does.
    return MessageToDict(response, always_print_fields_with_no_presence=True)


def run(target: str, token: str) -> dict:
    # keyward's RPC port is plaintext HTTP/2: an insecure channel, straight to it
    # (never through an http_proxy from the environment).
    with grpc.insecure_channel(target, options=[("grpc.enable_http_proxy", 0)]) as channel:
        out = {"health": {}, "verdicts": {}}

        # Health and reflection are open; the other services want the token.
        health = health_pb2_grpc.HealthStub(channel)
        for service in ["", "authn.v1.AuthService", "authn.v1.ApiKeyService", "authn.v1.OrganizationService", "no.such.Service"]:
            try:
                status = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=TIMEOUT_S).status
                out["health"][service] = health_pb2.HealthCheckResponse.ServingStatus.Name(status)
            except grpc.RpcError as error:
                out["health"][service] = error.code().name.lower()

        # grpcio-reflection's client: services and a service's methods, with no .proto at hand.
        reflection = ProtoReflectionDescriptorDatabase(channel)
        pool = descriptor_pool.DescriptorPool(reflection)
        out["reflection"] = {
            "services": sorted(reflection.get_services()),
            "authServiceMethods": [m.name for m in pool.FindServiceByName("authn.v1.AuthService").methods],
        }

        metadata = [("authorization", f"Bearer {token}")] if token else []
        orgs = organization_pb2_grpc.OrganizationServiceStub(channel)
        keys = api_key_pb2_grpc.ApiKeyServiceStub(channel)
        auth = auth_pb2_grpc.AuthServiceStub(channel)

        org = orgs.UpsertOrganization(
            organization_pb2.UpsertOrganizationRequest(
                organization=organization_pb2.Organization(
                    id=str(uuid.uuid4()), status=organization_pb2.ORGANIZATION_STATUS_ACTIVE
                )
            ),
            metadata=metadata,
            timeout=TIMEOUT_S,
        ).organization
        out["organizationId"] = org.id

        created = keys.CreateApiKey(
            api_key_pb2.CreateApiKeyRequest(organization_id=org.id, name="Python client", scopes=["send", "read"]),
            metadata=metadata,
            timeout=TIMEOUT_S,
        )
        key = created.key  # the plaintext: shown this once
        out["keyId"] = created.api_key.id
        out["hint"] = created.api_key.hint

        def verify(name: str, request: auth_pb2.VerifyRequest) -> None:
            out["verdicts"][name] = verdict(auth.Verify(request, metadata=metadata, timeout=TIMEOUT_S))

        # Sent's style: x-api-key plus the organization's UUID as x-sender-id.
        verify(
            "sent",
            auth_pb2.VerifyRequest(
                headers=[
                    common_pb2.Header(name="x-api-key", value=key),
                    common_pb2.Header(name="x-sender-id", value=org.id),
                ],
                method="POST",
                path="/v1/send",
            ),
        )
        bearer = [common_pb2.Header(name="Authorization", value=f"Bearer {key}")]
        verify("bearer", auth_pb2.VerifyRequest(headers=bearer, required_scope="read"))

        keys.RevokeApiKey(
            api_key_pb2.RevokeApiKeyRequest(organization_id=org.id, id=created.api_key.id),
            metadata=metadata,
            timeout=TIMEOUT_S,
        )
        verify("revoked", auth_pb2.VerifyRequest(headers=bearer, required_scope="read"))
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="keyward's RPC URL, e.g. http://127.0.0.1:50051")
    parser.add_argument("--token", default=os.environ.get("KEYWARD_TOKEN", ""), help="service token (default $KEYWARD_TOKEN)")
    args = parser.parse_args()
    url = urlparse(args.url)
    if url.scheme != "http" or not url.netloc:
        print(f"keyward-python-client: --url must be http://host:port, not {args.url!r}", file=sys.stderr)
        return 2
    try:
        out = run(url.netloc, args.token)
    except grpc.RpcError as error:
        print(f"keyward-python-client: {error.code().name}: {error.details()}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
