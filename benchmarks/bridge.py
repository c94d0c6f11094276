"""What the log-to-trace bridge adds on top of the JSON line, next to a raw add_event().

    .venv/bin/python benchmarks/bridge.py [--rounds N] [--batch N]

Every case runs inside a fresh SDK span per batch (below the 128-event limit, so no
case pays for dropping), writing lines to /dev/null. Cases rotate within each round so
noise hits all of them alike; the table shows medians in ns per call.

The budget (issue 6): the bridge's extra cost over the line alone is at most 1.3x a raw
``span.add_event()`` with the same attributes, i.e. everything the bridge does besides
that add_event (level check, guard, finding the span, coercion, redaction, the
timestamp) costs at most 0.3x of it.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

import tracelog
from tracelog.bridge import Bridge
from tracelog.stdlib import JsonFormatter, JsonStreamHandler, SpanEventHandler

Call = Callable[[], None]
Setup = Callable[[], None]


def devnull() -> object:
    return open(os.devnull, "w")  # noqa: PTH123 - kept open for the whole run


def raw_add_event() -> tuple[Setup, Call]:
    """What a hand-written bridge would do: find the span, add the event."""

    def call() -> None:
        trace.get_current_span().add_event(
            "order placed",
            {
                "log.severity": "INFO",
                "log.message": "order placed",
                "log.logger": "bench",
                "order_id": "A-1001",
            },
        )

    return (lambda: None), call


def structlog_case(**configure: object) -> tuple[Setup, Call]:
    stream = devnull()
    log = tracelog.get_logger("bench")

    def setup() -> None:
        tracelog.configure(stream=stream, level="INFO", **configure)  # type: ignore[arg-type]

    return setup, lambda: log.info("order placed", order_id="A-1001")


def stdlib_case(
    name: str, *extra: logging.Handler, bridge: Bridge | None = None
) -> tuple[Setup, Call]:
    """configure()'s stdlib wiring: the bridge rides on the handler's JsonFormatter."""
    handler = JsonStreamHandler(devnull())  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter(bridge=bridge))
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler, *extra]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return (lambda: None), lambda: logger.info("order placed", extra={"order_id": "A-1001"})


def span_event_cases() -> dict[str, tuple[Setup, Call]]:
    """The span-event bridge's cases on both paths, each next to its line without it and
    the raw ``span.add_event()`` they are measured against."""
    return {
        "raw span.add_event()": raw_add_event(),
        "structlog line": structlog_case(),
        "structlog line + span event": structlog_case(span_events=True),
        "stdlib line": stdlib_case("bench.line"),
        "stdlib line + span event": stdlib_case("bench.event", bridge=Bridge()),
    }


def reused_record_case(bridge: Bridge | None = None) -> tuple[Setup, Call]:
    """The stdlib handler and formatter on one LogRecord made once, not one per call.

    Beside ``stdlib_case``, it tells the handler's own cost from that of the fresh
    LogRecord (and its attribute dict) that logging makes for every call.
    """
    handler = JsonStreamHandler(devnull())  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter(bridge=bridge))
    record = logging.getLogger("bench.reused").makeRecord(
        "bench.reused",
        logging.INFO,
        __file__,
        1,
        "order placed",
        (),
        None,
        extra={"order_id": "A-1001"},
    )
    return (lambda: None), lambda: handler.handle(record)


def measure(
    cases: dict[str, tuple[Setup, Call]],
    tracer: trace.Tracer,
    rounds: int,
    batch: int,
    clock: Callable[[], int] = time.perf_counter_ns,
) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            setup, call = cases[name]
            setup()
            total = 0
            for _ in range(20):  # 20 spans of `batch` calls each
                with tracer.start_as_current_span("request"):
                    start = clock()
                    for _ in range(batch):
                        call()
                    total += clock() - start
            samples[name].append(total / (20 * batch))
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=100, help="calls per span (< 128)")
    args = parser.parse_args()

    resource = Resource.create({"service.name": "bench"})
    tracer = TracerProvider(resource=resource).get_tracer("bench")
    no_export = LoggerProvider(resource=resource)  # an SDK pipeline with no processor
    cases = {
        **span_event_cases(),
        "structlog line + OTel log record": structlog_case(
            otel_logs=True, logger_provider=no_export
        ),
        "stdlib line + SpanEventHandler": stdlib_case("bench.handler", SpanEventHandler()),
    }
    for _ in range(3):  # warm caches
        measure(cases, tracer, 1, 20)
    samples = measure(cases, tracer, args.rounds, args.batch)
    tracelog.shutdown()
    # The best round is the least disturbed by other processes on a shared machine; the
    # budget is read from it, the median is shown beside it.
    best = {name: min(values) for name, values in samples.items()}
    median = {name: statistics.median(values) for name, values in samples.items()}

    raw = best["raw span.add_event()"]
    print(
        f"# {time.strftime('%Y-%m-%d')} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {args.rounds} rounds x 20 spans x {args.batch} calls"
    )
    print(f"{'case':36} {'best ns':>9} {'median ns':>10}")
    for name in cases:
        print(f"{name:36} {best[name]:9.0f} {median[name]:10.0f}")
    print()
    for framework in ("structlog", "stdlib"):
        extra = best[f"{framework} line + span event"] - best[f"{framework} line"]
        print(
            f"budget: {framework} bridge extra <= 1.3x raw add_event: "
            f"{extra:.0f} ns = {extra / raw:.2f}x"
        )
    extra = best["stdlib line + SpanEventHandler"] - best["stdlib line"]
    print(f"info: stdlib extra with a separate SpanEventHandler: {extra / raw:.2f}x")
    extra = best["structlog line + OTel log record"] - best["structlog line"]
    print(f"info: structlog OTel log record extra (SDK, no exporter): {extra:.0f} ns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
