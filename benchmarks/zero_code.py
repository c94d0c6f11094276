"""What tracelog costs under `opentelemetry-instrument`: start-up, and lines next to OTel's
log-correlation record factory.

    .venv/bin/python benchmarks/zero_code.py [--runs N] [--rounds N] [--calls N]

Start-up: wall time of `opentelemetry-instrument python -c pass` with tracelog skipped
(OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=tracelog), loaded but off (no TRACELOG_CONFIGURE),
and configuring (TRACELOG_CONFIGURE=true); runs rotate through the three, median shown.

Per call: tracelog's stdlib line inside an SDK span, to /dev/null, without and then with
OpenTelemetry's logging instrumentation injecting otel* attributes into every record (the
second part needs opentelemetry-instrumentation-logging; its factory stays installed).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from tracelog.stdlib import JsonFormatter, JsonStreamHandler

AGENT = str(Path(sys.executable).parent / "opentelemetry-instrument")
STARTUP = {
    "tracelog skipped": {"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "tracelog"},
    "tracelog loaded, off": {},
    "TRACELOG_CONFIGURE=true": {"TRACELOG_CONFIGURE": "true"},
}


def startup(runs: int) -> dict[str, float]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TRACELOG_"))}
    base.update(
        OTEL_TRACES_EXPORTER="none", OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none"
    )
    samples: dict[str, list[float]] = {name: [] for name in STARTUP}
    for _ in range(runs):
        for name, extra in STARTUP.items():
            start = time.perf_counter()
            subprocess.run([AGENT, sys.executable, "-c", "pass"], env={**base, **extra}, check=True)
            samples[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def per_call(
    logger: logging.Logger, factories: dict[str, object], rounds: int, calls: int
) -> dict[str, float]:
    """Median ns per line for each record factory, rounds rotating through the factories."""
    samples: dict[str, list[float]] = {name: [] for name in factories}
    for _ in range(rounds):
        for name, factory in factories.items():
            logging.setLogRecordFactory(factory)  # type: ignore[arg-type]
            start = time.perf_counter_ns()
            for _ in range(calls):
                logger.info("order placed", extra={"order_id": "A-1001"})
            samples[name].append((time.perf_counter_ns() - start) / calls)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=4000)
    args = parser.parse_args()

    print(f"# agent start-up, median of {args.runs} runs")
    for name, ms in startup(args.runs).items():
        print(f"{name:40} {ms:8.0f} ms")

    handler = JsonStreamHandler(open(os.devnull, "w"))  # noqa: PTH123, SIM115 - whole run
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("bench.zero_code")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    factories: dict[str, object] = {"plain record factory": logging.getLogRecordFactory()}
    try:
        from opentelemetry.instrumentation.logging import LoggingInstrumentor
    except ImportError:
        pass
    else:
        LoggingInstrumentor().instrument(inject_trace_context=True, tracer_provider=provider)
        factories["OTel log-correlation factory"] = logging.getLogRecordFactory()
    print(f"# tracelog stdlib line in a span, median of {args.rounds} rounds x {args.calls}")
    with provider.get_tracer("bench").start_as_current_span("bench"):
        per_call(logger, factories, 1, 200)
        for name, ns in per_call(logger, factories, args.rounds, args.calls).items():
            print(f"{name:40} {ns:8.0f} ns")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
