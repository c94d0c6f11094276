"""Instructions per call, counted by callgrind: the line rows' cases without the noise.

    .venv/bin/python benchmarks/instructions.py [--calls N]

Each case runs in its own child process under ``valgrind --tool=callgrind``, which counts
only inside the loop of N calls (``--toggle-collect`` on the C function that runs it), 100
calls per span as in ``benchmarks/bridge.py``, less the same loop around an empty call.
Instructions do not depend on what else the machine is doing, so these ratios repeat
where the timed rows swing. callgrind's cache and branch simulation adds the L1 misses
and mispredicted branches per call of the line rows' cases: the part of a call's time
that its instructions do not show.

Under callgrind a call runs about fifty times slower, so the clock's once-per-millisecond
cache (``tracelog.schemas``) would miss on nearly every call; the child's ``time.time``
advances 10 ns per reading instead, as at full speed. Needs ``valgrind`` on the PATH
(Debian's ``valgrind``); without it ``counts()`` returns None.
"""

from __future__ import annotations

import argparse
import operator
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

HERE = Path(__file__).resolve().parent
EMPTY = "an empty call (the loop's own cost, taken off the others)"
# The C function the measured loop runs in: callgrind counts only while it is on the stack.
LOOP = "_operator_countOf"
# The events callgrind's summary names, and what this script calls them.
EVENTS = {
    "Ir": "instructions",
    "D1mr": "L1 data read misses",
    "D1mw": "L1 data write misses",
    "I1mr": "L1 instruction misses",
    "Bcm": "conditional branches mispredicted",
    "Bim": "indirect branches mispredicted",
}


CASES = (
    "stdlib %(message)s",
    "tracelog stdlib",
    "stdlib dispatch alone (a handler that does nothing)",
    "tracelog's line alone (ids, encode, write)",
    "tracelog structlog",
    "hand-written minimum",
)
# The span-event bridge's cases (``benchmarks/bridge.py``), counted in instructions only.
BRIDGE = "bridge: "
BRIDGE_CASES = tuple(
    BRIDGE + name
    for name in (
        "raw span.add_event()",
        "structlog line",
        "structlog line + span event",
        "stdlib line",
        "stdlib line + span event",
    )
)
BATCH = 100  # calls per span, below the SDK's 128-event limit, as in bridge.py


def case(name: str) -> Callable[[], object]:
    """One case, as ``benchmarks/overhead.py`` or ``benchmarks/bridge.py`` times it (the
    same names as the per-call table)."""
    import bridge
    import overhead

    if name.startswith(BRIDGE):
        setup, call = bridge.span_event_cases()[name.removeprefix(BRIDGE)]
        setup()
        return call
    return {
        "stdlib %(message)s": overhead.stdlib_message_only,
        "tracelog stdlib": overhead.tracelog_stdlib,
        "stdlib dispatch alone (a handler that does nothing)": overhead.stdlib_dispatch,
        "tracelog's line alone (ids, encode, write)": overhead.tracelog_line_alone,
        "tracelog structlog": overhead.tracelog_structlog,
        "hand-written minimum": overhead.hand_minimum,
        EMPTY: lambda: lambda: None,
    }[name]()


def child(name: str, calls: int) -> None:
    """Run *name* *calls* times, ``BATCH`` calls per SDK span (the child's side)."""
    now = [time.time()]

    def clock() -> float:
        now[0] += 1e-8
        return now[0]

    time.time = clock  # this child only: see the module docstring

    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    sys.path.insert(0, str(HERE))
    call = case(name)
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    tracer = provider.get_tracer("bench")

    def batch(_: int) -> None:
        with tracer.start_as_current_span("request"):
            for _ in range(BATCH):
                call()

    batch(0)  # warm: caches filled
    # The counted loop: countOf() runs the whole generator (no batch returns 1).
    operator.countOf(map(batch, range(calls // BATCH)), 1)


def collected(name: str, calls: int, env: dict[str, str]) -> dict[str, int]:
    """callgrind's event totals for one child run (the line rows' cases with the cache
    and branch simulation, which triples a child's time)."""
    simulate = ["--cache-sim=yes", "--branch-sim=yes"] if name in (*CASES, EMPTY) else []
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            *simulate,
            "--collect-atstart=no",
            f"--toggle-collect={LOOP}",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            name,
            "--calls",
            str(calls),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    names = re.search(r"Events\s*:\s*(.+)", done.stderr)
    values = re.search(r"Collected\s*:\s*(.+)", done.stderr)
    if names is None or values is None:
        raise RuntimeError(f"callgrind printed no totals: {done.stderr[-500:]}")
    return dict(zip(names[1].split(), map(int, values[1].split()), strict=True))


def counts(calls: int = 2000) -> dict[str, dict[str, float]] | None:
    """Per case, each event of ``EVENTS`` per call; None without valgrind."""
    if shutil.which("valgrind") is None:
        return None
    with tempfile.TemporaryDirectory() as cache:
        # Compiled modules kept between the children, as an installed package has them
        # (this environment may set PYTHONDONTWRITEBYTECODE): start-up under callgrind
        # is most of a child's run. One plain run fills the cache first.
        env = {**os.environ, "PYTHONPYCACHEPREFIX": cache, "PYTHONDONTWRITEBYTECODE": ""}
        subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", EMPTY, "--calls", "1"],
            env=env,
            check=True,
        )
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            names = (*CASES, *BRIDGE_CASES, EMPTY)
            runs = dict(
                zip(names, pool.map(lambda n: collected(n, calls, env), names), strict=True)
            )
    empty = runs.pop(EMPTY)
    return {
        name: {
            label: (found[event] - empty[event]) / calls
            for event, label in EVENTS.items()
            if event in found
        }
        for name, found in runs.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.calls)
        return 0
    found = counts(args.calls)
    if found is None:
        print("valgrind is not on the PATH", file=sys.stderr)
        return 1
    labels = list(EVENTS.values())
    print(f"{'case':54} " + " ".join(f"{label.split()[0]:>8}" for label in labels))
    for name, events in found.items():
        print(f"{name:54} " + " ".join(f"{events.get(label, 0):8.0f}" for label in labels))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
