"""What keeping the ids across hand-offs costs: wrap() per call, the WSGI middleware per request.

    .venv/bin/python benchmarks/propagation.py [--rounds N] [--calls N]

Everything runs in one process: the hand-offs inside an SDK span, the requests outside
one, as on a server thread. Cases are timed in rounds that rotate through them; the table
shows each case's median ns/call and the ratio to the first case of its group.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

from opentelemetry.propagate import extract
from opentelemetry.sdk.trace import TracerProvider

import tracelog
from tracelog.web import TraceContextMiddleware, extract_context

sys.path.insert(0, os.path.dirname(__file__))  # noqa: PTH120 - run as a script
from overhead import measure

Case = Callable[[], object]
HEADERS = {
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "tracestate": "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
}
ENVIRON = {
    "REQUEST_METHOD": "GET",
    "PATH_INFO": "/orders",
    "wsgi.url_scheme": "http",
    "HTTP_HOST": "127.0.0.1",
    "HTTP_ACCEPT": "*/*",
    "HTTP_TRACEPARENT": HEADERS["traceparent"],
    "HTTP_TRACESTATE": HEADERS["tracestate"],
}


def job() -> None:
    return None


def wrap_and_call() -> None:
    tracelog.wrap(job)()


def app(environ: dict[str, Any], start_response: Callable[..., object]) -> list[bytes]:
    start_response("200 OK", [])
    return [b"ok"]


def request(wsgi: Callable[..., Any]) -> Case:
    def call() -> None:
        body = wsgi(dict(ENVIRON), lambda *_: None)
        for _ in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()

    return call


def otel_wsgi(provider: TracerProvider) -> Case | None:
    try:
        from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware
    except ImportError:  # pragma: no cover - the dev group installs it
        return None
    return request(OpenTelemetryMiddleware(app, tracer_provider=provider))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()

    provider = TracerProvider()  # no processor: the span's own cost, no export
    tracer = provider.get_tracer("bench")
    with tracer.start_as_current_span("bench"):
        wrapped = tracelog.wrap(job)
    groups: dict[str, dict[str, Case | None]] = {
        "hand-off": {
            "bare call": job,
            "wrap()ped call": wrapped,
            "wrap(fn)() at each hand-off": wrap_and_call,
            "copy_context().run(fn) by hand": lambda: contextvars.copy_context().run(job),
        },
        "extract": {
            "OTel propagate.extract": lambda: extract(HEADERS),
            "tracelog extract_context": lambda: extract_context(HEADERS),
        },
        "WSGI request": {
            "bare app": request(app),
            "TraceContextMiddleware, API only": request(TraceContextMiddleware(app)),
            "TraceContextMiddleware, SDK span": request(
                TraceContextMiddleware(app, tracer_provider=provider)
            ),
            "OTel OpenTelemetryMiddleware, SDK span": otel_wsgi(provider),
        },
    }
    result: dict[str, float] = {}
    for title, group in groups.items():
        cases = {name: case for name, case in group.items() if case is not None}
        # Hand-offs run inside a span; requests outside one, as on a server thread (inside
        # a span the middleware steps aside).
        inside = title != "WSGI request"
        span = tracer.start_as_current_span("bench") if inside else contextlib.nullcontext()
        with span:
            for fn in cases.values():  # warm caches
                for _ in range(200):
                    fn()
            result.update(measure(cases, args.rounds, args.calls))

    print(
        f"# {time.strftime('%Y-%m-%d')} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {args.rounds} rounds x {args.calls} calls"
    )
    print(f"{'case':42} {'ns/call':>9} {'x first of group':>17}")
    for group in groups.values():
        base = None
        for name, case in group.items():
            if case is None:
                continue
            ns = result[name]
            base = base or ns
            print(f"{name:42} {ns:9.0f} {ns / base:17.2f}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
