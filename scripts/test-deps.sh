#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian bookworm machine (as root).
# Idempotent: every step is skipped when its result is already up to date, so
# scripts/test.sh can run it before every test run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

say() { printf 'test-deps: %s\n' "$*"; }
die() { printf 'test-deps: error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# --- Debian packages: redis-server and redis-cli (which creates the test Redis
# Cluster), docker-compose (validates the compose file),
# caddy and nginx (the gateway tests run deploy/gateways/ with them).
# Each is installed only when its command is missing.
debian=(redis-server:redis-server redis-cli:redis-tools docker-compose:docker-compose caddy:caddy nginx:nginx-light)  # command:package
# nginx installs into /usr/sbin, which a user's PATH may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin ;; esac
missing=()
for pair in "${debian[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if [ "${#missing[@]}" -eq 0 ]; then
  say "debian packages: present (redis-server $(redis-server --version | awk '{print $3}'), docker-compose, caddy, nginx)"
else
  say "debian packages: installing ${missing[*]} with apt-get"
  # The package lists are empty on a fresh image, so update only on this path.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for pair in "${debian[@]}"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || die "${pair%%:*} still not on PATH after apt-get install"
  done
fi

# --- Go programs the tests run, each built into .cache/ once, and again when its
# sources change: go_program <name> <source dir> <binary> <why Go is needed>
go_program() {
  local name=$1 src=$2 bin=$3 why=$4 stale=0 f goflags tmp
  if [ ! -x "$bin" ]; then
    stale=1
  else
    for f in go.mod go.sum main.go; do
      if [ "$src/$f" -nt "$bin" ]; then stale=1; fi
    done
  fi
  if [ "$stale" -eq 0 ]; then
    say "$name: $bin up to date"
    return
  fi
  # The machine image keeps Go in /usr/local/go, which a bare PATH may lack.
  if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
    PATH=/usr/local/go/bin:$PATH
  fi
  command -v go >/dev/null 2>&1 || die "Go (>= 1.24) is needed to build $src: $why"

  # A committed go.sum pins the modules; -mod=mod is only a fallback without it.
  goflags=${GOFLAGS:-}
  if [ ! -f "$src/go.sum" ]; then goflags="$goflags -mod=mod"; fi

  say "$name: building $bin (the first build downloads Go modules, ~1 min)"
  mkdir -p "$(dirname "$bin")"
  tmp="$bin.tmp.$$"
  trap 'rm -f "$root/$tmp"' EXIT
  # Build to a temp name and rename, so an interrupted build never looks fresh.
  # CGO is not needed (FerretDB's modernc SQLite is pure Go); -buildvcs=false
  # avoids git stamping, which fails in some checkouts.
  (cd "$src" && CGO_ENABLED=0 GOFLAGS="$goflags" go build -buildvcs=false -trimpath -o "$root/$tmp" .)
  mv -f "$tmp" "$bin"
  trap - EXIT
}

# FerretDB (MongoDB wire protocol over SQLite), unless a real MongoDB is given.
if [ -n "${MONGODB_URI:-}" ]; then
  say "ferretdb: skipped (MONGODB_URI is set)"
else
  go_program ferretdb test/ferretdb .cache/ferretdb/ferretdb "or set MONGODB_URI to use an existing MongoDB"
fi

# Envoy's ext_authz client: Envoy's own generated Go client (go-control-plane).
go_program envoy-client test/gateways/envoy-client .cache/envoy-client/envoy-client \
  "it is Envoy's ext_authz client of the gateway tests"

# --- Go and Python clients: pinned protoc plugins, Go modules, .cache/venv ------
bash clients/toolchain.sh

# --- schemathesis (PyPI, pinned) for the REST campaign: .cache/campaign-venv ----
# clients/toolchain.sh has made sure python3 can build a venv.
campaign_venv=.cache/campaign-venv
campaign_requirements=test/campaign/requirements.txt
if [ -x "$campaign_venv/bin/st" ] && cmp -s "$campaign_requirements" "$campaign_venv/requirements.txt"; then
  say "schemathesis: $campaign_venv up to date"
else
  say "schemathesis: building $campaign_venv from $campaign_requirements"
  rm -rf "$campaign_venv"
  "${PYTHON:-python3}" -m venv "$campaign_venv"
  "$campaign_venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$campaign_requirements"
  cp "$campaign_requirements" "$campaign_venv/requirements.txt"
fi

# --- npm packages --------------------------------------------------------------
bash scripts/npm-deps.sh

# --- Connect conformance suite (Go module proxy): .cache/conformance ------------
# The runner, and its protos generated to TypeScript for the test server of
# test/conformance/ (generated here, never committed).
conformance_version=v1.0.7
conformance=.cache/conformance
if [ -x "$conformance/bin/connectconformance" ] && [ -f "$conformance/gen/connectrpc/conformance/v1/service_pb.ts" ] &&
  [ "$(cat "$conformance/version" 2>/dev/null)" = "$conformance_version" ]; then
  say "conformance: connectconformance $conformance_version present"
else
  if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then PATH=/usr/local/go/bin:$PATH; fi
  command -v go >/dev/null 2>&1 || die "Go is needed to install the Connect conformance suite"
  say "conformance: installing connectconformance $conformance_version"
  rm -rf "$conformance"
  mkdir -p "$conformance/bin"
  GOBIN="$root/$conformance/bin" CGO_ENABLED=0 go install "connectrpc.com/conformance/cmd/connectconformance@$conformance_version"
  module_dir=$(cd "$conformance" && GOFLAGS=-mod=mod go mod download -json "connectrpc.com/conformance@$conformance_version" |
    "${PYTHON:-python3}" -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  cp -r "$module_dir/proto" "$conformance/proto"
  chmod -R u+w "$conformance/proto"
  PATH="$root/node_modules/.bin:$PATH" buf generate --template test/conformance/buf.gen.yaml
  echo "$conformance_version" > "$conformance/version"
fi
