"""Per-call cost of one JSON log line, tracelog next to the peers it replaces.

    make bench            # or: .venv/bin/python benchmarks/overhead.py [--rounds N]

Everything runs in one process, inside one active SDK span, writing to /dev/null.
Each case is timed in rounds that rotate through the cases (so drift and noise hit
all of them alike), and the table shows each case's median ns/call over the rounds,
plus the ratios the performance budget is stated in.
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
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import orjson
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

import tracelog

if TYPE_CHECKING:
    import io

Case = Callable[[], None]


def devnull_text() -> io.TextIOWrapper:
    return open(os.devnull, "w")  # noqa: PTH123 - kept open for the whole run


def isolated_logger(
    name: str, handler: logging.Handler, level: int = logging.INFO
) -> logging.Logger:
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(level)
    return logger


def hand_minimum() -> Case:
    """Read the span, build the dict, orjson, one write: the floor for any JSON logger.

    The time is ISO-8601 UTC, as every JSON logger writes it (the issue's "hand-written
    minimum: orjson, ids, ISO time, one write"), at its cheapest: a ``datetime`` that
    orjson formats in C.
    """
    fd = os.open(os.devnull, os.O_WRONLY)
    options = orjson.OPT_APPEND_NEWLINE | orjson.OPT_UTC_Z

    def call() -> None:
        sc = trace.get_current_span().get_span_context()
        line = {
            "timestamp": datetime.now(UTC),
            "level": "info",
            "logger": "bench",
            "message": "order placed",
            "traceId": format(sc.trace_id, "032x"),
            "spanId": format(sc.span_id, "016x"),
            "order_id": "A-1001",
        }
        os.write(fd, orjson.dumps(line, option=options))

    return call


def many_fields(count: int) -> dict[str, object]:
    """*count* short fields, half strings and half numbers, as order events carry."""
    return {f"field_{i}": f"value-{i}" if i % 2 else i for i in range(count)}


def tracelog_structlog(fields: int | None = None) -> Case:
    tracelog.configure(stream=devnull_text(), level="INFO")
    log = tracelog.get_logger("bench")
    if fields is not None:
        kw = many_fields(fields)
        return lambda: log.info("order placed", **kw)
    return lambda: log.info("order placed", order_id="A-1001")


def tracelog_structlog_disabled() -> Case:
    log = tracelog.get_logger("bench")
    return lambda: log.debug("order placed", order_id="A-1001")


def tracelog_stdlib() -> Case:
    from tracelog.stdlib import JsonFormatter, JsonStreamHandler

    handler = JsonStreamHandler(devnull_text())
    handler.setFormatter(JsonFormatter())
    logger = isolated_logger("bench.tracelog", handler)
    return lambda: logger.info("order placed", extra={"order_id": "A-1001"})


def tracelog_stdlib_disabled() -> Case:
    logger = logging.getLogger("bench.tracelog")
    return lambda: logger.debug("order placed", extra={"order_id": "A-1001"})


def stdlib_plain() -> Case:
    handler = logging.StreamHandler(devnull_text())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger = isolated_logger("bench.plain", handler)
    return lambda: logger.info("order placed", extra={"order_id": "A-1001"})


def stdlib_message_only() -> Case:
    """stdlib logging at its cheapest: a plain ``%(message)s`` formatter."""
    handler = logging.StreamHandler(devnull_text())
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = isolated_logger("bench.message", handler)
    return lambda: logger.info("order placed", extra={"order_id": "A-1001"})


class _Nothing(logging.Handler):
    """A handler that takes the record and does nothing with it."""

    def handle(self, record: logging.LogRecord) -> bool:  # type: ignore[override]
        return True

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - never called
        pass


def stdlib_dispatch() -> Case:
    """stdlib before any handler's work: the level check, findCaller, the LogRecord and
    the call of each handler. Every stdlib handler pays it, tracelog's too."""
    logger = isolated_logger("bench.dispatch", _Nothing())
    return lambda: logger.info("order placed", extra={"order_id": "A-1001"})


def tracelog_line_alone() -> Case:
    """tracelog's line on its own: the ids read, one LineEncoder.encode(), one write."""
    from tracelog._context import capture
    from tracelog._line import LineEncoder
    from tracelog._sink import LineSink

    encoder, sink = LineEncoder(), LineSink(devnull_text())

    def call() -> None:
        ctx, service = capture()
        sink.write(
            encoder.encode(
                time.time(),
                20,
                "INFO",
                "bench",
                "order placed",
                ctx,
                service,
                {"order_id": "A-1001"},
            )
        )

    return call


def structlog_recipe(fields: int | None = None) -> Case:
    """structlog's documented OTel recipe: a processor adding ids, TimeStamper, JSONRenderer."""
    import structlog

    def add_ids(_: object, __: str, event_dict: dict[str, object]) -> dict[str, object]:
        span = trace.get_current_span()
        if span.is_recording():
            ctx = span.get_span_context()
            event_dict["span_id"] = format(ctx.span_id, "016x")
            event_dict["trace_id"] = format(ctx.trace_id, "032x")
        return event_dict

    log = structlog.wrap_logger(
        structlog.WriteLogger(devnull_text()),
        processors=[
            structlog.processors.add_log_level,
            add_ids,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=True,
    )
    if fields is not None:
        kw = many_fields(fields)
        return lambda: log.info("order placed", **kw)
    return lambda: log.info("order placed", order_id="A-1001")


class Scoped:
    """A case that needs global state (a record factory) only while it is timed."""

    def __init__(self, call: Case, enter: Callable[[], None], leave: Callable[[], None]) -> None:
        self.call, self.enter, self.leave = call, enter, leave

    def __call__(self) -> None:
        self.call()


def pythonjsonlogger_otel() -> Case | None:
    """python-json-logger's orjson formatter + OTel's LoggingInstrumentor id injection.

    The instrumentor's record factory is global; it is installed only while this case
    runs, so the other stdlib cases are timed without it.
    """
    try:
        from opentelemetry.instrumentation.logging import LoggingInstrumentor
    except ImportError:
        return None
    from pythonjsonlogger.orjson import OrjsonFormatter

    handler = logging.StreamHandler(devnull_text())
    handler.setFormatter(
        OrjsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(otelTraceID)s")
    )
    logger = isolated_logger("bench.pjl", handler)
    instrumentor = LoggingInstrumentor()

    def enter() -> None:
        instrumentor.instrument(inject_trace_context=True, enable_log_auto_instrumentation=False)

    return Scoped(
        lambda: logger.info("order placed", extra={"order_id": "A-1001"}),
        enter,
        instrumentor.uninstrument,
    )


def ecs_logging_stdlib() -> Case | None:
    try:
        import ecs_logging
    except ImportError:
        return None
    handler = logging.StreamHandler(devnull_text())
    handler.setFormatter(ecs_logging.StdlibFormatter())
    logger = isolated_logger("bench.ecs", handler)
    return lambda: logger.info("order placed", extra={"order_id": "A-1001"})


def otel_logs_bridge() -> Case:
    """OpenTelemetry's own logs bridge: the SDK ``LoggingHandler`` emitting a LogRecord
    per record through a LoggerProvider (to an exporter that drops it)."""
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import (
        LogRecordExporter,
        LogRecordExportResult,
        SimpleLogRecordProcessor,
    )

    class Drop(LogRecordExporter):
        def export(self, batch: object) -> LogRecordExportResult:
            return LogRecordExportResult.SUCCESS

        def shutdown(self) -> None:
            pass

        def force_flush(self, timeout_millis: int = 30_000) -> bool:
            return True

    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(Drop()))
    logger = isolated_logger("bench.otel", LoggingHandler(logger_provider=provider))
    return lambda: logger.info("order placed", extra={"order_id": "A-1001"})


def ecs_logging_structlog() -> Case | None:
    try:
        import ecs_logging
        import structlog
    except ImportError:
        return None
    log = structlog.wrap_logger(
        structlog.WriteLogger(devnull_text()),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            ecs_logging.StructlogFormatter(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        cache_logger_on_first_use=True,
    )
    return lambda: log.info("order placed", order_id="A-1001")


class _Bare:
    def debug(self, event: object = None, *args: object, **kw: object) -> None:
        """A method that does nothing: the floor of any disabled log call."""


def level_cases() -> dict[str, Case]:
    """Disabled calls: by configure()'s level and by a stdlib logger's own setLevel."""
    bare = _Bare()
    logging.getLogger("bench.quiet").setLevel(logging.WARNING)
    quiet = tracelog.get_logger("bench.quiet")
    return {
        "bare method call": lambda: bare.debug("order placed", order_id="A-1001"),
        "structlog info, stdlib setLevel(WARNING)": lambda: quiet.info(
            "order placed", order_id="A-1001"
        ),
    }


def print_level_ratios(result: dict[str, float]) -> None:
    """The disabled-level budget: at most 1.5x a bare method call."""
    bare = result["bare method call"]
    for name in ("tracelog structlog, disabled level", "structlog info, stdlib setLevel(WARNING)"):
        print(f"budget: {name} <= 1.5x bare method call: {result[name] / bare:.2f}x")


def measure(
    cases: dict[str, Case], rounds: int, calls: int, clock: Callable[[], int] = time.perf_counter_ns
) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            fn = cases[name]
            if isinstance(fn, Scoped):
                fn.enter()
                inner = fn.call
            else:
                inner = fn
            start = clock()
            for _ in range(calls):
                inner()
            samples[name].append((clock() - start) / calls)
            if isinstance(fn, Scoped):
                fn.leave()
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()

    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    tracer = provider.get_tracer("bench")
    with tracer.start_as_current_span("bench"):
        builders: dict[str, Callable[[], Case | None]] = {
            "hand-written minimum": hand_minimum,
            "tracelog structlog": tracelog_structlog,
            "tracelog structlog, disabled level": tracelog_structlog_disabled,
            "tracelog stdlib": tracelog_stdlib,
            "tracelog stdlib, disabled level": tracelog_stdlib_disabled,
            "stdlib plain text": stdlib_plain,
            "structlog OTel recipe": structlog_recipe,
            "python-json-logger + OTel injection": pythonjsonlogger_otel,
            "ecs-logging stdlib": ecs_logging_stdlib,
            "ecs-logging structlog": ecs_logging_structlog,
            "OTel logs bridge (SDK LoggingHandler)": otel_logs_bridge,
        }
        cases = {name: case for name, build in builders.items() if (case := build()) is not None}
        cases.update(level_cases())
        for fn in cases.values():  # warm caches
            if isinstance(fn, Scoped):
                fn.enter()
            for _ in range(200):
                fn()
            if isinstance(fn, Scoped):
                fn.leave()
        result = measure(cases, args.rounds, args.calls)

    minimum = result["hand-written minimum"]
    plain = result["stdlib plain text"]
    print(
        f"# {time.strftime('%Y-%m-%d')} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {args.rounds} rounds x {args.calls} calls"
    )
    print(f"{'case':40} {'ns/call':>9} {'x minimum':>10} {'x stdlib text':>14}")
    for name, ns in result.items():
        print(f"{name:40} {ns:9.0f} {ns / minimum:10.2f} {ns / plain:14.2f}")
    print()
    print(
        "budget: tracelog structlog <= 1.25x minimum:"
        f" {result['tracelog structlog'] / minimum:.2f}x"
    )
    print(
        "budget: tracelog stdlib <= 1.15x stdlib plain text:"
        f" {result['tracelog stdlib'] / plain:.2f}x"
    )
    print(
        f"budget: disabled level <= 150 ns: {result['tracelog structlog, disabled level']:.0f} ns"
    )
    print_level_ratios(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
