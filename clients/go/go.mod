module keyward/clients/go

go 1.24.0

require (
	connectrpc.com/connect v1.19.1
	google.golang.org/protobuf v1.36.12
	keyward/gen/go v0.0.0
)

replace keyward/gen/go => ../../gen/go
