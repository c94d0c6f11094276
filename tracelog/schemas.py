"""Layouts as data: the one place that knows each backend's field names and encodings.

A :class:`Schema` writes a line's head (time, level, logger, message, service), its trace
fields from a :class:`~tracelog._context.TraceContext`, and its exception fields; and it
reads a trace id back from a parsed line, which is how ``tracelog grep`` finds a trace in
any layout. Both framework adapters and the CLI go through these objects, so a field
name is written down exactly once.

Ids are always the W3C hex forms underneath; a layout only changes how they are spelled
(Datadog's decimal low 64 bits, Google's resource path, X-Ray's dashed form).
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

from tracelog._levels import LOWER_NAMES, gcp_severity, lower_name

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from tracelog._context import TraceContext

__all__ = [
    "DEFAULT",
    "ECS",
    "FOREIGN_TRACE_ATTRS",
    "OTEL",
    "RESERVED_TRACE_KEYS",
    "SCHEMA_NAMES",
    "SPAN_RECORD",
    "XRAY",
    "DatadogSchema",
    "EcsSchema",
    "ExcInfo",
    "GcpSchema",
    "OtelSchema",
    "Schema",
    "SpanRecord",
    "SpanRecordSchema",
    "XRaySchema",
    "all_readers",
    "datadog",
    "datadog_span_id",
    "datadog_trace_id",
    "describe_exception",
    "gcp",
    "get_schema",
    "xray_trace_id",
]

ExcInfo: TypeAlias = tuple[type[BaseException], BaseException, TracebackType | None]

_HEX = frozenset("0123456789abcdef")
_LOW64 = (1 << 64) - 1


def _clock(digits: int) -> Callable[[float], str]:
    """UTC ISO-8601 with a ``Z``, *digits* (3 or 6) of the second's fraction, truncated.

    Everything up to the millisecond is formatted once per millisecond (a busy service
    writes many lines in one); a line then costs a multiplication, a division and one
    concatenation with a prepared ``"456Z"`` tail.
    """
    per_ms = int(10 ** (digits - 3))
    tails: list[str] = [f"{i:0{digits - 3}d}Z" for i in range(per_ms)] if per_ms > 1 else ["Z"]
    scale = float(1000 * per_ms)
    # One tuple in a one-slot list, swapped atomically, so threads never pair a
    # millisecond with another one's prefix.
    last: list[tuple[int, str]] = [(-1, "")]
    gmtime, strftime = time.gmtime, time.strftime

    def clock(ts: float) -> str:
        ticks = int(ts * scale)
        ms = ticks // per_ms
        cached = last[0]
        if cached[0] != ms:
            sec = ms // 1000
            text = strftime("%Y-%m-%dT%H:%M:%S", gmtime(sec)) + f".{ms - sec * 1000:03d}"
            cached = (ms, text)
            last[0] = cached
        return cached[1] + tails[ticks - ms * per_ms]

    return clock


_MICROS = _clock(6)
_MILLIS = _clock(3)


def _hex(value: object, length: int) -> str | None:
    if not isinstance(value, str) or len(value) != length:
        return None
    value = value.lower()
    if not _HEX.issuperset(value) or value == "0" * length:
        return None
    return value


def datadog_trace_id(trace_id: str) -> str:
    """Datadog's spelling of a trace id: the decimal of its low 64 bits.

    Args:
        trace_id: 32 hex digits (16 are taken as the low half already).

    .. versionadded:: 0.1.0
    """
    return str(int(trace_id[-16:], 16))


def datadog_span_id(span_id: str) -> str:
    """Datadog's spelling of a 16-hex span id: its decimal.

    .. versionadded:: 0.1.0
    """
    return str(int(span_id, 16))


def xray_trace_id(trace_id: str) -> str:
    """AWS X-Ray's spelling of a 32-hex trace id: ``1-<first 8 hex>-<remaining 24 hex>``.

    .. versionadded:: 0.1.0
    """
    return f"1-{trace_id[:8]}-{trace_id[8:]}"


def _iso_from_ns(ns: int) -> str:
    # Integer arithmetic: a float of nanoseconds since 1970 has no microsecond to spare.
    sec, rest = divmod(ns, 1_000_000_000)
    return "%s.%06dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)), rest // 1000)  # noqa: UP031


def _exc_type_name(exc_type: type[BaseException]) -> str:
    module = exc_type.__module__
    name = exc_type.__qualname__
    return name if module in {"builtins", "__main__"} else f"{module}.{name}"


def describe_exception(exc_info: ExcInfo) -> tuple[str, str, str]:
    """(type, message, stacktrace) of an exception; never raises."""
    exc_type, exc, tb = exc_info
    try:
        message = str(exc)
    except Exception:
        message = f"<unprintable {exc_type.__name__}>"
    try:
        stack = "".join(traceback.format_exception(exc_type, exc, tb)).rstrip("\n")
    except Exception:
        stack = ""
    return _exc_type_name(exc_type), message, stack


@dataclass(frozen=True, slots=True)
class Schema:
    """One line layout.

    The base class is the ``default`` layout (camelCase trace fields). Subclasses change
    names and encodings by overriding the class data and :meth:`trace_fields` /
    :meth:`read_trace_id`.

    .. versionadded:: 0.1.0
    """

    name: str = "default"
    timestamp_key: str = "timestamp"
    level_key: str = "level"
    logger_key: str = "logger"
    message_key: str = "message"
    service_key: str = "service"
    exception_key: str = "exception"
    trace_id_key: str = "traceId"
    span_id_key: str = "spanId"
    flags_key: str = "traceFlags"
    reserved: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    TRACE_KEYS: ClassVar[tuple[str, ...]] = ("traceId", "spanId", "traceFlags")
    # LogRecord attributes (a JsonFormatter format string's fields, configure(callsite=
    # True)) and the keys this layout writes them under; others keep their own name.
    RECORD_KEYS: ClassVar[Mapping[str, str]] = {}
    # The attributes configure(callsite=True) writes: module, function and line.
    CALLSITE: ClassVar[tuple[str, ...]] = ("module", "funcName", "lineno")

    def __post_init__(self) -> None:
        head = {
            self.timestamp_key,
            self.level_key,
            self.logger_key,
            self.message_key,
            self.service_key,
            self.exception_key,
        }
        object.__setattr__(self, "reserved", frozenset(head | RESERVED_TRACE_KEYS))

    # -- writing --------------------------------------------------------------------

    def timestamp(self, ts: float) -> str:
        """Format a POSIX time for this layout."""
        return _MICROS(ts)

    def level(self, levelno: int, levelname: str) -> str:
        """The level as this layout spells it."""
        return lower_name(levelno, levelname)

    def head(
        self, ts: float, levelno: int, levelname: str, logger: str | None, message: str
    ) -> dict[str, Any]:
        """The first keys of a line, in this layout's order (service comes next)."""
        line = {
            self.timestamp_key: self.timestamp(ts),
            self.level_key: self.level(levelno, levelname),
        }
        if logger:
            line[self.logger_key] = logger
        line[self.message_key] = message
        return line

    def add_service(self, line: dict[str, Any], service: str) -> None:
        """Write the service name."""
        line[self.service_key] = service

    def head_writer(
        self,
    ) -> Callable[[float, int, str, str | None, str, str, TraceContext | None], dict[str, Any]]:
        """A function writing head, service and trace fields: what every line starts with.

        Built once per encoder. For layouts that only rename keys it is one flat function
        with the keys bound in; layouts that override the writing methods get a function
        calling them.
        """
        kind = type(self)
        if not (
            kind.head is Schema.head
            and kind.add_service is Schema.add_service
            and kind.add_trace is Schema.add_trace
            and kind.timestamp is Schema.timestamp
            and kind.level is Schema.level
        ):
            head, add_service, add_trace = self.head, self.add_service, self.add_trace

            def generic(
                ts: float,
                levelno: int,
                levelname: str,
                logger: str | None,
                message: str,
                service: str,
                ctx: TraceContext | None,
            ) -> dict[str, Any]:
                line = head(ts, levelno, levelname, logger, message)
                add_service(line, service)
                if ctx is not None:
                    add_trace(line, ctx)
                return line

            return generic
        ts_key, level_key, logger_key = self.timestamp_key, self.level_key, self.logger_key
        message_key, service_key = self.message_key, self.service_key
        trace_key, span_key, flags_key = self.trace_id_key, self.span_id_key, self.flags_key
        clock, levels = _MICROS, LOWER_NAMES

        def flat(
            ts: float,
            levelno: int,
            levelname: str,
            logger: str | None,
            message: str,
            service: str,
            ctx: TraceContext | None,
        ) -> dict[str, Any]:
            level = levels.get(levelno) or levelname.lower()
            if ctx is not None and logger:  # the usual line: one dict display
                return {
                    ts_key: clock(ts),
                    level_key: level,
                    logger_key: logger,
                    message_key: message,
                    service_key: service,
                    trace_key: ctx.trace_id,
                    span_key: ctx.span_id,
                    flags_key: ctx.trace_flags,
                }
            line = {ts_key: clock(ts), level_key: level}
            if logger:
                line[logger_key] = logger
            line[message_key] = message
            line[service_key] = service
            if ctx is not None:
                line[trace_key] = ctx.trace_id
                line[span_key] = ctx.span_id
                line[flags_key] = ctx.trace_flags
            return line

        return flat

    def add_trace(self, line: dict[str, Any], ctx: TraceContext) -> None:
        """Write the trace fields of *ctx*."""
        line[self.trace_id_key] = ctx.trace_id
        line[self.span_id_key] = ctx.span_id
        line[self.flags_key] = ctx.trace_flags

    def add_exception(self, line: dict[str, Any], type_: str, message: str, stack: str) -> None:
        """Write a structured exception."""
        line[self.exception_key] = {"type": type_, "message": message, "stacktrace": stack}

    def record_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """LogRecord attributes (``funcName``, ``lineno``, ``process`` ...) as this layout
        names them, e.g. ECS's ``log.origin.function`` or OTel's ``code.function.name``."""
        keys = self.RECORD_KEYS
        return {keys.get(name, name): value for name, value in values.items()}

    def add_deployment(self, line: dict[str, Any], version: str | None, env: str | None) -> None:
        """Write the service version and deployment environment (OTel's semantic names)."""
        if version:
            line.setdefault("service.version", version)
        if env:
            line.setdefault("deployment.environment.name", env)

    # -- reading --------------------------------------------------------------------

    def read_trace_id(self, line: Mapping[str, Any]) -> str | None:
        """The trace id of a parsed line as lowercase hex, or None.

        Layouts that keep only the low 64 bits return 16 hex digits.
        """
        return _hex(line.get(self.trace_id_key), 32)

    def read_span_id(self, line: Mapping[str, Any]) -> str | None:
        """The span id of a parsed line as 16 lowercase hex, or None."""
        return _hex(line.get(self.span_id_key), 16)

    def read_exception(self, line: Mapping[str, Any]) -> tuple[str, str] | None:
        """(type, message) of a parsed line's exception, or None."""
        value = line.get(self.exception_key)
        if not isinstance(value, dict):
            return None
        type_, message = value.get("type"), value.get("message")
        return (
            type_ if isinstance(type_, str) and type_ else "exception",
            message if isinstance(message, str) else "",
        )


