"""Where the span-event bridge's time goes: its cost beyond the line, next to add_event().

    .venv/bin/python benchmarks/profile_bridge.py [--calls N] [--rounds N] [--profile]

Runs ``benchmarks/bridge.py``'s cases (the benchmark line, one field, inside a fresh SDK
span per 100 calls) and prints, per case, the median ns per call of ``--rounds``
thread-time rounds, then the bridge's extra over the line as a multiple of a raw
``span.add_event()`` (the issue-18 row), and the share of a raw ``add_event()`` that is
its second attribute cleaning, which the bridge skips (the direct add is given a fresh
copy of the attributes, as the bridge builds a fresh dict). ``--profile`` adds a cProfile
of the structlog and stdlib bridge cases, sorted by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import time

import bridge
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from tracelog._compat import span_event_adder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    tracer = TracerProvider(resource=Resource.create({"service.name": "bench"})).get_tracer("b")
    cases = bridge.span_event_cases()
    attributes = {
        "log.severity": "INFO",
        "log.message": "order placed",
        "log.logger": "bench",
        "order_id": "A-1001",
    }

    def direct() -> None:
        span = trace.get_current_span()
        span_event_adder(span)(span, "order placed", dict(attributes), time.time_ns())

    # The same event stored without the SDK's second cleaning (what the bridge does).
    cases["direct add (no 2nd cleaning)"] = ((lambda: None), direct)
    bridge.measure(cases, tracer, 2, 20)
    samples = bridge.measure(cases, tracer, args.rounds, 100, time.thread_time_ns)
    result = {name: statistics.median(values) for name, values in samples.items()}
    for name, ns in result.items():
        print(f"{name:32} {ns:8.0f} ns")
    raw = result["raw span.add_event()"]
    share = 1 - result["direct add (no 2nd cleaning)"] / raw
    print(f"add_event's second cleaning (skipped by the bridge): {share:.0%} of a raw add_event")
    for framework in ("structlog", "stdlib"):
        extra = result[f"{framework} line + span event"] - result[f"{framework} line"]
        print(f"{framework} bridge extra: {extra:.0f} ns = {extra / raw:.2f}x raw add_event")
    if args.profile:
        for name in ("structlog line + span event", "stdlib line + span event"):
            profiler = cProfile.Profile()
            profiler.enable()
            bridge.measure({name: cases[name]}, tracer, 3, 100)
            profiler.disable()
            print(f"\n## {name}")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(18)
    return 0


if __name__ == "__main__":
    sys.exit(main())
