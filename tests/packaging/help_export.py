#!/usr/bin/env python3
"""Every subcommand and every flag that `--help` lists is in vault-proxy(1), in the bash and the zsh
completion, each under its own command; and nothing else is (the hidden help-export included).

argv: the binary, then the folder with vault-proxy.1, vault-proxy.bash and _vault-proxy."""
import re
import shutil
import subprocess
import sys

binary, gen = sys.argv[1], sys.argv[2]
man = open(f"{gen}/vault-proxy.1").read()
bash = open(f"{gen}/vault-proxy.bash").read()
zsh = open(f"{gen}/_vault-proxy").read()
failures = []


def help_of(path):
    return subprocess.run([binary, *path, "--help"], capture_output=True, text=True, check=True).stdout


def parse(text):
    """(flags, subcommands) from CLI11's help: option lines start with "  -x,--name" or "  --name"."""
    flags, subs, section = set(), [], None
    for line in text.splitlines():
        if re.match(r"^\S", line):
            section = line.strip().rstrip(":")
            continue
        if section and section.startswith("Subcommands"):
            m = re.match(r"^  (\S+)", line)
            if m:
                subs.append(m.group(1))
        m = re.match(r"^  ((?:-[A-Za-z0-9],)*-[-A-Za-z0-9]+(?:,-[-A-Za-z0-9]+)*)", line)
        # Options sit under "Options:" or under their group's name; never under these two.
        if m and section and not section.startswith(("Subcommands", "Positionals", "Usage")):
            flags.update(m.group(1).split(","))
    return flags, subs


def man_section(path):
    if not path:
        return man.split(".SH COMMANDS")[0]
    title = ".SS \"" + "vault\\-proxy " + " ".join(path).replace("-", "\\-") + "\""
    if title not in man:
        return None
    rest = man.split(title, 1)[1]
    return re.split(r"\n\.S[SH] ", rest, maxsplit=1)[0]


def bash_case(path):
    key = "/" + "/".join(path) if path else ""
    m = re.search(r'^    "' + re.escape(key) + r'"\)\n      opts="([^"]*)"\n      valued="[^"]*"\n      subs="([^"]*)"',
                  bash, re.M)
    return (set(m.group(1).split()), m.group(2).split()) if m else None


def zsh_function(path):
    name = "_vault_proxy" + "".join("__" + p.replace("-", "_") for p in path)
    m = re.search(r"^" + re.escape(name) + r"\(\) \{\n(.*?)^\}", zsh, re.M | re.S)
    return m.group(1) if m else None


def check(path):
    flags, subs = parse(help_of(path))
    where = "vault-proxy " + " ".join(path) if path else "vault-proxy"
    section = man_section(path)
    case = bash_case(path)
    zfun = zsh_function(path)
    if section is None:
        failures.append(f"man: no section for '{where}'")
    if case is None:
        failures.append(f"bash: no case for '{where}'")
    if zfun is None:
        failures.append(f"zsh: no function for '{where}'")
    for flag in sorted(flags):
        if section is not None and "\\fB" + flag.replace("-", "\\-") + "\\fR" not in section:
            failures.append(f"man: '{where}' lacks {flag}")
        if case is not None and flag not in case[0]:
            failures.append(f"bash: '{where}' lacks {flag}")
        if zfun is not None and f"'{flag}[" not in zfun:
            failures.append(f"zsh: '{where}' lacks {flag}")
    if case is not None and case[0] - flags:
        failures.append(f"bash: '{where}' offers {sorted(case[0] - flags)} that --help does not list")
    if case is not None and sorted(case[1]) != sorted(subs):
        failures.append(f"bash: '{where}' subcommands {case[1]} != --help's {subs}")
    for sub in subs:
        if zfun is not None and f"'{sub}:" not in zfun:
            failures.append(f"zsh: '{where}' lacks the subcommand {sub}")
    print(f"{where}: {len(flags)} flags, {len(subs)} subcommands")
    for sub in subs:
        check(path + [sub])


check([])


def complete(*words):
    """What the bash completion offers for the last word, as bash would call it."""
    script = (f"source {gen}/vault-proxy.bash; COMP_WORDS=({' '.join(words)}); "
              "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _vault_proxy; echo \"${COMPREPLY[*]}\"")
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True).stdout.split()


for words, expected in ((("vault-proxy", "se"), "serve"), (("vault-proxy", "serve", "--scr"), "--scrub-env"),
                        (("vault-proxy", "stop", "--"), "--revert")):
    got = complete(*words)
    if expected not in got:
        failures.append(f"bash completion of {' '.join(words)!r}: {got}, expected {expected}")

# The scripts must at least parse; zsh is checked where it is installed.
for shell, path in (("bash", f"{gen}/vault-proxy.bash"), ("zsh", f"{gen}/_vault-proxy")):
    if shutil.which(shell):
        r = subprocess.run([shell, "-n", path], capture_output=True, text=True)
        if r.returncode != 0:
            failures.append(f"{shell} -n {path}: {r.stderr.strip()}")
    else:
        print(f"SKIP ({shell} -n): {shell} is not installed")
def uncommented(text, marker):
    return "\n".join(l for l in text.splitlines() if not l.lstrip().startswith(marker))


if ("help-export" in uncommented(man, '.\\"') or "help-export" in uncommented(bash, "#")
        or "help-export" in uncommented(zsh, "#")):
    failures.append("the hidden help-export subcommand leaked into the generated files")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
