// Command envoy-client calls keyward's envoy.service.auth.v3.Authorization/Check
// with Envoy's own generated client (go-control-plane), as Envoy's ext_authz
// filter would, and validates every response with the package's ValidateAll.
//
// It reads the cases as a JSON array from the -cases file and prints one JSON array of
// results on stdout; the gateway test (test/gateways/envoy.test.ts) says what
// to ask and checks the answers.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// A request as Envoy describes it to the authorizer.
type checkCase struct {
	Name string `json:"name"`
	// Envoy's default: one entry per name, repeated headers joined with commas.
	Headers map[string]string `json:"headers"`
	// With encode_raw_headers: one entry per header, in header_map.
	RawHeaders [][2]string `json:"rawHeaders"`
	Method     string      `json:"method"`
	Path       string      `json:"path"`
	SourceIP   string      `json:"sourceIp"`
}

type header struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Append *bool  `json:"append"`
}

type result struct {
	Name string `json:"name"`
	// The gRPC error's code name when the call failed (e.g. "Unavailable").
	Error string `json:"error,omitempty"`
	// ValidateAll's complaint, empty when the response is valid.
	Invalid         string   `json:"invalid"`
	StatusCode      int32    `json:"statusCode"`
	Allowed         bool     `json:"allowed"`
	HTTPStatus      int32    `json:"httpStatus,omitempty"`
	Headers         []header `json:"headers"`
	ResponseHeaders []header `json:"responseHeadersToAdd"`
	Body            string   `json:"body,omitempty"`
	Response        string   `json:"response"`
}

func options(in []*corev3.HeaderValueOption) []header {
	out := []header{}
	for _, o := range in {
		h := header{Key: o.GetHeader().GetKey(), Value: o.GetHeader().GetValue()}
		if o.GetAppend() != nil {
			v := o.GetAppend().GetValue()
			h.Append = &v
		}
		out = append(out, h)
	}
	return out
}

func request(c checkCase) *authv3.CheckRequest {
	http := &authv3.AttributeContext_HttpRequest{Method: c.Method, Path: c.Path, Headers: c.Headers}
	if len(c.RawHeaders) > 0 {
		raw := &corev3.HeaderMap{}
		for _, kv := range c.RawHeaders {
			raw.Headers = append(raw.Headers, &corev3.HeaderValue{Key: kv[0], RawValue: []byte(kv[1])})
		}
		http.Headers = nil
		http.HeaderMap = raw
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source: &authv3.AttributeContext_Peer{Address: &corev3.Address{Address: &corev3.Address_SocketAddress{
			SocketAddress: &corev3.SocketAddress{Address: c.SourceIP, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 40000}},
		}}},
		Request: &authv3.AttributeContext_Request{Http: http},
	}}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "keyward's internal port")
	token := flag.String("token", "", "service token, sent as x-keyward-service-token metadata")
	casesFile := flag.String("cases", "", "a JSON array of cases")
	flag.Parse()

	var cases []checkCase
	data, err := os.ReadFile(*casesFile)
	if err == nil {
		err = json.Unmarshal(data, &cases)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "envoy-client: reading cases:", err)
		os.Exit(2)
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintln(os.Stderr, "envoy-client:", err)
		os.Exit(2)
	}
	defer conn.Close()
	client := authv3.NewAuthorizationClient(conn)

	results := []result{}
	for _, c := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if *token != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "x-keyward-service-token", *token)
		}
		res, err := client.Check(ctx, request(c))
		cancel()
		r := result{Name: c.Name, Headers: []header{}, ResponseHeaders: []header{}}
		if err != nil {
			r.Error = status.Code(err).String()
			results = append(results, r)
			continue
		}
		if verr := res.ValidateAll(); verr != nil {
			r.Invalid = verr.Error()
		}
		r.StatusCode = res.GetStatus().GetCode()
		r.Allowed = r.StatusCode == 0
		if ok := res.GetOkResponse(); ok != nil {
			r.Response = "ok_response"
			r.Headers = options(ok.GetHeaders())
			r.ResponseHeaders = options(ok.GetResponseHeadersToAdd())
		}
		if denied := res.GetDeniedResponse(); denied != nil {
			r.Response = "denied_response"
			r.HTTPStatus = int32(denied.GetStatus().GetCode())
			r.Headers = options(denied.GetHeaders())
			r.Body = denied.GetBody()
		}
		results = append(results, r)
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	if err := out.Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, "envoy-client:", err)
		os.Exit(2)
	}
}
