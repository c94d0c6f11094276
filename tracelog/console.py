"""The development layout: one readable line per call, for both frameworks and for pipes.

``configure(schema="console")`` builds each event's line as the ``default`` JSON layout
would, then prints it as text; ``tracelog pretty`` parses JSON lines of any layout and
prints them through the same :func:`format_line`, so a console line looks the same
whether it was written that way or rendered later from a file::

    2026-11-24 08:05:02.142 INFO     checkout: order placed  order_id=A-1001
        trace=0e0e4736 span=0ba902b7                             (one line)

Everything taken from the line is escaped (ANSI, control and bidi characters are spelled
out), so a log message cannot drive the terminal. Colour follows ``NO_COLOR`` (off),
then ``FORCE_COLOR`` (on), then whether the stream is a terminal.
"""

from __future__ import annotations

import os
from typing import IO, TYPE_CHECKING, Any

from tracelog._line import LineEncoder
from tracelog._term import Colors, LogView, escape, format_value, short_time, use_color
from tracelog.schemas import DEFAULT, EcsSchema, all_readers

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tracelog.schemas import Schema

__all__ = ["ConsoleEncoder", "color_for", "format_line", "layout_of"]

_FALSE = {"0", "false", "no", "off"}
_SHORT = 8
_READERS = all_readers()


def color_for(stream: object) -> bool:
    """Whether to colour output to *stream*: ``NO_COLOR``, then ``FORCE_COLOR``, then a TTY."""
    if os.environ.get("NO_COLOR"):
        return False
    force = os.environ.get("FORCE_COLOR")
    if force is not None and force.strip():
        return force.strip().lower() not in _FALSE
    return use_color("auto", stream)  # type: ignore[arg-type]


def layout_of(line: Mapping[str, Any]) -> Schema:
    """The layout a parsed line was written in (``default`` when none fits better).

    The one whose trace fields read a trace id wins; a line outside a span is matched by
    its time, level and message keys.
    """
    for schema in _READERS:
        if schema.read_trace_id(line) is not None:
            return schema
    for schema in _READERS:
        if schema.timestamp_key in line and schema.level_key in line:
            return schema
    return DEFAULT


def _stack_of(line: Mapping[str, Any], schema: Schema) -> str | None:
    if isinstance(schema, EcsSchema):
        stack = line.get(EcsSchema.ERROR_KEYS[2])
    else:
        value = line.get(schema.exception_key)
        stack = value.get("stacktrace") if isinstance(value, dict) else None
    return stack if isinstance(stack, str) and stack else None


def format_line(line: Mapping[str, Any], colors: Colors, schema: Schema | None = None) -> str:
    """A parsed JSON log line of any layout as readable text (no trailing newline).

    Time, level, logger, message, ``key=value`` fields, the short trace and span ids;
    an exception's traceback follows on its own lines.
    """
    schema = schema or layout_of(line)
    view = LogView.of(dict(line), schema)
    logger = line.get(schema.logger_key)
    level = view.level or "-"
    parts = [
        colors.paint(escape(short_time(view.time_text)) or "-", "2"),
        colors.level(f"{escape(level.upper()):<8}", level),
    ]
    message = escape(view.message)
    if isinstance(logger, str) and logger:
        message = f"{colors.paint(escape(logger), '34')}: {message}"
    parts.append(colors.paint(message, "1") if view.is_error else message)
    parts.extend(
        f"{colors.paint(escape(key), '36')}={format_value(value)}"
        for key, value in view.fields.items()
    )
    trace_id = schema.read_trace_id(line)
    if trace_id is not None:
        # The last digits: the ones every layout keeps (Datadog writes only the low 64 bits).
        ids = f"trace={trace_id[-_SHORT:]}"
        if view.span_id is not None:
            ids += f" span={view.span_id[-_SHORT:]}"
        parts.append(colors.paint(ids, "35"))
    text = "  ".join([" ".join(parts[:3]), *parts[3:]])
    stack = _stack_of(line, schema)
    if stack is not None:
        shown = "\n".join(escape(row) for row in stack.splitlines())
        text += "\n" + colors.paint(shown, "31")
    elif view.error is not None:
        text += "  " + colors.paint(f"exception={format_value(view.error)}", "31")
    return text


class ConsoleEncoder(LineEncoder):
    """A :class:`~tracelog._line.LineEncoder` that writes the console line instead of JSON.

    The line is built exactly as the ``default`` layout's (redaction, reserved names,
    size limits), then formatted by :func:`format_line`.

    Args:
        service: a fixed service name; None resolves per line.
        redact: True (default rules), False, or a :class:`~tracelog.redact.Redactor`.
        color: colour the output; None decides from *stream* (:func:`color_for`).
        stream: the stream the lines go to, for that decision.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("colors",)

    def __init__(
        self,
        service: str | None = None,
        redact: object = True,
        *,
        color: bool | None = None,
        stream: IO[Any] | None = None,
        version: str | None = None,
        environment: str | None = None,
    ) -> None:
        super().__init__(
            DEFAULT, service=service, redact=redact, version=version, environment=environment
        )
        self.colors = Colors(color_for(stream) if color is None else bool(color))

    def serialize(self, line: dict[str, Any]) -> bytes:
        """The console text of a built line, with its newline."""
        return (format_line(line, self.colors, DEFAULT) + "\n").encode("utf-8", "backslashreplace")

    def serialize_failure(self, message: str, exc: BaseException) -> bytes:  # pragma: no cover
        """What went wrong, on one escaped console line."""
        text = f"{escape(message)}  tracelog_error={escape(repr(exc))}"
        return (text + "\n").encode("utf-8", "backslashreplace")
