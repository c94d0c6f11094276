"""The README's span-record and CLI snippets, type-checked by mypy --strict (never run)."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from tracelog.cli import main
from tracelog.export import JsonLinesSpanExporter
from tracelog.schemas import SPAN_RECORD, SpanRecord, datadog_trace_id, xray_trace_id


def readme() -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter("app.log")))
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(None, redact=False)))
    record: SpanRecord | None = SPAN_RECORD.read_record({"tracelog.record": "span"})
    del record
    decimal: str = datadog_trace_id("4bf92f3577b34da6a3ce929d0e0e4736")
    dashed: str = xray_trace_id("4bf92f3577b34da6a3ce929d0e0e4736")
    del decimal, dashed
    status: int = main(["grep", "--pretty", "4bf92f3577b34da6a3ce929d0e0e4736", "app.log"])
    del status
