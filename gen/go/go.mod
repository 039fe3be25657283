// Generated Go code of the keyward contract (buf.gen.clients.yaml), as a
// local module: use it with a replace directive, as clients/go does.
module keyward/gen/go

go 1.24.0

require (
	connectrpc.com/connect v1.19.1
	google.golang.org/protobuf v1.36.12
)
