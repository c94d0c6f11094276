"""W3C trace context over HTTP: WSGI and ASGI middleware in, :func:`inject_headers` out.

The middleware makes every log line of a request carry its trace id:

* when a valid span is already active (OpenTelemetry's own WSGI/ASGI instrumentation
  made one), it does nothing at all, so there is never a second server span;
* otherwise it extracts ``traceparent``/``tracestate`` with OpenTelemetry's *global*
  propagator (``OTEL_PROPAGATORS``: B3, baggage... are honoured) and
* with an SDK tracer provider, starts a ``SERVER`` span (``"GET /path"``, HTTP semantic
  convention attributes, ``ERROR`` status on 5xx and exceptions) under the caller's span;
* with the API alone, makes the caller's span context current, or a fresh trace id when
  the request brought none, so the request's lines still share one id (and
  :func:`inject_headers` passes it on).

Incoming W3C headers are cleaned by tracelog's own small parser before the propagator
sees them, following W3C Trace Context Level 1 where OpenTelemetry's
``TraceContextTextMapPropagator`` does not (see :func:`extract_context`).
"""

from __future__ import annotations

import random
import re
import sys
from typing import TYPE_CHECKING, Any, TypeVar, overload

from opentelemetry.context import Context, attach, detach
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import (
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    Tracer,
    TracerProvider,
    get_tracer,
    set_span_in_context,
)

from tracelog import _state
from tracelog._compat import django_response_closers, fastapi_traces_itself, trace_state_unchecked
from tracelog._context import (
    TraceContext,
    current_trace_context,
    remember_escape,
    span_context_in,
)

if TYPE_CHECKING:
    from collections.abc import (
        Awaitable,
        Callable,
        Iterable,
        Iterator,
        Mapping,
        MutableMapping,
        Sequence,
    )
    from contextvars import Token
    from types import TracebackType
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]
    ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
    ExcInfo = (
        tuple[type[BaseException], BaseException, TracebackType] | tuple[None, None, None] | None
    )

__all__ = [
    "AsgiTraceContextMiddleware",
    "DjangoMiddleware",
    "TraceContextMiddleware",
    "extract_context",
    "inject_headers",
]

_H = TypeVar("_H", bound="MutableMapping[str, str]")

# traceparent, any version: the version-00 fields, then (future versions only) more
# fields after a dash. Lowercase hex only: uppercase is invalid in every version.
_TRACEPARENT = re.compile(
    r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?", re.ASCII | re.DOTALL
)
# The size beyond which a traceparent is "prohibitively large" (OpenTelemetry's bound too).
_TRACEPARENT_MAX_CHARS = 512
_SAMPLED = 0x01
# tracestate list members, in W3C Trace Context's current grammar: a key starts with a
# lowercase letter or digit and may hold "@" anywhere (the grammar W3C's test suite checks).
_KEY = r"[0-9a-z][_0-9a-z\-*/@]{0,255}"
_VALUE = r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]"
_MEMBER = re.compile(rf"({_KEY})=({_VALUE})", re.ASCII)
# The older tenant@vendor key grammar OpenTelemetry's TraceState still validates with: a
# member outside it would make OpenTelemetry drop the whole header.
_OTEL_KEY = re.compile(
    r"[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13}", re.ASCII
)
_TRACESTATE_MAX_MEMBERS = 32
# W3C: vendors SHOULD pass on at least 512 characters; every propagator accepts that much.
_TRACESTATE_MAX_CHARS = 512
_TRACESTATE_LONG_MEMBER = 128

_KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)


def _w3c_traceparent(value: str) -> str | None:
    """The traceparent as a version-00 header, or None: restart the trace.

    W3C Trace Context Level 1, "Versioning of traceparent": version ``ff`` is invalid;
    a higher version is parsed with the version-00 layout (more fields may follow after a
    dash) and only its sampled flag is kept; uppercase hex, all-zero ids and wrong lengths
    are invalid.
    """
    value = value.strip(" \t")
    # A comma means repeated header lines, joined per RFC 9110: ambiguous, so invalid.
    if len(value) > _TRACEPARENT_MAX_CHARS or "," in value:
        return None
    match = _TRACEPARENT.fullmatch(value)
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    if version == "00":
        return None if rest is not None else value
    return f"00-{trace_id}-{span_id}-{int(flags, 16) & _SAMPLED:02x}"


