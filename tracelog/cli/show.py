"""``tracelog show``: one trace as a waterfall, from its log lines and span records.

The span tree comes from span records (:data:`tracelog.schemas.SPAN_RECORD`, written by
:class:`tracelog.export.JsonLinesSpanExporter`) where the input has them: their parent
links, names, kinds, times and statuses. A span known only from log lines has no parent
link; it becomes a root, ordered by its first line's time, and its bar spans its lines.
"""

from __future__ import annotations

import math
import shutil
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracelog._term import (
    MAX_INDENT,
    Colors,
    LogView,
    escape,
    field_texts,
    format_ms,
    parse_time,
    use_color,
)
from tracelog.schemas import SPAN_RECORD

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from tracelog.cli.ids import TraceQuery
    from tracelog.cli.inputs import Session
    from tracelog.cli.links import TraceUrl
    from tracelog.schemas import Schema, SpanRecord

__all__ = ["MAX_INDENT", "LogEntry", "SpanNode", "Trace", "build_trace", "render_text", "run"]


@dataclass(slots=True)
class LogEntry:
    """A log line of the trace, and its place in the input."""

    view: LogView
    order: int
    line: dict[str, Any] = field(default_factory=dict)  # the parsed line, for the HTML page


@dataclass(slots=True, eq=False)
class SpanNode:
    """A span: from its record where there is one, else from its log lines."""

    span_id: str | None
    first_seen: int
    name: str = ""
    service: str = ""
    kind: str = ""
    parent_id: str | None = None
    start: float | None = None
    end: float | None = None
    duration_ms: float | None = None
    status: str = "unset"
    status_message: str | None = None
    recorded: bool = False
    logs: list[LogEntry] = field(default_factory=list)
    children: list[SpanNode] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The span's name, or what stands for it when no record names it."""
        if self.name:
            return self.name
        return "(lines without a span)" if self.span_id is None else "(no span record)"

    @property
    def duration(self) -> float | None:
        """A recorded span's duration in ms (None for a span known from lines only)."""
        if self.duration_ms is not None:
            return self.duration_ms
        if self.recorded and self.start is not None and self.end is not None:
            return (self.end - self.start) * 1000
        return None

    def _log_times(self) -> list[float]:
        return [e.view.time for e in self.logs if e.view.time is not None]

    @property
    def begin(self) -> float | None:
        """When it started, or its first line's time."""
        if self.start is not None:
            return self.start
        return min(self._log_times(), default=None)

    @property
    def finish(self) -> float | None:
        """When it ended, or its last line's time."""
        if self.end is not None:
            return self.end
        return max(self._log_times(), default=None)

    @property
    def failed(self) -> bool:
        """Its status is an error."""
        return self.status.lower() == "error"

    def sort_key(self) -> tuple[float, int]:
        """Start time first, then order of appearance."""
        begin = self.begin
        return (math.inf if begin is None else begin, self.first_seen)

    def absorb(self, record: SpanRecord) -> None:
        """Take name, parent, times and status from the span's record."""
        self.recorded = True
        self.name = record.name
        self.kind = record.kind
        self.service = record.service or self.service
        self.parent_id = record.parent_span_id
        self.start = parse_time(record.start)
        self.end = parse_time(record.end)
        self.duration_ms = record.duration_ms
        self.status = record.status
        self.status_message = record.status_message


@dataclass(slots=True)
class Trace:
    """A trace gathered from lines: its span tree and time range."""

    trace_id: str
    roots: list[SpanNode]
    spans: list[SpanNode]
    lines: int
    start: float | None
    end: float | None

    @property
    def duration_ms(self) -> float | None:
        """From the earliest start to the latest end, in ms."""
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start) * 1000

    @property
    def services(self) -> list[str]:
        """Service names in order of appearance."""
        return list(dict.fromkeys(s.service for s in self.spans if s.service))

    def walk(self) -> Iterator[tuple[SpanNode, int, str, str]]:
        """(span, depth, its tree connector, the prefix under it), depth first.

        Past :data:`MAX_INDENT` levels the prefix stops growing and the connector names
        the depth instead: a hostile 8,000-deep chain costs linear text, not quadratic.
        """
        stack = [(root, 0, "", "") for root in reversed(self.roots)]
        while stack:
            node, depth, connector, prefix = stack.pop()
            yield node, depth, connector, prefix
            kids = node.children
            deep = depth + 1 >= MAX_INDENT
            for i in range(len(kids) - 1, -1, -1):
                last = i == len(kids) - 1
                if deep:
                    entry = (kids[i], depth + 1, f"{prefix}└{depth + 1}─ ", prefix)
                else:
                    entry = (kids[i], depth + 1, prefix + ("└─ " if last else "├─ "),
                             prefix + ("   " if last else "│  "))  # fmt: skip
                stack.append(entry)


