"""Helpers for tests (yours and ours): real SDK spans and captured, parsed lines.

The only tracelog module that imports ``opentelemetry.sdk``; install the ``sdk`` extra.

    with tracelog.testing.capture_lines() as lines, tracer().start_as_current_span("op"):
        log.info("hello")
    assert lines[0]["traceId"] == ...
"""

from __future__ import annotations

import io
import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tracelog import _render as render
from tracelog._extras import requires_extra

with requires_extra("tracelog.testing", "sdk"):
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

if TYPE_CHECKING:
    from collections.abc import Iterator

    from opentelemetry.sdk.trace import Tracer

__all__ = ["CapturedLines", "LogRecorder", "SpanRecorder", "capture_lines"]


class SpanRecorder:
    """A private ``TracerProvider`` with an in-memory exporter; never touches the global one.

    Args:
        service: the Resource's ``service.name``.
        sampler: an SDK sampler (default: the SDK's default, parent-based always-on).
        span_limits: an SDK ``SpanLimits`` (default: the SDK's, 128 events per span).

    .. versionadded:: 0.1.0
    """

    def __init__(
        self, service: str = "test-service", sampler: Any = None, span_limits: Any = None
    ) -> None:
        self.exporter = InMemorySpanExporter()
        kwargs: dict[str, Any] = {"resource": Resource.create({"service.name": service})}
        if sampler is not None:
            kwargs["sampler"] = sampler
        if span_limits is not None:
            kwargs["span_limits"] = span_limits
        self.provider = TracerProvider(**kwargs)
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer: Tracer = self.provider.get_tracer("tracelog.testing")  # type: ignore[assignment]

    def finished(self) -> list[Any]:
        """The spans finished so far."""
        return list(self.exporter.get_finished_spans())

    def shutdown(self) -> None:
        """Shut the provider down."""
        self.provider.shutdown()


class LogRecorder:
    """A private OTel ``LoggerProvider`` with an in-memory exporter (never the global one).

    Pass :attr:`provider` as ``logger_provider=`` to ``configure()``,
    :class:`~tracelog.stdlib.OtelLogHandler` or :class:`~tracelog.structlog.OtelLogEmitter`.

    Args:
        service: the Resource's ``service.name``.

    .. versionadded:: 0.1.0
    """

    def __init__(self, service: str = "test-service") -> None:
        self.exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
        self.provider = LoggerProvider(resource=Resource.create({"service.name": service}))
        self.provider.add_log_record_processor(SimpleLogRecordProcessor(self.exporter))

    def records(self) -> list[Any]:
        """The SDK log records emitted so far (``.log_record`` holds the fields)."""
        return [item.log_record for item in self.exporter.get_finished_logs()]

    def shutdown(self) -> None:
        """Shut the provider down."""
        self.provider.shutdown()


class CapturedLines(list[dict[str, Any]]):
    """The parsed lines written while capturing; ``.text`` holds the raw output."""

    def __init__(self, buffer: io.StringIO) -> None:
        super().__init__()
        self._buffer = buffer

    @property
    def text(self) -> str:
        """Everything written, verbatim."""
        return self._buffer.getvalue()

    def refresh(self) -> CapturedLines:
        """Re-parse the buffer (call after logging inside the ``with`` block)."""
        # "\n" only: str.splitlines() also splits on U+0085, U+2028 and other characters a
        # JSON string may hold.
        self[:] = [render.loads(line) for line in self.text.split("\n") if line]
        return self


@contextmanager
def capture_lines(**configure_kwargs: Any) -> Iterator[CapturedLines]:
    """Configure tracelog into a buffer for the block, then restore logging as it was.

    Keyword arguments go to :func:`tracelog.configure`. The yielded list is filled
    when the block exits (or on ``refresh()``).

    .. versionadded:: 0.1.0
    """
    import structlog  # noqa: PLC0415

    import tracelog  # noqa: PLC0415
    from tracelog import _state  # noqa: PLC0415
    from tracelog import structlog as adapter  # noqa: PLC0415

    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_structlog = structlog.get_config()
    saved_state, saved_level_of_loggers = _state.current, adapter.ACTIVE.level
    buffer = io.StringIO()
    lines = CapturedLines(buffer)
    tracelog.configure(stream=buffer, **configure_kwargs)
    try:
        yield lines
    finally:
        tracelog.shutdown()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        structlog.configure(**saved_structlog)
        _state.swap(saved_state)
        adapter.ACTIVE.level = saved_level_of_loggers
        lines.refresh()