def _w3c_tracestate(value: str) -> str | None:
    """The tracestate to pass on, or None: drop it.

    An invalid member (a bad key or value) or more than 32 members make the whole header
    invalid, and it is dropped, as W3C's test suite expects and OpenTelemetry does. Empty
    members (an empty header line) are allowed. A repeated key keeps its leftmost entry
    (its latest position; OpenTelemetry drops the header). A key valid in W3C's grammar
    that OpenTelemetry's ``TraceState`` would refuse (``foo@``, ``t@`` + 15 characters) is
    kept: :func:`_extract` passes it on beside OpenTelemetry's check. Past 512 characters
    whole members go, those over 128 characters first, then from the right (W3C
    "tracestate Limits").
    """
    members: dict[str, str] = {}
    for raw in value.split(","):
        member = raw.strip(" \t")
        if not member:
            continue
        match = _MEMBER.fullmatch(member)
        if match is None:
            return None
        key, val = match.groups()
        if key in members:
            continue
        if len(members) == _TRACESTATE_MAX_MEMBERS:
            return None
        members[key] = val
    entries = [f"{key}={val}" for key, val in members.items()]
    if len(",".join(entries)) > _TRACESTATE_MAX_CHARS:
        entries = [e for e in entries if len(e) <= _TRACESTATE_LONG_MEMBER]
        while len(",".join(entries)) > _TRACESTATE_MAX_CHARS:
            entries.pop()
    return ",".join(entries) or None


def _cleaned(carrier: dict[str, str]) -> dict[str, str]:
    """*carrier* (lowercase names, one value each) with its W3C headers cleaned in place."""
    traceparent = carrier.pop("traceparent", None)
    tracestate = carrier.pop("tracestate", None)
    if traceparent is not None:
        cleaned = _w3c_traceparent(traceparent)
        # An invalid traceparent makes the tracestate meaningless: both are dropped.
        if cleaned is not None:
            carrier["traceparent"] = cleaned
            state = None if tracestate is None else _w3c_tracestate(tracestate)
            if state is not None:
                carrier["tracestate"] = state
    return carrier


def extract_context(headers: Mapping[str, str | Sequence[str]]) -> Context:
    """Extract the caller's context from *headers* with OpenTelemetry's global propagator.

    Header names may have any case; a sequence value is a header repeated on several
    lines. ``traceparent`` and ``tracestate`` are first cleaned to W3C Trace Context
    Level 1, so OpenTelemetry's ``TraceContextTextMapPropagator`` reads only valid input:

    * a future version's flags keep only the sampled bit (OpenTelemetry keeps all 8);
    * a repeated ``traceparent`` starts a new trace (OpenTelemetry takes the first when
      it has a future version with extra fields);
    * ``tracestate`` follows W3C's current key grammar; an invalid member or a 33rd
      member drops the whole header (as W3C's test suite expects and OpenTelemetry does,
      but without its warning log line); a repeated key keeps its leftmost entry, and past
      512 characters whole members go, those over 128 characters first.

    Works for any string carrier: HTTP headers, message-queue headers.

    Returns:
        An OpenTelemetry ``Context`` holding the remote span (when valid) and baggage.

    .. versionadded:: 0.1.0
    """
    carrier = {
        name.lower(): value if isinstance(value, str) else ",".join(value)
        for name, value in headers.items()
    }
    return _extract(carrier)


def _extract(carrier: dict[str, str]) -> Context:
    """Clean *carrier*'s W3C headers and extract its context with the global propagator.

    OpenTelemetry's ``TraceState`` still checks keys with the older ``tenant@vendor``
    grammar and drops the whole header over one member it refuses. Such members (valid
    in W3C's current grammar) are kept from OpenTelemetry's parser and put back into the
    extracted span context beside it, so they are passed on like any other.
    """
    cleaned = _cleaned(carrier)
    state = cleaned.get("tracestate")
    if state is None:
        return extract(cleaned)
    members = [tuple(member.split("=", 1)) for member in state.split(",")]
    refused = [key for key, _ in members if not _OTEL_KEY.fullmatch(key)]
    if not refused:
        return extract(cleaned)
    accepted = ",".join(f"{k}={v}" for k, v in members if _OTEL_KEY.fullmatch(k))
    if accepted:
        cleaned["tracestate"] = accepted
    else:
        del cleaned["tracestate"]
    context = extract(cleaned)
    remote = span_context_in(context)
    if remote is None:
        return context
    full = SpanContext(
        remote.trace_id,
        remote.span_id,
        remote.is_remote,
        remote.trace_flags,
        trace_state_unchecked([(k, v) for k, v in members]),
    )
    return set_span_in_context(NonRecordingSpan(full), context)


