"""Logs into traces: one log event becomes a span event and/or an OTel ``LogRecord``.

Both framework adapters (``tracelog.stdlib``, ``tracelog.structlog``) and
``configure(span_events=True, otel_logs=True)`` hand the parts of a log call to one
:class:`Bridge`, with the trace context and the timestamp the JSON line was built from;
the mapping below exists once.

Rules that live here, and why:

* **Which span.** An event goes on the span the call was made in, and only while that
  span records (``is_recording()``): the SDK logs a warning for every event added to an
  ended span, and that warning would come straight back into the bridge. When the ids
  were captured elsewhere (a queue, a later renderer) and another span is current now,
  no event is written rather than one on the wrong span.
* **Never recurse.** A ContextVar marks "inside the bridge": whatever the bridge causes
  to be logged (an SDK warning, a ``__repr__`` that logs, the dropped-events line)
  passes through untouched. ``opentelemetry.*`` loggers are skipped outright.
* **Attributes are OTel types.** str, bool, int (64-bit), float and homogeneous lists
  of them stay as they are; None is dropped; anything else becomes a safe string. The
  same :class:`~tracelog.redact.Redactor` as the JSON line runs first.
* **Limits are visible.** Past the span's event limit the SDK keeps the newest events
  and counts the rest in ``dropped_events``. The bridge keeps adding (so that count stays
  true), mirrors it in the span attribute ``tracelog.dropped_events`` and says so once
  per span in a JSON line.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypedDict

from opentelemetry import trace
from opentelemetry._logs import (
    LogRecord,
    NoOpLoggerProvider,
    SeverityNumber,
    get_logger_provider,
)
from opentelemetry.context import Context

from tracelog import _render as render
from tracelog._compat import (
    ProxyLoggerProvider,
    span_dropped_events,
    span_event_adder,
    span_event_limit,
)
from tracelog._context import current_span_for
from tracelog._event import Scrubber, resolve_redactor
from tracelog._levels import parse_level
from tracelog._sink import _diagnose

if TYPE_CHECKING:
    from collections.abc import Mapping

    from opentelemetry._logs import Logger, LoggerProvider

    from tracelog._context import TraceContext
    from tracelog.redact import Redactor
    from tracelog.schemas import ExcInfo

__all__ = [
    "DROPPED_EVENTS_ATTRIBUTE",
    "EXCEPTION_MESSAGE",
    "EXCEPTION_STACKTRACE",
    "EXCEPTION_TYPE",
    "LOGGER_KEY",
    "MESSAGE_KEY",
    "SEVERITY_KEY",
    "Bridge",
    "OtelLogOptions",
    "SpanEventOptions",
    "severity",
]


class SpanEventOptions(TypedDict, total=False):
    """Keyword arguments of the span-event adapters (see :class:`Bridge`)."""

    record_exception: bool
    set_error_status: bool
    redact: object
    max_name_length: int


class OtelLogOptions(TypedDict, total=False):
    """Keyword arguments of the OTel-logs adapters (see :class:`Bridge`)."""

    logger_provider: LoggerProvider | None
    redact: object


# The attribute names a span event and an OTel log record carry.
DROPPED_EVENTS_ATTRIBUTE = "tracelog.dropped_events"
SEVERITY_KEY = "log.severity"
MESSAGE_KEY = "log.message"
LOGGER_KEY = "log.logger"
EXCEPTION_TYPE = "exception.type"
EXCEPTION_MESSAGE = "exception.message"
EXCEPTION_STACKTRACE = "exception.stacktrace"
_OWN_KEYS = frozenset({SEVERITY_KEY, MESSAGE_KEY, LOGGER_KEY})
_OTEL_PREFIX = "opentelemetry"
_MAX_STRING = render.MAX_STRING
_INT64 = (-(2**63), 2**63)

# True while this context is inside the bridge: what the bridge itself causes to be
# logged (SDK warnings, a field's __repr__ that logs, the dropped-events line) must not
# come back into it. A ContextVar, not a thread-local, so asyncio tasks each get theirs.
_BUSY: ContextVar[bool] = ContextVar("tracelog_bridge_busy", default=False)

_RECORD_TAKES_CONTEXT = "context" in LogRecord.__init__.__code__.co_varnames
# The base for explicit contexts, so a LogRecord never falls back to whatever span is
# current where the record is emitted.
_EMPTY = Context()
_NO_SPAN = trace.set_span_in_context(trace.INVALID_SPAN, _EMPTY)

# Spans already reported as dropping events, keyed by (trace_id, span_id): one line each.
_reported: dict[tuple[int, int], object] = {}
_REPORTED_LIMIT = 4096
_report_logger = logging.getLogger("tracelog")

_SHORT_TEXT = {"WARNING": "WARN", "CRITICAL": "FATAL"}


def _severity_number(levelno: int) -> SeverityNumber:
    # The logs data model's ranges: DEBUG 5-8, INFO 9-12, WARN 13-16, ERROR 17-20,
    # FATAL 21-24; stdlib's 10/20/30/40/50 open each range and the next three levels
    # take its 2nd-4th step (as OTel's own LoggingHandler maps them). Below DEBUG is
    # TRACE (a custom TRACE=5 level is common), 0 (NOTSET) is unspecified.
    if levelno <= 0:
        return SeverityNumber.UNSPECIFIED
    if levelno < 10:
        return SeverityNumber.TRACE
    if levelno >= 60:
        return SeverityNumber.FATAL4
    band, step = divmod(levelno, 10)
    return SeverityNumber(1 + 4 * band + min(step, 3))


_SEVERITY_NUMBERS = tuple(_severity_number(n) for n in range(60))


def severity(levelno: int, levelname: str) -> tuple[SeverityNumber, str]:
    """The OTel severity number and text of a stdlib level.

    The text is the level's own name, spelled the way the logs data model displays the
    standard ones (``WARNING`` -> ``WARN``, ``CRITICAL`` -> ``FATAL``, as OTel's handler
    does); a custom level keeps its name.

    .. versionadded:: 0.1.0
    """
    number = _SEVERITY_NUMBERS[levelno] if 0 <= levelno < 60 else _severity_number(levelno)
    return number, _SHORT_TEXT.get(levelname, levelname)


def _text(value: str) -> str:
    # Short ASCII text needs none of safe_str's checks (surrogates, the size limit).
    return value if value.isascii() and len(value) <= _MAX_STRING else render.safe_str(value)


def _attribute(value: Any) -> Any:
    """The OTel attribute for a scrubbed (JSON-safe, redacted) field value, not None.

    str, bool, int (64-bit), float and homogeneous lists of them stay as they are;
    anything else (a mapping, a mixed list) becomes its JSON text, exactly as the line
    writes it.
    """
    t = type(value)
    if t is str:
        return _text(value)
    if t is bool or t is float:
        return value
    if t is int:
        return value if _INT64[0] <= value < _INT64[1] else render.safe_str(value)
    if t is list:
        kinds = {type(v) for v in value}
        if not kinds:
            return ()
        if len(kinds) == 1:
            (kind,) = kinds
            if kind is str:
                return tuple(_text(v) for v in value)
            if kind is bool or kind is float:
                return tuple(value)
            if kind is int and all(_INT64[0] <= v < _INT64[1] for v in value):
                return tuple(value)
    return render.json_text(value)


def _event_name(message: str, limit: int) -> str:
    # Trace views show the name on one line: the first line of the message, cut with an
    # ellipsis. The whole message is in the log.message attribute.
    if "\n" in message:
        message = message.split("\n", 1)[0].rstrip() + " …"
    if len(message) > limit:
        message = message[: limit - 1] + "…"
    return message or "log"


class Bridge:
    """Record log events on the current span and/or as OTel log records.

    Args:
        span_events: add each event to the current *recording* span.
        otel_logs: emit each event as an OTel ``LogRecord``.
        level: minimum level (a name or number, default ``INFO``).
        record_exception: at ERROR and above with ``exc_info``, also call
            ``span.record_exception`` (an ``exception`` event).
        set_error_status: at ERROR and above with ``exc_info``, set the span's status to
            ERROR with the log message.
        redact: True (default rules), False, or a :class:`~tracelog.redact.Redactor`;
            ``configure()`` passes the one its JSON lines use.
        logger_provider: the OTel ``LoggerProvider`` to emit through; default: the
            global one, looked up at each call (so setting up the SDK later is no trap).
        max_name_length: the longest span event name; longer messages are cut.

    Raises:
        ValueError: for an unknown level or a name limit below 8.
        TypeError: for a wrongly typed argument.

    .. versionadded:: 0.1.0
    """

    __slots__ = (
        "_loggers",
        "_provider",
        "failures",
        "level",
        "logger_provider",
        "max_name_length",
        "otel_logs",
        "record_exception",
        "redactor",
        "scrubber",
        "set_error_status",
        "span_events",
    )

    def __init__(
        self,
        *,
        span_events: bool = True,
        otel_logs: bool = False,
        level: str | int = logging.INFO,
        record_exception: bool = True,
        set_error_status: bool = True,
        redact: object = True,
        logger_provider: LoggerProvider | None = None,
        max_name_length: int = 128,
    ) -> None:
        flags = {
            "span_events": span_events,
            "otel_logs": otel_logs,
            "record_exception": record_exception,
            "set_error_status": set_error_status,
        }
        for name, value in flags.items():
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
        if isinstance(max_name_length, bool) or not isinstance(max_name_length, int):
            raise TypeError("max_name_length must be an int")
        if max_name_length < 8:
            raise ValueError(f"max_name_length must be at least 8, not {max_name_length}")
        if logger_provider is not None and not callable(
            getattr(logger_provider, "get_logger", None)
        ):
            raise TypeError(
                f"logger_provider must be an OpenTelemetry LoggerProvider, not {logger_provider!r}"
            )
        self.span_events = span_events
        self.otel_logs = otel_logs
        self.level = parse_level(level)
        self.record_exception = record_exception
        self.set_error_status = set_error_status
        self.redactor: Redactor | None = resolve_redactor(redact)
        self.scrubber = Scrubber(self.redactor)
        self.logger_provider = logger_provider
        self.max_name_length = max_name_length
        self.failures = 0
        self._provider: object = None
        self._loggers: dict[str, Logger] = {}

    def wants(self, levelno: int, ctx: TraceContext | None) -> bool:
        """Whether an event at *levelno* captured in *ctx* could produce anything.

        Adapters ask first and skip collecting fields when the answer is no.
        """
        return levelno >= self.level and (self.otel_logs or ctx is not None) and not _BUSY.get()

    def emit(
        self,
        ts: float,
        levelno: int,
        levelname: str,
        logger: str | None,
        message: str,
        ctx: TraceContext | None,
        fields: Mapping[Any, Any] | None,
        exc_info: ExcInfo | None = None,
        span: Any = None,
    ) -> None:
        """Like :meth:`record`, but never raises: a failure is reported once, then counted."""
        try:
            self.record(ts, levelno, levelname, logger, message, ctx, fields, exc_info, span)
        except Exception as exc:
            self.fail(exc)

    def record(
        self,
        ts: float,
        levelno: int,
        levelname: str,
        logger: str | None,
        message: str,
        ctx: TraceContext | None,
        fields: Mapping[Any, Any] | None,
        exc_info: ExcInfo | None = None,
        span: Any = None,
    ) -> None:
        """Bridge one log event.

        Args:
            ts: the event's time (``time.time()``), the same as its JSON line's.
            levelno: stdlib level number.
            levelname: stdlib level name.
            logger: the logger's name; ``opentelemetry.*`` loggers are skipped.
            message: the formatted message (redacted here).
            ctx: the trace context captured at the call, or None outside a span.
            fields: user fields (coerced and redacted here).
            exc_info: the exception being logged, if any.
            span: the span *ctx* was captured from, if the caller has it (saves
                looking it up again); else the current span, if it is that one.

        Raises only if OpenTelemetry itself does; adapters route that to their error
        handling (:meth:`emit` does it for you).
        """
        if levelno < self.level or _BUSY.get():
            return
        if logger is not None and logger.startswith(_OTEL_PREFIX):
            rest = logger[len(_OTEL_PREFIX) :]
            if not rest or rest[0] == ".":
                return
        # The span object: for the event, and as the cheapest way to hand its ids to a
        # LogRecord. Looked up only if the caller did not capture it with the ids.
        if span is None:
            span = current_span_for(ctx)
        recording = self.span_events and span is not None and span.is_recording()
        if not recording and not self.otel_logs:
            return
        # One flat function on purpose: this path is budgeted against a bare
        # span.add_event(), and each extra call layer is a measurable share of it.
        token = _BUSY.set(True)
        try:
            scrubber = self.scrubber
            message = scrubber.message(message)
            # The line prints microseconds, truncated, as int(ts * 1e6) (schemas._clock):
            # the ns are built from the same digits, so event and line are one instant.
            ns = int(ts * 1_000_000.0) * 1000
            attributes: dict[str, Any] = {SEVERITY_KEY: levelname, MESSAGE_KEY: message}
            if logger is not None:
                attributes[LOGGER_KEY] = logger
            if fields:
                # The same scrubbing as the JSON line (one value, one redacted text), then
                # each value as an OTel attribute type.
                for key, value in scrubber.fields_into({}, fields, _OWN_KEYS).items():
                    if type(value) is str and value.isascii() and len(value) <= _MAX_STRING:
                        attributes[key] = value  # the common case, without a call
                    elif value is not None:
                        attributes[key] = _attribute(value)
            exception = None if exc_info is None else self._exception(exc_info)
            if recording:
                name = (
                    message
                    if message and len(message) <= self.max_name_length and "\n" not in message
                    else _event_name(message, self.max_name_length)
                )
                if exception is None:
                    # The values are clean OTel types already: no second cleaning. The
                    # event keeps this dict as it is; nothing below changes it.
                    span_event_adder(span)(span, name, attributes, ns)
                else:
                    self._add_error(span, name, attributes, ns, levelno, exception, exc_info)
                # The SDK span's count of events it had to drop (0 for other spans).
                dropped = span_dropped_events(span)
                if dropped > 0:
                    _account_dropped(span, dropped)
            if self.otel_logs:
                self._emit_log(
                    ns, levelno, levelname, logger, message, ctx, span, attributes, exception
                )
        finally:
            _BUSY.reset(token)

    def _exception(self, exc_info: ExcInfo) -> dict[str, str]:
        type_, text, stack = self.scrubber.exception(exc_info)
        return {EXCEPTION_TYPE: type_, EXCEPTION_MESSAGE: text, EXCEPTION_STACKTRACE: stack}

    def _add_error(
        self,
        span: Any,
        name: str,
        attributes: dict[str, Any],
        ns: int,
        levelno: int,
        exception: dict[str, str],
        exc_info: Any,
    ) -> None:
        error = levelno >= logging.ERROR
        if not (error and self.record_exception):
            attributes.update(exception)
        span_event_adder(span)(span, name, attributes, ns)
        if error:
            if self.record_exception:
                # Our exception attributes replace the SDK's own: redacted, and the type
                # spelled as in the JSON line.
                span.record_exception(exc_info[1], attributes=exception, timestamp=ns)
            if self.set_error_status:
                span.set_status(trace.Status(trace.StatusCode.ERROR, attributes[MESSAGE_KEY]))

    def _otel_logger(self, name: str) -> Logger | None:
        provider = self.logger_provider or get_logger_provider()
        if provider is not self._provider:
            self._provider = provider
            self._loggers = {}
        if isinstance(provider, ProxyLoggerProvider | NoOpLoggerProvider):
            return None  # no SDK set up: nothing would be exported
        otel_logger = self._loggers.get(name)
        if otel_logger is None:
            if len(self._loggers) >= 1024:
                self._loggers = {}
            otel_logger = self._loggers[name] = provider.get_logger(name)
        return otel_logger

    def _emit_log(
        self,
        ns: int,
        levelno: int,
        levelname: str,
        logger: str | None,
        message: str,
        ctx: TraceContext | None,
        span: Any,
        event_attributes: dict[str, Any],
        exception: dict[str, str] | None,
    ) -> None:
        otel_logger = self._otel_logger(logger or "tracelog")
        if otel_logger is None:
            return
        number, text = severity(levelno, levelname)
        # A LogRecord has native places for severity, message and logger (the scope):
        # only the user fields and the exception are attributes.
        attributes = {k: v for k, v in event_attributes.items() if k not in _OWN_KEYS}
        if exception is not None:
            attributes.update(exception)
        # OTel API 1.35 added LogRecord(context=...); older ones take the ids one by one.
        ids = {"context": _context_of(ctx, span)} if _RECORD_TAKES_CONTEXT else _ids_of(ctx)
        otel_logger.emit(
            LogRecord(
                timestamp=ns,
                observed_timestamp=time.time_ns(),
                severity_number=number,
                severity_text=text,
                body=message,
                attributes=attributes,
                **ids,
            )
        )

    def fail(self, exc: BaseException) -> None:
        """Count a failure; report the first one on stderr (never raises)."""
        self.failures += 1
        if self.failures == 1:
            _diagnose(
                f"the log-to-trace bridge failed ({type(exc).__name__}: "
                f"{render.safe_str(exc)}); further failures are counted in Bridge.failures"
            )


def _span_context_of(ctx: TraceContext) -> trace.SpanContext:
    return trace.SpanContext(
        int(ctx.trace_id, 16),
        int(ctx.span_id, 16),
        ctx.is_remote,
        trace.TraceFlags(int(ctx.trace_flags, 16)),
    )


def _context_of(ctx: TraceContext | None, span: Any) -> Context:
    """An OTel Context carrying exactly the ids captured at the call."""
    if ctx is None:
        return _NO_SPAN
    if span is not None:
        return trace.set_span_in_context(span, _EMPTY)
    return trace.set_span_in_context(trace.NonRecordingSpan(_span_context_of(ctx)), _EMPTY)


def _ids_of(ctx: TraceContext | None) -> dict[str, Any]:  # pragma: no cover - API < 1.35
    if ctx is None:
        return {}
    sc = _span_context_of(ctx)
    return {"trace_id": sc.trace_id, "span_id": sc.span_id, "trace_flags": sc.trace_flags}


def _account_dropped(span: Any, dropped: int) -> None:
    """Mirror the SDK's dropped-events count on the span; say so once per span."""
    span.set_attribute(DROPPED_EVENTS_ATTRIBUTE, dropped)
    sc = span.get_span_context()
    key = (sc.trace_id, sc.span_id)
    # setdefault is one atomic step: of two threads racing, one inserts its marker and
    # the other finds it. No lock, so nothing for a fork() to leave held.
    if key in _reported:
        return
    if len(_reported) >= _REPORTED_LIMIT:
        _reported.clear()
    marker = object()
    if _reported.setdefault(key, marker) is not marker:
        return
    limit = span_event_limit(span)
    name = getattr(span, "name", None)
    # Through stdlib logging, so it is an ordinary tracelog JSON line on this span. We
    # are inside the bridge here, so the line does not become another event.
    _report_logger.warning(
        "span %r reached its limit of %s events: older events are being dropped; "
        "its dropped_events count and the %s attribute say how many",
        name,
        limit,
        DROPPED_EVENTS_ATTRIBUTE,
        extra={"span_name": name, "event_limit": limit, "dropped_events": dropped},
    )
