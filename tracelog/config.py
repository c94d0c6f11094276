"""``configure()``: stdlib's root logger and structlog, wired the same way in one call.

Every setting resolves in one order: the argument, then its ``TRACELOG_*`` variable,
then the default. Each call *replaces* the previous configuration (handler, stream,
schema, level, structlog chain); it is never a silent no-op like ``basicConfig``.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
import warnings
from typing import IO, TYPE_CHECKING, Any

from tracelog._line import LineEncoder
from tracelog._queue import DEFAULT_QUEUE_SIZE, TracelogQueueHandler
from tracelog._watched import WatchedLineSink, is_path, open_log_file
from tracelog.sampling import LogSampler, SamplingStats, check_settings, positive_int
from tracelog.schemas import SCHEMA_NAMES, Schema, gcp, get_schema
from tracelog.stdlib import JsonFormatter, JsonStreamHandler, TraceSamplingFilter

if TYPE_CHECKING:
    from opentelemetry._logs import LoggerProvider

    from tracelog.bridge import Bridge
    from tracelog.redact import Redactor
    from tracelog.structlog import BoundLogger

__all__ = ["configure", "get_logger", "shutdown", "stats"]

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


class _State:
    """What the last ``configure()`` set up, for :func:`stats`."""

    sampler: LogSampler | None = None
    queue: TracelogQueueHandler | None = None


_state = _State()
_adapter: list[Any] = [None]  # tracelog.structlog, once imported


def stats() -> dict[str, int]:
    """Counters of the current configuration: sampling, the debug buffer, the queue.

    Keys: ``sampled_kept``, ``sampled_dropped``, ``buffered``, ``buffer_flushed``,
    ``buffer_discarded``, ``buffer_evicted``, ``buffered_traces``, ``queue_dropped``.
    All zero when the feature is off.

    .. versionadded:: 0.1.0
    """
    sampler = _state.sampler
    counts = (sampler.stats if sampler is not None else SamplingStats()).as_dict()
    counts["buffered_traces"] = sampler.buffered_traces() if sampler is not None else 0
    queued = _state.queue
    counts["queue_dropped"] = queued.dropped_total if queued is not None else 0
    return counts


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
    if is_path(stream):
        return open_log_file(stream)  # type: ignore[arg-type]
    if isinstance(stream, str):
        name = stream.lower()
        if name == "stderr":
            return sys.stderr
        if name == "stdout":
            return sys.stdout
        raise ValueError(
            f"unknown stream {stream!r}; valid streams: stderr, stdout, a file object, "
            "or a file path (with a / or a .)"
        )
    if not callable(getattr(stream, "write", None)):
        raise TypeError(f"stream must be a writable file object, not {type(stream).__name__}")
    return stream  # type: ignore[return-value]


def configure(
    service: str | None = None,
    schema: str | Schema | None = None,
    level: str | int | None = None,
    stream: IO[Any] | str | os.PathLike[str] | None = None,
    span_events: bool | None = None,
    redact: bool | Redactor | None = None,
    *,
    queue: bool | None = None,
    queue_size: int = DEFAULT_QUEUE_SIZE,
    sample: str | float | None = None,
    sample_orphans: float = 1.0,
    buffer_debug: bool | None = None,
    buffer_lines: int = 100,
    buffer_bytes: int = 64 * 1024,
    buffer_traces: int = 1000,
    otel_logs: bool | None = None,
    bridge_level: str | int | None = None,
    logger_provider: LoggerProvider | None = None,
    gcp_project: str | None = None,
    datadog_full_trace_id: bool = False,
    callsite: bool | None = None,
    version: str | None = None,
    environment: str | None = None,
) -> None:
    """Send stdlib logging and structlog through tracelog: one JSON line per call.

    Args:
        service: service name; default: the Resource's ``service.name`` at each call,
            then ``OTEL_SERVICE_NAME``, then the program name.
        schema: ``default``, ``otel``, ``ecs``, ``gcp``, ``datadog`` or ``xray``
            (``TRACELOG_SCHEMA``); ``console`` for readable development output
            (never the default).
        level: minimum level (``TRACELOG_LEVEL``, default ``INFO``).
        stream: a writable file object, ``"stderr"``, ``"stdout"`` or a file path
            (``TRACELOG_STREAM``, default stderr). A path (a ``PathLike``, or text with
            a ``/`` or a ``.``) is appended to and reopened after log rotation.
        span_events: also record each log as an event on the current recording span
            (``TRACELOG_SPAN_EVENTS``, default false).
        redact: True (default), False, or a :class:`~tracelog.redact.Redactor`
            (``TRACELOG_REDACT``).
        queue: format and write on a listener thread (``TRACELOG_QUEUE``); the ids,
            time and message are captured at the call. See the README's "Queue mode".
        queue_size: the queue's bound (default 10,000 records).
        sample: per-trace log sampling (``TRACELOG_SAMPLE``): None (off, the default),
            ``"parent"`` (follow the span's sampled flag) or a ratio such as ``0.25``
            (decided from the trace id like OTel's ``TraceIdRatioBased``). WARNING and
            above are always kept.
        sample_orphans: the share of lines outside any span to keep when sampling.
        buffer_debug: hold lines below *level* that are inside a span, and write them
            only if their trace logs an error (``TRACELOG_BUFFER_DEBUG``).
        buffer_lines, buffer_bytes, buffer_traces: the debug buffer's bounds per trace
            and across traces.
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
        callsite: add the call's module, function and line to every line, named per
            layout (``TRACELOG_CALLSITE``, default false).
        version, environment: the service version and deployment environment; default:
            the Resource's ``service.version`` and ``deployment.environment.name`` (or
            ``deployment.environment``) at each line, then ``OTEL_RESOURCE_ATTRIBUTES``.
            Written per layout only where set.

    Raises:
        ValueError: for an unknown schema, level or stream, naming the valid choices.
        TypeError: for an argument of the wrong type.

    .. versionadded:: 0.1.0
    """
    # Every argument is checked, whether or not its feature is on: a typo must fail here,
    # not when someone turns the feature on in production.
    datadog_full_trace_id = parse_bool(datadog_full_trace_id, "datadog_full_trace_id")
    if gcp_project is not None:
        gcp(gcp_project)
    if bridge_level is not None:
        parse_level(bridge_level)
    check_settings(sample_orphans, buffer_lines, buffer_bytes, buffer_traces)
    positive_int(queue_size, "queue_size")
    if logger_provider is not None and not callable(getattr(logger_provider, "get_logger", None)):
        raise TypeError(
            f"logger_provider must be an OpenTelemetry LoggerProvider, not {logger_provider!r}"
        )
    schema_arg = schema if schema is not None else (_env("TRACELOG_SCHEMA") or "default")
    console = _is_console(schema_arg)
    schema_obj = get_schema(
        "default" if console else schema_arg,
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
    queue = parse_bool(queue if queue is not None else (_env("TRACELOG_QUEUE") or "false"), "queue")
    callsite = parse_bool(
        callsite if callsite is not None else (_env("TRACELOG_CALLSITE") or "false"), "callsite"
    )
    if buffer_debug is None:
        buffer_debug = parse_bool(_env("TRACELOG_BUFFER_DEBUG") or "false", "TRACELOG_BUFFER_DEBUG")
    else:
        buffer_debug = parse_bool(buffer_debug, "buffer_debug")
    if sample is None:
        sample = _env("TRACELOG_SAMPLE") or None
    if otel_logs is None:
        otel_logs = parse_bool(_env("TRACELOG_OTEL_LOGS") or "false", "TRACELOG_OTEL_LOGS")
    else:
        parse_bool(otel_logs, "otel_logs")
    sampler = None
    if sample is not None or buffer_debug:
        sampler = LogSampler(
            sample,
            orphan_rate=sample_orphans,
            buffer_debug=buffer_debug,
            output_level=levelno,
            buffer_lines=buffer_lines,
            buffer_bytes=buffer_bytes,
            buffer_traces=buffer_traces,
        )
    # With the debug buffer on, DEBUG records must reach tracelog to be buffered.
    gate = min(levelno, logging.DEBUG) if buffer_debug else levelno
    out = _stream(stream)
    encoder = (
        _console_encoder(service, redact, out, version, environment)
        if console
        else LineEncoder(
            schema_obj, service=service, redact=redact, version=version, environment=environment
        )
    )
    bridges = _bridges(
        span_events,
        otel_logs,
        "INFO" if bridge_level is None else bridge_level,
        logger_provider,
        encoder,
    )
    handler = TracelogHandler(out)
    if isinstance(out, io.BufferedWriter) and out is not stream:  # a path we opened
        handler.sink = WatchedLineSink(out.name, out)
    handler.setLevel(gate)
    handler.setFormatter(JsonFormatter(encoder=encoder, bridge=bridges[0], callsite=callsite))
    queued = TracelogQueueHandler(handler, maxsize=queue_size) if queue else None
    front: logging.Handler = queued if queued is not None else handler
    front.setLevel(gate)
    if sampler is not None:
        front.addFilter(TraceSamplingFilter(sampler, front.emit))

    with _lock:
        root = logging.getLogger()
        _remove_ours(root)
        root.addHandler(front)
        if queued is not None:
            queued.start()
        root.setLevel(gate)
        _configure_structlog(encoder, handler, gate, queued, sampler, bridges[1], callsite)
        _state.sampler = sampler
        _state.queue = queued


def _is_console(schema: object) -> bool:
    """Whether *schema* names the development layout; an unknown name fails here."""
    if not isinstance(schema, str):
        return False
    name = schema.strip().lower()
    if name == "console":
        return True
    if name not in SCHEMA_NAMES:
        raise ValueError(
            f"unknown schema {schema!r}; valid schemas: {', '.join(SCHEMA_NAMES)}, console"
        )
    return False


def _console_encoder(
    service: str | None,
    redact: object,
    out: IO[Any],
    version: str | None,
    environment: str | None,
) -> LineEncoder:
    from tracelog.console import ConsoleEncoder  # noqa: PLC0415 - only for schema="console"

    return ConsoleEncoder(
        service=service, redact=redact, stream=out, version=version, environment=environment
    )


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


def _remove_ours(root: logging.Logger) -> None:
    for old in [h for h in root.handlers if isinstance(h, TracelogHandler | TracelogQueueHandler)]:
        root.removeHandler(old)
        old.close()


def _configure_structlog(
    encoder: LineEncoder,
    handler: TracelogHandler,
    levelno: int,
    queued: TracelogQueueHandler | None,
    sampler: LogSampler | None,
    bridge: Bridge | None,
    callsite: bool = False,
) -> None:
    import structlog  # noqa: PLC0415 - `import tracelog` must not load structlog

    from tracelog import structlog as adapter  # noqa: PLC0415

    _adapter[0] = adapter
    active = adapter.ACTIVE
    active.renderer = adapter.JsonRenderer(encoder=encoder, bridge=bridge, _newline=True)
    active.sink = handler.sink  # one sink: stdlib and structlog lines never interleave
    active.level = levelno
    active.queue = queued
    active.sampler = sampler
    active.callsite = callsite
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
    adapter = _adapter[0]
    if adapter is None:
        # The first call imports; later ones (even from __del__ at interpreter exit, when
        # imports fail) use the module kept here.
        from tracelog import structlog as adapter  # noqa: PLC0415

        _adapter[0] = adapter
    return adapter.get_logger(name, **initial_values)  # type: ignore[no-any-return]


def shutdown() -> None:
    """Flush queue mode, remove tracelog's handler, and report lost lines, if any.

    .. versionadded:: 0.1.0
    """
    with _lock:
        _remove_ours(logging.getLogger())
        adapter = sys.modules.get("tracelog.structlog")
        if adapter is not None:
            adapter.ACTIVE.queue = None
            adapter.ACTIVE.sampler = None
            adapter.ACTIVE.callsite = False


__all__ += ["SCHEMA_NAMES"]
