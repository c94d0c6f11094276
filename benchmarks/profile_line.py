"""cProfile one tracelog path: ``python benchmarks/profile_line.py [structlog|stdlib|bridge]``.

:func:`profile` is also what ``benchmarks/rows.py`` runs for the "where a line's time
goes" tables of ``docs/performance.md``: each function's own time as a share of the
whole call, and how often it runs per log call. cProfile adds a fixed cost to every
Python call it sees, so small functions look bigger than they are; the shares are for
finding where the time goes, the rows' ratios for how much there is.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from opentelemetry.sdk.trace import TracerProvider

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bridge  # noqa: E402 - the benchmarks folder is not a package
import overhead  # noqa: E402

import tracelog  # noqa: E402
from tracelog.bridge import Bridge  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable


def profile(
    call: Callable[[], object], calls: int = 20000, top: int = 10
) -> list[dict[str, object]]:
    """The *top* functions by own time while *call* runs *calls* times inside a span."""
    tracer = TracerProvider().get_tracer("profile")
    prof = cProfile.Profile()
    with tracer.start_as_current_span("op"):
        for _ in range(200):  # warm the caches first
            call()
        prof.enable()
        for _ in range(calls):
            call()
        prof.disable()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = sum(entry[2] for entry in stats.values()) or 1.0
    rows = []
    for (path, line, name), (_, ncalls, own, _cum, _) in stats.items():
        where = Path(path).name if path != "~" else ""
        label = f"{where}:{line}({name})" if where else name
        label = label.replace(str(Path(sys.prefix)), "")
        rows.append({"function": label, "per_call": ncalls / calls, "share": own / total})
    rows.sort(key=lambda row: -float(row["share"]))  # type: ignore[arg-type]
    return rows[:top]


def cases() -> dict[str, Callable[[], object]]:
    """The paths profiled: the benchmark line on both frameworks, and the stdlib bridge."""
    tracelog.configure(stream=overhead.devnull_text(), level="INFO")
    return {
        "structlog path": overhead.tracelog_structlog(),
        "stdlib path": overhead.tracelog_stdlib(),
        "stdlib path + span event": bridge.stdlib_case("bench.event", bridge=Bridge())[1],
    }


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "structlog"
    name = {
        "structlog": "structlog path",
        "stdlib": "stdlib path",
        "bridge": "stdlib path + span event",
    }
    for row in profile(cases()[name[which]], top=15):
        print(f"{row['share']:6.1%}  {row['per_call']:4.1f}/call  {row['function']}")


if __name__ == "__main__":
    main()