@dataclass(frozen=True, slots=True)
class OtelSchema(Schema):
    """OpenTelemetry's "trace context in non-OTLP log formats": snake_case fields."""

    name: str = "otel"
    trace_id_key: str = "trace_id"
    span_id_key: str = "span_id"
    flags_key: str = "trace_flags"

    TRACE_KEYS: ClassVar[tuple[str, ...]] = ("trace_id", "span_id", "trace_flags")
    # OpenTelemetry's semantic conventions (code.*, process.*, thread.*).
    RECORD_KEYS: ClassVar[Mapping[str, str]] = {
        "module": "code.namespace",
        "funcName": "code.function.name",
        "lineno": "code.line.number",
        "pathname": "code.file.path",
        "process": "process.pid",
        "thread": "thread.id",
        "threadName": "thread.name",
    }


@dataclass(frozen=True, slots=True)
class EcsSchema(Schema):
    """Elastic Common Schema per the ecs-logging spec (``@timestamp`` in ms, dotted keys)."""

    name: str = "ecs"
    timestamp_key: str = "@timestamp"
    level_key: str = "log.level"
    logger_key: str = "log.logger"
    service_key: str = "service.name"
    exception_key: str = "error.type"
    trace_id_key: str = "trace.id"
    span_id_key: str = "span.id"
    flags_key: str = ""
    ecs_version: str = "1.6.0"

    TRACE_KEYS: ClassVar[tuple[str, ...]] = ("trace.id", "span.id", "transaction.id")
    ERROR_KEYS: ClassVar[tuple[str, ...]] = ("error.type", "error.message", "error.stack_trace")
    # The ECS fields ecs-logging writes for a record's origin, process and thread.
    RECORD_KEYS: ClassVar[Mapping[str, str]] = {
        "filename": "log.origin.file.name",
        "funcName": "log.origin.function",
        "lineno": "log.origin.file.line",
        "process": "process.pid",
        "processName": "process.name",
        "thread": "process.thread.id",
        "threadName": "process.thread.name",
    }
    # ECS has no module field: the call site is the file, function and line.
    CALLSITE: ClassVar[tuple[str, ...]] = ("filename", "funcName", "lineno")

    def __post_init__(self) -> None:
        Schema.__post_init__(self)
        # Keys ECS defines as objects: a user field with one of these names would make
        # the line hold a key both dotted and nested.
        extra = {
            "ecs.version",
            "event.dataset",
            "@timestamp",
            *("ecs", "log", "error", "service", "trace", "span", "transaction", "event"),
        }
        object.__setattr__(self, "reserved", self.reserved | extra | set(self.ERROR_KEYS))

    def timestamp(self, ts: float) -> str:
        return _MILLIS(ts)

    def head(
        self, ts: float, levelno: int, levelname: str, logger: str | None, message: str
    ) -> dict[str, Any]:
        line = {
            "@timestamp": _MILLIS(ts),
            "log.level": self.level(levelno, levelname),
            "message": message,
            "ecs.version": self.ecs_version,
        }
        if logger:
            line["log.logger"] = logger
        return line

    def add_service(self, line: dict[str, Any], service: str) -> None:
        line["service.name"] = service
        # The spec: a library that knows the service sets event.dataset to "<service>.log"
        # (Elastic's log anomaly detection keys on it).
        line["event.dataset"] = f"{service}.log"

    def add_trace(self, line: dict[str, Any], ctx: TraceContext) -> None:
        line["trace.id"] = ctx.trace_id
        line["span.id"] = ctx.span_id

    def add_deployment(self, line: dict[str, Any], version: str | None, env: str | None) -> None:
        if version:
            line.setdefault("service.version", version)
        if env:
            line.setdefault("service.environment", env)

    def add_exception(self, line: dict[str, Any], type_: str, message: str, stack: str) -> None:
        line["error.type"] = type_
        line["error.message"] = message
        line["error.stack_trace"] = stack

    def read_exception(self, line: Mapping[str, Any]) -> tuple[str, str] | None:
        type_, message = line.get("error.type"), line.get("error.message")
        if not isinstance(type_, str) or not type_:
            return None
        return type_, message if isinstance(message, str) else ""


