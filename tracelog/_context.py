"""The one reader of the current OpenTelemetry context.

Everything else in tracelog asks this module for the active span's ids, so the rules live
in one place:

* validity is ``SpanContext.is_valid``, not ``Span.is_recording()``: an unsampled span
  and a remote parent extracted from a ``traceparent`` are not recording, yet their ids
  are exactly what a log line must carry;
* ids are formatted once per span context and cached, because formatting two ints as
  hex costs more than the rest of the lookup.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from opentelemetry import context as _otel_context
from opentelemetry import trace
from opentelemetry.context import get_value

from tracelog import _compat

if TYPE_CHECKING:
    from collections.abc import Callable

_SPAN_KEY = _compat.SPAN_KEY

__all__ = [
    "TraceContext",
    "capture_span",
    "current_service",
    "current_span_for",
    "current_trace_context",
    "escaped_context",
    "remember_escape",
    "span_context_in",
]

_SAMPLED = 0x01
_MISSING = object()
_CACHE_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class TraceContext:
    """The ids of one span, formatted the W3C way.

    Attributes:
        trace_id: 32 lowercase hex digits.
        span_id: 16 lowercase hex digits.
        trace_flags: the W3C flags byte as 2 lowercase hex digits. Only bit 0 means
            sampled; the SDK also sets the "random" bit, so ``"03"`` is common.
        is_remote: True when the span context was extracted from an incoming request.

    .. versionadded:: 0.1.0
    """

    trace_id: str
    span_id: str
    trace_flags: str
    is_remote: bool = False
    #: Whether bit 0 (sampled) of the flags is set; worked out once, for the samplers.
    sampled: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sampled", bool(int(self.trace_flags, 16) & _SAMPLED))

    @property
    def traceparent(self) -> str:
        """The W3C ``traceparent`` header value for this context."""
        return f"00-{self.trace_id}-{self.span_id}-{self.trace_flags}"

    @classmethod
    def from_ints(
        cls, trace_id: int, span_id: int, trace_flags: int, *, is_remote: bool = False
    ) -> TraceContext:
        """Format integer ids (as OpenTelemetry stores them)."""
        return cls(
            format(trace_id, "032x"),
            format(span_id, "016x"),
            format(trace_flags & 0xFF, "02x"),
            is_remote,
        )


# id(SpanContext) -> (SpanContext, TraceContext). A span keeps one SpanContext object for
# its whole life, so an identity hit answers almost every call with one dict lookup; the
# stored reference keeps the id from being reused while the entry lives.
_formatted: dict[int, tuple[Any, TraceContext]] = {}


_read_context = _compat.context_reader()
# Span classes already seen to pass isinstance(span, trace.Span): an ABC check costs
# more than the rest of the lookup, and a process has only a handful of span types.
_span_types: set[type] = set()


def _current_span() -> Any:
    if _SPAN_KEY is None:  # pragma: no cover
        return trace.get_current_span()
    span = _read_context().get(_SPAN_KEY) if _read_context is not None else get_value(_SPAN_KEY)
    if span is None:
        return trace.INVALID_SPAN
    kind = type(span)
    if kind in _span_types:
        return span
    if isinstance(span, trace.Span):
        _span_types.add(kind)
        return span
    return trace.INVALID_SPAN


#: The current OTel Context object, as an opaque token. Contexts are immutable: while the
#: same token is current, so is the same span. The sampler uses it to remember "this
#: context's trace is dropped" without reading the span again. Bound straight to the
#: ContextVar's ``get`` where OTel's default runtime context allows: one C call.
current_context_token: Callable[[], object] = (
    _read_context if _read_context is not None else _otel_context.get_current
)


def _from_span_context(sc: Any) -> TraceContext | None:
    hit = _formatted.get(id(sc))
    if hit is not None and hit[0] is sc:
        return hit[1]
    # is_valid, not is_recording(): unsampled spans and remote parents keep their ids.
    if not sc.is_valid:
        return None
    ctx = TraceContext.from_ints(
        sc.trace_id, sc.span_id, sc.trace_flags, is_remote=bool(sc.is_remote)
    )
    if len(_formatted) >= _CACHE_LIMIT:
        # A plain clear is cheaper than LRU bookkeeping on every hit, and the working
        # set (spans alive right now) refills it within a few calls.
        _formatted.clear()
    _formatted[id(sc)] = (sc, ctx)
    return ctx


def current_trace_context() -> TraceContext | None:
    """Return the ids of the span active in the caller's context, or None.

    None means "no valid span": the caller must leave the id fields out of its line,
    never write zeros.

    .. versionadded:: 0.1.0
    """
    return _from_span_context(_current_span().get_span_context())


def local_root_span() -> Any:
    """The current span if it is its trace's local root (no parent, or a remote one).

    Only SDK spans know their parent; for anything else this returns None.
    """
    span = _current_span()
    parent = getattr(span, "parent", _MISSING)
    if parent is _MISSING:
        return None
    return span if parent is None or getattr(parent, "is_remote", False) else None


def is_finished(span: Any) -> bool:
    """Whether a span returned by :func:`local_root_span` has ended."""
    try:
        return not span.is_recording()
    except Exception:
        return True


def capture_span() -> tuple[Any, TraceContext | None, str | None]:
    """:func:`capture`, plus the span object itself, from one lookup (for the bridge)."""
    token = _read_context() if _read_context is not None else None
    last = _last_capture
    if last[0] is token:
        return last[1], last[2], last[3]
    span = _current_span()
    ctx = _from_span_context(span.get_span_context())
    if ctx is None:
        return span, None, _service_of(None)
    service = _service_of(getattr(span, "resource", None))
    _remember(token, span, ctx, service)
    return span, ctx, service


# (Context, span, ids, service) of the last capture inside a span. An OTel Context is
# immutable: while the same Context object is current, so is the same span, and the
# answer is the same. The strong reference keeps the object's identity from being
# reused. Only captures inside a span are kept: outside one, the service comes from the
# global provider, which an SDK set up later changes.
_last_capture: tuple[object, Any, TraceContext | None, str | None] = (object(), None, None, None)


def _remember(token: object, span: Any, ctx: TraceContext, service: str | None) -> None:
    global _last_capture  # noqa: PLW0603 - a one-entry cache, swapped atomically
    if token is not None:
        _last_capture = (token, span, ctx, service)


def current_span_for(ctx: TraceContext | None) -> Any:
    """The span active in the caller's context if *ctx* was captured from it, else None.

    The bridge records span events on the span a log call was made in. When the ids were
    captured earlier or elsewhere (a ``TraceContextFilter`` before a queue, structlog's
    ``capture_trace_context``) and the span current here is another one, there is no
    span to write to: the caller gets None rather than a wrong span.
    """
    if ctx is None:
        return None
    span: Any = get_value(_SPAN_KEY) if _SPAN_KEY is not None else trace.get_current_span()
    try:
        sc = span.get_span_context()
    except AttributeError:  # nothing (or no span) under the key: no current span
        return None
    now = _from_span_context(sc)
    # The cache hands out one TraceContext per span context, so identity is the usual
    # answer; the id comparison covers a cache refill in between.
    if now is ctx or (
        now is not None and now.span_id == ctx.span_id and now.trace_id == ctx.trace_id
    ):
        return span
    return None


def capture() -> tuple[TraceContext | None, str | None]:
    """Return the current ids and the service name of the current span's Resource.

    Adapters call this once per log call, on the caller's thread: the span is read once
    for both facts.
    """
    token = _read_context() if _read_context is not None else None
    last = _last_capture
    if last[0] is token:
        return last[2], last[3]
    span = _current_span()
    ctx = _from_span_context(span.get_span_context())
    if ctx is None:
        return None, _service_of(None)
    resource = getattr(span, "resource", None)
    cached = _last_resource
    service: str | None = cached[1]
    if cached[0] is not resource or service is None:
        service = _service_of(resource)
    _remember(token, span, ctx, service)
    return ctx, service


# (resource, service.name) of the last lookup: resources are long-lived singletons, so an
# identity check answers almost every call.
_last_resource: tuple[object, str | None] = (object(), None)
_last_provider: tuple[object, str | None] = (object(), None)


def _resource_service(resource: Any) -> str | None:
    try:
        name = resource.attributes.get("service.name")
    except Exception:
        return None
    if not isinstance(name, str) or not name or name.startswith("unknown_service"):
        return None
    return name


def _service_of(resource: Any) -> str | None:
    global _last_resource, _last_provider  # noqa: PLW0603 - a one-entry cache
    if resource is not None:
        cached = _last_resource
        if cached[0] is resource:
            name = cached[1]
        else:
            name = _resource_service(resource)
            _last_resource = (resource, name)
        if name is not None:
            return name
    # A remote parent or no span at all: fall back to the global provider's Resource,
    # read at call time so an SDK set up after configure() is still seen.
    provider = _compat.global_tracer_provider()
    if provider is None:
        return None
    cached = _last_provider
    if cached[0] is provider:
        return cached[1]
    name = _resource_service(getattr(provider, "resource", None))
    _last_provider = (provider, name)
    return name


# (provider, (service.version, deployment environment)) of the last lookup.
_last_deployment: tuple[object, tuple[str | None, str | None]] = (object(), (None, None))
_NO_DEPLOYMENT: tuple[str | None, str | None] = (None, None)


def _text_attribute(attributes: Any, *keys: str) -> str | None:
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def resource_deployment() -> tuple[str | None, str | None]:
    """(``service.version``, ``deployment.environment.name``) of the global tracer
    provider's Resource (the older ``deployment.environment`` too), read at call time."""
    global _last_deployment  # noqa: PLW0603 - a one-entry cache
    # The module global, as _service_of reads it: no env lookup per line.
    provider = trace._TRACER_PROVIDER
    cached = _last_deployment
    if cached[0] is provider:
        return cached[1]
    found = _NO_DEPLOYMENT
    try:
        attributes = provider.resource.attributes  # type: ignore[union-attr]
        found = (
            _text_attribute(attributes, "service.version"),
            _text_attribute(attributes, "deployment.environment.name", "deployment.environment"),
        )
    except Exception:  # no SDK provider (yet): nothing to read
        found = _NO_DEPLOYMENT
    _last_deployment = (provider, found)
    return found


