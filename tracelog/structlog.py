"""structlog adapters: trace-context processors, the JSON renderer and tracelog's logger.

:class:`SpanEventRecorder` and :class:`OtelLogEmitter` put each event into the trace (a
span event, an OTel log record) through :class:`tracelog.bridge.Bridge`.

Pieces for your own chain::

    structlog.configure(processors=[
        structlog.contextvars.merge_contextvars,
        tracelog.structlog.JsonRenderer(schema="ecs"),
    ], logger_factory=structlog.BytesLoggerFactory())

:func:`add_trace_context` writes the ``default`` layout's trace fields into the event dict
for renderers other than tracelog's; :func:`capture_trace_context` stores the captured
context for :class:`JsonRenderer` when rendering happens later (a queue, another thread).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any, TypeGuard, Unpack, cast

from structlog import BoundLoggerBase
from structlog import contextvars as _structlog_contextvars

from tracelog import _render as render
from tracelog import _state
from tracelog._compat import logger_level_cache, structlog_context_vars
from tracelog._context import capture, capture_span, current_context_token
from tracelog._levels import METHOD_LEVELS, level_name
from tracelog._line import LineEncoder
from tracelog._sampling import BUFFER, DROP, LogSampler
from tracelog._sink import LineSink
from tracelog.bridge import Bridge
from tracelog.schemas import DEFAULT, ExcInfo, Schema

if TYPE_CHECKING:
    from structlog.typing import EventDict, WrappedLogger

    from tracelog._context import TraceContext
    from tracelog.bridge import OtelLogOptions, SpanEventOptions

__all__ = [
    "ACTIVE",
    "CALLSITE_KEY",
    "CHAIN",
    "CONTEXT_KEY",
    "SERVICE_KEY",
    "TIME_KEY",
    "BoundLogger",
    "JsonRenderer",
    "OtelLogEmitter",
    "SinkLogger",
    "SinkLoggerFactory",
    "SpanEventRecorder",
    "add_trace_context",
    "callsite",
    "capture_trace_context",
    "chain",
    "get_logger",
    "render_active",
]

# Private event-dict keys for a context captured earlier in the chain.
CONTEXT_KEY = "_tracelog_trace"
SERVICE_KEY = "_tracelog_service"
TIME_KEY = "_tracelog_time"
CALLSITE_KEY = "_tracelog_callsite"
_UNSET: Any = object()


def add_trace_context(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Add ``traceId``, ``spanId`` and ``traceFlags`` of the active span (if any).

    For chains that end in a renderer other than tracelog's. Outside a valid span the
    keys are left out, never written as zeros.

    .. versionadded:: 0.1.0
    """
    ctx, _ = capture()
    if ctx is not None:
        line: dict[str, Any] = {}
        DEFAULT.add_trace(line, ctx)
        for key, value in line.items():
            event_dict.setdefault(key, value)
    return event_dict


def capture_trace_context(
    logger: WrappedLogger, method_name: str, event_dict: EventDict
) -> EventDict:
    """Capture the caller's ids and time now, for a :class:`JsonRenderer` that runs later.

    .. versionadded:: 0.1.0
    """
    if CONTEXT_KEY not in event_dict:
        event_dict[CONTEXT_KEY], event_dict[SERVICE_KEY] = capture()
        event_dict[TIME_KEY] = time.time()
    return event_dict


def _exc_info(value: Any) -> ExcInfo | None:
    if value is None or value is False:
        return None
    if isinstance(value, BaseException):
        return (type(value), value, value.__traceback__)
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[1], BaseException):
        return cast("ExcInfo", value)
    exc = sys.exc_info()
    return cast("ExcInfo", exc) if exc[1] is not None else None


def _message(event: Any) -> str:
    return event if type(event) is str else ("" if event is None else render.safe_str(event))


def _logger_name(name: Any) -> str | None:
    return name if name is None or type(name) is str else render.safe_str(name)


