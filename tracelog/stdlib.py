"""stdlib ``logging`` adapters: a filter that captures ids, a JSON formatter, handlers.

:class:`SpanEventHandler` and :class:`OtelLogHandler` put each record into the trace
(a span event, an OTel log record) through :class:`tracelog.bridge.Bridge`.

All of them are dictConfig-able::

    "filters": {"trace": {"()": "tracelog.stdlib.TraceContextFilter"}},
    "formatters": {"json": {"()": "tracelog.stdlib.JsonFormatter", "schema": "ecs"}},
    "handlers": {"out": {"class": "tracelog.stdlib.JsonStreamHandler", "formatter": "json",
                         "filters": ["trace"], "stream": "ext://sys.stdout"}},
"""

from __future__ import annotations

import logging
import sys
from typing import IO, TYPE_CHECKING, Any, Unpack, cast

from pythonjsonlogger.orjson import OrjsonFormatter

from tracelog import _render as render
from tracelog._compat import structlog_context_vars
from tracelog._context import TraceContext, capture, capture_span
from tracelog._levels import ERROR
from tracelog._sampling import BUFFER, DROP
from tracelog._sink import LineSink
from tracelog.schemas import FOREIGN_TRACE_ATTRS

if TYPE_CHECKING:
    from collections.abc import Callable

    from tracelog._line import LineEncoder
    from tracelog._sampling import LogSampler
    from tracelog.bridge import Bridge, OtelLogOptions, SpanEventOptions
    from tracelog.schemas import ExcInfo, Schema

__all__ = [
    "BRIDGED_ATTR",
    "CONTEXTVARS_ATTR",
    "MESSAGE_ATTR",
    "RESERVED_ATTRS",
    "SERVICE_ATTR",
    "TEXT_IDS_ATTR",
    "TEXT_ID_KEYS",
    "TRACE_ATTR",
    "BridgeHandler",
    "JsonFormatter",
    "JsonStreamHandler",
    "OtelLogHandler",
    "SpanEventHandler",
    "TraceContextFilter",
    "TraceSamplingFilter",
    "bound_contextvars",
    "message_of",
    "record_parts",
]

# The attributes the filter (and queue mode) store what they captured at the call under.
TRACE_ATTR = "tracelog_trace"
SERVICE_ATTR = "tracelog_service"
MESSAGE_ATTR = "tracelog_message"
BRIDGED_ATTR = "tracelog_bridged"
# structlog.contextvars values captured at the call, and the text-format id attributes
# TraceContextFilter set (so the JSON line, which has the ids already, leaves them out).
CONTEXTVARS_ATTR = "tracelog_contextvars"
TEXT_IDS_ATTR = "tracelog_text_ids"
TEXT_ID_KEYS = ("traceId", "spanId", "traceFlags")
_NO_IDS = ("", "", "")
_UNSET: Any = object()

# Every attribute a plain LogRecord has, read off a blank one rather than written out by
# hand, plus the two Formatter.format() adds and OTel's record-factory trace attributes.
# Anything else on a record is a user field.
_BLANK = vars(logging.LogRecord("", logging.INFO, "", 0, "", (), None))
RESERVED_ATTRS: frozenset[str] = (
    frozenset(_BLANK)
    | {"message", "asctime", TRACE_ATTR, SERVICE_ATTR, MESSAGE_ATTR, BRIDGED_ATTR}
    | {CONTEXTVARS_ATTR, TEXT_IDS_ATTR}
    | FOREIGN_TRACE_ATTRS
)
_PLAIN_RECORD_SIZE = len(_BLANK)
# The last attribute LogRecord.__init__ sets: in a record it made, it sits at this index.
_LAST_OWN = (_PLAIN_RECORD_SIZE - 1, list(_BLANK)[-1])


_registry: list[Any] = [None]