def build_trace(matches: list[tuple[dict[str, Any], Schema]], query: TraceQuery) -> Trace:
    """Gather matching lines (in input order) into a :class:`Trace`."""
    spans: dict[str | None, SpanNode] = {}
    trace_id = query.trace_id
    lines = 0

    def node(span_id: str | None, order: int) -> SpanNode:
        found = spans.get(span_id)
        if found is None:
            found = spans[span_id] = SpanNode(span_id, order)
        return found

    for order, (line, schema) in enumerate(matches):
        read = schema.read_trace_id(line)
        if trace_id is None and read is not None and len(read) == 32:
            trace_id = read
        record = SPAN_RECORD.read_record(line)
        if record is not None:
            node(record.span_id, order).absorb(record)
            continue
        lines += 1
        view = LogView.of(line, schema)
        span = node(view.span_id, order)
        span.logs.append(LogEntry(view, order, line))
        if not span.service:
            span.service = view.service
    roots: list[SpanNode] = []
    for span in spans.values():
        span.logs.sort(key=lambda e: (e.view.time is None, e.view.time or 0.0, e.order))
        parent = spans.get(span.parent_id) if span.parent_id else None
        if parent is not None and parent is not span:
            parent.children.append(span)
        else:
            roots.append(span)
    _break_cycles(roots, spans)
    for span in spans.values():
        span.children.sort(key=SpanNode.sort_key)
    roots.sort(key=SpanNode.sort_key)
    starts = [t for s in spans.values() if (t := s.begin) is not None]
    ends = [t for s in spans.values() if (t := s.finish) is not None]
    return Trace(
        trace_id=trace_id or f"{'0' * 16}{query.low64}",
        roots=roots,
        spans=list(spans.values()),
        lines=lines,
        start=min(starts) if starts else None,
        end=max(ends) if ends else None,
    )


def _break_cycles(roots: list[SpanNode], spans: dict[str | None, SpanNode]) -> None:
    # Records whose parent links form a loop reach no root; show each loop from one
    # member. Linear: a span's parent is found by id, each upward walk ends in a loop
    # whose whole subtree is then marked seen, so no span is walked twice.
    seen: set[int] = set()

    def mark(top: SpanNode) -> None:
        stack = [top]
        while stack:
            span = stack.pop()
            seen.add(id(span))
            stack.extend(c for c in span.children if id(c) not in seen)

    for root in roots:
        mark(root)
    for span in list(spans.values()):
        if id(span) in seen:
            continue
        # Not reached from a root: its parent chain ends in a loop. Walk up to it.
        path: set[int] = set()
        member = span
        while id(member) not in path:
            path.add(id(member))
            parent = spans.get(member.parent_id)
            if parent is None:  # pragma: no cover - such a span is a root, never unseen
                break
            member = parent
        parent = spans.get(member.parent_id)
        if parent is not None:
            parent.children = [c for c in parent.children if c is not member]
        roots.append(member)
        mark(member)


class _Axis:
    __slots__ = ("start", "total", "width")

    def __init__(self, trace: Trace, width: int) -> None:
        self.start = trace.start or 0.0
        self.total = (trace.end or self.start) - self.start
        self.width = width

    def col(self, t: float) -> int:
        if self.total <= 0:
            return 0
        return min(self.width - 1, max(0, int((t - self.start) / self.total * self.width)))

    def bar(self, span: SpanNode, colors: Colors) -> str:
        begin, finish = span.begin, span.finish
        if begin is None or finish is None:
            return " " * self.width
        a, b = self.col(begin), self.col(finish)
        fill = "█" if span.recorded else "░"
        code = "31" if span.failed else ("36" if span.recorded else "2")
        body = colors.paint(fill * (b - a + 1), code)
        return " " * a + body + " " * (self.width - b - 1)

    def mark(self, entry: LogEntry, colors: Colors) -> str:
        t = entry.view.time
        if t is None:
            return " " * self.width
        a = self.col(t)
        dot = colors.paint("•", "31") if entry.view.is_error else colors.paint("·", "2")
        return " " * a + dot + " " * (self.width - a - 1)