class JsonRenderer:
    """Render a structlog event dict as one tracelog JSON line (bytes).

    Reads the level from the method name, the message from ``event``, the logger name
    from the ``logger`` key or the wrapped logger's ``name``, and ``exc_info`` as
    structlog does. Pair it with ``structlog.BytesLoggerFactory`` or tracelog's
    :class:`SinkLoggerFactory`.

    Args:
        schema: layout name or Schema (default ``"default"``).
        service: fixed service name; default resolves per line from the Resource.
        redact: True (default rules), False, or a Redactor.

    Raises:
        ValueError: for an unknown schema, naming the valid ones.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("_newline", "bridge", "encoder")

    def __init__(
        self,
        schema: str | Schema | None = None,
        *,
        service: str | None = None,
        redact: object = True,
        gcp_project: str | None = None,
        datadog_full_trace_id: bool = False,
        encoder: LineEncoder | None = None,
        bridge: Bridge | None = None,
        _newline: bool = False,
    ) -> None:
        self.encoder = encoder or LineEncoder.from_options(
            schema,
            service=service,
            redact=redact,
            gcp_project=gcp_project,
            datadog_full_trace_id=datadog_full_trace_id,
        )
        # configure(span_events=/otel_logs=) puts its bridge here: both the fast path and
        # the processor chain render through this object, with the line's own context
        # and timestamp.
        self.bridge = bridge
        self._newline = _newline

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> bytes:
        line = self.render(
            getattr(logger, "name", None), METHOD_LEVELS.get(method_name, 20), event_dict
        )
        return line if self._newline else line[:-1]

    def render(self, logger_name: Any, levelno: int, event_dict: EventDict) -> bytes:
        """The line (with its newline) for an event dict; consumes the keys it uses."""
        ctx: TraceContext | None = event_dict.pop(CONTEXT_KEY, _UNSET)
        span = None
        if ctx is _UNSET:
            if self.bridge is None:
                ctx, service = capture()
            else:  # the bridge wants the span object too: one lookup for both
                span, ctx, service = capture_span()
            ts = time.time()
        else:
            service = event_dict.pop(SERVICE_KEY, None)
            ts = event_dict.pop(TIME_KEY, None) or time.time()
        return self.render_captured(logger_name, levelno, event_dict, ctx, service, ts, span)

    def render_captured(
        self,
        logger_name: Any,
        levelno: int,
        event_dict: EventDict,
        ctx: TraceContext | None,
        service: str | None,
        ts: float,
        span: Any = None,
        *,
        bridge: bool = True,
    ) -> bytes:
        """The line for an event dict whose ids, service and time were captured already."""
        # Inline, not through _message()/_logger_name(): this is the line's hot path.
        event = event_dict.pop("event", None)
        message = event if type(event) is str else ("" if event is None else render.safe_str(event))
        name = event_dict.pop("logger", None) or logger_name
        if name is not None and type(name) is not str:
            name = render.safe_str(name)
        exc = event_dict.pop("exc_info", None)
        exc_info = None if exc is None else _exc_info(exc)
        levelname = level_name(levelno)
        site = event_dict.pop(CALLSITE_KEY, None)
        if CONTEXT_KEY in event_dict:  # captured ids passed in already: never a field
            for key in (CONTEXT_KEY, SERVICE_KEY, TIME_KEY):
                event_dict.pop(key, None)
        if site is not None:
            schema = self.encoder.schema
            site = schema.record_fields({k: site[k] for k in schema.CALLSITE if k in site})
        line = self.encoder.encode(
            ts, levelno, levelname, name, message, ctx, service, event_dict, exc_info, site
        )
        if bridge and self.bridge is not None:
            self.bridge.emit(ts, levelno, levelname, name, message, ctx, event_dict, exc_info, span)
        return line

    def render_deferred(
        self,
        logger_name: Any,
        levelno: int,
        event_dict: EventDict,
        ctx: TraceContext | None,
        service: str | None,
        ts: float,
    ) -> bytes:
        """Render a queued event on queue mode's listener; its bridge ran at the call."""
        event = event_dict.get("event")
        if _plain(event, event_dict):
            # The common call, as direct mode's: straight to the encoder.
            del event_dict["event"]
            return self.encoder.encode(
                ts, levelno, level_name(levelno), logger_name, event, ctx, service, event_dict
            )
        return self.render_captured(
            logger_name, levelno, event_dict, ctx, service, ts, bridge=False
        )

    def bridge_now(
        self,
        logger_name: Any,
        levelno: int,
        event_dict: EventDict,
        ctx: TraceContext | None,
        ts: float,
    ) -> None:
        """Run the bridge on the caller's thread for an event rendered later (queue mode).

        Span events must be added while the span is current, which the listener thread
        never sees.
        """
        bridge = self.bridge
        if bridge is None:
            return
        try:
            event = event_dict.get("event")
            message = event if type(event) is str else render.safe_str(event or "")
            name = event_dict.get("logger") or logger_name
            exc = event_dict.get("exc_info")
            bridge.record(
                ts,
                levelno,
                level_name(levelno),
                name if name is None or type(name) is str else render.safe_str(name),
                message,
                ctx,
                {k: v for k, v in event_dict.items() if k not in _NOT_FIELDS},
                None if exc is None else _exc_info(exc),
            )
        except Exception as exc:
            bridge.fail(exc)


