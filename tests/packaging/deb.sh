#!/usr/bin/env bash
# `cpack -G DEB` from the build tree gives a package with exactly the expected files, a conffile
# for the config, shlibdeps dependencies and no lintian warning or error that is not overridden with
# a reason (packaging/debian/lintian-overrides). As root, and when no vault-proxy package is
# installed already, it also installs, removes and purges the package with dpkg.
. "$(dirname "$0")/lib.sh"
command -v cpack >/dev/null || skip "cpack is not installed"
command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed (not a Debian system)"
command -v dpkg-shlibdeps >/dev/null || skip "dpkg-shlibdeps is not installed (apt-get install dpkg-dev)"

(cd "$tmp" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1) ||
  { cat "$tmp/cpack.log" >&2; fail "cpack -G DEB"; }
deb=$(ls "$tmp"/out/vault-proxy_*.deb)
echo "built $(basename "$deb")"

# The file list, without sizes, owners and dates.
dpkg-deb -c "$deb" | awk '{print $1, $6}' | sed 's|/$||' | sort >"$tmp/files"
diff -u "$src/tests/packaging/deb-files.txt" "$tmp/files" || fail "file list differs from tests/packaging/deb-files.txt"

dpkg-deb -f "$deb" Package Section Maintainer Depends >"$tmp/control"
cat "$tmp/control"
grep -q '^Section: net$' "$tmp/control" || fail "Section"
grep -Eq '^Depends: .*libssl3' "$tmp/control" || fail "Depends lacks libssl3 (shlibdeps)"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$tmp/conffiles"
[[ $(cat "$tmp/conffiles") == /etc/vault-proxy/vault-proxy.toml ]] || fail "conffiles: $(cat "$tmp/conffiles")"

# The package's prefix is /usr: its units start /usr/bin/vault-proxy with the /etc config.
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/systemd/system/vault-proxy.service |
  grep -qx 'ExecStart=/usr/bin/vault-proxy serve --scrub-env --config /etc/vault-proxy/vault-proxy.toml' ||
  fail "vault-proxy.service in the package does not start /usr/bin/vault-proxy with /etc/vault-proxy"

if command -v lintian >/dev/null; then
  # --fail-on warning: errors and warnings fail; info and pedantic tags are shown but do not.
  lintian --fail-on error,warning --display-info "$deb" || fail "lintian"
  echo "lintian: ok"
else
  echo "SKIP (lintian part): lintian is not installed (apt-get install lintian)"
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP (dpkg -i / -r part): needs root"
  exit 0
fi
if dpkg-query -W -f='${Status}' vault-proxy 2>/dev/null | grep -q 'installed'; then
  echo "SKIP (dpkg -i / -r part): a vault-proxy package is already installed here; not touching it"
  exit 0
fi
trap 'dpkg -P vault-proxy >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log" >&2; fail "dpkg -i"; }
/usr/bin/vault-proxy --version | head -1
[[ -f /etc/vault-proxy/vault-proxy.toml && -f /usr/lib/systemd/system/vault-proxy.service ]] || fail "files after dpkg -i"
dpkg -r vault-proxy >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log" >&2; fail "dpkg -r"; }
[[ ! -e /usr/bin/vault-proxy ]] || fail "/usr/bin/vault-proxy left after dpkg -r"
[[ -f /etc/vault-proxy/vault-proxy.toml ]] || fail "dpkg -r removed the conffile (only purge may)"
dpkg -P vault-proxy >"$tmp/dpkg.log" 2>&1 || { cat "$tmp/dpkg.log" >&2; fail "dpkg -P"; }
[[ ! -e /etc/vault-proxy/vault-proxy.toml ]] || fail "conffile left after dpkg -P"
echo "dpkg -i / -r / -P: ok"
