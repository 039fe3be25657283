#!/usr/bin/env bash
# Installs, into .cache/ and pinned, what the Go and Python clients need:
#   .cache/bin/protoc-gen-go, .cache/bin/protoc-gen-connect-go   (go install)
#   .cache/venv  with clients/python/requirements.txt             (pip)
#   the Go modules of clients/go                                  (go mod download)
# Idempotent: a step whose result is present and at the pinned version is
# skipped, so scripts/test-deps.sh and scripts/generate.sh run it every time.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

# Pinned generator versions; gen/go/go.mod pins the same runtime versions.
PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_CONNECT_GO=connectrpc.com/connect/cmd/protoc-gen-connect-go@v1.19.1

bin=$root/.cache/bin
venv=$root/.cache/venv
requirements=clients/python/requirements.txt

say() { printf 'clients-toolchain: %s\n' "$*"; }
die() { printf 'clients-toolchain: error: %s\n' "$*" >&2; exit 1; }

# The machine image keeps Go in /usr/local/go, which a bare PATH may lack.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH=/usr/local/go/bin:$PATH
fi
command -v go >/dev/null 2>&1 || die "Go (>= 1.24) is needed for the Go client and its generators"

# --- protoc plugins for Go ------------------------------------------------------
# `go version -m` reads the module version stamped into the binary.
installed_version() {
  [ -x "$1" ] || return 0
  go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3 }'
}

for spec in "$PROTOC_GEN_GO" "$PROTOC_GEN_CONNECT_GO"; do
  name=${spec%@*}
  name=${name##*/}
  want=${spec##*@}
  have=$(installed_version "$bin/$name")
  if [ "$have" = "$want" ]; then
    say "$name: $want present"
  else
    say "$name: installing $want into .cache/bin"
    mkdir -p "$bin"
    GOBIN=$bin CGO_ENABLED=0 go install -trimpath "$spec"
  fi
done

# --- Go modules of the client program -------------------------------------------
# Downloads only what the module cache lacks; offline and instant when warm.
(cd clients/go && go mod download)

# --- Python virtual environment ---------------------------------------------------
# The venv keeps a copy of the requirements it was built from; a different
# file, or an interpreter that is gone, rebuilds it.
python=${PYTHON:-python3}
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import grpc, grpc_tools, grpc_health, grpc_reflection' 2>/dev/null \
  && cmp -s "$requirements" "$venv/requirements.txt"; then
  say "python venv: .cache/venv up to date"
else
  command -v "$python" >/dev/null 2>&1 || die "python3 (>= 3.9) is needed for the Python client"
  say "python venv: building .cache/venv from $requirements"
  rm -rf "$venv"
  if ! "$python" -m venv "$venv"; then
    # Debian's python3 has no venv module until python3-venv is installed.
    command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] || die "$python -m venv failed: install python3-venv"
    say "python venv: installing python3-venv with apt-get"
    rm -rf "$venv"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    "$python" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi
