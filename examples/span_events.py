"""Logs inside traces: each log line also becomes an event on the current span."""

from __future__ import annotations

import json
import logging
import sys

from _common import announce
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import tracelog

exporter = InMemorySpanExporter()
provider = TracerProvider(resource=Resource.create({"service.name": "payment"}))
provider.add_span_processor(SimpleSpanProcessor(exporter))
tracer = provider.get_tracer("examples")

tracelog.configure(stream=sys.stdout, span_events=True)

with tracer.start_as_current_span("charge card") as span:
    tracelog.get_logger("payment").info("charging card", order_id="A-1001")
    try:
        raise TimeoutError("gateway timed out")  # noqa: TRY301
    except TimeoutError:
        logging.getLogger("payment").exception("charge failed")
    announce(span)

# What a trace viewer will show on the span:
for finished in exporter.get_finished_spans():
    sc = finished.context
    for event in finished.events:
        sys.stderr.write(
            json.dumps({"span_event": event.name, "span_id": f"{sc.span_id:016x}"}) + "\n"
        )
    sys.stderr.write(json.dumps({"span_status": finished.status.status_code.name}) + "\n")
