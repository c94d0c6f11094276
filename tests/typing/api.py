"""The README's snippets, type-checked by mypy --strict (never run)."""

from __future__ import annotations

import logging

import structlog

import tracelog
from tracelog.bridge import Bridge, severity
from tracelog.collector import OtlpReceiver
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
    with OtlpReceiver() as receiver:
        url: str = receiver.url
        spans: list[dict[str, object]] = receiver.spans
        del url, spans
