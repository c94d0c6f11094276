"""The id a user types, in any backend's spelling, turned into what lines are matched on.

Every spelling is parsed by the layout that writes it (:mod:`tracelog.schemas`), so the
CLI accepts exactly what tracelog writes and knows no field names or encodings itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from tracelog.schemas import (
    DEFAULT,
    XRAY,
    DatadogSchema,
    GcpSchema,
    datadog_trace_id,
)

__all__ = ["ID_FORMS", "IdError", "TraceQuery", "parse_span_id", "parse_trace_id"]

# form name -> how it looks, for --help and for the one-line error.
ID_FORMS: dict[str, str] = {
    "hex": "a 32-hex trace id",
    "traceparent": "a traceparent (00-<32 hex>-<16 hex>-<2 hex>)",
    "datadog": "a Datadog decimal id (low 64 bits)",
    "gcp": "a GCP path (projects/<P>/traces/<32 hex>)",
    "xray": "an X-Ray id (1-<8 hex>-<24 hex>, or Root=1-...;Parent=...)",
}

_DATADOG = DatadogSchema()
_GCP = GcpSchema(project="-")


class IdError(ValueError):
    """An id the user typed is in none of the accepted forms (a usage error)."""


@dataclass(frozen=True, slots=True)
class TraceQuery:
    """What a trace id query matches.

    Attributes:
        trace_id: the full 32-hex trace id, or None when only the low 64 bits are known
            (a Datadog decimal query).
        low64: the low 64 bits as 16 hex digits; Datadog lines carry only these.
        form: the spelling it was given in (a key of :data:`ID_FORMS`).
    """

    trace_id: str | None
    low64: str
    form: str

    def matches(self, read: str) -> bool:
        """Whether a trace id read from a line (32 hex, or 16 for Datadog) is this trace."""
        if len(read) == 16 or self.trace_id is None:
            return read[-16:] == self.low64
        return read == self.trace_id

    @property
    def datadog(self) -> str:
        """The Datadog decimal of the low 64 bits."""
        return datadog_trace_id(self.low64)

    def needles(self, *, ignore_case: bool = False) -> tuple[bytes, ...]:
        """Byte strings at least one of which every matching line contains.

        The hex, GCP and X-Ray spellings share the id's last 24 hex digits (X-Ray puts a
        dash after the first 8); Datadog's line has the decimal of the low 64 bits. Only
        the low 16 hex digits are known for a Datadog query. W3C Trace Context and every
        tracelog layout write lowercase hex; ids a non-conforming tool wrote in upper
        case are searched for too only with *ignore_case* (one more pass over the bytes).
        """
        tail = self.trace_id[8:] if self.trace_id is not None else self.low64
        found = [tail.encode(), self.datadog.encode()]
        if ignore_case:
            found.insert(1, tail.upper().encode())
        return tuple(dict.fromkeys(found))


def _hex32(text: str) -> str | None:
    return DEFAULT.read_trace_id({DEFAULT.trace_id_key: text})


def _from_hex(text: str) -> TraceQuery | None:
    found = _hex32(text)
    return None if found is None else TraceQuery(found, found[16:], "hex")


def _from_traceparent(text: str) -> TraceQuery | None:
    parts = text.split("-")
    # Version 00 has exactly four parts; later versions may append more (W3C 3.2.4).
    if len(parts) < 4 or (parts[0] == "00" and len(parts) != 4):
        return None
    version, trace_id, span_id, flags = parts[:4]
    if len(version) != 2 or version.lower() == "ff" or not _is_hex(version + flags):
        return None
    if len(flags) != 2 or DEFAULT.read_span_id({DEFAULT.span_id_key: span_id}) is None:
        return None
    found = _hex32(trace_id)
    return None if found is None else TraceQuery(found, found[16:], "traceparent")


def _from_datadog(text: str) -> TraceQuery | None:
    low = _DATADOG.read_trace_id({_DATADOG.trace_id_key: text})
    if low is None or len(low) != 16:
        return None
    return TraceQuery(None, low, "datadog")


def _from_gcp(text: str) -> TraceQuery | None:
    if not text.startswith("projects/") or text.count("/") != 3:
        return None
    found = _GCP.read_trace_id({_GCP.trace_id_key: text})
    return None if found is None else TraceQuery(found, found[16:], "gcp")


def _from_xray(text: str) -> TraceQuery | None:
    if text.startswith("Root="):  # the X-Amzn-Trace-Id header
        text = text[5:].split(";", 1)[0]
    found = XRAY.read_trace_id({XRAY.trace_id_key: text})
    return None if found is None else TraceQuery(found, found[16:], "xray")


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


_PARSERS = {
    "gcp": _from_gcp,
    "xray": _from_xray,
    "traceparent": _from_traceparent,
    "hex": _from_hex,
    "datadog": _from_datadog,
}


def parse_trace_id(text: str, form: str = "auto") -> TraceQuery:
    """Parse a trace id in one of :data:`ID_FORMS` (``auto``: whichever fits).

    A 32-character string of digits is hex (a Datadog decimal has at most 20 digits).

    Raises:
        IdError: naming the accepted forms, when *text* fits none (or not *form*).
    """
    text = text.strip()
    forms = list(_PARSERS) if form == "auto" else [form]
    for name in forms:
        found = _PARSERS[name](text)
        if found is not None:
            return found
    accepted = "; ".join(ID_FORMS[name] for name in ID_FORMS if name in forms)
    raise IdError(f"not a trace id: {text!r}; expected {accepted}")


def parse_span_id(text: str) -> str | None:
    """A span id as 16 lowercase hex: from 16 hex digits, or a Datadog decimal."""
    text = text.strip()
    found = DEFAULT.read_span_id({DEFAULT.span_id_key: text})
    if found is not None:
        return found
    return _DATADOG.read_span_id({_DATADOG.span_id_key: text})
