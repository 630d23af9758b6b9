#!/usr/bin/env bash
# End-to-end: the real Infisical MCP server (@infisical/mcp, pinned by mcp/package-lock.json) through
# vault-proxy to a fake Cloudflare Access gate + fake Infisical on 127.0.0.1 (issue 6).
# Usage: bash tests/e2e/mcp.sh <path-to-vault-proxy>   (ctest passes the binary; see tests/CMakeLists.txt)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="${1:?usage: mcp.sh <path-to-vault-proxy>}"
case "$binary" in /*) ;; *) binary="$PWD/$binary" ;; esac
if [[ ! -x "$binary" ]]; then
  echo "FAIL setup: $binary is not an executable vault-proxy binary" >&2
  exit 1
fi

for tool in node npm openssl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "FAIL setup: $tool not found; run scripts/bootstrap" >&2
    exit 1
  fi
done

# Install the pinned client when it is missing or older than the lockfile (npm ci reproduces the
# lockfile exactly; its progress goes to stderr so stdout stays one line per scenario).
mcp_dir="$here/mcp"
if [[ ! -f "$mcp_dir/node_modules/@infisical/mcp/dist/index.js" ||
      "$mcp_dir/package-lock.json" -nt "$mcp_dir/node_modules/.package-lock.json" ]]; then
  (cd "$mcp_dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
fi

exec node "$mcp_dir/driver.mjs" "$binary"
