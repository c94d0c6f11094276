"""A span exporter that writes one JSON line per finished span, next to the log lines.

With it, a log file doubles as a small trace store: ``tracelog show`` draws the full
span tree (names, parents, durations, statuses) from the file alone. The line layout is
:data:`tracelog.schemas.SPAN_RECORD`; the line goes through :func:`tracelog._render.dumps`
and out in one write (:class:`tracelog._sink.LineSink`), so it never tears against log
lines written to the same file by other threads or processes.

This module imports the OpenTelemetry SDK (the ``sdk`` extra); ``import tracelog`` never
imports it::

    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from tracelog.export import JsonLinesSpanExporter

    provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter("app.log")))
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING, Any

from tracelog import _render as render
from tracelog._context import TraceContext, _resource_service
from tracelog._event import resolve_redactor
from tracelog._extras import requires_extra
from tracelog._sink import LineSink
from tracelog.schemas import SPAN_RECORD

with requires_extra("tracelog.export", "sdk"):
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

if TYPE_CHECKING:
    from collections.abc import Sequence

    from opentelemetry.sdk.trace import ReadableSpan

    from tracelog.redact import Redactor

__all__ = ["JsonLinesSpanExporter"]

# StatusCode names as the record spells them.
_STATUS = {"UNSET": "unset", "OK": "ok", "ERROR": "error"}


class JsonLinesSpanExporter(SpanExporter):
    """Write each finished span as one JSON line (a span record).

    Args:
        target: a file path (opened for appending; one ``write`` per line, so lines
            from several processes never interleave), a writable text or binary
            stream, or None for ``sys.stderr`` (where ``configure()`` writes logs).
        redact: True (tracelog's default rules, as for log lines), False, or a
            :class:`~tracelog.redact.Redactor`; applied to span attributes and the
            status message.

    Raises:
        TypeError: for a target that is neither a path nor a writable stream.
        OSError: if the file cannot be opened.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        target: str | os.PathLike[str] | IO[Any] | None = None,
        *,
        redact: bool | Redactor = True,
    ) -> None:
        self._owned: IO[bytes] | None = None
        if isinstance(target, str | os.PathLike):
            self._owned = open(target, "ab", buffering=0)  # noqa: PTH123, SIM115 - closed in shutdown()
            stream: IO[Any] = self._owned
        elif target is None:
            stream = sys.stderr
        else:
            stream = target
        self._sink = LineSink(stream)
        self._redactor = resolve_redactor(redact)
        self._closed = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write one line per span; FAILURE if a line could not be written."""
        if self._closed:
            return SpanExportResult.FAILURE
        ok = True
        for span in spans:
            ok = self._sink.write(render.dumps(self._record(span))) and ok
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE

    def _record(self, span: ReadableSpan) -> dict[str, Any]:
        sc = span.context
        ids = TraceContext.from_ints(sc.trace_id, sc.span_id, sc.trace_flags)
        parent = span.parent
        status = span.status
        message = status.description
        attributes: dict[str, Any] = dict(span.attributes or {})
        redactor = self._redactor
        if redactor is not None:
            attributes = redactor.fields(attributes)
            message = redactor.text(message) if message else message
        # The log lines' rule: a Resource name "unknown_service..." counts as no name.
        service = _resource_service(span.resource)
        start = span.start_time or 0
        return SPAN_RECORD.record(
            trace_id=ids.trace_id,
            span_id=ids.span_id,
            parent_span_id=format(parent.span_id, "016x") if parent is not None else None,
            name=span.name,
            kind=span.kind.name.lower(),
            service=service,
            start_ns=start,
            end_ns=span.end_time or start,
            status=_STATUS.get(status.status_code.name, status.status_code.name.lower()),
            status_message=message,
            attributes=attributes,
        )

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Lines are written as they come; nothing is held back."""
        return True

    def shutdown(self) -> None:
        """Stop exporting; close the file if the exporter opened it."""
        self._closed = True
        self._sink.close()
        if self._owned is not None:
            self._owned.close()
