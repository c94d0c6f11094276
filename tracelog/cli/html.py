"""``tracelog show --html``: the waterfall as one self-contained HTML file.

No external assets: the CSS and the few lines of script are inline, so the file opens
anywhere, offline, and can be attached to a ticket. A click on a log line opens all its
fields (a ``<details>`` element, so it works without the script too); a line with an
exception shows its stack trace, open from the start. Every piece of log text is escaped
twice over: control and bidi characters spelled out (as in the terminal), then HTML
escaped; bar positions are numbers the page computes from, never text from a log.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracelog._term import MAX_INDENT, escape, format_ms, format_value

if TYPE_CHECKING:
    from tracelog.cli.links import TraceUrl
    from tracelog.cli.show import LogEntry, SpanNode, Trace

__all__ = ["render_html", "write_html"]

_CSS = """
:root { --bg:#fff; --fg:#1f2328; --dim:#656d76; --line:#d0d7de; --bar:#0969da;
  --bar-logs:#afb8c1; --err:#cf222e; --warn:#9a6700; --row:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  color: var(--fg); background: var(--bg); margin: 0; padding: 16px 20px; }
h1 { font-size: 16px; margin: 0 0 4px; }
h1 a, h1 code { font-weight: 600; }
.summary { color: var(--dim); margin: 0 0 14px; }
.waterfall { border-top: 1px solid var(--line); }
.row { display: grid; grid-template-columns: minmax(0, 58fr) minmax(0, 42fr);
  gap: 12px; padding: 2px 0; border-bottom: 1px solid var(--row); }
.label { overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
  padding-left: calc(var(--depth, 0) * 18px); }
.track { position: relative; min-height: 16px; }
.bar { position: absolute; top: 3px; height: 12px; min-width: 2px; border-radius: 2px;
  background: var(--bar); }
.bar.logs-only { background: var(--bar-logs); }
.span.error > .span-row .bar { background: var(--err); }
.dot { position: absolute; top: 5px; width: 7px; height: 7px; margin-left: -3px;
  border-radius: 50%; background: var(--dim); }
.log-row.error .dot { background: var(--err); }
.axis { color: var(--dim); }
.axis .track span { position: absolute; top: 0; transform: translateX(-50%);
  white-space: nowrap; }
.axis .track span:first-child { transform: none; }
.axis .track span:last-child { transform: translateX(-100%); }
.span-row { background: var(--row); cursor: pointer; }
.span-row .name { font-weight: 600; }
.span.error > .span-row .name, .status { color: var(--err); }
.service { color: #0550ae; }
.kind, .span-id, .offset, .fields .k { color: var(--dim); }
.logs { list-style: none; margin: 0; padding: 0; }
.span.collapsed > .logs { display: none; }
.toggle { border: 0; background: none; padding: 0 4px 0 0; font: inherit;
  color: var(--dim); cursor: pointer; }
.level { display: inline-block; min-width: 7ch; }
.log-row.error .level, .log-row.error .message, .exception { color: var(--err); }
.log-row.warning .level, .log-row.warn .level { color: var(--warn); }
.log-row .label { padding-left: calc(var(--depth, 0) * 18px + 22px); white-space: normal;
  overflow-wrap: anywhere; }
.line > summary { cursor: pointer; list-style: none; }
.line > summary::-webkit-details-marker { display: none; }
.line[open] > summary { font-weight: 600; }
.detail { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 0 12px;
  margin: 4px 0 6px; padding: 4px 8px; background: var(--row); border-left: 2px solid var(--line); }
.detail dt { color: var(--dim); }
.detail dd { margin: 0; white-space: pre-wrap; }
.stack { margin: 4px 0 6px; padding: 6px 8px; color: var(--err); background: #fff8f8;
  border-left: 2px solid var(--err); white-space: pre-wrap; overflow-wrap: anywhere; }
"""

# Clicking a span row folds its log lines away; the page works without it too.
_JS = """
document.querySelectorAll('.span-row').forEach(function (row) {
  row.addEventListener('click', function (event) {
    if (event.target.closest('a')) { return; }
    var span = row.parentElement;
    var folded = span.classList.toggle('collapsed');
    var button = row.querySelector('.toggle');
    button.textContent = folded ? '\\u25b8' : '\\u25be';
    button.setAttribute('aria-expanded', folded ? 'false' : 'true');
  });
});
"""


def _h(text: str) -> str:
    return html.escape(escape(text), quote=True)


def _pct(value: float) -> str:
    return f"{max(0.0, min(100.0, value)):.3f}%"


class _Scale:
    __slots__ = ("start", "total")

    def __init__(self, trace: Trace) -> None:
        self.start = trace.start or 0.0
        self.total = (trace.end or self.start) - self.start

    def at(self, t: float) -> float:
        return 0.0 if self.total <= 0 else (t - self.start) / self.total * 100


def render_html(trace: Trace, url: TraceUrl | None = None) -> str:
    """The whole page as a string."""
    scale = _Scale(trace)
    duration = trace.duration_ms
    link = url.for_trace(trace) if url is not None else None
    trace_id = _h(trace.trace_id)
    title = (
        f'<a class="trace-id" href="{_h(link)}">{trace_id}</a>'
        if link
        else (f'<code class="trace-id">{trace_id}</code>')
    )
    summary = [f"{len(trace.spans)} span(s)", f"{trace.lines} log line(s)"]
    if duration is not None:
        summary.append(format_ms(duration))
    if trace.services:
        summary.append(", ".join(trace.services))
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>trace {trace_id}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>trace {title}</h1>",
        f'<p class="summary">{_h(" · ".join(summary))}</p></header>',
        '<main class="waterfall">',
        _axis(duration),
    ]
    for span, depth, _, _ in trace.walk():
        # Indentation stops at MAX_INDENT levels, as in the terminal view.
        parts.append(_span(span, min(depth, MAX_INDENT), trace, scale, url))
    parts.append(f"</main><script>{_JS}</script></body></html>\n")
    return "\n".join(parts)


def _axis(duration: float | None) -> str:
    if duration is None:
        return ""
    ticks = "".join(
        f'<span style="left:{_pct(q * 100)}">{format_ms(duration * q) if q else "0 ms"}</span>'
        for q in (0, 0.25, 0.5, 0.75, 1)
    )
    return (
        f'<div class="row axis"><div class="label">time</div><div class="track">{ticks}</div></div>'
    )


def _span(span: SpanNode, depth: int, trace: Trace, scale: _Scale, url: TraceUrl | None) -> str:
    classes = "span error" if span.failed else "span"
    label = [
        '<button class="toggle" type="button" aria-expanded="true">\u25be</button>',
        f'<span class="name">{_h(span.label)}</span>',
    ]
    if span.service:
        label.append(f'<span class="service">{_h(span.service)}</span>')
    if span.kind:
        label.append(f'<span class="kind">{_h(span.kind)}</span>')
    duration = span.duration
    if duration is not None:
        label.append(f'<span class="duration">{format_ms(duration)}</span>')
    if span.failed:
        status = f"ERROR: {span.status_message}" if span.status_message else "ERROR"
        label.append(f'<span class="status">{_h(status)}</span>')
    if span.span_id is not None:
        if url is not None and url.uses_span:
            href = _h(url.render(trace.trace_id, span.span_id, span.service))
            label.append(f'<a class="span-id" href="{href}">{span.span_id}</a>')
        else:
            label.append(f'<span class="span-id">{span.span_id}</span>')
    bar = ""
    begin, finish = span.begin, span.finish
    if begin is not None and finish is not None:
        left = scale.at(begin)
        width = scale.at(finish) - left
        kind = "bar" if span.recorded else "bar logs-only"
        bar = f'<div class="{kind}" style="left:{_pct(left)};width:{_pct(width)}"></div>'
    logs = "".join(_log(entry, depth, trace, scale) for entry in span.logs)
    span_id = f' data-span-id="{span.span_id}"' if span.span_id else ""
    return (
        f'<section class="{classes}"{span_id}>'
        f'<div class="row span-row"><div class="label" style="--depth:{depth}">{" ".join(label)}'
        f'</div><div class="track">{bar}</div></div><ol class="logs">{logs}</ol></section>'
    )


def _log(entry: LogEntry, depth: int, trace: Trace, scale: _Scale) -> str:
    view = entry.view
    level = view.level or "-"
    classes = "row log-row"
    if view.is_error:
        classes += " error"
    elif level in {"warning", "warn"}:
        classes += " warning"
    offset = ""
    dot = ""
    if view.time is not None and trace.start is not None:
        offset = f"+{format_ms(max(0.0, view.time - trace.start) * 1000)}"
        dot = f'<i class="dot" style="left:{_pct(scale.at(view.time))}"></i>'
    fields = " ".join(
        f'<span class="k">{_h(key)}=</span>{html.escape(format_value(value))}'
        for key, value in view.fields.items()
    )
    exception = (
        f' <span class="exception">{html.escape(format_value(view.error))}</span>'
        if view.error is not None
        else ""
    )
    stack = _stack_of(entry.line)
    detail = "".join(
        f"<dt>{_h(str(key))}</dt><dd>{html.escape(format_value(value))}</dd>"
        for key, value in entry.line.items()
    )
    trace_back = f'<pre class="stack">{_lines(stack)}</pre>' if stack else ""
    is_open = " open" if stack else ""
    return (
        f'<li class="{classes}"><div class="label" style="--depth:{depth}">'
        f'<details class="line"{is_open}><summary>'
        f'<span class="offset">{offset}</span> <span class="level">{_h(level)}</span> '
        f'<span class="message">{_h(view.message)}</span> '
        f'<span class="fields">{fields}</span>{exception}</summary>'
        f'{trace_back}<dl class="detail">{detail}</dl></details></div>'
        f'<div class="track">{dot}</div></li>'
    )


def _stack_of(line: dict[str, Any]) -> str | None:
    """The stack trace of a line's exception, in any layout, or None.

    Every layout writes it as ``exception.stacktrace`` except ECS (``error.stack_trace``).
    """
    exception = line.get("exception")
    stack = exception.get("stacktrace") if isinstance(exception, dict) else None
    if stack is None:
        stack = line.get("error.stack_trace")
    return stack if isinstance(stack, str) and stack else None


def _lines(text: str) -> str:
    """Multi-line text for a ``<pre>``: each line escaped, the line breaks kept."""
    return "\n".join(_h(part) for part in text.splitlines())


def write_html(path: str, trace: Trace, url: TraceUrl | None = None) -> None:
    """Write the page to *path* (UTF-8)."""
    Path(path).write_text(render_html(trace, url), encoding="utf-8")
