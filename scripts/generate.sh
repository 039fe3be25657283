#!/usr/bin/env bash
# `npm run generate`: regenerates every tree generated from proto/.
#   gen/**/*_pb.ts          TypeScript for the service (buf.gen.yaml)
#   gen/go, gen/python      the Go and Python clients (buf.gen.clients.yaml)
# Installs the clients' pinned generators into .cache/ first (fast when present).
# Tests fail while any generated tree differs from what this writes.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PATH=$PWD/node_modules/.bin:$PATH

bash clients/toolchain.sh

buf generate --template buf.gen.yaml

# Remove the clients' earlier output first, so a .proto that is gone leaves no
# file behind; hand-written files (gen/go/go.mod, go.sum) stay.
find gen/go -type f -name '*.go' -delete
find gen/python -type f \( -name '*.py' -o -name '*.pyi' \) -delete
find gen/go gen/python -mindepth 1 -type d -empty -delete
buf generate --template buf.gen.clients.yaml

echo "generate: gen/ (TypeScript), gen/go, gen/python are up to date"
