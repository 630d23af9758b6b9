#!/usr/bin/env python3
"""Count the calls to given functions in a callgrind dump (every call edge's `calls=` summed).

Usage: cgcalls.py [--by-caller] DUMP [NAME ...]   (default names: malloc calloc realloc aligned_alloc posix_memalign memalign)
Prints one line per name, "NAME COUNT", then "total COUNT"; with --by-caller, then the direct callers
of those functions with their call counts, most first (where the allocations come from). Callgrind counts calls exactly, so this is
the heap allocations of the measured requests, deterministic on a busy machine.
"""
import re
import sys

NAME = re.compile(r"^c?fn=\((\d+)\)(?: (.*))?$")


def count_calls(path, names, callers=None):
    ids = {}       # compressed id -> function name
    counts = dict.fromkeys(names, 0)
    caller = None  # the function of the last fn= line
    callee = None  # the name of the last cfn= line, waiting for its calls= line
    with open(path, errors="replace") as f:
        for line in f:
            m = NAME.match(line.rstrip("\n"))
            if m:
                if m.group(2) is not None:
                    ids[m.group(1)] = m.group(2)
                if line.startswith("cfn="):
                    callee = ids.get(m.group(1))
                else:
                    caller = ids.get(m.group(1))
                continue
            if line.startswith("calls=") and callee is not None:
                if callee in counts:
                    n = int(line[6:].split()[0])
                    counts[callee] += n
                    if callers is not None:
                        callers[caller] = callers.get(caller, 0) + n
                callee = None
    return counts


def main(argv):
    by_caller = "--by-caller" in argv
    args = [a for a in argv[1:] if a != "--by-caller"]
    names = args[1:] or ["malloc", "calloc", "realloc", "aligned_alloc", "posix_memalign", "memalign"]
    callers = {} if by_caller else None
    counts = count_calls(args[0], names, callers)
    for n in names:
        print(n, counts[n])
    print("total", sum(counts.values()))
    if by_caller:
        for fn, n in sorted(callers.items(), key=lambda kv: -kv[1])[:40]:
            print(f"{n:>10}  {fn[:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
