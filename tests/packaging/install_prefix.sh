#!/usr/bin/env bash
# `cmake --install` into a temporary prefix puts every file where it belongs, the installed units
# start the installed binary, and that binary runs (--version, --help).
. "$(dirname "$0")/lib.sh"
install_prefix
for f in bin/vault-proxy \
         lib/systemd/system/vault-proxy.service lib/systemd/system/vault-proxy.socket \
         lib/systemd/system/vault-proxy-rotate@.service lib/systemd/system/vault-proxy-rotate@.timer \
         share/man/man1/vault-proxy.1.gz \
         share/bash-completion/completions/vault-proxy share/zsh/vendor-completions/_vault-proxy \
         etc/vault-proxy/vault-proxy.toml \
         share/doc/vault-proxy/copyright share/doc/vault-proxy/changelog.gz share/doc/vault-proxy/runbook.md; do
  [[ -f $prefix/$f ]] || fail "not installed: $f"
done
[[ -x $prefix/bin/vault-proxy ]] || fail "bin/vault-proxy is not executable"

version=$("$prefix/bin/vault-proxy" --version)
echo "$version"
grep -Eq '^vault-proxy [0-9]+\.[0-9]+\.[0-9]+$' <<<"$version" || fail "--version: no version line"
grep -Eq '^git revision [0-9a-f]{7,}(-dirty)?|^git revision unknown$|^git revision v?[0-9]' <<<"$version" ||
  fail "--version: no git revision line"
grep -Eq '^OpenSSL [0-9]' <<<"$version" || fail "--version: no OpenSSL line"
"$prefix/bin/vault-proxy" --help | grep -q 'serve' || fail "--help does not list serve"
"$prefix/bin/vault-proxy" --help | grep -q 'help-export' && fail "--help lists the hidden help-export"

# The units name the installed binary and config, not /usr/bin (this prefix is not /usr).
grep -qx "ExecStart=$prefix/bin/vault-proxy serve --scrub-env --config $prefix/etc/vault-proxy/vault-proxy.toml" \
  "$prefix/lib/systemd/system/vault-proxy.service" || fail "vault-proxy.service: ExecStart not rewritten for $prefix"
grep -q "/usr/bin/vault-proxy" "$prefix"/lib/systemd/system/* && fail "a unit still names /usr/bin/vault-proxy"

gzip -t "$prefix/share/man/man1/vault-proxy.1.gz" || fail "man page is not valid gzip"
echo "installed into $prefix and ran: ok"
