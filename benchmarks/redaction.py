"""What redaction adds to one line: ``python benchmarks/redaction.py``.

Times tracelog's structlog path with ``redact=True`` and ``redact=False`` on a typical
event (a message and 3 short fields), in rotating rounds, and prints the difference.
Two variants: values that repeat (log templates, enum-like fields: the redactor's
clean-string memo answers) and values unique to every call (order ids, counters:
every string is scanned).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time

from opentelemetry.sdk.trace import TracerProvider

import tracelog


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--calls", type=int, default=4000)
    args = parser.parse_args()
    tracer = TracerProvider().get_tracer("bench")
    devnull = open(os.devnull, "w")  # noqa: SIM115, PTH123
    results: dict[tuple[bool, bool], list[float]] = {}
    with tracer.start_as_current_span("bench"):
        for r in range(args.rounds):
            combos = list(itertools.product([True, False], [False, True]))
            for redact, unique in combos[r % 4 :] + combos[: r % 4]:
                tracelog.configure(stream=devnull, redact=redact)
                log = tracelog.get_logger("bench")
                counter = itertools.count()
                start = time.perf_counter_ns()
                for _ in range(args.calls):
                    n = next(counter) if unique else 7
                    log.info("order placed", order_id=f"A-{n}", customer="c-42", region="eu-west-1")
                results.setdefault((redact, unique), []).append(
                    (time.perf_counter_ns() - start) / args.calls
                )
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"# {time.strftime('%Y-%m-%d')}, {args.rounds} rounds x {args.calls} calls, ns/call")
    for unique in (False, True):
        on, off = med[(True, unique)], med[(False, unique)]
        label = "unique values" if unique else "repeating values"
        print(f"{label:18} redact on {on:7.0f}  off {off:7.0f}  added {on - off:6.0f} ns")
    print("budget: redaction adds <= 500 ns per typical event")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