def _plain(event: Any, fields: EventDict) -> TypeGuard[str]:
    """Whether a call's line is the common one the encoder writes by itself: a text
    message, and no exception, logger name, call site or captured ids among *fields*
    (each of those takes :meth:`JsonRenderer.render_captured`)."""
    return (
        type(event) is str
        and "exc_info" not in fields
        and "logger" not in fields
        and CALLSITE_KEY not in fields
        and CONTEXT_KEY not in fields
    )


# Event-dict keys that are not user fields.
_NOT_FIELDS = frozenset(
    {"event", "exc_info", "logger", CONTEXT_KEY, SERVICE_KEY, TIME_KEY, CALLSITE_KEY}
)


class _BridgeProcessor:
    """A processor feeding a Bridge; the event dict passes through unchanged."""

    __slots__ = ("bridge",)

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        try:
            self._record(logger, method_name, event_dict)
        except Exception as exc:
            self.bridge.fail(exc)
        return event_dict

    def _record(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> None:
        levelno = METHOD_LEVELS.get(method_name, 20)
        # Ids and time captured earlier in the chain (capture_trace_context) win: they
        # are what tracelog's JsonRenderer will write on the line.
        ctx = event_dict.get(CONTEXT_KEY, _UNSET)
        span = None
        if ctx is _UNSET:
            span, ctx, _ = capture_span()
        bridge = self.bridge
        if not bridge.wants(levelno, ctx):
            return
        exc = event_dict.get("exc_info")
        bridge.record(
            event_dict.get(TIME_KEY) or time.time(),
            levelno,
            level_name(levelno),
            _logger_name(event_dict.get("logger") or getattr(logger, "name", None)),
            _message(event_dict.get("event")),
            ctx,
            {k: v for k, v in event_dict.items() if k not in _NOT_FIELDS},
            None if exc is None else _exc_info(exc),
            span,
        )


class SpanEventRecorder(_BridgeProcessor):
    """Record each event at or above *level* as an event on the current recording span.

    Put it anywhere before the renderer; the event dict passes through unchanged. Event
    name: the message (first line, cut at ``max_name_length``). Attributes:
    ``log.severity``, ``log.message``, ``log.logger`` and the event's fields as OTel
    attribute types, redacted like the JSON line. At ERROR and above with ``exc_info``
    it also records the exception and sets the span status to ERROR. Put
    :func:`capture_trace_context` first to give the event and tracelog's line one
    timestamp.

    Args:
        level: minimum level (default ``INFO``).
        options: ``record_exception``, ``set_error_status``, ``redact``,
            ``max_name_length``, as for :class:`~tracelog.bridge.Bridge`.

    Raises:
        ValueError: for an unknown level, naming the valid ones.
        TypeError: for a wrongly typed or unknown argument.

    .. versionadded:: 0.1.0
    """

    __slots__ = ()

    def __init__(self, level: str | int = "INFO", **options: Unpack[SpanEventOptions]) -> None:
        super().__init__(Bridge(span_events=True, otel_logs=False, level=level, **options))


class OtelLogEmitter(_BridgeProcessor):
    """Emit each event at or above *level* as an OTel ``LogRecord``.

    The record carries the ids captured at the call, the severity mapped per the OTel
    logs data model, the message as its body, the event's fields as attributes and
    ``exception.type``/``.message``/``.stacktrace``.

    Args:
        level: minimum level (default ``INFO``).
        options: ``logger_provider`` (default: the global one, looked up at each call)
            and ``redact``, as for :class:`~tracelog.bridge.Bridge`.

    Raises:
        ValueError: for an unknown level, naming the valid ones.
        TypeError: for a wrongly typed or unknown argument.

    .. versionadded:: 0.1.0
    """

    __slots__ = ()

    def __init__(self, level: str | int = "INFO", **options: Unpack[OtelLogOptions]) -> None:
        super().__init__(Bridge(span_events=False, otel_logs=True, level=level, **options))


class _Active:
    """The level of tracelog's loggers; everything else they use is the current state.

    Loggers taken before a later ``configure()`` hold the stable processor and logger
    objects below, which read ``tracelog._state.current`` on every call: they follow
    the new settings.
    """

    __slots__ = ("_level",)

    def __init__(self) -> None:
        self._level = 20

    @property
    def level(self) -> int:
        """The minimum level; setting it re-points the loggers' level methods."""
        return self._level

    @level.setter
    def level(self, levelno: int) -> None:
        self._level = levelno
        _apply_level(levelno)


ACTIVE = _Active()
# Before any configure(): lines in the default layout on stderr.
_UNCONFIGURED_RENDERER = JsonRenderer(_newline=True)
_unconfigured_sink: list[LineSink] = []


def _default_sink() -> LineSink:
    """The sink before any configure(): one on stderr, made on first use.

    No lock: two threads racing here make two stderr sinks, which write the same.
    """
    if not _unconfigured_sink:
        _unconfigured_sink.append(LineSink(None))
    return _unconfigured_sink[0]


def _renderer() -> JsonRenderer:
    return _state.current.renderer or _UNCONFIGURED_RENDERER


def _sink() -> LineSink:
    return _state.current.sink or _default_sink()


def render_active(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> bytes:
    """The final processor of the configured chain: render with the active settings."""
    return _renderer()(logger, method_name, event_dict)


class SinkLogger:
    """A wrapped logger that writes rendered lines to the active tracelog sink.

    .. versionadded:: 0.1.0
    """

    __slots__ = ("name",)

    def __init__(self, name: str | None = None) -> None:
        self.name = name

    def msg(self, line: bytes) -> None:
        """Write one rendered line (with its newline)."""
        _sink().write(line)

    debug = info = warning = warn = error = err = exception = critical = fatal = log = msg


class SinkLoggerFactory:
    """``logger_factory`` for structlog: ``structlog.get_logger("name")`` -> SinkLogger."""

    def __call__(self, *args: Any) -> SinkLogger:
        name = args[0] if args and isinstance(args[0], str) else None
        return SinkLogger(name)


def _pin(fields: dict[str, Any]) -> None:
    """Capture the caller's ids, time and exception into *fields*, to render them later."""
    if CONTEXT_KEY not in fields:
        fields[CONTEXT_KEY], fields[SERVICE_KEY] = capture()
    fields[TIME_KEY] = time.time()
    if "exc_info" in fields:
        fields["exc_info"] = _exc_info(fields["exc_info"])


def _write(logger_name: Any, levelno: int, fields: dict[str, Any]) -> None:
    """Render and write now, or hand to queue mode's listener (*fields* are pinned)."""
    state = _state.current
    if state.queue is not None:
        ctx, service = fields.pop(CONTEXT_KEY, None), fields.pop(SERVICE_KEY, None)
        _enqueue(state, logger_name, levelno, fields, ctx, service, fields.pop(TIME_KEY, None))
    else:
        line = (state.renderer or _UNCONFIGURED_RENDERER).render(logger_name, levelno, fields)
        (state.sink or _default_sink()).write(line)


def _enqueue(
    state: _state.State,
    logger_name: Any,
    levelno: int,
    fields: dict[str, Any],
    ctx: TraceContext | None,
    service: str | None,
    ts: float | None = None,
) -> None:
    """Queue mode: read now what the caller's thread alone knows; the listener renders.

    The ids are *ctx* and *service* (captured by the caller); the time and the exception
    are read here. Span events go on the span current at the call, so the bridge runs
    here too.
    """
    if CONTEXT_KEY in fields:
        # Ids captured earlier (a bound capture) win, as render() does in direct mode.
        ctx, service = fields.pop(CONTEXT_KEY), fields.pop(SERVICE_KEY, None)
    captured_ts = fields.pop(TIME_KEY, None)
    if ts is None:
        ts = captured_ts or time.time()
    if "exc_info" in fields:
        fields["exc_info"] = _exc_info(fields["exc_info"])
    renderer: JsonRenderer = state.renderer
    if renderer.bridge is not None:
        renderer.bridge_now(logger_name, levelno, fields, ctx, ts)
    # The function and its renderer, not a bound method: a queued bound method is one
    # more object per line for the garbage collector to count and promote.
    state.queue.put(  # type: ignore[union-attr]  # the caller checked it is set
        (JsonRenderer.render_deferred, renderer, logger_name, levelno, fields, ctx, service, ts)
    )


def _write_buffered(item: tuple[Any, int, dict[str, Any]]) -> None:
    logger_name, levelno, fields = item
    fields["buffered"] = True
    _write(logger_name, levelno, fields)


def _write_sampled(
    sampler: LogSampler,
    decision: int,
    ctx: TraceContext | None,
    service: str | None,
    logger_name: Any,
    levelno: int,
    fields: dict[str, Any],
) -> None:
    """Write (or buffer) a line the sampler did not drop; the ids were captured already."""
    if decision == BUFFER and ctx is not None:
        fields[CONTEXT_KEY], fields[SERVICE_KEY] = ctx, service
        _pin(fields)
        if not sampler.buffer(ctx, _write_buffered, (logger_name, levelno, fields), _size(fields)):
            # The trace already failed and flushed: its detail is written directly.
            _write(logger_name, levelno, fields)
        return
    state = _state.current
    if state.queue is not None:
        _enqueue(state, logger_name, levelno, fields, ctx, service)
    else:
        line = (state.renderer or _UNCONFIGURED_RENDERER).render_captured(
            logger_name, levelno, fields, ctx, service, time.time()
        )
        (state.sink or _default_sink()).write(line)


def _size(fields: dict[str, Any]) -> int:
    # A cheap estimate of the rendered size (the message's length plus a flat share per
    # field): the byte bound is about memory, not exactness, and this runs per line.
    event = fields.get("event")
    return 96 + 32 * len(fields) + (len(event) if type(event) is str else 0)


# structlog registers every contextvar bind_contextvars() ever created in this dict
# (mutated in place); while it is empty merge_contextvars has nothing to merge and the
# fast path skips the call. Without it (another structlog), always merge.
_BOUND_CONTEXTVARS: Any = structlog_context_vars()
_ALWAYS_MERGE = _BOUND_CONTEXTVARS is None


class BoundLogger(BoundLoggerBase):
    """structlog's filtering bound logger with the level of the stdlib logger of its name.

    A call is written when both ``tracelog.configure()``'s level and the effective level
    of ``logging.getLogger(name)`` allow it, so ``setLevel`` on a module's logger and
    ``logging.disable`` quiet both frameworks alike. A level below configure()'s costs
    one call; a level the stdlib logger disables costs one dict read more (stdlib's own
    ``isEnabledFor`` cache, which ``setLevel`` and ``logging.disable`` clear). On
    tracelog's own chain the call goes straight to the renderer (the chain's result is
    the same, without structlog's generic processor loop); with any other chain it is an
    ordinary structlog bound logger. Async methods (``ainfo``, ...) log on the awaiting task
    itself, so they carry that task's trace ids.

    .. versionadded:: 0.1.0
    """

    def __init__(self, logger: Any, processors: Any, context: Any) -> None:
        super().__init__(logger, processors, context)
        name = getattr(logger, "name", None)
        # The name the line shows: a wrapped logger's name is fixed when it is made.
        self._name: str | None = (
            name if name is None or type(name) is str else render.safe_str(name)
        )
        self._stdlib, self._levels = _stdlib_levels(name)

    def _emit(self, method: str, levelno: int, event: Any, args: tuple[Any, ...], kw: Any) -> Any:
        # stdlib's per-logger isEnabledFor cache, read directly: a hit is one dict read.
        # isEnabledFor() fills it; Logger.setLevel and logging.disable clear it.
        try:
            enabled = self._levels[levelno]
        except KeyError:
            enabled = self._stdlib.isEnabledFor(levelno)
        if not enabled or self._stdlib.disabled:
            return None
        if args:
            event = render.format_percent(event, args)
        if self._processors is not CHAIN:
            return self._proxy_to_logger(method, event, **kw)
        state = _state.current
        sampler = state.sampler
        if sampler is not None:
            # Decide before building anything: a dropped line should cost next to nothing.
            failed = levelno >= 40 or ("exc_info" in kw and bool(kw["exc_info"]))
            if not failed and levelno < 30:
                # The context the last dropped trace was current in: while it still is,
                # its lines are dropped without reading the span again.
                dropped_in = sampler.dropped_context
                if dropped_in is not None and dropped_in is current_context_token():
                    sampler.stats.dropped += 1
                    return None
            ctx, service = capture()
            decision = sampler.admit(levelno, failed, ctx)
            if decision == DROP:
                if ctx is not None and not sampler.keeps_trace(ctx):
                    sampler.dropped_context = current_context_token()
                return None
        context = self._context
        fields = {**context, **kw} if context else kw
        if _ALWAYS_MERGE or _BOUND_CONTEXTVARS:
            fields = _structlog_contextvars.merge_contextvars(None, method, fields)
        name = self._name
        renderer = state.renderer or _UNCONFIGURED_RENDERER
        if state.direct and _plain(event, fields):
            # Direct mode's common call goes straight to the encoder; anything else
            # (an exception, a bridge, a captured context) takes render(), as a
            # processor chain would.
            ctx, service = capture()
            line = renderer.encoder.encode(
                time.time(), levelno, level_name(levelno), name, event, ctx, service, fields
            )
            (state.sink or _default_sink()).write(line)
            return None
        fields["event"] = event
        if state.callsite:
            fields[CALLSITE_KEY] = callsite()
        if sampler is not None:
            _write_sampled(sampler, decision, ctx, service, name, levelno, fields)
        elif state.queue is not None:
            # Queue mode: everything that depends on the caller's thread is read now.
            ctx, service = capture()
            _enqueue(state, name, levelno, fields, ctx, service)
        else:
            (state.sink or _default_sink()).write(renderer.render(name, levelno, fields))
        return None

    def _log(self, method: str, levelno: int, event: Any, args: tuple[Any, ...], kw: Any) -> Any:
        if ACTIVE.level > levelno:
            return None
        return self._emit(method, levelno, event, args, kw)

    # debug() and info() need no level check: while their level is disabled,
    # _apply_level() points them at _disabled (as structlog's filtering loggers do).
    # The cache read is repeated here so that a level the stdlib logger disables returns
    # without a second call.
    def debug(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        if self._levels.get(10) is False:
            return None
        return self._emit("debug", 10, event, args, kw)

    def info(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        if self._levels.get(20) is False:
            return None
        return self._emit("info", 20, event, args, kw)

    def warning(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self._log("warning", 30, event, args, kw)

    warn = warning

    def error(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self._log("error", 40, event, args, kw)

    def exception(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        kw.setdefault("exc_info", True)
        return self._log("exception", 40, event, args, kw)

    def critical(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self._log("critical", 50, event, args, kw)

    fatal = critical

    def msg(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self._log("info", 20, event, args, kw)

    def log(self, level: int, event: Any = None, *args: Any, **kw: Any) -> Any:
        method = level_name(level).lower()
        return self._log(method, level, event, args, kw)

    async def adebug(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self.debug(event, *args, **kw)

    async def ainfo(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self.info(event, *args, **kw)

    async def awarning(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self.warning(event, *args, **kw)

    async def aerror(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self.error(event, *args, **kw)

    async def aexception(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self.exception(event, *args, **kw)

    async def acritical(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self.critical(event, *args, **kw)

    def is_enabled_for(self, level: int) -> bool:
        """Whether *level* would be written (configure()'s and the stdlib logger's level)."""
        return level >= ACTIVE.level and self._stdlib.isEnabledFor(level)


def _stdlib_levels(name: Any) -> tuple[logging.Logger, dict[int, bool]]:
    """The stdlib logger of *name* (root for none) and its ``isEnabledFor`` cache."""
    stdlib = logging.getLogger(name if type(name) is str else None)
    return stdlib, logger_level_cache(stdlib)


_SITE_NAMES: dict[str, tuple[str, str]] = {}


def callsite() -> dict[str, Any]:
    """Where the log call was made, as a LogRecord would say: ``module``, ``funcName``,
    ``lineno``, ``filename``, ``pathname`` (the first frame outside this module)."""
    frame: Any = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back
    if frame is None:  # pragma: no cover - there is always a caller
        return {}
    code = frame.f_code
    path = code.co_filename
    names = _SITE_NAMES.get(path)
    if names is None:
        filename = os.path.basename(path)  # noqa: PTH119 - as LogRecord does
        names = _SITE_NAMES[path] = (os.path.splitext(filename)[0], filename)  # noqa: PTH122
    return {
        "module": names[0],
        "funcName": code.co_name,
        "lineno": frame.f_lineno,
        "filename": names[1],
        "pathname": path,
    }


def _disabled(self: Any, event: Any = None, *args: Any, **kw: Any) -> None:
    """A disabled level: one call, nothing else."""


_LEVEL_METHODS = {"debug": 10, "info": 20, "msg": 20}
_ENABLED = {name: BoundLogger.__dict__[name] for name in _LEVEL_METHODS}


def _apply_level(levelno: int) -> None:
    """Point each level method at its body or at :func:`_disabled` (class-wide, so
    loggers made before ``configure()`` follow too)."""
    if "BoundLogger" not in globals():  # ACTIVE is created before the class exists
        return
    for name, method_level in _LEVEL_METHODS.items():
        setattr(BoundLogger, name, _ENABLED[name] if method_level >= levelno else _disabled)


_apply_level(ACTIVE.level)


# The chain tracelog installs: one list object, so a logger can tell by identity that it
# is on tracelog's chain and take the direct path.
CHAIN: list[Any] = [_structlog_contextvars.merge_contextvars, render_active]


def chain() -> list[Any]:
    """The processors of the chain ``tracelog.configure()`` installs."""
    return CHAIN


def get_logger(name: str | None = None, **initial_values: Any) -> BoundLogger:
    """A structlog logger on tracelog's chain, independent of structlog's global config.

    .. versionadded:: 0.1.0
    """
    context: dict[str, Any] = dict(initial_values)
    return BoundLogger(SinkLogger(name), processors=chain(), context=context)