def env_deployment() -> tuple[str | None, str | None]:
    """The same two facts from ``OTEL_RESOURCE_ATTRIBUTES`` (``k=v,k2=v2``, %-encoded)."""
    found: dict[str, str] = {}
    for item in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, sep, value = item.partition("=")
        if sep and value.strip():
            found[unquote(key.strip())] = unquote(value.strip())
    return (
        _text_attribute(found, "service.version"),
        _text_attribute(found, "deployment.environment.name", "deployment.environment"),
    )


def fallback_service() -> str:
    """``OTEL_SERVICE_NAME``, else the program name."""
    name = os.environ.get("OTEL_SERVICE_NAME", "").strip()
    if name:
        return name
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] not in {"", "-c"} else "python"
    base = os.path.basename(argv0)  # noqa: PTH119 - hot-ish path, str not Path
    return base.removesuffix(".py") or "python"


def current_service() -> str:
    """Return the service name a line written now would carry (without an explicit one).

    Order: the current span's Resource, then the global tracer provider's Resource (both
    ignoring ``unknown_service*``), then ``OTEL_SERVICE_NAME``, then the program name.

    .. versionadded:: 0.1.0
    """
    return _service_of(getattr(_current_span(), "resource", None)) or fallback_service()


# Where an exception keeps the ids of the request it escaped from (see remember_escape).
_ESCAPED_ATTR = "_tracelog_context"


