"""``configure()``: stdlib's root logger and structlog, wired the same way in one call.

Every setting resolves in one order: the argument, then its ``TRACELOG_*`` variable,
then the default. Each call *replaces* the previous configuration (handler, stream,
schema, level, structlog chain); it is never a silent no-op like ``basicConfig``.
"""

from __future__ import annotations

import io
import logging
import sys
import threading
import warnings
from typing import IO, TYPE_CHECKING, Any

from tracelog import _compat as compat
from tracelog import _frameworks, _state
from tracelog._levels import DEBUG
from tracelog._line import LineEncoder
from tracelog._options import resolve
from tracelog._queue import DEFAULT_QUEUE_SIZE, TracelogQueueHandler
from tracelog._sampling import LogSampler, SamplingStats, check_settings
from tracelog._watched import WatchedLineSink, is_path, open_log_file
from tracelog.schemas import SCHEMA_NAMES, Schema, gcp, get_schema
from tracelog.stdlib import JsonFormatter, JsonStreamHandler, TraceSamplingFilter

if TYPE_CHECKING:
    import os

    from opentelemetry._logs import LoggerProvider

    from tracelog.bridge import Bridge
    from tracelog.redact import Redactor
    from tracelog.structlog import BoundLogger

__all__ = ["SCHEMA_NAMES", "TracelogHandler", "configure", "get_logger", "shutdown", "stats"]

_lock = threading.RLock()


class TracelogHandler(JsonStreamHandler):
    """The handler ``configure()`` puts on the root logger (found again by its type)."""


_adapter: list[Any] = [None]  # tracelog.structlog, once imported


def stats() -> dict[str, int]:
    """Every counter of the current configuration.

    Keys: ``sampled_kept``, ``sampled_dropped``, ``buffered``, ``buffer_flushed``,
    ``buffer_discarded``, ``buffer_evicted``, ``buffered_traces`` (sampling and the
    debug buffer), ``queue_dropped`` (lines a full queue dropped), ``queue_lost_at_exit``
    (lines a stuck sink kept from being written at exit), ``sink_lost`` (lines the output
    could not take), ``sink_reentrant_dropped`` (lines logged from inside the sink's own
    write, past the one it holds back), ``bridge_failures`` (span events or OTel log
    records that failed). All zero when the feature is off or nothing is configured.

    .. versionadded:: 0.1.0
    """
    state = _state.current
    sampler = state.sampler
    counts = (sampler.stats if sampler is not None else SamplingStats()).as_dict()
    counts["buffered_traces"] = sampler.buffered_traces() if sampler is not None else 0
    counts["queue_dropped"] = state.queue.dropped_total if state.queue is not None else 0
    counts["queue_lost_at_exit"] = state.queue.lost_at_exit if state.queue is not None else 0
    counts["sink_lost"] = state.sink.lost if state.sink is not None else 0
    counts["sink_reentrant_dropped"] = state.sink.reentrant_dropped if state.sink is not None else 0
    bridges = {id(b): b for b in state.bridges if b is not None}
    counts["bridge_failures"] = sum(b.failures for b in bridges.values())
    return counts


def _otel_logging_handler(logger: logging.Logger) -> logging.Handler | None:
    """OpenTelemetry's own ``LoggingHandler`` on *logger*, if one is there.

    Matched by class name and module (the SDK's, or the logging instrumentation's), so
    the SDK is never imported to find out.
    """
    for handler in logger.handlers:
        for cls in type(handler).__mro__:
            if cls.__name__ == "LoggingHandler" and cls.__module__.startswith("opentelemetry."):
                return handler
    return None


