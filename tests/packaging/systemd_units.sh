#!/usr/bin/env bash
# Every installed unit passes `systemd-analyze verify` with nothing to report, and the service's
# exposure level from `systemd-analyze security` stays "OK" or better (issue 16's target).
. "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (apt-get install systemd)"
install_prefix
units=$prefix/lib/systemd/system
# Templates are verified through an instance, as systemd would load them.
mkdir -p "$tmp/units"
cp "$units/vault-proxy.service" "$units/vault-proxy.socket" "$tmp/units/"
cp "$units/vault-proxy-rotate@.service" "$tmp/units/vault-proxy-rotate@mcp-readonly.service"
cp "$units/vault-proxy-rotate@.timer" "$tmp/units/vault-proxy-rotate@mcp-readonly.timer"
status=0
for u in "$tmp"/units/*; do
  out=$(cd "$tmp/units" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$u" 2>&1) || status=$?
  # Lines about units that are not ours (the host's own, in a container) are not this test's business.
  ours=$(grep -F "$(basename "$u")" <<<"$out" || true)
  if [[ $status -ne 0 || -n $ours ]]; then
    echo "$out" >&2
    fail "systemd-analyze verify $(basename "$u") (rc=$status)"
  fi
  echo "verify $(basename "$u"): ok"
done

if out=$(systemd-analyze security --offline=yes --no-pager "$tmp/units/vault-proxy.service" 2>&1); then :; fi
score=$(grep -E 'Overall exposure level for' <<<"$out" || true)
if [[ -z $score ]]; then
  echo "systemd-analyze security --offline gave no score here; not checked:"
  echo "$out" | tail -3
  exit 0
fi
echo "$score"
# "1.7 OK", "0.9 SAFE": the target is OK or better.
grep -Eq ' (OK|SAFE) ' <<<"$score" || fail "exposure level is worse than OK: $score"
