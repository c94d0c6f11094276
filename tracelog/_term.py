"""Text from logs made safe for a terminal, colour, and the pieces of a line both views show.

A log line is untrusted input: an ANSI sequence in a message could clear the screen,
forge a line of output or set the window title, and a bidi override could reorder what
the reader sees. :func:`escape` makes every such character visible as an escape
(``\\x1b``, ``\\u202e``) before anything reaches the terminal or the HTML page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from tracelog import _render as render

if TYPE_CHECKING:
    from tracelog.schemas import Schema

__all__ = [
    "ERROR_LEVELS",
    "MAX_INDENT",
    "Colors",
    "LogView",
    "escape",
    "field_texts",
    "format_ms",
    "format_value",
    "parse_time",
    "short_time",
    "use_color",
]

# Tree levels drawn with indentation (terminal and HTML); deeper spans keep this level's.
MAX_INDENT = 32

_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
# C0 and C1 controls, DEL, and the characters that reorder or hide text: bidi marks,
# embeddings, overrides and isolates, line/paragraph separators, the zero-width space,
# non-joiner and joiner, the word joiner and invisible operators, BOM.
_UNSAFE = [
    *range(0x20),
    0x7F,
    *range(0x80, 0xA0),
    0x061C,
    *range(0x200B, 0x2010),
    *range(0x2060, 0x2065),
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x2028,
    0x2029,
    0xFEFF,
]
_TABLE = {c: _NAMED.get(c) or (f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _UNSAFE}

ERROR_LEVELS = frozenset({"error", "err", "critical", "crit", "fatal", "alert", "emergency"})
_WARNING_LEVELS = frozenset({"warning", "warn"})
_DEBUG_LEVELS = frozenset({"debug", "trace", "default"})


def escape(text: str) -> str:
    """*text* with control, ANSI and bidi characters spelled out as escapes."""
    return text.translate(_TABLE)


def use_color(mode: str, stream: TextIO) -> bool:
    """Resolve ``--color``: ``always``, ``never``, or ``auto`` (a TTY, and no ``NO_COLOR``)."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Colors:
    """SGR colouring that is a no-op when colour is off."""

    __slots__ = ("enabled",)

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def paint(self, text: str, code: str) -> str:
        """*text* in SGR *code* (``"31"``, ``"1;31"``...)."""
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled and text else text

    def level(self, text: str, level: str) -> str:
        """*text* coloured by the severity of *level*."""
        if level in ERROR_LEVELS:
            return self.paint(text, "1;31")
        if level in _WARNING_LEVELS:
            return self.paint(text, "33")
        if level in _DEBUG_LEVELS:
            return self.paint(text, "2")
        return self.paint(text, "32")


def format_value(value: Any) -> str:
    """A field value for display: bare when it is a simple string, else JSON; escaped."""
    if isinstance(value, str):
        if value and not any(c in value for c in ' "=\\'):
            return escape(value)
        return '"' + escape(value.replace("\\", "\\\\").replace('"', '\\"')) + '"'
    # The one-key wrapper keeps every value going through render.dumps.
    return escape(render.dumps({"": value})[4:-2].decode("utf-8", "replace"))


def field_texts(view: LogView, colors: Colors) -> list[str]:
    """``key=value`` for each field of the line, then its exception; escaped."""
    texts = [
        f"{colors.paint(escape(k) + '=', '2')}{format_value(v)}" for k, v in view.fields.items()
    ]
    if view.error is not None:
        texts.append(colors.paint(f"exception={format_value(view.error)}", "31"))
    return texts


def format_ms(ms: float) -> str:
    """A duration for people: ``0.412 ms``, ``38.1 ms``, ``2.35 s``."""
    if ms < 10:
        return f"{ms:.3f} ms"
    if ms < 1000:
        return f"{ms:.1f} ms"
    return f"{ms / 1000:.2f} s"


def parse_time(value: object) -> float | None:
    """An ISO-8601 time (as every layout writes it) as POSIX seconds, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.timestamp()


@dataclass(frozen=True, slots=True)
class LogView:
    """The parts of a log line the views show, read through its layout.

    Text fields are raw (unescaped); escape them where they are printed.
    """

    time: float | None
    time_text: str
    service: str
    level: str
    span_id: str | None
    message: str
    fields: dict[str, Any]
    error: str | None

    @property
    def is_error(self) -> bool:
        """An error level, or an exception on the line."""
        return self.level in ERROR_LEVELS or self.error is not None

    @classmethod
    def of(cls, line: dict[str, Any], schema: Schema) -> LogView:
        """Read a parsed line through the layout that matched it."""
        stamp = line.get(schema.timestamp_key)
        level = line.get(schema.level_key)
        message = line.get(schema.message_key)
        service = line.get(schema.service_key)
        reserved = schema.reserved
        return cls(
            time=parse_time(stamp),
            time_text=stamp if isinstance(stamp, str) else "",
            service=service if isinstance(service, str) else "",
            level=level.lower() if isinstance(level, str) else "",
            span_id=schema.read_span_id(line),
            message=message if isinstance(message, str) else render.safe_str(message or ""),
            fields={k: v for k, v in line.items() if k not in reserved},
            error=_error_of(line, schema),
        )


def _error_of(line: dict[str, Any], schema: Schema) -> str | None:
    found = schema.read_exception(line)
    if found is None:
        return None
    kind, message = found
    return f"{kind}: {message}" if message else kind


def short_time(text: str) -> str:
    """``2026-11-24 08:05:02.142`` from an ISO-8601 time with a zone, else *text* as is."""
    if parse_time(text) is None:
        return text
    stamp = datetime.fromisoformat(text)
    return stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d}"
