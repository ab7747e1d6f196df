"""Print the mutation score per module after ``mutmut run`` (``make mutation``), then every surviving mutant.

A mutant counts as detected when a test failed (killed) or hung (timeout); one that no selected test reaches
("no tests") counts as surviving, like one whose tests all passed. tests/README.md explains each survivor.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

DETECTED = {"killed", "timeout", "caught by type check", "segfault"}
# Modules of which only some functions are safety logic: bot/store.py also keeps reason prompts and approval
# messages, but only its update claims are in scope.
SCOPE = {"bot.store": ("x_claim_update__", "x_prune_updates__")}


def in_scope(module: str, name: str) -> bool:
    """Whether a mutant belongs to the safety logic that the score covers."""
    functions = SCOPE.get(module)
    return functions is None or any(f".{f}" in name for f in functions)


def main() -> int:
    """Print the table; exit 1 when a mutant was left unchecked."""
    mutmut = Path(sys.executable).with_name("mutmut")
    out = subprocess.run(
        [mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    survivors: list[tuple[str, str]] = []
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if not sep or "__mutmut_" not in name:
            continue
        module = name.split(".x_")[0].split(".xǁ")[0]
        if not in_scope(module, name):
            continue
        by_module[module][status] += 1
        if status not in DETECTED:
            survivors.append((name, status))
    total = Counter[str]()
    print(f"{'module':32} {'mutants':>8} {'detected':>9} {'score':>7}")
    for module, counts in sorted(by_module.items()):
        total.update(counts)
        n, hit = sum(counts.values()), sum(counts[s] for s in DETECTED)
        print(f"{module:32} {n:8} {hit:9} {hit / n:7.1%}")
    n, hit = sum(total.values()), sum(total[s] for s in DETECTED)
    print(f"{'overall':32} {n:8} {hit:9} {hit / max(n, 1):7.1%}")
    print(f"\n{len(survivors)} surviving (see tests/README.md, 'Mutation testing'):")
    for name, status in survivors:
        print(f"  {name}  [{status}]")
    return 1 if total["not checked"] else 0


if __name__ == "__main__":
    sys.exit(main())
