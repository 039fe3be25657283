// Command keyward-go-client walks one API key through its life against a
// running keyward, with the generated connect-go clients (gen/go) over gRPC:
// health check, organization, key, two Verify styles, revoke, Verify again.
//
//	go run . -url http://127.0.0.1:50051 [-token <service token>]
//
// It prints one JSON object: what the service answered, verdicts in the
// protobuf JSON mapping (lowerCamelCase fields, enum names). It judges
// nothing; an RPC that fails ends it with exit code 1 and the error on stderr.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	authnv1 "keyward/gen/go/authn/v1"
	"keyward/gen/go/authn/v1/authnv1connect"
	healthv1 "keyward/gen/go/grpc/health/v1"
	"keyward/gen/go/grpc/health/v1/healthv1connect"
)

// report is the program's output.
type report struct {
	// Health maps a service name ("" is the server) to its status, or to the
	// error code of the check ("not_found").
	Health         map[string]string          `json:"health"`
	OrganizationID string                     `json:"organizationId"`
	KeyID          string                     `json:"keyId"`
	Hint           string                     `json:"hint"`
	Verdicts       map[string]json.RawMessage `json:"verdicts"`
}

func main() {
	url := flag.String("url", "", "keyward's RPC URL, e.g. http://127.0.0.1:50051")
	token := flag.String("token", os.Getenv("KEYWARD_TOKEN"), "service token of the RPC port (default $KEYWARD_TOKEN)")
	flag.Parse()
	if *url == "" {
		fmt.Fprintln(os.Stderr, "keyward-go-client: -url is required")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := run(ctx, *url, *token)
	if err != nil {
		fmt.Fprintln(os.Stderr, "keyward-go-client:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}

func run(ctx context.Context, url, token string) (*report, error) {
	httpClient := h2cClient()
	// Health is open; every other service of the RPC port wants the token.
	health := healthv1connect.NewHealthClient(httpClient, url, connect.WithGRPC())
	opts := []connect.ClientOption{connect.WithGRPC()}
	if token != "" {
		opts = append(opts, connect.WithInterceptors(bearer(token)))
	}
	orgs := authnv1connect.NewOrganizationServiceClient(httpClient, url, opts...)
	keys := authnv1connect.NewApiKeyServiceClient(httpClient, url, opts...)
	auth := authnv1connect.NewAuthServiceClient(httpClient, url, opts...)

	out := &report{Health: map[string]string{}, Verdicts: map[string]json.RawMessage{}}
	for _, service := range []string{"", "authn.v1.AuthService", "authn.v1.ApiKeyService", "authn.v1.OrganizationService", "no.such.Service"} {
		res, err := health.Check(ctx, connect.NewRequest(&healthv1.HealthCheckRequest{Service: service}))
		if err != nil {
			var connectErr *connect.Error
			if !errors.As(err, &connectErr) {
				return nil, fmt.Errorf("health check %q: %w", service, err)
			}
			out.Health[service] = connectErr.Code().String()
			continue
		}
		out.Health[service] = res.Msg.GetStatus().String()
	}

	org, err := orgs.UpsertOrganization(ctx, connect.NewRequest(&authnv1.UpsertOrganizationRequest{
		Organization: &authnv1.Organization{Id: newUUID(), Status: authnv1.OrganizationStatus_ORGANIZATION_STATUS_ACTIVE},
	}))
	if err != nil {
		return nil, fmt.Errorf("upsert organization: %w", err)
	}
	orgID := org.Msg.GetOrganization().GetId()
	out.OrganizationID = orgID

	created, err := keys.CreateApiKey(ctx, connect.NewRequest(&authnv1.CreateApiKeyRequest{
		OrganizationId: orgID,
		Name:           "Go client",
		Scopes:         []string{"send", "read"},
	}))
	if err != nil {
		return nil, fmt.Errorf("create api key: %w", err)
	}
	key := created.Msg.GetKey() // the plaintext: shown this once
	out.KeyID = created.Msg.GetApiKey().GetId()
	out.Hint = created.Msg.GetApiKey().GetHint()

	verify := func(name string, req *authnv1.VerifyRequest) error {
		res, err := auth.Verify(ctx, connect.NewRequest(req))
		if err != nil {
			return fmt.Errorf("verify (%s): %w", name, err)
		}
		out.Verdicts[name], err = verdictJSON(res.Msg)
		return err
	}
	// Sent's style: x-api-key plus the organization's UUID as x-sender-id.
	if err := verify("sent", &authnv1.VerifyRequest{
		Headers: []*authnv1.Header{{Name: "x-api-key", Value: key}, {Name: "x-sender-id", Value: orgID}},
		Method:  "POST",
		Path:    "/v1/send",
	}); err != nil {
		return nil, err
	}
	bearerHeaders := []*authnv1.Header{{Name: "Authorization", Value: "Bearer " + key}}
	if err := verify("bearer", &authnv1.VerifyRequest{Headers: bearerHeaders, RequiredScope: "read"}); err != nil {
		return nil, err
	}

	if _, err := keys.RevokeApiKey(ctx, connect.NewRequest(&authnv1.RevokeApiKeyRequest{OrganizationId: orgID, Id: out.KeyID})); err != nil {
		return nil, fmt.Errorf("revoke api key: %w", err)
	}
	if err := verify("revoked", &authnv1.VerifyRequest{Headers: bearerHeaders, RequiredScope: "read"}); err != nil {
		return nil, err
	}
	return out, nil
}

// h2cClient speaks HTTP/2 without TLS (prior knowledge), as gRPC over
// keyward's plaintext RPC port needs; net/http does this since Go 1.24.
func h2cClient() *http.Client {
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: protocols}}
}

func bearer(token string) connect.UnaryInterceptorFunc {
	return func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", "Bearer "+token)
			return next(ctx, req)
		}
	}
}

// verdictJSON uses the protobuf JSON mapping, with false, zero and empty
// fields written out, as Python's MessageToDict does for the same message.
func verdictJSON(m proto.Message) (json.RawMessage, error) {
	return protojson.MarshalOptions{EmitDefaultValues: true}.Marshal(m)
}

// newUUID returns a random (version 4) UUID: the x-sender-id style wants one.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