@dataclass(frozen=True, slots=True)
class GcpSchema(Schema):
    """Google Cloud Logging's special JSON fields.

    Args:
        project: the Google Cloud project id the trace resource path names.
    """

    name: str = "gcp"
    project: str = ""
    timestamp_key: str = "time"
    level_key: str = "severity"
    trace_id_key: str = "logging.googleapis.com/trace"
    span_id_key: str = "logging.googleapis.com/spanId"
    flags_key: str = "logging.googleapis.com/trace_sampled"

    TRACE_KEYS: ClassVar[tuple[str, ...]] = (
        "logging.googleapis.com/trace",
        "logging.googleapis.com/spanId",
        "logging.googleapis.com/trace_sampled",
    )

    # Cloud Logging's LogEntrySourceLocation, one object: file, line (a string), function.
    SOURCE_KEY: ClassVar[str] = "logging.googleapis.com/sourceLocation"
    _SOURCE: ClassVar[Mapping[str, str]] = {
        "pathname": "file",
        "lineno": "line",
        "funcName": "function",
    }
    CALLSITE: ClassVar[tuple[str, ...]] = ("pathname", "funcName", "lineno")

    def record_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        source: dict[str, Any] = {}
        for name, value in values.items():
            key = self._SOURCE.get(name)
            if key is None:
                out[name] = value
            else:
                source[key] = str(value) if key == "line" else value
        if source:
            out[self.SOURCE_KEY] = source
        return out

    def level(self, levelno: int, levelname: str) -> str:
        return gcp_severity(levelno)

    def add_trace(self, line: dict[str, Any], ctx: TraceContext) -> None:
        line["logging.googleapis.com/trace"] = f"projects/{self.project}/traces/{ctx.trace_id}"
        line["logging.googleapis.com/spanId"] = ctx.span_id
        line["logging.googleapis.com/trace_sampled"] = ctx.sampled

    def read_trace_id(self, line: Mapping[str, Any]) -> str | None:
        value = line.get(self.trace_id_key)
        if not isinstance(value, str):
            return None
        return _hex(value.rpartition("/traces/")[2], 32)