@overload
def inject_headers(headers: None = None) -> dict[str, str]: ...
@overload
def inject_headers(headers: _H) -> _H: ...
def inject_headers(headers: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Add the current ``traceparent``/``tracestate`` (and baggage) to outgoing *headers*.

    Uses OpenTelemetry's global propagator on the current context; outside any valid span
    it adds nothing. Works with a dict, ``httpx.Headers``, ``requests``' headers...

    Args:
        headers: the request's headers, changed in place; None for a new dict.

    Returns:
        *headers* (or the new dict), for ``urllib.request.Request(url, headers=...)``.

    .. versionadded:: 0.1.0
    """
    carrier: MutableMapping[str, str] = {} if headers is None else headers
    inject(carrier)
    return carrier


def _fresh_span_context() -> SpanContext:
    # Not secrets, just unique: the SDK's RandomIdGenerator uses the same generator.
    trace_id = random.getrandbits(128) or 1
    span_id = random.getrandbits(64) or 1
    return SpanContext(trace_id, span_id, is_remote=False)


def _tracer(tracer_provider: TracerProvider | None) -> Tracer:
    # Without a provider: the global one's ProxyTracer, which follows an SDK set up later.
    return get_tracer("tracelog.web", tracer_provider=tracer_provider)


class _Exchange:
    """One request: the context its app runs in and, when a tracer made one, its span.

    The span is named after the method alone until the framework tells the route
    template (:meth:`route`): a raw path would make one span name per order id.
    """

    __slots__ = ("context", "failed", "method", "span")

    def __init__(
        self,
        tracer: Tracer,
        carrier: dict[str, str],
        method: str,
        path: str,
        scheme: str,
    ) -> None:
        parent = _extract(carrier)
        known = method if method in _KNOWN_METHODS else None
        attributes = {
            "http.request.method": known or "_OTHER",
            "url.path": path,
            "url.scheme": scheme,
        }
        if known is None:
            attributes["http.request.method_original"] = method
        self.method = known or "HTTP"
        self.failed = False
        span = tracer.start_span(
            self.method,
            context=parent,
            kind=SpanKind.SERVER,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        )
        made = span.get_span_context()
        if made.is_valid and not made.is_remote:
            # A real tracer (sampled or not) made a new span under the remote parent.
            self.span: Span | None = span
            self.context = set_span_in_context(span, parent)
        else:
            # The API's no-op tracer hands back the remote parent, or no span at all.
            self.span = None
            if not made.is_valid:
                made = _fresh_span_context()
            self.context = set_span_in_context(NonRecordingSpan(made), parent)

    def route(self, template: str | None) -> None:
        """Name the span after the route *template* (``/orders/{order_id}``), when known."""
        if self.span is not None and template:
            self.span.set_attribute("http.route", template)
            self.span.update_name(f"{self.method} {template}")

    def respond(self, status: int) -> None:
        if self.span is not None:
            self.span.set_attribute("http.response.status_code", status)
            if status >= 500 and not self.failed:
                self.span.set_attribute("error.type", str(status))
                self.span.set_status(Status(StatusCode.ERROR))

    def fail(self, exc: BaseException) -> None:
        """Record *exc* on the span once, and remember the request's ids on *exc*."""
        remember_escape(exc)
        if self.span is not None and not self.failed:
            self.failed = True
            # The same description and redaction as the log lines (the configured
            # Redactor): a request's failure often quotes what it was sent.
            type_, message, stack = _state.scrubber().exception((type(exc), exc, exc.__traceback__))
            self.span.record_exception(
                exc,
                attributes={
                    "exception.type": type_,
                    "exception.message": message,
                    "exception.stacktrace": stack,
                },
            )
            self.span.set_attribute("error.type", type(exc).__qualname__)
            self.span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {message}"))

    def end(self) -> None:
        if self.span is not None:
            self.span.end()
            self.span = None


def _status_code(status: str) -> int | None:
    try:
        return int(status[:3])
    except ValueError:
        return None


def _wsgi_carrier(environ: Mapping[str, Any]) -> dict[str, str]:
    # The server already joined repeated header lines with commas (PEP 3333).
    return {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_") and isinstance(value, str)
    }


# Where the WSGI middleware leaves its exchange in the environ, for Flask's signal below.
_EXCHANGE_KEY = "tracelog.exchange"


def _flask_failed(sender: Any, exception: BaseException, **_: Any) -> None:
    """Flask's ``got_request_exception``: a view's exception, before Flask answers 500.

    Flask never lets it reach the WSGI middleware, so the span records it from here,
    while the request's span is still current.
    """
    flask = sys.modules.get("flask")
    if flask is None or not flask.has_request_context():
        return
    exchange = flask.request.environ.get(_EXCHANGE_KEY)
    if isinstance(exchange, _Exchange):
        exchange.fail(exception)


def _flask_route() -> str | None:
    """The Flask ``url_rule`` of the request being handled on this thread, if any.

    Read through ``sys.modules``: tracelog never imports Flask, and an app that is not
    Flask has no Flask request context.
    """
    flask = sys.modules.get("flask")
    if flask is None or not flask.has_request_context():
        return None
    rule = flask.request.url_rule
    return None if rule is None else str(rule.rule)


class TraceContextMiddleware:
    """WSGI middleware: the request's log lines carry the caller's trace id.

    Wrap the WSGI application (inside OpenTelemetry's ``OpenTelemetryMiddleware`` if you
    use it; then this one steps aside)::

        app.wsgi_app = TraceContextMiddleware(app.wsgi_app)  # Flask
        app = TraceContextMiddleware(app)  # any WSGI app

    The context is current while the app runs and while the server iterates the
    response body, up to the body's ``close()`` (gunicorn writes its access line just
    before it); the span ends there. Flask's ``url_rule`` names the span, and a Flask
    view's exception (which Flask turns into a 500 itself) is recorded on it.

    Args:
        app: the WSGI application.
        tracer_provider: the provider for the ``SERVER`` span; default: the global one.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self, app: WSGIApplication, *, tracer_provider: TracerProvider | None = None
    ) -> None:
        self.app = app
        self._tracer = _tracer(tracer_provider)
        flask = sys.modules.get("flask")
        if flask is not None:
            # Flask's documented signal; connecting the same receiver again is a no-op.
            flask.got_request_exception.connect(_flask_failed, weak=False)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if current_trace_context() is not None:
            # Another middleware's SERVER span is current: it owns the request.
            try:
                return self.app(environ, start_response)
            except Exception as exc:
                remember_escape(exc)
                raise
        exchange = _Exchange(
            self._tracer,
            _wsgi_carrier(environ),
            str(environ.get("REQUEST_METHOD", "GET")),
            str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")),
            str(environ.get("wsgi.url_scheme", "http")),
        )
        environ[_EXCHANGE_KEY] = exchange

        def start(
            status: str, response_headers: list[tuple[str, str]], exc_info: ExcInfo = None, /
        ) -> Callable[[bytes], object]:
            code = _status_code(status)
            if code is not None:
                exchange.respond(code)
            # Flask calls start_response inside its request context: the rule is known.
            exchange.route(_flask_route())
            return start_response(status, response_headers, exc_info)

        token = attach(exchange.context)
        try:
            body = self.app(environ, start)
        except Exception as exc:
            exchange.fail(exc)
            exchange.end()
            raise
        finally:
            detach(token)
        return _Body(body, exchange)


class _Body:
    """The response iterable, iterated and closed inside the request's context.

    Attached per step, and from the end of the iteration to ``close()``: a server that
    logs its access line between the two (gunicorn) logs it with the request's ids,
    while a server that never iterates to the end cannot leave the context behind.
    """

    __slots__ = ("_body", "_exchange", "_iterator", "_token")

    def __init__(self, body: Iterable[bytes], exchange: _Exchange) -> None:
        self._body = body
        self._exchange = exchange
        self._iterator: Iterator[bytes] | None = None
        self._token: Token[Context] | None = None

    def __iter__(self) -> _Body:
        return self

    def __next__(self) -> bytes:
        token: Token[Context] | None = attach(self._exchange.context)
        try:
            if self._iterator is None:
                self._iterator = iter(self._body)
            return next(self._iterator)
        except StopIteration:
            if self._token is None:
                # Stays attached until close(), on this thread (PEP 3333: the server
                # calls close() where it iterated).
                self._token, token = token, None
            raise
        except Exception as exc:
            self._exchange.fail(exc)
            raise
        finally:
            if token is not None:
                detach(token)

    def close(self) -> None:
        token = attach(self._exchange.context)
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            detach(token)
            held, self._token = self._token, None
            if held is not None:
                detach(held)
            self._exchange.end()


def _starlette_route(scope: Scope) -> str | None:
    """The route template Starlette's router matched (``scope["route"]``), if any."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else None


class AsgiTraceContextMiddleware:
    """ASGI middleware: the request's log lines carry the caller's trace id.

    Handles ``http`` and ``websocket`` scopes; ``lifespan`` and others pass through. Wrap
    the ASGI application (inside OpenTelemetry's ``OpenTelemetryMiddleware`` if you use
    it; then this one steps aside)::

        app = AsgiTraceContextMiddleware(app)

    Repeated header lines are comma-joined (RFC 9110) before extraction, so a
    ``traceparent`` sent twice starts a new trace, as W3C requires. The span is named
    after Starlette's (FastAPI's) route template. A FastAPI app that traces requests
    itself keeps its own span, and this middleware starts none.

    Args:
        app: the ASGI application.
        tracer_provider: the provider for the ``SERVER`` span; default: the global one.

    .. versionadded:: 0.1.0
    """

    def __init__(self, app: ASGIApp, *, tracer_provider: TracerProvider | None = None) -> None:
        self.app = app
        self._tracer = _tracer(tracer_provider)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if current_trace_context() is not None or fastapi_traces_itself(self.app, scope):
            await self._step_aside(scope, receive, send)
            return
        carrier: dict[str, str] = {}
        for raw_name, raw_value in scope.get("headers") or ():
            # Names arrive lowercased; repeated lines are joined as RFC 9110 says.
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            carrier[name] = f"{carrier[name]},{value}" if name in carrier else value
        default_scheme = "ws" if kind == "websocket" else "http"
        exchange = _Exchange(
            self._tracer,
            carrier,
            str(scope.get("method", "GET")),
            # The ASGI spec's path already includes root_path (unlike WSGI's PATH_INFO).
            str(scope.get("path", "")),
            str(scope.get("scheme", default_scheme)),
        )

        async def send_observed(message: Message) -> None:
            event = message.get("type")
            if event == "http.response.start":
                exchange.respond(int(message.get("status", 200)))
            elif event == "websocket.accept":
                exchange.respond(101)
            await send(message)

        token = attach(exchange.context)
        try:
            await self.app(scope, receive, send_observed)
        except Exception as exc:
            exchange.fail(exc)
            raise
        finally:
            detach(token)
            exchange.route(_starlette_route(scope))
            exchange.end()

    async def _step_aside(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app under another tracer's span, remembering that span for an escape.

        The span the app's own tracing made (FastAPI's) is current only inside the app;
        the ids it had when it last sent or received are the ones an escaping exception
        remembers.
        """
        seen: list[TraceContext | None] = [current_trace_context()]

        async def send_seen(message: Message) -> None:
            seen[0] = current_trace_context() or seen[0]
            await send(message)

        async def receive_seen() -> Message:
            seen[0] = current_trace_context() or seen[0]
            return await receive()

        try:
            await self.app(scope, receive_seen, send_seen)
        except Exception as exc:
            remember_escape(exc, seen[0])
            raise


class DjangoMiddleware:
    """Django middleware: the request's log lines carry the caller's trace id.

    Put it first in ``MIDDLEWARE``; it serves any WSGI server, ``runserver`` and
    ``django.test.Client`` alike (the test client never passes through a WSGI wrapper)::

        MIDDLEWARE = ["tracelog.web.DjangoMiddleware", ...]

    The same rules as :class:`TraceContextMiddleware`: it steps aside under another
    ``SERVER`` span (OpenTelemetry's Django instrumentation), and the span is named after
    the URL pattern Django resolved (``GET /orders/<str:order_id>``). A view's exception
    is recorded on the span from ``process_exception``, while it is still current. The
    request's context stays current until the server closes the response, so a WSGI
    server's access line written before that (gunicorn's) carries the request's ids.

    .. versionadded:: 0.1.0
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self._tracer = _tracer(None)

    def __call__(self, request: Any) -> Any:
        if current_trace_context() is not None:
            return self.get_response(request)
        exchange = _Exchange(
            self._tracer,
            _wsgi_carrier(request.META),
            str(request.method or "GET"),
            str(request.path),
            str(request.scheme or "http"),
        )
        request.tracelog_exchange = exchange
        token = attach(exchange.context)
        try:
            response = self.get_response(request)
            match = getattr(request, "resolver_match", None)
            route = getattr(match, "route", None)
            exchange.route(f"/{route}" if route else None)
            exchange.respond(int(response.status_code))
        except BaseException as exc:  # Django turns view errors into responses; this is rarer
            if isinstance(exc, Exception):
                exchange.fail(exc)
            detach(token)
            exchange.end()
            raise
        closers = django_response_closers(response)
        if closers is None:
            detach(token)
            exchange.end()
            return response

        def release() -> None:
            detach(token)
            exchange.end()

        # Held until the server closes the response (WSGI servers do, on this thread, after
        # writing their access line; so does the test client), as for a WSGI body.
        closers.append(release)
        return response

    def process_exception(self, request: Any, exception: Exception) -> None:
        """Record a view's exception on the request's span; Django then answers 500."""
        exchange = getattr(request, "tracelog_exchange", None)
        if isinstance(exchange, _Exchange):
            exchange.fail(exception)
