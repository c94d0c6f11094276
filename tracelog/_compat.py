"""Every read of another library's private attributes, in one place, each with a fallback.

tracelog reaches past public APIs only where the public way costs a measurable share of
a log line, or offers no way at all. Each such read lives here, with a public fallback
that keeps working (slower, or without the extra) if a future release moves the
attribute. :data:`FALLBACKS` names each fallback taken on the installed versions; the
test suite asserts it stays empty, so a release that moves one is noticed at once.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from typing import TYPE_CHECKING, Any

from opentelemetry import context as _otel_context
from opentelemetry import trace

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = [
    "FALLBACKS",
    "SPAN_KEY",
    "ProxyLoggerProvider",
    "context_reader",
    "global_tracer_provider",
    "logging_lock",
    "span_dropped_events",
    "span_event_limit",
    "structlog_context_vars",
]

#: The private reads that fell back to a public path on the installed versions.
FALLBACKS: list[str] = []

# The context key get_current_span() reads; going straight to it halves the lookup cost.
try:
    from opentelemetry.trace.propagation import _SPAN_KEY

    SPAN_KEY: str | None = _SPAN_KEY
except ImportError:  # pragma: no cover - an API that moved it
    SPAN_KEY = None
    FALLBACKS.append("opentelemetry.trace.propagation._SPAN_KEY")

# The global LoggerProvider before set_logger_provider(): emitting to it does nothing.
try:
    from opentelemetry._logs._internal import ProxyLoggerProvider
except ImportError:  # pragma: no cover - an API that moved it
    from opentelemetry._logs import NoOpLoggerProvider as ProxyLoggerProvider  # type: ignore[assignment]

    FALLBACKS.append("opentelemetry._logs._internal.ProxyLoggerProvider")


def context_reader() -> Callable[[], Any] | None:
    """A function returning the current OTel ``Context``, or None for the public path.

    OTel's default runtime context keeps the current Context in one ContextVar. Reading
    it directly skips three Python-level calls on every log line; any other runtime
    context (``OTEL_PYTHON_CONTEXT``) goes through the public ``get_value()``.
    """
    runtime = getattr(_otel_context, "_RUNTIME_CONTEXT", None)
    var = getattr(runtime, "_current_context", None)
    if isinstance(var, contextvars.ContextVar):
        return var.get
    if type(runtime).__name__ == "ContextVarsRuntimeContext":  # pragma: no cover
        FALLBACKS.append("opentelemetry.context._RUNTIME_CONTEXT._current_context")
    return None


def global_tracer_provider() -> Any:
    """The global tracer provider as set, or None while none is.

    The module global, not ``get_tracer_provider()``: that function reads
    ``os.environ`` on every call until an SDK is installed, which would put an
    environment lookup on each line logged outside a span.
    """
    return getattr(trace, "_TRACER_PROVIDER", None)


if not hasattr(trace, "_TRACER_PROVIDER"):  # pragma: no cover - an API that moved it
    FALLBACKS.append("opentelemetry.trace._TRACER_PROVIDER")


def span_dropped_events(span: Any) -> int:
    """How many events an SDK span has dropped at its limit; 0 for other spans.

    The events list's own count, which is what the SDK's public ``dropped_events``
    property reads, without the property's cost on every bridged line.
    """
    dropped = getattr(getattr(span, "_events", None), "dropped", 0)
    return dropped if type(dropped) is int else 0


def span_event_limit(span: Any) -> int | None:
    """An SDK span's event limit, for the dropped-events message; None if unknown."""
    limit = getattr(getattr(span, "_limits", None), "max_events", None)
    return limit if isinstance(limit, int) else None


def structlog_context_vars() -> dict[str, Any] | None:
    """structlog's registry of the contextvars ``bind_contextvars()`` created, or None.

    While it is empty, ``merge_contextvars`` has nothing to merge and the fast path skips
    the call. Without it (another structlog), the caller always merges.
    """
    from structlog import contextvars as structlog_contextvars  # noqa: PLC0415

    found = getattr(structlog_contextvars, "_CONTEXT_VARS", None)
    if not isinstance(found, dict):  # pragma: no cover - a structlog that moved it
        FALLBACKS.append("structlog.contextvars._CONTEXT_VARS")
        return None
    return found


@contextlib.contextmanager
def logging_lock() -> Iterator[None]:
    """stdlib logging's module lock, the one ``Logger.addHandler`` takes."""
    lock = getattr(logging, "_lock", None)
    if lock is None:  # pragma: no cover - a Python without it
        yield
        return
    with lock:
        yield
