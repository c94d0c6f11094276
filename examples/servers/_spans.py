"""Not part of any set-up: when the tests ask (EXAMPLE_SPANS=path), an SDK exports spans there.

The tests read the spans back to check the span names, statuses and parents; the apps'
tracelog set-up is the same with or without it.
"""

from __future__ import annotations

import os


def export_spans_if_asked(service: str) -> None:
    path = os.environ.get("EXAMPLE_SPANS")
    if not path:
        return
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from tracelog.export import JsonLinesSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(path)))
    trace.set_tracer_provider(provider)
