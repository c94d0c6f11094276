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
import sys
from typing import TYPE_CHECKING, Any

from opentelemetry import context as _otel_context
from opentelemetry import trace
from opentelemetry.trace import NoOpTracerProvider, TraceState, get_tracer_provider

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = [
    "FALLBACKS",
    "SPAN_KEY",
    "ProxyLoggerProvider",
    "context_reader",
    "django_response_closers",
    "fastapi_traces_itself",
    "global_tracer_provider",
    "logger_level_cache",
    "logging_lock",
    "span_dropped_events",
    "span_event_adder",
    "span_event_limit",
    "structlog_context_vars",
    "trace_state_unchecked",
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


# Per span type: how to add an event whose attributes are clean already.
_event_adders: dict[type, Callable[[Any, str, dict[str, Any], int], None]] = {}


def span_event_adder(span: Any) -> Callable[[Any, str, dict[str, Any], int], None]:
    """``add(span, name, attributes, ns)`` for spans of *span*'s type.

    *attributes* must hold only clean OTel values (str, bool, int, float, tuples of one
    of those) under ``str`` keys, as the bridge builds them. ``span.add_event()`` runs
    every value through the SDK's attribute cleaning again, which is about half its
    cost (``benchmarks/profile_bridge.py`` prints the share) and changes nothing for
    such values. For an SDK span whose limits need no cutting (no value length limit,
    not more attributes than the event limit, no empty key) the adder stores them as
    they are, through the same locked, ended-span-checked append and count of dropped
    events as ``add_event``; anything else, and every non-SDK span, gets the public
    ``span.add_event()``.
    """
    kind = type(span)
    add = _event_adders.get(kind)
    if add is None:
        add = _event_adders[kind] = _resolve_event_adder(kind) or _public_add_event
    return add


def _public_add_event(span: Any, name: str, attributes: dict[str, Any], ns: int) -> None:
    span.add_event(name, attributes, ns)


def _resolve_event_adder(kind: type) -> Callable[[Any, str, dict[str, Any], int], None] | None:
    sdk = sys.modules.get("opentelemetry.sdk.trace")  # an SDK span means it is loaded
    sdk_span: Any = getattr(sdk, "Span", None)
    if not (isinstance(sdk_span, type) and issubclass(kind, sdk_span)):
        return None
    from opentelemetry.attributes import BoundedAttributes  # noqa: PLC0415

    if getattr(kind, "add_event", None) is not getattr(sdk_span, "add_event", None):
        return None  # a subclass changed add_event: it gets its own
    event_type = getattr(sdk, "Event", None)
    if (  # pragma: no cover - an SDK that moved one of them
        not callable(getattr(kind, "_add_event", None))
        or not isinstance(getattr(BoundedAttributes(), "_dict", None), dict)
        or not isinstance(event_type, type)
    ):
        FALLBACKS.append("opentelemetry.sdk.trace.Span._add_event")
        return None

    def add(span: Any, name: str, attributes: dict[str, Any], ns: int) -> None:
        limits = span._limits
        most = limits.max_event_attributes
        if (
            limits.max_attribute_length is not None
            or (most is not None and len(attributes) > most)
            or "" in attributes
        ):
            span.add_event(name, attributes, ns)  # the SDK cuts, drops and warns
            return
        bounded = BoundedAttributes(most, None, immutable=True)
        bounded._dict = attributes  # clean already: no second cleaning
        span._add_event(event_type(name, bounded, ns))

    return add


def span_event_limit(span: Any) -> int | None:
    """An SDK span's event limit, for the dropped-events message; None if unknown."""
    limit = getattr(getattr(span, "_limits", None), "max_events", None)
    return limit if isinstance(limit, int) else None


def structlog_context_vars() -> dict[str, Any] | None:
    """structlog's registry of the contextvars ``bind_contextvars()`` created, or None.

    While it is empty nothing is bound, and both adapters skip asking. None when
    ``structlog.contextvars`` is not loaded (the caller asks again later) or keeps no such
    registry (another structlog: the caller always asks). Never imports structlog.
    """
    module = sys.modules.get("structlog.contextvars")
    if module is None:
        return None
    found = getattr(module, "_CONTEXT_VARS", None)
    if not isinstance(found, dict):  # pragma: no cover - a structlog that moved it
        FALLBACKS.append("structlog.contextvars._CONTEXT_VARS")
        return None
    return found


def django_response_closers(response: Any) -> list[Any] | None:
    """The callables a Django ``HttpResponse`` runs on ``close()`` (its ``_resource_closers``).

    Django's own hook for "the server is done with this response"; None where the
    response has none (then the caller ends the request's context at once).
    """
    closers = getattr(response, "_resource_closers", None)
    return closers if isinstance(closers, list) else None


def logger_level_cache(logger: logging.Logger) -> dict[int, bool]:
    """stdlib's per-logger ``isEnabledFor`` cache (``Logger._cache``), read directly.

    ``isEnabledFor()`` fills it; ``setLevel`` and ``logging.disable`` clear it, so a hit
    is the current answer for one dict read. Without it (another logging), an empty
    dict that is never filled sends every call to ``isEnabledFor()``.
    """
    cache = getattr(logger, "_cache", None)
    if type(cache) is dict:
        return cache
    FALLBACKS.append("logging.Logger._cache")  # pragma: no cover
    return {}  # pragma: no cover


@contextlib.contextmanager
def logging_lock() -> Iterator[None]:
    """stdlib logging's module lock, the one ``Logger.addHandler`` takes."""
    lock = getattr(logging, "_lock", None)
    if lock is None:  # pragma: no cover - a Python without it
        yield
        return
    with lock:
        yield


def _fastapi_telemetry(app: Any) -> Any:
    """FastAPI's request telemetry of *app*, or of the app it wraps (a few ``.app`` deep)."""
    for _ in range(8):
        native = getattr(app, "_native_telemetry", None)
        if native is not None:
            return native
        app = getattr(app, "app", None)
    return None


def fastapi_traces_itself(app: Any, scope: Any) -> bool:
    """Whether *app* is a FastAPI app that starts its own ``SERVER`` span for this request.

    FastAPI (0.16x) traces requests itself once a tracer provider is set, from the
    request's headers rather than the current context: a span of ours around it would
    be a sibling, not a parent. FastAPI's own settings decide (``telemetry=``: tracing
    on, the provider, excluded requests), with the provider set at the time of the request.
    """
    native = _fastapi_telemetry(app)
    api = sys.modules.get("fastapi.telemetry._api")
    if native is None or api is None:
        return False
    try:
        config = native.config
        exclude = config["exclude"]
        if not config["tracing"] or (exclude is not None and exclude(scope)):
            return False
        provider = config["tracer_provider"] or get_tracer_provider()
        return not api._unconfigured(provider) and not isinstance(provider, NoOpTracerProvider)
    except Exception:  # pragma: no cover - a FastAPI whose internals moved
        FALLBACKS.append("fastapi.telemetry._api._unconfigured")
        return False


def trace_state_unchecked(members: list[tuple[str, str]]) -> TraceState:
    """A ``TraceState`` holding *members* as given, in order (already checked by the caller).

    OpenTelemetry's constructor refuses keys that W3C's current grammar allows (``foo@``,
    ``t@`` + 15 characters); the caller has checked every member against that grammar,
    so they go straight into the state's own mapping. ``to_header()`` then passes them on.
    """
    state = TraceState()
    inner = getattr(state, "_dict", None)
    if not isinstance(inner, dict):  # pragma: no cover - an API that moved it
        FALLBACKS.append("opentelemetry.trace.TraceState._dict")
        return TraceState([(k, v) for k, v in members if k and v])
    inner.update(members)
    return state