def bound_contextvars() -> dict[str, Any] | None:
    """The values bound with ``structlog.contextvars`` in the current context, or None.

    Costs one dict read while structlog is not loaded or nothing was ever bound.
    """
    registry = _registry[0]
    if registry is None:
        if "structlog.contextvars" not in sys.modules:
            return None
        # structlog's registry of every contextvar bind_contextvars() made (mutated in
        # place); without it (another structlog), always ask.
        found = structlog_context_vars()
        registry = _registry[0] = {None: None} if found is None else found
    if not registry:
        return None
    try:
        values: dict[str, Any] = sys.modules["structlog.contextvars"].get_contextvars()
    except Exception:  # another structlog: the line matters more than these fields
        return None
    return values or None


def _nothing_bound() -> bool:
    """Whether no structlog contextvars can be bound: structlog not loaded, or its
    registry of contextvars empty (the usual case; a dict read or two)."""
    registry = _registry[0]
    if registry is None:
        return "structlog.contextvars" not in sys.modules
    return not registry


class TraceContextFilter(logging.Filter):
    """Capture the caller's trace ids on the record, at the call, on the caller's thread.

    Put it on a ``QueueHandler`` (or any handler that formats later or elsewhere): the
    listener thread runs in an empty context, so ids read at format time would be lost.
    The values bound with ``structlog.contextvars`` are captured too. The filter never
    rejects a record.

    For text formats it also sets ``record.traceId``, ``record.spanId`` and
    ``record.traceFlags`` as strings (empty outside a span), so ``%(traceId)s`` works in
    any ``logging.Formatter``; tracelog's JSON line does not repeat them as fields.

    .. versionadded:: 0.1.0
    """

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = getattr(record, TRACE_ATTR, _UNSET)
        if ctx is _UNSET:
            ctx, service = capture()
            setattr(record, TRACE_ATTR, ctx)
            setattr(record, SERVICE_ATTR, service)
            setattr(record, CONTEXTVARS_ATTR, bound_contextvars())
        attrs = record.__dict__
        if TEXT_IDS_ATTR not in attrs:
            # A user's own extra={"traceId": ...} stays as it is (and stays a field).
            values = _NO_IDS if ctx is None else (ctx.trace_id, ctx.span_id, ctx.trace_flags)
            written = tuple(key for key in TEXT_ID_KEYS if key not in attrs)
            for key, value in zip(TEXT_ID_KEYS, values, strict=True):
                if key in written:
                    attrs[key] = value
            attrs[TEXT_IDS_ATTR] = written
        return True


class TraceSamplingFilter(logging.Filter):
    """Per-trace sampling and the debug buffer for stdlib records (see ``tracelog._sampling``).

    Put it on the handler that writes (or enqueues); *emit* is that handler's ``emit``,
    used to write buffered records when their trace errors.

    .. versionadded:: 0.1.0
    """

    def __init__(self, sampler: LogSampler, emit: Callable[[logging.LogRecord], None]) -> None:
        super().__init__()
        self.sampler = sampler
        self._emit = emit

    def _write_buffered(self, record: logging.LogRecord) -> None:
        record.buffered = True
        self._emit(record)

    def filter(self, record: logging.LogRecord) -> bool:
        ctx: TraceContext | None = getattr(record, TRACE_ATTR, _UNSET)
        if ctx is _UNSET:
            ctx, service = capture()
            setattr(record, TRACE_ATTR, ctx)
            setattr(record, SERVICE_ATTR, service)
            setattr(record, CONTEXTVARS_ATTR, bound_contextvars())
        sampler = self.sampler
        decision = sampler.admit(
            record.levelno, record.levelno >= ERROR or bool(record.exc_info), ctx
        )
        if decision == DROP:
            return False
        if decision == BUFFER and ctx is not None:
            message = message_of(record)
            setattr(record, MESSAGE_ATTR, message)
            size = 96 + len(message) + 16 * (len(record.__dict__) - _PLAIN_RECORD_SIZE)
            return not sampler.buffer(ctx, self._write_buffered, record, size)
        return True