def remember_escape(exc: BaseException, ctx: TraceContext | None = None) -> None:
    """Remember on *exc* the ids of the span it is escaping from, now, on its way out.

    Servers log a request's unhandled exception after the request's span has ended,
    where no span is current; :func:`escaped_context` gives that line the failed
    request's ids. The innermost span wins: an exception passing through several
    middlewares keeps the first context it was marked with. *ctx* stands in for the
    current ids when the caller saw them earlier.
    """
    if getattr(exc, _ESCAPED_ATTR, None) is not None:
        return
    ctx = ctx or current_trace_context()
    if ctx is None:
        return
    try:
        setattr(exc, _ESCAPED_ATTR, ctx)
    except (AttributeError, TypeError):  # an exception type with __slots__: nowhere to keep it
        return


def escaped_context(exc_info: Any) -> TraceContext | None:
    """The ids :func:`remember_escape` kept on the exception of *exc_info*, or None."""
    try:
        ctx = getattr(exc_info[1], _ESCAPED_ATTR, None)
    except Exception:
        return None
    return ctx if isinstance(ctx, TraceContext) else None


def span_context_in(context: Any) -> Any:
    """The valid span context an OTel ``Context`` carries (an extracted remote parent), or None."""
    sc = trace.get_current_span(context).get_span_context()
    return sc if sc.is_valid else None