@dataclass(frozen=True, slots=True)
class DatadogSchema(Schema):
    """Datadog's log-trace correlation: decimal ids, low 64 bits of the trace id.

    Args:
        full_trace_id: write ``dd.trace_id`` as the whole 128-bit id in 32 hex digits
            (Datadog's 128-bit mode) instead of the decimal low 64 bits.
        env: ``dd.env``.
        version: ``dd.version``.
    """

    name: str = "datadog"
    level_key: str = "status"
    logger_key: str = "logger.name"
    trace_id_key: str = "dd.trace_id"
    span_id_key: str = "dd.span_id"
    flags_key: str = ""
    full_trace_id: bool = False
    env: str | None = None
    version: str | None = None

    TRACE_KEYS: ClassVar[tuple[str, ...]] = (
        "dd.trace_id",
        "dd.span_id",
        "dd.service",
        "dd.env",
        "dd.version",
    )
    # Datadog's standard logger attributes.
    RECORD_KEYS: ClassVar[Mapping[str, str]] = {
        "funcName": "logger.method_name",
        "threadName": "logger.thread_name",
    }

    def add_trace(self, line: dict[str, Any], ctx: TraceContext) -> None:
        # Like ddtrace's log injection: the dd.* correlation keys appear only with a trace.
        line["dd.trace_id"] = ctx.trace_id if self.full_trace_id else datadog_trace_id(ctx.trace_id)
        line["dd.span_id"] = datadog_span_id(ctx.span_id)
        service = line.get(self.service_key)
        if service is not None:
            line["dd.service"] = service
        if self.env:
            line["dd.env"] = self.env
        if self.version:
            line["dd.version"] = self.version

    def add_deployment(self, line: dict[str, Any], version: str | None, env: str | None) -> None:
        # Like the other dd.* keys, only on a line inside a trace; DD_ENV/DD_VERSION win.
        if "dd.trace_id" in line:
            if version:
                line.setdefault("dd.version", version)
            if env:
                line.setdefault("dd.env", env)

    def read_trace_id(self, line: Mapping[str, Any]) -> str | None:
        value = line.get(self.trace_id_key)
        if isinstance(value, str) and len(value) == 32:
            return _hex(value, 32)
        low = _decimal(value)
        return None if low is None else format(low, "016x")

    def read_span_id(self, line: Mapping[str, Any]) -> str | None:
        span = _decimal(line.get(self.span_id_key))
        return None if span is None else format(span, "016x")


