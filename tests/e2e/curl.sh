#!/usr/bin/env bash
# End-to-end: curl as the client, the real binary, a TLS upstream on loopback. Asserts what the
# upstream received and what curl got back, then greps every output for the secrets.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/vault-proxy-e2e-curl-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
pass=0; fail=0
check() { # name, command...
  local name=$1; shift
  if "$@" >"$work/check.out" 2>&1; then echo "PASS $name"; pass=$((pass+1));
  else echo "FAIL $name: $(head -c 400 "$work/check.out")"; fail=$((fail+1)); fi
}

cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -subj /CN=e2e-ca -days 2 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr \
  -subj /CN=vault.curl.test 2>/dev/null
printf 'subjectAltName=DNS:vault.curl.test\n' >ext
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out leaf.pem -days 2 \
  -extfile ext 2>/dev/null

python3 "$here/curl/upstream.py" leaf.pem leaf.key upstream.port &
pids+=($!)
for _ in $(seq 100); do [[ -s upstream.port ]] && break; sleep 0.05; done
up_port=$(cat upstream.port)

cf_id="e2e-id-$(openssl rand -hex 8).access"
cf_secret="e2e-secret-$(openssl rand -hex 16)"
env -i PATH="$PATH" CF_ACCESS_CLIENT_ID="$cf_id" CF_ACCESS_CLIENT_SECRET="$cf_secret" \
  VAULT_PROXY_PORT=0 VAULT_PROXY_UPSTREAM=https://vault.curl.test \
  VAULT_PROXY_CONNECT_TO="127.0.0.1:$up_port" VAULT_PROXY_CA_FILE="$work/ca.pem" \
  VAULT_PROXY_STATE_DIR="$work/state" "$bin" serve >proxy.out 2>proxy.err &
proxy_pid=$!
pids+=($proxy_pid)
for _ in $(seq 600); do grep -q "listening on http://" proxy.err 2>/dev/null && break; sleep 0.05; done
port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' proxy.err | grep -o '[0-9]*$' || true)
if [[ -z "$port" ]]; then
  echo "FAIL proxy did not start; its stderr:"; cat proxy.err
  echo "0 passed, 1 failed"
  exit 1
fi
base="http://127.0.0.1:$port"

json_field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

curl -sS -o get.json -D get.h "$base/api/v3/secrets/raw/KEY?workspaceId=w&secretPath=%2Fa%20b" \
  -H "CF-Access-Client-Id: forged" -H "cf-access-client-secret: forged" \
  -H "Cookie: a=1; CF_Authorization=jwt" -H "Authorization: Bearer tok" -A "axios/1.21.1"
hdr() { json_field get.json "[v for k,v in d['headers'] if k.lower()=='$1']"; }
check "get: path and query byte for byte" test "$(json_field get.json "d['path']")" = "/api/v3/secrets/raw/KEY?workspaceId=w&secretPath=%2Fa%20b"
check "get: CF id injected once" test "$(hdr cf-access-client-id)" = "['$cf_id']"
check "get: CF secret injected once" test "$(hdr cf-access-client-secret)" = "['$cf_secret']"
check "get: Host is the upstream" test "$(hdr host)" = "['vault.curl.test']"
check "get: User-Agent replaced" test "$(hdr user-agent)" = "['raxx-vault-proxy/1.0']"
check "get: SNI is the upstream" test "$(json_field get.json "d['sni']")" = "vault.curl.test"
check "get: Authorization relayed" test "$(hdr authorization)" = "['Bearer tok']"
check "get: CF_Authorization cookie stripped" test "$(hdr cookie)" = "['a=1']"
check "get: Set-Cookie relayed" grep -qi '^set-cookie: session=abc; HttpOnly' get.h
check "get: upstream hop-by-hop stripped" bash -c "! grep -qi '^x-upstream-hop' get.h"

head -c 300000 /dev/urandom >upload.bin
want=$(sha256sum upload.bin | cut -d' ' -f1)
curl -sS -o post.json -X POST --data-binary @upload.bin -H "Content-Type: application/octet-stream" "$base/echo"
check "post: 300 kB body intact" test "$(json_field post.json "d['body_sha256']")" = "$want"
curl -sS -o chunked.json -X PUT -H "Transfer-Encoding: chunked" --data-binary @upload.bin "$base/echo"
check "put: chunked upload intact" test "$(json_field chunked.json "d['body_sha256']")" = "$want"
curl -sS -o del.json -X DELETE -H "Content-Type: application/json" -d '{"workspaceId":"w"}' "$base/api/v3/secrets/raw/K"
check "delete: body arrives" test "$(json_field del.json "d['body_len']")" = "19"
check "delete: method kept" test "$(json_field del.json "d['method']")" = "DELETE"
curl -sS -o patch.json -X PATCH -d 'x=1' "$base/p"
check "patch: method kept" test "$(json_field patch.json "d['method']")" = "PATCH"
check "head: 200, no body" bash -c "curl -sS -I '$base/h' | head -1 | grep -q ' 200'"
check "options: forwarded" bash -c "curl -sS -X OPTIONS '$base/o' | grep -q '\"OPTIONS\"'"
check "chunked response relayed" bash -c "test \"\$(curl -sS '$base/chunked')\" = '{\"chunked\":true}'"
check "100-continue upload" bash -c "curl -sS -H 'Expect: 100-continue' --data-binary @upload.bin '$base/echo' | grep -q '$want'"
check "20 MB download" bash -c "test \"\$(curl -sS '$base/big?n=20000000' | wc -c)\" = 20000000"
check "keep-alive: two requests, one connection" bash -c \
  "curl -sS -v '$base/a' '$base/b' 2>&1 >/dev/null | grep -q 'Re-using existing connection'"
check "health" bash -c "curl -sS '$base/__vault-proxy/health' | grep -q '\"ok\"'"
check "foreign Host: 421" bash -c "test \"\$(curl -sS -o /dev/null -w '%{http_code}' -H 'Host: evil.example' '$base/x')\" = 421"
check "absolute-form target: 400" bash -c "test \"\$(curl -sS -o /dev/null -w '%{http_code}' --request-target 'http://evil.example/' '$base/')\" = 400"

kill -TERM "$proxy_pid"
rc=0; wait "$proxy_pid" || rc=$?
check "SIGTERM: exit 0" test "$rc" = 0
check "no secret in proxy output" bash -c "! grep -qF -e '$cf_secret' -e '$cf_id' proxy.out proxy.err"

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