def message_of(record: logging.LogRecord) -> str:
    """``record.getMessage()`` through the one never-raising formatter both frameworks use."""
    return render.format_percent(record.msg, record.args)


def record_parts(
    record: logging.LogRecord,
) -> tuple[str, dict[str, Any] | None, ExcInfo | None]:
    """(message, user fields, exc_info) of a record: what the line and the bridge use."""
    attrs = record.__dict__
    fields = None if len(attrs) <= _PLAIN_RECORD_SIZE else _user_fields(attrs)
    if fields is not None and TEXT_IDS_ATTR in attrs:
        for key in attrs[TEXT_IDS_ATTR]:
            del fields[key]
    # structlog.contextvars values, as structlog's merge_contextvars adds them: after
    # the record's own fields, which win. Captured by a filter at the call, else now
    # (a handler without a filter runs on the caller's thread).
    bound = attrs.get(CONTEXTVARS_ATTR, _UNSET)
    if bound is _UNSET:
        registry = _registry[0]  # inline: nothing ever bound is the usual case
        bound = None if registry is not None and not registry else bound_contextvars()
    if bound:
        fields = (
            {**fields, **{k: v for k, v in bound.items() if k not in fields}}
            if fields
            else dict(bound)
        )
    if record.stack_info:
        fields = {**(fields or {}), "stack_info": record.stack_info}
    exc_info = record.exc_info
    if exc_info is not None and (not isinstance(exc_info, tuple) or exc_info[0] is None):
        exc_info = None
    message = attrs.get(MESSAGE_ATTR) or render.format_percent(record.msg, record.args)
    return message, fields, exc_info


def _user_fields(attrs: dict[str, Any]) -> dict[str, Any]:
    """The attributes of a record that are user fields, in the order they were set."""
    index, last = _LAST_OWN
    fields: dict[str, Any] = {}
    skipped = 0
    # LogRecord.__init__ sets its own attributes first, always in one order; what follows
    # (makeRecord's extra=, filters) is set later. Read from the end back to its last
    # one: a record's own twenty-odd attributes are not touched (a dict has no index, so
    # skipping them from the front costs a step each).
    for key in attrs.__reversed__():
        if key == last:
            break
        if key in RESERVED_ATTRS:
            skipped += 1
        else:
            fields[key] = attrs[key]
    else:
        return _every_user_field(attrs)
    if len(fields) + skipped != len(attrs) - index - 1:
        # The last own attribute is not where LogRecord.__init__ puts it (a subclass set
        # something first, or it was deleted and set again): read every attribute.
        return _every_user_field(attrs)
    if len(fields) > 1:
        fields = dict(reversed(fields.items()))  # back in the order they were set
    return fields


def _every_user_field(attrs: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in attrs.items() if key not in RESERVED_ATTRS}


