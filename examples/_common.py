"""Shared by the examples: a real SDK tracer, and a way to show which ids to expect."""

from __future__ import annotations

import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span, Tracer


def tracer(service: str) -> Tracer:
    """A tracer on a private SDK provider whose Resource names *service*."""
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    return provider.get_tracer("tracelog.examples")


def announce(span: Span) -> None:
    """Tell the reader (and the example tests) the ids the lines above must carry."""
    sc = span.get_span_context()
    sys.stderr.write(f"expect trace_id={sc.trace_id:032x} span_id={sc.span_id:016x}\n")
