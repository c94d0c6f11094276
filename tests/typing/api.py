"""The README's snippets, type-checked by mypy --strict (never run)."""

from __future__ import annotations

import asyncio
import logging
import threading
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

import structlog

import tracelog
from tracelog.bridge import Bridge, severity
from tracelog.redact import Redactor
from tracelog.stdlib import (
    JsonFormatter,
    JsonStreamHandler,
    OtelLogHandler,
    SpanEventHandler,
    TraceContextFilter,
)
from tracelog.structlog import (
    BoundLogger,
    JsonRenderer,
    OtelLogEmitter,
    SpanEventRecorder,
    add_trace_context,
    capture_trace_context,
)
from tracelog.testing import LogRecorder, SpanRecorder, capture_lines
from tracelog.web import (
    AsgiTraceContextMiddleware,
    DjangoMiddleware,
    TraceContextMiddleware,
    extract_context,
)


def readme() -> None:
    tracelog.configure()
    tracelog.configure(
        service="payments", schema="ecs", level="INFO", redact=Redactor(keys=["pin"])
    )
    tracelog.configure(redact=Redactor(allow=["my_token_hint"]))
    log: BoundLogger = tracelog.get_logger(__name__)
    log.info("order placed", order_id="A-1001")
    logging.getLogger("payments").warning("card declined", extra={"order_id": "A-1001"})
    ctx = tracelog.current_trace_context()
    if ctx is not None:
        trace_id: str = ctx.trace_id
        sampled: bool = ctx.sampled
        del trace_id, sampled
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, add_trace_context, JsonRenderer()],
        logger_factory=structlog.BytesLoggerFactory(),
    )
    handler = JsonStreamHandler()
    handler.setFormatter(JsonFormatter(schema="default"))
    handler.addFilter(TraceContextFilter())
    rec = SpanRecorder(service="checkout")
    with capture_lines() as lines, rec.tracer.start_as_current_span("op"):
        log.info("hi")
    first: dict[str, object] = lines[0]
    del first
    tracelog.shutdown()


def charge_card(order: str) -> bool:
    return bool(order)


def propagation() -> None:
    with tracelog.ContextThreadPoolExecutor(max_workers=8) as pool:
        charged: Future[bool] = pool.submit(charge_card, "A-1001")
        results: list[bool] = list(pool.map(charge_card, ["A-1", "A-2"]))
        del charged, results
    wrapped = tracelog.wrap(charge_card)
    ok: bool = wrapped("A-1001")
    del ok
    threading.Thread(target=tracelog.wrap(charge_card), args=("A-1001",)).start()
    tracelog.ContextThread(target=charge_card, args=("A-1001",)).start()

    async def handler(pool: ThreadPoolExecutor) -> bool:
        return await tracelog.run_in_executor(pool, charge_card, "A-1001")

    asyncio.run(handler(ThreadPoolExecutor()))


def wsgi_app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    start_response("200 OK", [])
    return [b"ok"]


async def asgi_app(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})


def web() -> None:
    wsgi: WSGIApplication = TraceContextMiddleware(wsgi_app)
    asgi = AsgiTraceContextMiddleware(asgi_app, tracer_provider=SpanRecorder().provider)
    django = DjangoMiddleware(lambda request: request)
    del wsgi, asgi, django
    tracelog.configure(frameworks=False)
    request = urllib.request.Request("http://127.0.0.1/", headers=tracelog.inject_headers())
    headers: dict[str, str] = tracelog.inject_headers({"accept": "*/*"})
    del request, headers
    ctx = extract_context(
        {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    )
    del ctx


def logs_in_traces() -> None:
    tracelog.configure(span_events=True)
    tracelog.configure(span_events=True, otel_logs=True, bridge_level="WARNING")
    logs = LogRecorder(service="checkout")
    tracelog.configure(otel_logs=True, logger_provider=logs.provider)
    logging.getLogger().addHandler(SpanEventHandler())
    logging.getLogger().addHandler(
        SpanEventHandler("ERROR", record_exception=False, set_error_status=False)
    )
    logging.getLogger().addHandler(OtelLogHandler(logger_provider=logs.provider))
    structlog.configure(
        processors=[
            capture_trace_context,
            SpanEventRecorder(),
            OtelLogEmitter(logger_provider=logs.provider),
            JsonRenderer(),
        ],
    )
    bridge = Bridge(span_events=True, otel_logs=False, level="INFO")
    bridge.emit(0.0, 20, "INFO", "app", "message", tracelog.current_trace_context(), {"k": 1})
    number, text = severity(30, "WARNING")
    del number, text
