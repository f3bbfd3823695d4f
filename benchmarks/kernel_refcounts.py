"""Which compiled kernels count references inside their loops (a hidden cost of numba code).

numba keeps a reference count on every array it hands around. Where a loop calls a helper that takes an
array and the compiler cannot pair and remove the increments (a helper with branches or loops of its own,
a loop over a tuple of arrays), each pass pays two atomic operations per array: ≈ 55 ns a call for five
arrays, ten times the arithmetic of a table look-up (the ray cast's slope memo, the truth EOM's engine sums,
sixth and seventh sessions: docs/campaigns.md § Speed).

This script compiles the flight's kernels afresh (numba shows no code it loaded from its cache), flies one
short descent of ``series1-frigoris-nominal`` so that every kernel of a descent is compiled for the types it
flies with, then reads each kernel's optimised LLVM IR: it finds the natural loops (dominators, back edges)
and counts the ``NRT_incref``/``NRT_decref`` calls inside them. A count in an outer loop (a block of rows,
a search iteration) is harmless; one in a loop over rows costs a few ns a row.

    .venv/bin/python benchmarks/kernel_refcounts.py          # ≈ 1–2 min: the compilation

Prints one line per kernel with reference counting inside a loop: the calls, and the sizes (basic blocks)
of the loops they sit in, innermost first.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile

os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="touchdown-nbcache-")  # before numba is imported

import numpy as np
from numba.core.registry import CPUDispatcher

_LABEL = re.compile(r'^("?[A-Za-z0-9_.$-]+"?):')
_TARGET = re.compile(r'label %("?[A-Za-z0-9_.$-]+"?)')
_REFCOUNT = re.compile(r"call void @NRT_(?:incref|decref)")


def _blocks(function_ir: str) -> tuple[list[str], dict[str, list[str]], dict[str, list[str]]]:
    """Basic blocks of one LLVM function: their order, lines and successors."""
    order, lines = ["<entry>"], {"<entry>": []}  # an entry block without a label, if any
    for line in function_ir.split("\n")[1:]:
        m = _LABEL.match(line)
        if m:
            order.append(m.group(1).strip('"'))
            lines[order[-1]] = []
        else:
            lines[order[-1]].append(line)
    if not any(ln.strip() for ln in lines["<entry>"]):
        order.pop(0)
    succ = {b: [t.strip('"') for ln in lines[b] for t in _TARGET.findall(ln)] for b in order}
    return order, lines, succ


def _loops(order: list[str], succ: dict[str, list[str]]) -> list[set[str]]:
    """The natural loops (sets of blocks) of a control-flow graph whose entry is ``order[0]``."""
    pred: dict[str, list[str]] = {b: [] for b in order}
    for b in order:
        for s in succ[b]:
            if s in pred:
                pred[s].append(b)
    dom = {b: set(order) for b in order}
    dom[order[0]] = {order[0]}
    changed = True
    while changed:
        changed = False
        for b in order[1:]:
            ps = [dom[p] for p in pred[b]]
            new = {b} | set.intersection(*ps) if ps else {b}
            if new != dom[b]:
                dom[b], changed = new, True
    loops: dict[str, set[str]] = {}
    for tail in order:
        for head in succ[tail]:
            if head in dom[tail]:  # a back edge: the loop is the head and what reaches the tail without it
                body, stack = {head, tail}, [tail] if tail != head else []
                while stack:
                    for p in pred[stack.pop()]:
                        if p not in body:
                            body.add(p)
                            stack.append(p)
                loops.setdefault(head, set()).update(body)
    return list(loops.values())


def refcounts_in_loops(module_ir: str, name: str) -> list[tuple[int, list[int]]]:
    """(calls, loop sizes) of each block of kernel ``name``'s functions that counts references in a loop."""
    out = []
    for m in re.finditer(r"define [^\n]*@(\S+?)\(.*?\n}\n", module_ir, re.S):
        if name not in m.group(1) or "cpython" in m.group(1) or "cfunc" in m.group(1):
            continue
        order, lines, succ = _blocks(m.group(0))
        if not order:
            continue
        loops = _loops(order, succ)
        for b in order:
            calls = sum(len(_REFCOUNT.findall(ln)) for ln in lines[b])
            sizes = sorted(len(body) for body in loops if b in body)
            if calls and sizes:
                out.append((calls, sizes))
    return out


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    from touchdown.scenario.loader import load_scenario
    from touchdown.sim.flight import Flight

    sc = load_scenario("series1-frigoris-nominal").scenario
    Flight(sc, seed=0, run_indices=np.arange(2), record=False).run()
    found = 0
    for modname, mod in sorted(sys.modules.items()):
        if not modname.startswith("touchdown"):
            continue
        for name, obj in vars(mod).items():
            if not (isinstance(obj, CPUDispatcher) and obj.__module__ == modname and obj.signatures):
                continue
            nests: dict[tuple[int, ...], int] = {}  # loop nest (sizes, innermost first) → calls in it
            for ir in obj.inspect_llvm().values():
                for calls, sizes in refcounts_in_loops(ir, name):
                    nests[tuple(sizes)] = nests.get(tuple(sizes), 0) + calls
            for sizes, calls in sorted(nests.items()):
                found += 1
                loops = ", ".join(map(str, sizes))
                print(f"{modname}.{name}: {calls} calls {len(sizes)} loop(s) deep, loops of {loops} blocks")
    print(f"{found} loop nests count references")


if __name__ == "__main__":
    main()
