"""``tracelog grep``: the lines of one trace, as they are or as a readable table."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, BinaryIO

from tracelog.cli.scan import StopScan

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from tracelog._term import Colors, LogView
    from tracelog.cli.inputs import Session
    from tracelog.schemas import Schema, SpanRecord

    Emit = Callable[[memoryview, dict[str, Any], Schema], None]

__all__ = ["pretty_line", "pretty_record", "run"]

_NO_SPAN = "-" * 16
_BATCH = 1 << 16


def _head(time: str, service: str, level: str, span_id: str | None, colors: Colors) -> list[str]:
    from tracelog._term import escape, short_time  # noqa: PLC0415 - see run()

    shown = escape(level or "-")
    return [
        colors.paint(f"{escape(short_time(time)) or '-':<23}", "2"),
        colors.paint(f"{escape(service) or '-':<12}", "36"),
        colors.level(f"{shown:<8}", level),
        colors.paint(span_id or _NO_SPAN, "35"),
    ]


def pretty_line(view: LogView, colors: Colors) -> str:
    """One aligned line: time, service, level, span, message, fields; all text escaped."""
    from tracelog._term import escape, field_texts  # noqa: PLC0415 - see run()

    message = escape(view.message)
    parts = _head(view.time_text, view.service, view.level, view.span_id, colors)
    parts.append(colors.paint(message, "1;31") if view.is_error else message)
    return "  ".join(parts + field_texts(view, colors))


def pretty_record(record: SpanRecord, colors: Colors) -> str:
    """A span record in the same columns: its start, service, ``span``, id, name, kind,
    duration and status."""
    from tracelog._term import escape, format_ms  # noqa: PLC0415 - see run()

    parts = _head(record.start or "", record.service or "", "span", record.span_id, colors)
    failed = record.status.lower() == "error"
    parts.append(colors.paint(escape(record.name), "1;31" if failed else "1"))
    if record.kind:
        parts.append(colors.paint(escape(record.kind), "2"))
    if record.duration_ms is not None:
        parts.append(format_ms(record.duration_ms))
    if failed:
        status = f"ERROR: {record.status_message}" if record.status_message else "ERROR"
        parts.append(colors.paint(escape(status), "1;31"))
    return "  ".join(parts)


def run(args: argparse.Namespace, session: Session) -> int:
    """Run ``tracelog grep`` over ``args.files``; return the exit status.

    Plain output of one trace needs none of the terminal helpers: they are imported only
    for names, counts and ``--pretty`` (each import is time at every start).
    """
    out = sys.stdout.buffer
    names = list(session.inputs(args.files, recursive=args.recursive))
    prefix_names = args.with_filename or (len(names) > 1 and (args.count or args.recursive))
    labelled = args.with_filename or args.count or args.files_with_matches
    colors: Colors | None = None
    if labelled or args.pretty:
        from tracelog._term import Colors, escape, use_color  # noqa: PLC0415

        colors = Colors(use_color(args.color, sys.stdout))
    # --pretty over several inputs: one story in time order, printed once all are read.
    merged: list[tuple[float, bytes]] | None = [] if args.pretty and len(names) > 1 else None
    found = False
    for name in names:
        label = ""
        prefix = b""
        if colors is not None:
            label = escape("(standard input)" if name == "-" else name)
            if args.with_filename:
                prefix = (colors.paint(label, "35") + ":").encode()
        emit: Emit
        plain = None
        if args.files_with_matches:
            emit = _first_match
        elif args.count:
            emit = _ignore
        elif args.pretty and colors is not None:
            emit = _pretty(out, prefix, colors, follow=name == "-", merged=merged)
        else:
            emit = plain = _PlainWriter(out, prefix, follow=name == "-")
        tally = session.scan(name, emit)
        if plain is not None:
            plain.flush()
        found = found or tally.matched > 0
        if args.files_with_matches:
            if tally.matched:
                out.write(label.encode() + b"\n")
        elif args.count:
            head = f"{label}:" if prefix_names else ""
            out.write(f"{head}{tally.matched}\n".encode())
        out.flush()
    if merged:
        merged.sort(key=lambda entry: entry[0])  # stable: ties keep their input order
        out.writelines(text for _, text in merged)
        out.flush()
    return session.finish(found=found)


def _first_match(line: memoryview, obj: dict[str, Any], schema: Schema) -> None:
    raise StopScan


def _ignore(line: memoryview, obj: dict[str, Any], schema: Schema) -> None:
    return None


class _PlainWriter:
    """The matching lines as they are, gathered into writes of about 64 KiB.

    One write per line would be one system call per line where stdout is unbuffered
    (``PYTHONUNBUFFERED``, ``python -u``), each waking the reader. A pipe on stdin may be
    a live stream (``tail -f | tracelog grep ...``): its matches go out at once.
    """

    __slots__ = ("_follow", "_out", "_pending", "_prefix")

    def __init__(self, out: BinaryIO, prefix: bytes, *, follow: bool) -> None:
        self._out = out
        self._prefix = prefix
        self._follow = follow
        self._pending = bytearray()

    def __call__(self, line: memoryview, obj: dict[str, Any], schema: Schema) -> None:
        pending = self._pending
        pending += self._prefix
        pending += line
        pending += b"\n"
        if self._follow or len(pending) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        """Write what is gathered (and flush stdout, for a live stream)."""
        if self._pending:
            self._out.write(self._pending)
            self._pending.clear()
        if self._follow:
            self._out.flush()


def _pretty(
    out: BinaryIO,
    prefix: bytes,
    colors: Colors,
    *,
    follow: bool,
    merged: list[tuple[float, bytes]] | None = None,
) -> Emit:
    """Readable lines, written at once, or kept in *merged* with their time for sorting.

    A line without a readable time keeps the time of the line before it in its input, so
    it stays next to its neighbours.
    """
    from tracelog._term import LogView, parse_time  # noqa: PLC0415 - see run()
    from tracelog.schemas import SPAN_RECORD  # noqa: PLC0415

    write = out.write
    last = float("-inf")

    def emit(line: memoryview, obj: dict[str, Any], schema: Schema) -> None:
        nonlocal last
        record = SPAN_RECORD.read_record(obj)
        if record is not None:
            text = pretty_record(record, colors)
            when = parse_time(record.start)
        else:
            view = LogView.of(obj, schema)
            text = pretty_line(view, colors)
            when = view.time
        data = prefix + text.encode("utf-8", "replace") + b"\n"
        if merged is None:
            write(data)
            if follow:
                out.flush()
            return
        if when is not None:
            last = when
        merged.append((last, data))

    return emit
