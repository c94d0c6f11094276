"""Trace URL templates: from a trace id to the page of a tracing UI.

``--trace-url`` (or ``TRACELOG_TRACE_URL``) is a ``str.format`` template with these
placeholders; ``{{`` and ``}}`` stand for literal braces. Datadog's and X-Ray's spellings
come from :mod:`tracelog.schemas`, the one place that writes them.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING
from urllib.parse import quote

from tracelog.schemas import datadog_trace_id, xray_trace_id

if TYPE_CHECKING:
    from tracelog.cli.show import SpanNode, Trace

__all__ = ["PLACEHOLDERS", "TemplateError", "TraceUrl"]

PLACEHOLDERS: dict[str, str] = {
    "trace_id": "the trace id, 32 hex",
    "span_id": "the span id, 16 hex",
    "trace_id_dd": "Datadog's decimal of the low 64 bits",
    "xray_trace_id": "the X-Ray spelling, 1-<8 hex>-<24 hex>",
    "service": "the service name, URL-quoted",
}
_VALID = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
_SCHEMES = ("http://", "https://")


class TemplateError(ValueError):
    """A template that is not http(s), or has an unknown placeholder or unbalanced braces."""


class TraceUrl:
    """A checked trace URL template.

    Args:
        template: e.g. ``http://localhost:16686/trace/{trace_id}``.

    Raises:
        TemplateError: for a scheme other than ``http://``/``https://``, or naming the
            valid placeholders.
    """

    __slots__ = ("template", "uses_span")

    def __init__(self, template: str) -> None:
        # The link goes into pages meant to be shared: a javascript: or data: URL there
        # would run in the reader's browser. The scheme must be written out, not a
        # placeholder, and browsers strip leading blanks, so nothing may precede it.
        if not template[:8].lower().startswith(_SCHEMES):
            raise TemplateError(
                f"the template must start with http:// or https://, not {template[:16]!r}"
            )
        try:
            parts = list(string.Formatter().parse(template))
        except ValueError as exc:
            raise TemplateError(f"{exc}; valid placeholders: {_VALID}") from None
        used = set()
        for _, field, spec, conversion in parts:
            if field is None:
                continue
            if field not in PLACEHOLDERS or spec or conversion:
                shown = "{" + field + (f"!{conversion}" if conversion else "")
                shown += (f":{spec}" if spec else "") + "}"
                raise TemplateError(f"unknown placeholder {shown}; valid placeholders: {_VALID}")
            used.add(field)
        self.template = template
        self.uses_span = "span_id" in used

    def render(self, trace_id: str, span_id: str | None = None, service: str | None = None) -> str:
        """The URL for a trace (and span, and service; missing ones become empty)."""
        return self.template.format(
            trace_id=trace_id,
            span_id=span_id or "",
            trace_id_dd=datadog_trace_id(trace_id),
            xray_trace_id=xray_trace_id(trace_id),
            service=quote(service or "", safe=""),
        )

    def for_trace(self, trace: Trace, span: SpanNode | None = None) -> str:
        """The URL of a trace (or of a span, when given and the template has ``{span_id}``)."""
        root = span or (trace.roots[0] if trace.roots else None)
        return self.render(
            trace.trace_id,
            root.span_id if root is not None else None,
            root.service if root is not None else None,
        )
