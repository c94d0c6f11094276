"""``configure()``: stdlib's root logger and structlog, wired the same way in one call.

Every setting resolves in one order: the argument, then its ``TRACELOG_*`` variable,
then the default. Each call *replaces* the previous configuration (handler, stream,
schema, level, structlog chain); it is never a silent no-op like ``basicConfig``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import warnings
from typing import IO, TYPE_CHECKING, Any

from tracelog._line import LineEncoder
from tracelog.schemas import SCHEMA_NAMES, Schema, get_schema
from tracelog.stdlib import JsonFormatter, JsonStreamHandler

if TYPE_CHECKING:
    from opentelemetry._logs import LoggerProvider

    from tracelog.bridge import Bridge
    from tracelog.redact import Redactor
    from tracelog.structlog import BoundLogger

__all__ = ["configure", "get_logger", "shutdown"]

LEVEL_NAMES: dict[str, int] = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARNING": logging.WARNING,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
    "CRITICAL": logging.CRITICAL,
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_lock = threading.RLock()


class TracelogHandler(JsonStreamHandler):
    """The handler ``configure()`` puts on the root logger (found again by its type)."""


def otel_logging_handler(logger: logging.Logger) -> logging.Handler | None:
    """OpenTelemetry's own ``LoggingHandler`` on *logger*, if one is there.

    Matched by class name and module (the SDK's, or the logging instrumentation's), so
    the SDK is never imported to find out.
    """
    for handler in logger.handlers:
        for cls in type(handler).__mro__:
            if cls.__name__ == "LoggingHandler" and cls.__module__.startswith("opentelemetry."):
                return handler
    return None


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def parse_bool(value: object, name: str) -> bool:
    """A bool argument or an env-var string like ``"true"``/``"0"``.

    Raises:
        ValueError: for any other string.
        TypeError: for any other type.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{name} must be true or false (1/0, yes/no, on/off), not {value!r}")
    raise TypeError(f"{name} must be a bool, not {type(value).__name__}")


def parse_level(level: object) -> int:
    """A level name (any case) or a stdlib level number.

    Raises:
        ValueError: for an unknown name, naming the valid ones.
        TypeError: for another type.
    """
    if isinstance(level, bool):
        raise TypeError("level must be a level name or number, not a bool")
    if isinstance(level, int):
        if level < 0:
            raise ValueError(f"level must be >= 0, not {level}")
        return level
    if isinstance(level, str):
        found = LEVEL_NAMES.get(level.strip().upper())
        if found is None:
            raise ValueError(
                f"unknown level {level!r}; valid levels: DEBUG, INFO, WARNING, ERROR, CRITICAL"
            )
        return found
    raise TypeError(f"level must be a level name or number, not {type(level).__name__}")


def _stream(stream: object) -> IO[Any]:
    if stream is None:
        stream = _env("TRACELOG_STREAM") or "stderr"
    if isinstance(stream, str):
        name = stream.lower()
        if name == "stderr":
            return sys.stderr
        if name == "stdout":
            return sys.stdout
        raise ValueError(f"unknown stream {stream!r}; valid streams: stderr, stdout, or a file")
    if not callable(getattr(stream, "write", None)):
        raise TypeError(f"stream must be a writable file object, not {type(stream).__name__}")
    return stream  # type: ignore[return-value]