def _decimal(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
        number = int(value)
    else:
        return None
    return number if 0 < number <= _LOW64 else None


@dataclass(frozen=True, slots=True)
class XRaySchema(Schema):
    """AWS X-Ray's trace id spelling, ``1-<8 hex>-<24 hex>``, next to the span id."""

    name: str = "xray"
    trace_id_key: str = "AWS-XRAY-TRACE-ID"
    flags_key: str = ""

    TRACE_KEYS: ClassVar[tuple[str, ...]] = ("AWS-XRAY-TRACE-ID",)

    def add_trace(self, line: dict[str, Any], ctx: TraceContext) -> None:
        line["AWS-XRAY-TRACE-ID"] = xray_trace_id(ctx.trace_id)
        line["spanId"] = ctx.span_id

    def read_trace_id(self, line: Mapping[str, Any]) -> str | None:
        value = line.get(self.trace_id_key)
        if not isinstance(value, str) or len(value) != 35 or not value.startswith("1-"):
            return None
        return _hex(value[2:10] + value[11:], 32) if value[10] == "-" else None


@dataclass(frozen=True, slots=True)
class SpanRecord:
    """One finished span as read back from a span record line.

    ``start``/``end`` are the ISO-8601 strings as written; ``duration_ms`` is None when
    the line has no number there.

    .. versionadded:: 0.1.0
    """

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    service: str | None
    start: str | None
    end: str | None
    duration_ms: float | None
    status: str
    status_message: str | None
    attributes: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SpanRecordSchema(Schema):
    """The span record: one JSON line per finished span, next to the log lines.

    :class:`tracelog.export.JsonLinesSpanExporter` writes these lines and ``tracelog
    show`` reads them back to draw the span tree, so the field names live here. The
    trace and span ids use the ``default`` layout's keys (a record is found like any
    default line); ``tracelog.record: "span"`` tells a record from a log line. The key
    is reserved in every layout, so no log line can pose as a record.

    .. versionadded:: 0.1.0
    """

    name: str = "span"
    record_key: str = "tracelog.record"
    record_value: str = "span"
    parent_key: str = "parentSpanId"
    span_name_key: str = "name"
    kind_key: str = "kind"
    start_key: str = "start"
    end_key: str = "end"
    duration_key: str = "durationMs"
    status_key: str = "status"
    status_message_key: str = "statusMessage"
    attributes_key: str = "attributes"

    TRACE_KEYS: ClassVar[tuple[str, ...]] = ("traceId", "spanId", "parentSpanId", "tracelog.record")

    def record(
        self,
        *,
        trace_id: str,
        span_id: str,
        parent_span_id: str | None,
        name: str,
        kind: str,
        service: str | None,
        start_ns: int,
        end_ns: int,
        status: str,
        status_message: str | None,
        attributes: Mapping[str, Any],
    ) -> dict[str, Any]:
        """The record of one span as a dict, in this layout's key order."""
        line: dict[str, Any] = {
            self.record_key: self.record_value,
            self.span_name_key: name,
            self.kind_key: kind,
        }
        if service:
            line[self.service_key] = service
        line[self.trace_id_key] = trace_id
        line[self.span_id_key] = span_id
        if parent_span_id:
            line[self.parent_key] = parent_span_id
        line[self.start_key] = _iso_from_ns(start_ns)
        line[self.end_key] = _iso_from_ns(end_ns)
        line[self.duration_key] = round((end_ns - start_ns) / 1_000_000, 3)
        line[self.status_key] = status
        if status_message:
            line[self.status_message_key] = status_message
        if attributes:
            line[self.attributes_key] = dict(attributes)
        return line

    def is_record(self, line: Mapping[str, Any]) -> bool:
        """Whether a parsed line is a span record."""
        return line.get(self.record_key) == self.record_value

    def read_record(self, line: Mapping[str, Any]) -> SpanRecord | None:
        """The span a record line describes, or None if it is no (valid) record."""
        if not self.is_record(line):
            return None
        trace_id = self.read_trace_id(line)
        span_id = self.read_span_id(line)
        if trace_id is None or span_id is None:
            return None

        def text(key: str) -> str | None:
            value = line.get(key)
            return value if isinstance(value, str) else None

        duration = line.get(self.duration_key)
        attributes = line.get(self.attributes_key)
        return SpanRecord(
            trace_id=trace_id,
            span_id=span_id,
            parent_span_id=_hex(line.get(self.parent_key), 16),
            name=text(self.span_name_key) or "",
            kind=text(self.kind_key) or "",
            service=text(self.service_key),
            start=text(self.start_key),
            end=text(self.end_key),
            duration_ms=(
                float(duration)
                if isinstance(duration, int | float) and not isinstance(duration, bool)
                else None
            ),
            status=text(self.status_key) or "unset",
            status_message=text(self.status_message_key),
            attributes=attributes if isinstance(attributes, dict) else {},
        )


# Every layout's trace keys are reserved in every layout: a user field "dd.trace_id" in a
# default line would make a reader take it for the line's trace.
RESERVED_TRACE_KEYS: frozenset[str] = frozenset(
    key
    for cls in (
        Schema,
        OtelSchema,
        EcsSchema,
        GcpSchema,
        DatadogSchema,
        XRaySchema,
        SpanRecordSchema,
    )
    for key in cls.TRACE_KEYS
)

# What OpenTelemetry's logging instrumentation (opentelemetry-instrumentation-logging, with
# OTEL_PYTHON_LOG_CORRELATION=true or inject_trace_context=True) sets on every LogRecord,
# "0" outside a span. A line already carries these facts under its layout's names, so
# they are never user fields.
FOREIGN_TRACE_ATTRS: frozenset[str] = frozenset(
    {"otelTraceID", "otelSpanID", "otelTraceSampled", "otelServiceName"}
)

DEFAULT = Schema()
OTEL = OtelSchema()
ECS = EcsSchema()
XRAY = XRaySchema()
SPAN_RECORD = SpanRecordSchema()

SCHEMA_NAMES: tuple[str, ...] = ("default", "otel", "ecs", "gcp", "datadog", "xray")


def gcp(project: str | None = None) -> GcpSchema:
    """The ``gcp`` layout for *project* (default: ``GOOGLE_CLOUD_PROJECT``).

    Raises:
        ValueError: if no project id is given or set.
    """
    project = project if project is not None else os.environ.get("GOOGLE_CLOUD_PROJECT", "")
    if not isinstance(project, str) or not project.strip() or "/" in project:
        raise ValueError(
            "schema 'gcp' needs a Google Cloud project id: pass gcp_project=... "
            "or set GOOGLE_CLOUD_PROJECT"
        )
    return GcpSchema(project=project.strip())


def datadog(
    *, full_trace_id: bool = False, env: str | None = None, version: str | None = None
) -> DatadogSchema:
    """The ``datadog`` layout; *env*/*version* default to ``DD_ENV``/``DD_VERSION``."""
    return DatadogSchema(
        full_trace_id=bool(full_trace_id),
        env=env if env is not None else os.environ.get("DD_ENV") or None,
        version=version if version is not None else os.environ.get("DD_VERSION") or None,
    )


def get_schema(schema: str | Schema | None, **options: Any) -> Schema:
    """Resolve a layout name (or pass a :class:`Schema` through).

    Args:
        schema: a name from :data:`SCHEMA_NAMES`, a Schema, or None for ``default``.
        options: ``gcp_project`` for ``gcp``; ``datadog_full_trace_id``,
            ``datadog_env``, ``datadog_version`` for ``datadog``.

    Raises:
        ValueError: for an unknown name, naming the valid ones, or a missing GCP project.
        TypeError: for anything that is neither a name nor a Schema.
    """
    if isinstance(schema, Schema):
        return schema
    if schema is None:
        schema = "default"
    if not isinstance(schema, str):
        raise TypeError(f"schema must be a name or a tracelog Schema, not {type(schema).__name__}")
    name = schema.strip().lower()
    if name == "gcp":
        return gcp(options.get("gcp_project"))
    if name == "datadog":
        return datadog(
            full_trace_id=bool(options.get("datadog_full_trace_id", False)),
            env=options.get("datadog_env"),
            version=options.get("datadog_version"),
        )
    fixed = {"default": DEFAULT, "otel": OTEL, "ecs": ECS, "xray": XRAY}
    if name not in fixed:
        raise ValueError(f"unknown schema {schema!r}; valid schemas: {', '.join(SCHEMA_NAMES)}")
    return fixed[name]


def all_readers() -> tuple[Schema, ...]:
    """One instance of every layout, for reading lines back (GCP's project is irrelevant)."""
    return (DEFAULT, OTEL, ECS, GcpSchema(project="-"), DatadogSchema(), XRAY)