def _stream(stream: object) -> IO[Any]:
    stream = resolve("stream", stream)
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
    frameworks: bool | None = None,
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
        frameworks: route the servers' own loggers (uvicorn, gunicorn, Django, Celery,
            werkzeug) through tracelog's handler, also when the server sets up its
            logging later (``TRACELOG_FRAMEWORKS``, default true). See the README's
            "Servers".
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
    # not when someone turns the feature on in production. Nothing global changes until
    # the whole new configuration is built.
    datadog_full_trace_id = resolve("datadog_full_trace_id", datadog_full_trace_id)
    if gcp_project is not None:
        gcp(gcp_project)
    bridge_levelno = resolve("bridge_level", bridge_level)
    check_settings(sample_orphans, buffer_lines, buffer_bytes, buffer_traces)
    queue_size = resolve("queue_size", queue_size)
    if logger_provider is not None and not callable(getattr(logger_provider, "get_logger", None)):
        raise TypeError(
            f"logger_provider must be an OpenTelemetry LoggerProvider, not {logger_provider!r}"
        )
    schema_arg = resolve("schema", schema)
    console = _is_console(schema_arg)
    schema_obj = get_schema(
        "default" if console else schema_arg,
        gcp_project=gcp_project,
        datadog_full_trace_id=datadog_full_trace_id,
    )
    levelno = resolve("level", level)
    redact = resolve("redact", redact)
    span_events = resolve("span_events", span_events)
    otel_logs = resolve("otel_logs", otel_logs)
    queue = resolve("queue", queue)
    buffer_debug = resolve("buffer_debug", buffer_debug)
    sample = resolve("sample", sample)
    frameworks = resolve("frameworks", frameworks)
    callsite = resolve("callsite", callsite)
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
    gate = min(levelno, DEBUG) if buffer_debug else levelno
    out = _stream(stream)
    encoder = (
        _console_encoder(service, redact, out, version, environment)
        if console
        else LineEncoder(
            schema_obj, service=service, redact=redact, version=version, environment=environment
        )
    )
    bridges = _bridges(span_events, otel_logs, bridge_levelno, logger_provider, encoder)
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
    adapter = _structlog_adapter()
    state = _state.State(
        handler=handler,
        front=front,
        renderer=adapter.JsonRenderer(encoder=encoder, bridge=bridges[1], _newline=True),
        sink=handler.sink,  # one sink: stdlib and structlog lines never interleave
        scrubber=encoder.scrubber,
        sampler=sampler,
        queue=queued,
        bridges=bridges,
        level=gate,
        callsite=callsite,
    )
    with _lock:
        if queued is not None:
            queued.start()
        _install_structlog(adapter, gate)
        root = logging.getLogger()
        root.setLevel(gate)
        old = _state.swap(state)
        _replace_handler(root, front)
        (_frameworks.route if frameworks else _frameworks.unroute)()
    _close(old)


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
    level: int,
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
    if otel_logs and _otel_logging_handler(logging.getLogger()) is not None:
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


def _ours(handler: logging.Handler) -> bool:
    return isinstance(handler, TracelogHandler | TracelogQueueHandler)


def _replace_handler(root: logging.Logger, front: logging.Handler | None) -> None:
    """Put *front* where tracelog's handler was (or last), in one step.

    The root's handler list is replaced by a new list, not edited in place: a thread
    that is logging right now walks either the old list or the new one, so it meets
    exactly one tracelog handler, never none (which would send its record to
    ``logging.lastResort``) and never two.
    """
    with compat.logging_lock():
        handlers: list[logging.Handler] = []
        for existing in root.handlers:
            if _ours(existing):
                if front is not None:
                    handlers.append(front)
                    front = None
            else:
                handlers.append(existing)
        if front is not None:
            handlers.append(front)
        root.handlers = handlers


def _close(old: _state.State) -> None:
    """Retire a replaced configuration: drain its queue, report what its sink lost."""
    if old.front is not None:
        old.front.close()
    if old.handler is not None and old.handler is not old.front:
        old.handler.close()


def _structlog_adapter() -> Any:
    adapter = _adapter[0]
    if adapter is None:
        # `import tracelog` must not load structlog: only configure() and get_logger() do.
        from tracelog import structlog as adapter  # noqa: PLC0415

        _adapter[0] = adapter
    return adapter


def _install_structlog(adapter: Any, levelno: int) -> None:
    import structlog  # noqa: PLC0415 - `import tracelog` must not load structlog

    adapter.ACTIVE.level = levelno
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
    # The adapter is kept after the first call: later calls (even from __del__ at
    # interpreter exit, when imports fail) use the module kept here.
    return _structlog_adapter().get_logger(name, **initial_values)  # type: ignore[no-any-return]


def shutdown() -> None:
    """Flush queue mode, remove tracelog's handler, and report lost lines, if any.

    .. versionadded:: 0.1.0
    """
    with _lock:
        old = _state.swap(_state.UNCONFIGURED)
        root = logging.getLogger()
        stale = [h for h in root.handlers if _ours(h)]
        _replace_handler(root, None)
    _close(old)
    for handler in stale:
        if handler is not old.front:
            handler.close()
