"""Cost of sampling decisions and of the debug buffer: ``python benchmarks/sampling.py``.

structlog path, writing to /dev/null, rotating rounds, medians in ns/call:

* kept line, sampling off (the baseline) vs kept line with ``sample="parent"``;
* a dropped line (an unsampled span under ``sample="parent"``), budget 300 ns;
* a buffered debug line (``buffer_debug=True``), budget 1,500 ns.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

import tracelog

if TYPE_CHECKING:
    from collections.abc import Callable


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--calls", type=int, default=4000)
    args = parser.parse_args()
    devnull = open(os.devnull, "w")  # noqa: SIM115, PTH123
    sampled = TracerProvider().get_tracer("b").start_span("sampled")
    unsampled = TracerProvider(sampler=ALWAYS_OFF).get_tracer("b").start_span("unsampled")
    log = tracelog.get_logger("bench")

    def kept_off() -> None:
        log.info("order placed", order_id="A-1001")

    cases: dict[str, tuple[dict[str, object], object, Callable[[], None]]] = {
        "kept line, sampling off": ({}, sampled, kept_off),
        "kept line, sample=parent": ({"sample": "parent"}, sampled, kept_off),
        "dropped line, sample=parent": ({"sample": "parent"}, unsampled, kept_off),
        "buffered debug line": (
            {"buffer_debug": True, "buffer_lines": 10**9, "buffer_bytes": 2**62},
            sampled,
            lambda: log.debug("cache miss", key="sku-1"),
        ),
        "disabled debug line, buffer off": ({}, sampled, lambda: log.debug("x", key="sku-1")),
    }
    samples: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for r in range(args.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            kwargs, span, fn = cases[name]
            tracelog.configure(stream=devnull, **kwargs)  # type: ignore[arg-type]
            with trace.use_span(span):  # type: ignore[arg-type]
                start = time.perf_counter_ns()
                for _ in range(args.calls):
                    fn()
                samples[name].append((time.perf_counter_ns() - start) / args.calls)
    print(f"# {time.strftime('%Y-%m-%d')}, {args.rounds} rounds x {args.calls} calls")
    for name, values in samples.items():
        print(f"{name:34} {statistics.median(values):8.0f} ns/call")
    print("budgets: dropped <= 300 ns, buffered <= 1500 ns, kept no more than before")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