def configure(
    service: str | None = None,
    schema: str | Schema | None = None,
    level: str | int | None = None,
    stream: IO[Any] | str | None = None,
    span_events: bool | None = None,
    redact: bool | Redactor | None = None,
    *,
    otel_logs: bool | None = None,
    bridge_level: str | int | None = None,
    logger_provider: LoggerProvider | None = None,
    gcp_project: str | None = None,
    datadog_full_trace_id: bool = False,
) -> None:
    """Send stdlib logging and structlog through tracelog: one JSON line per call.

    Args:
        service: service name; default: the Resource's ``service.name`` at each call,
            then ``OTEL_SERVICE_NAME``, then the program name.
        schema: ``default``, ``otel``, ``ecs``, ``gcp``, ``datadog`` or ``xray``
            (``TRACELOG_SCHEMA``).
        level: minimum level (``TRACELOG_LEVEL``, default ``INFO``).
        stream: a writable file object, ``"stderr"`` or ``"stdout"``
            (``TRACELOG_STREAM``, default stderr).
        span_events: also record each log as an event on the current recording span
            (``TRACELOG_SPAN_EVENTS``, default false).
        redact: True (default), False, or a :class:`~tracelog.redact.Redactor`
            (``TRACELOG_REDACT``).
        otel_logs: also emit each log as an OTel ``LogRecord`` through the global
            ``LoggerProvider`` (``TRACELOG_OTEL_LOGS``, default false). If OTel's own
            ``LoggingHandler`` is on the root logger, stdlib records are left to it (one
            warning says so) and only structlog events are emitted.
        bridge_level: minimum level for span events and OTel log records (default
            ``INFO``; the JSON line's ``level`` still applies first).
        logger_provider: the ``LoggerProvider`` for ``otel_logs`` (default: the global
            one, looked up at each call).
        gcp_project: project id for the ``gcp`` schema (default ``GOOGLE_CLOUD_PROJECT``).
        datadog_full_trace_id: write Datadog's trace id as 128-bit hex.

    Raises:
        ValueError: for an unknown schema, level or stream, naming the valid choices.
        TypeError: for an argument of the wrong type.

    .. versionadded:: 0.1.0
    """
    schema_obj = get_schema(
        schema if schema is not None else (_env("TRACELOG_SCHEMA") or "default"),
        gcp_project=gcp_project,
        datadog_full_trace_id=datadog_full_trace_id,
    )
    levelno = parse_level(level if level is not None else (_env("TRACELOG_LEVEL") or "INFO"))
    if redact is None:
        env_redact = _env("TRACELOG_REDACT")
        redact = True if env_redact is None else parse_bool(env_redact, "TRACELOG_REDACT")
    if span_events is None:
        span_events = parse_bool(_env("TRACELOG_SPAN_EVENTS") or "false", "TRACELOG_SPAN_EVENTS")
    else:
        parse_bool(span_events, "span_events")
    if otel_logs is None:
        otel_logs = parse_bool(_env("TRACELOG_OTEL_LOGS") or "false", "TRACELOG_OTEL_LOGS")
    else:
        parse_bool(otel_logs, "otel_logs")
    out = _stream(stream)
    encoder = LineEncoder(schema_obj, service=service, redact=redact)
    bridges = _bridges(
        span_events,
        otel_logs,
        "INFO" if bridge_level is None else bridge_level,
        logger_provider,
        encoder,
    )

    with _lock:
        handler = TracelogHandler(out)
        handler.setLevel(levelno)
        handler.setFormatter(JsonFormatter(encoder=encoder, bridge=bridges[0]))
        root = logging.getLogger()
        _remove_handlers(root)
        root.addHandler(handler)
        root.setLevel(levelno)
        _configure_structlog(encoder, handler, levelno, bridges[1])


def _bridges(
    span_events: bool,
    otel_logs: bool,
    level: str | int,
    logger_provider: LoggerProvider | None,
    encoder: LineEncoder,
) -> tuple[Bridge | None, Bridge | None]:
    """The (stdlib, structlog) bridges, or None where there is nothing to bridge."""
    from tracelog.bridge import Bridge  # noqa: PLC0415 - only when asked for

    if not (span_events or otel_logs):
        return None, None

    def bridge(logs: bool) -> Bridge | None:
        if not (span_events or logs):
            return None
        return Bridge(
            span_events=span_events,
            otel_logs=logs,
            level=level,
            redact=encoder.redactor or False,
            logger_provider=logger_provider,
        )

    stdlib_logs = otel_logs
    if otel_logs and otel_logging_handler(logging.getLogger()) is not None:
        # OTel's handler already exports every stdlib record: a second LogRecord per
        # record would double them in the backend. It never sees structlog events.
        stdlib_logs = False
        warnings.warn(
            "tracelog: OpenTelemetry's LoggingHandler is already on the root logger, so "
            "configure(otel_logs=True) leaves stdlib records to it and exports only "
            "structlog events as OTel log records (no record is exported twice)",
            UserWarning,
            stacklevel=3,
        )
    shared = bridge(otel_logs)
    return (shared if stdlib_logs == otel_logs else bridge(stdlib_logs)), shared


def _remove_handlers(root: logging.Logger) -> None:
    for old in [h for h in root.handlers if isinstance(h, TracelogHandler)]:
        root.removeHandler(old)
        old.close()


def _configure_structlog(
    encoder: LineEncoder, handler: TracelogHandler, levelno: int, bridge: Bridge | None
) -> None:
    import structlog  # noqa: PLC0415 - `import tracelog` must not load structlog

    from tracelog import structlog as adapter  # noqa: PLC0415

    active = adapter.ACTIVE
    active.renderer = adapter.JsonRenderer(encoder=encoder, bridge=bridge, _newline=True)
    active.sink = handler.sink  # one sink: stdlib and structlog lines never interleave
    active.level = levelno
    structlog.configure(
        processors=adapter.chain(),
        wrapper_class=adapter.BoundLogger,
        logger_factory=adapter.SinkLoggerFactory(),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str | None = None, **initial_values: Any) -> BoundLogger:
    """A structlog logger that writes through tracelog's current configuration.

    Safe to call at import time, before :func:`configure`: the logger follows every
    later ``configure()`` call.

    .. versionadded:: 0.1.0
    """
    from tracelog.structlog import get_logger as _get  # noqa: PLC0415

    return _get(name, **initial_values)


def shutdown() -> None:
    """Remove tracelog's handler from the root logger and report lost lines, if any.

    .. versionadded:: 0.1.0
    """
    with _lock:
        _remove_handlers(logging.getLogger())


__all__ += ["SCHEMA_NAMES"]