class JsonFormatter(OrjsonFormatter):
    """One JSON line per record in a tracelog layout, with the active span's ids.

    Subclasses python-json-logger's orjson formatter so dictConfig users keep its
    constructor, but overrides :meth:`format`: the hot path goes straight to tracelog's
    line builder instead of the generic merge code. python-json-logger's options keep
    their meaning (see :mod:`tracelog._pjl`): the record fields a format string names
    (``%(funcName)s``, ``%(process)d`` ...) are written under the layout's names,
    ``defaults``, ``static_fields``, ``reserved_attrs``, ``rename_fields`` and
    ``json_default`` are honoured. A rename of a trace or head field raises
    ``ValueError``; options a JSON line cannot honour (``json_indent``, ``prefix`` ...)
    raise ``TypeError``.

    Args:
        schema: layout name or :class:`~tracelog.schemas.Schema` (default ``"default"``).
        service: fixed service name; default resolves per line from the Resource.
        redact: True (default rules), False, or a :class:`~tracelog.redact.Redactor`.
        gcp_project: the project of the ``gcp`` layout.
        datadog_full_trace_id: 128-bit Datadog trace ids.
        static_fields: fields added to every line.
        callsite: also write the call's module, function and line, named per layout.

    Raises:
        ValueError: for an unknown schema (naming the valid ones) or a bad service.
        TypeError: for a wrongly typed argument or an unsupported python-json-logger
            option.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        *args: Any,
        schema: str | Schema | None = None,
        service: str | None = None,
        redact: object = True,
        gcp_project: str | None = None,
        datadog_full_trace_id: bool = False,
        encoder: LineEncoder | None = None,
        bridge: Bridge | None = None,
        callsite: bool = False,
        **kwargs: Any,
    ) -> None:
        from tracelog._line import LineEncoder  # noqa: PLC0415
        from tracelog._pjl import RecordFieldOptions, check_options  # noqa: PLC0415

        check_options(kwargs)
        super().__init__(*args, **kwargs)
        self.encoder = encoder or LineEncoder.from_options(
            schema,
            service=service,
            redact=redact,
            gcp_project=gcp_project,
            datadog_full_trace_id=datadog_full_trace_id,
        )
        # configure(span_events=/otel_logs=) puts its bridge here, as on structlog's
        # JsonRenderer: the line and the bridge share one capture and one field read.
        # Read at every record, so a bridge assigned later is used too.
        self.bridge = bridge
        options = RecordFieldOptions(
            self.encoder.schema,
            required=getattr(self, "_required_fields", ()),
            callsite=bool(callsite),
            defaults=kwargs.get("defaults"),
            static=kwargs.get("static_fields"),
            rename=kwargs.get("rename_fields"),
            json_default=kwargs.get("json_default"),
            reserved=kwargs.get("reserved_attrs"),
        )
        self._options = options if options.active else None

    def format_bytes(self, record: logging.LogRecord) -> bytes:
        """The line for *record* as UTF-8 bytes ending in a newline; never raises."""
        attrs = record.__dict__
        ctx: Any = attrs.get(TRACE_ATTR, _UNSET)
        span = exc_info = site = None
        if ctx is _UNSET:
            # No filter ran: we are still on the caller's thread (direct handler).
            if self.bridge is None:
                ctx, service = capture()
            else:  # the bridge wants the span object too: one lookup for both
                span, ctx, service = capture_span()
            usual = (
                self._options is None
                and record.exc_info is None
                and not record.stack_info
                and _nothing_bound()
            )
        else:
            service = getattr(record, SERVICE_ATTR, None)
            usual = False
        if usual:
            # The usual record, as logging made it on this thread a moment ago: no
            # filter captured anything, no exception, no structlog contextvars bound,
            # no python-json-logger options. No helper calls: this is the stdlib path's
            # share of every line.
            message = record.msg
            if record.args or type(message) is not str:
                message = render.format_percent(message, record.args)
            fields = None if len(attrs) <= _PLAIN_RECORD_SIZE else _user_fields(attrs)
        else:
            message, fields, exc_info = record_parts(record)
            if self._options is not None:
                fields, site = self._options.apply(record, fields)
        line = self.encoder.encode(
            record.created,
            record.levelno,
            record.levelname,
            record.name,
            message,
            ctx,
            service,
            fields,
            exc_info,
            site,
        )
        if self.bridge is not None and not getattr(record, BRIDGED_ATTR, False):
            self._bridge(record, message, ctx, fields, exc_info, span)
        return line

    def _bridge(
        self,
        record: logging.LogRecord,
        message: str,
        ctx: TraceContext | None,
        fields: dict[str, Any] | None,
        exc_info: ExcInfo | None,
        span: Any = None,
    ) -> None:
        self.bridge.emit(  # type: ignore[union-attr]  # callers check it is set
            record.created,
            record.levelno,
            record.levelname,
            record.name,
            message,
            ctx,
            fields,
            exc_info,
            span,
        )

    def format(self, record: logging.LogRecord) -> str:
        return self.format_bytes(record)[:-1].decode("utf-8")

    def bridge_now(self, record: logging.LogRecord) -> None:
        """Run the bridge on the caller's thread for a record formatted later (queue mode)."""
        bridge = self.bridge
        if bridge is None:
            return
        setattr(record, BRIDGED_ATTR, True)
        message, fields, exc_info = record_parts(record)
        self._bridge(record, message, getattr(record, TRACE_ATTR, None), fields, exc_info)


class JsonStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Write each record as one line with one ``write`` call, without the handler lock.

    Differences from :class:`logging.StreamHandler`, on purpose:

    * no lock is held across format, write and flush: a :class:`~tracelog._sink.LineSink`
      writes a whole line in one ``os.write``, so threads never tear lines and never
      queue up behind each other's flush;
    * write failures are reported once with a count (``handleError`` is overridden),
      not as a traceback per record.

    The default formatter is :class:`JsonFormatter`.

    .. versionadded:: 0.1.0
    """

    def __init__(self, stream: IO[Any] | None = None) -> None:
        super().__init__(stream if stream is not None else sys.stderr)
        self.sink = LineSink(self.stream)
        self.formatter: logging.Formatter | None = None
        self._default_formatter: JsonFormatter | None = None

    def setStream(self, stream: IO[Any]) -> IO[Any] | None:  # noqa: N802 - stdlib name
        old = super().setStream(stream)
        self.sink = LineSink(self.stream)
        return old

    def handle(self, record: logging.LogRecord) -> logging.LogRecord | bool:  # type: ignore[override]
        if self.filters:
            rv = self.filter(record)
            if not rv:
                return rv
            if isinstance(rv, logging.LogRecord):
                record = rv
            self.emit(record)
            return rv
        self.emit(record)
        return True

    def _line(self, record: logging.LogRecord) -> bytes:
        formatter = self.formatter
        if formatter is None:
            formatter = self._default_formatter
            if formatter is None:
                formatter = self._default_formatter = JsonFormatter()
        if isinstance(formatter, JsonFormatter):
            return formatter.format_bytes(record)
        return (formatter.format(record) + "\n").encode("utf-8", "backslashreplace")

    def emit(self, record: logging.LogRecord) -> None:
        formatter = self.formatter
        try:
            if isinstance(formatter, JsonFormatter):
                line = formatter.format_bytes(record)
            else:
                line = self._line(record)
        except RecursionError:  # pragma: no cover - stdlib convention
            raise
        except Exception:
            self.handleError(record)
            return
        self.sink.write(line)

    def write_notice(self, levelno: int, message: str, fields: dict[str, Any]) -> None:
        """Write a line of tracelog's own (logger ``tracelog``) in this handler's layout."""
        formatter = self.formatter if isinstance(self.formatter, JsonFormatter) else None
        record = logging.LogRecord("tracelog", levelno, __file__, 0, message, (), None)
        record.__dict__.update(fields)
        setattr(record, TRACE_ATTR, None)
        setattr(record, SERVICE_ATTR, None)
        setattr(record, CONTEXTVARS_ATTR, None)
        self.sink.write((formatter or JsonFormatter()).format_bytes(record))

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - stdlib name
        """Account for the record once through the sink, instead of a traceback each."""
        self.sink.fail(sys.exc_info()[1] or RuntimeError("unknown logging error"))
        del record

    def flush(self) -> None:
        """Write the lines the sink holds for a thread busy writing, and flush a text
        stream it writes through (the sink keeps no buffer of its own)."""
        self.sink.flush()

    def close(self) -> None:
        self.sink.close()
        super().close()


class BridgeHandler(logging.Handler):
    """Hand each record to a :class:`~tracelog.bridge.Bridge`, with the ids of the call.

    The ids are the ones a :class:`TraceContextFilter` captured on the record, else the
    caller's (a handler runs on the caller's thread unless a queue sits in between).
    The handler's level is the bridge's minimum level. No lock is taken: the bridge
    keeps no state a lock would protect. Failures go through :meth:`handleError`: one
    stderr line, then a count (``bridge.failures``).

    Args:
        bridge: the bridge to feed.

    .. versionadded:: 0.1.0
    """

    def __init__(self, bridge: Bridge) -> None:
        super().__init__(bridge.level)
        self.bridge = bridge

    def setLevel(self, level: int | str) -> None:  # noqa: N802 - stdlib name
        super().setLevel(level)
        self.bridge.level = self.level

    # Lock-free like JsonStreamHandler: the SDK locks the span itself, and a handler
    # lock would queue every thread's records behind one another.
    handle = JsonStreamHandler.handle  # type: ignore[assignment]

    def emit(self, record: logging.LogRecord) -> None:
        try:
            ctx = getattr(record, TRACE_ATTR, _UNSET)
            span = None
            if ctx is _UNSET:  # no filter captured the ids: we are on the caller's thread
                span, ctx, _ = capture_span()
            ctx = cast("TraceContext | None", ctx)
            bridge = self.bridge
            if not bridge.wants(record.levelno, ctx):
                return
            message, fields, exc_info = record_parts(record)
            bridge.record(
                record.created,
                record.levelno,
                record.levelname,
                record.name,
                message,
                ctx,
                fields,
                exc_info,
                span,
            )
        except RecursionError:  # pragma: no cover - stdlib convention
            raise
        except Exception:
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - stdlib name
        """Report the first failure on stderr and count the rest, never a traceback each."""
        self.bridge.fail(sys.exc_info()[1] or RuntimeError("unknown bridge error"))
        del record


class SpanEventHandler(BridgeHandler):
    """Record each log at or above *level* as an event on the current recording span.

    Event name: the message (first line, cut at ``max_name_length``). Attributes:
    ``log.severity``, ``log.message``, ``log.logger`` and the record's extra fields as
    OTel attribute types, redacted like the JSON line. At ERROR and above with
    ``exc_info`` it also records the exception and sets the span status to ERROR.

    Args:
        level: minimum level (default ``INFO``).
        options: ``record_exception``, ``set_error_status``, ``redact``,
            ``max_name_length``, as for :class:`~tracelog.bridge.Bridge`.

    Raises:
        ValueError: for an unknown level, naming the valid ones.
        TypeError: for a wrongly typed or unknown argument.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self, level: str | int = logging.INFO, **options: Unpack[SpanEventOptions]
    ) -> None:
        from tracelog.bridge import Bridge  # noqa: PLC0415 - loads the OTel logs API lazily

        super().__init__(Bridge(span_events=True, otel_logs=False, level=level, **options))


class OtelLogHandler(BridgeHandler):
    """Emit each log at or above *level* as an OTel ``LogRecord``.

    The record carries the trace id, span id and flags captured at the call, the
    severity mapped per the OTel logs data model, the message as its body, the extra
    fields as attributes and ``exception.type``/``.message``/``.stacktrace``.

    Args:
        level: minimum level (default ``INFO``).
        options: ``logger_provider`` (default: the global one, looked up at each call)
            and ``redact``, as for :class:`~tracelog.bridge.Bridge`.

    Raises:
        ValueError: for an unknown level, naming the valid ones.
        TypeError: for a wrongly typed or unknown argument.

    .. versionadded:: 0.1.0
    """

    def __init__(self, level: str | int = logging.INFO, **options: Unpack[OtelLogOptions]) -> None:
        from tracelog.bridge import Bridge  # noqa: PLC0415 - loads the OTel logs API lazily

        super().__init__(Bridge(span_events=False, otel_logs=True, level=level, **options))
