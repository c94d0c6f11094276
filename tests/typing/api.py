"""The README's snippets, type-checked by mypy --strict (never run)."""

from __future__ import annotations

import logging

import structlog

import tracelog
from tracelog.redact import Redactor
from tracelog.stdlib import JsonFormatter, JsonStreamHandler, TraceContextFilter
from tracelog.structlog import BoundLogger, JsonRenderer, add_trace_context
from tracelog.testing import SpanRecorder, capture_lines


def readme() -> None:
    tracelog.configure()
    tracelog.configure(
        service="payments", schema="ecs", level="INFO", redact=Redactor(keys=["pin"])
    )
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