def render_text(trace: Trace, colors: Colors, width: int, link: str | None) -> list[str]:
    """The terminal waterfall as lines of text (log text escaped)."""
    duration = trace.duration_ms
    head = [
        colors.paint(f"trace {trace.trace_id}", "1"),
        f"{len(trace.spans)} span(s)",
        f"{trace.lines} log line(s)",
    ]
    if duration is not None:
        head.append(format_ms(duration))
    if trace.services:
        head.append(escape(", ".join(trace.services)))
    out = ["  ·  ".join(head)]
    if link is not None:
        out.append(f"link  {escape(link)}")
    axis = _Axis(trace, width)
    end_label = format_ms(duration) if duration is not None else ""
    out.append("")
    out.append(colors.paint(f"{'0 ms':<{width - len(end_label)}}{end_label}", "2"))
    for span, _, connector, prefix in trace.walk():
        out.append(f"{axis.bar(span, colors)}  {connector}{_span_text(span, colors)}")
        under = prefix + ("│  " if span.children else "   ")
        out.extend(
            f"{axis.mark(entry, colors)}  {under}{_log_text(entry, trace, colors)}"
            for entry in span.logs
        )
    return out


def _span_text(span: SpanNode, colors: Colors) -> str:
    name = escape(span.label)
    parts = [colors.paint(name, "1;31" if span.failed else "1")]
    if span.service:
        parts.append(colors.paint(escape(span.service), "36"))
    if span.kind:
        parts.append(colors.paint(escape(span.kind), "2"))
    duration = span.duration
    if duration is not None:
        parts.append(format_ms(duration))
    if span.failed:
        message = f"ERROR: {span.status_message}" if span.status_message else "ERROR"
        parts.append(colors.paint(escape(message), "1;31"))
    if span.span_id is not None:
        parts.append(colors.paint(span.span_id, "35"))
    return "  ".join(parts)


def _log_text(entry: LogEntry, trace: Trace, colors: Colors) -> str:
    view = entry.view
    offset = "" if view.time is None or trace.start is None else _offset(view.time - trace.start)
    level = escape(view.level or "-")
    message = escape(view.message)
    parts = [
        colors.paint(f"{offset:>11}", "2"),
        colors.level(f"{level:<8}", view.level),
        colors.paint(message, "1;31") if view.is_error else message,
    ]
    return "  ".join(parts + field_texts(view, colors))


def _offset(seconds: float) -> str:
    return f"+{format_ms(max(seconds, 0.0) * 1000)}"


def run(args: argparse.Namespace, session: Session, query: TraceQuery, url: TraceUrl | None) -> int:
    """Run ``tracelog show``; return the exit status."""
    matches: list[tuple[dict[str, Any], Schema]] = []

    def emit(line: memoryview, obj: dict[str, Any], schema: Schema) -> None:
        matches.append((obj, schema))

    for name in session.inputs(args.files, recursive=args.recursive):
        session.scan(name, emit)
    if not matches:
        sys.stderr.write(f"tracelog: no lines of trace {args.id.strip()!r} found\n")
        return session.finish(found=False)
    trace = build_trace(matches, query)
    if args.html is not None:
        from tracelog.cli.html import write_html  # noqa: PLC0415 - only for --html

        try:
            write_html(args.html, trace, url)
        except OSError as exc:
            session.error(f"{args.html}: {exc.strerror or exc}")
            return session.finish(found=True)
        sys.stderr.write(f"tracelog: wrote {escape(args.html)}\n")
        return session.finish(found=True)
    colors = Colors(use_color(args.color, sys.stdout))
    columns = shutil.get_terminal_size((100, 24)).columns
    width = max(20, min(48, columns // 3))
    text = (
        "\n".join(
            render_text(trace, colors, width, url.for_trace(trace) if url is not None else None)
        )
        + "\n"
    )
    sys.stdout.buffer.write(text.encode("utf-8", "replace"))
    sys.stdout.flush()
    return session.finish(found=True)
