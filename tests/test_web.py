"""HTTP in and out: W3C parsing, WSGI (wsgiref) and ASGI (uvicorn) over real sockets."""

from __future__ import annotations

import http.client
import random
import socket
import socketserver
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

import httpx
import orjson
import pytest
import uvicorn
from opentelemetry import baggage, trace
from opentelemetry.context import attach, detach
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware as OtelAsgiMiddleware
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware as OtelWsgiMiddleware
from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

import tracelog
from tests.conftest import emit
from tracelog.web import AsgiTraceContextMiddleware, TraceContextMiddleware, extract_context

T = TypeVar("T")

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE}-{SPAN}-01"


def traceparent(trace_id: str = TRACE, span_id: str = SPAN, flags: str = "01") -> str:
    return f"00-{trace_id}-{span_id}-{flags}"


def random_traceparent() -> tuple[str, str]:
    trace_id = format(random.getrandbits(128) | 1, "032x")
    return trace_id, traceparent(trace_id, format(random.getrandbits(64) | 1, "016x"))


def is_hex_id(value: object, digits: int) -> bool:
    return (
        isinstance(value, str)
        and len(value) == digits
        and value == value.lower()
        and int(value, 16) != 0
    )


def eventually(probe: Callable[[], T | None], seconds: float = 30) -> T:
    """Poll until *probe* returns something; the bound only guards against a hang."""
    deadline = time.monotonic() + seconds
    while (value := probe()) is None:
        if time.monotonic() > deadline:
            pytest.fail("gave up waiting")
        time.sleep(0.01)
    return value


# The apps under test. Each logs "handled" through the framework named in the query and
# answers with the traceparent it received and the headers it would send downstream.


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
    path = environ["PATH_INFO"]
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    framework = query.get("framework", ["stdlib"])[0]
    emit(framework, "info", "handled", request_id=environ.get("HTTP_X_REQUEST_ID"))
    if path == "/raise":
        raise RuntimeError("boom, password=hunter2")
    status = "500 Internal Server Error" if path == "/status/500" else "200 OK"
    body = orjson.dumps(
        {"received": environ.get("HTTP_TRACEPARENT"), "outgoing": tracelog.inject_headers()}
    )
    start_response(status, [("Content-Type", "application/json")])
    if path == "/stream":
        return streamed(framework, body)
    return [body]


def streamed(framework: str, body: bytes) -> Iterator[bytes]:
    emit(framework, "info", "streaming")
    yield body


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            LIFESPAN.append(scope["type"])
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    headers = {k.decode(): v.decode() for k, v in scope["headers"]}
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        emit("structlog", "info", "ws connected", request_id=headers.get("x-request-id"))
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})
        return
    query = urllib.parse.parse_qs(scope["query_string"].decode())
    framework = query.get("framework", ["stdlib"])[0]
    emit(framework, "info", "handled", request_id=headers.get("x-request-id"))
    if scope["path"] == "/raise":
        raise RuntimeError("boom, password=hunter2")
    body = orjson.dumps(
        {"received": headers.get("traceparent"), "outgoing": tracelog.inject_headers()}
    )
    status = 500 if scope["path"] == "/status/500" else 200
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": body})


LIFESPAN: list[str] = []


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        """No access log on stderr."""


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 256


class Served:
    """A server on 127.0.0.1 whose app a test may swap (``.app``); ``.url`` is its root."""

    url: str
    app: Any

    def __init__(self, kind: str, default: Callable[[], Any]) -> None:
        self.kind = kind
        self.default = default
        self.app = default()


class WsgiServed(Served):
    def __init__(self) -> None:
        super().__init__("wsgi", lambda: TraceContextMiddleware(wsgi_app))
        self.server = ThreadingWSGIServer(("127.0.0.1", 0), QuietHandler)
        self.server.set_app(self.dispatch)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def dispatch(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class AsgiServed(Served):
    def __init__(self) -> None:
        super().__init__("asgi", lambda: AsgiTraceContextMiddleware(asgi_app))

        async def dispatch(scope: Any, receive: Any, send: Any) -> None:
            await self.app(scope, receive, send)

        config = uvicorn.Config(
            dispatch,
            host="127.0.0.1",
            port=0,
            lifespan="on",
            access_log=False,
            log_config=None,
            loop="asyncio",
            http="h11",
            ws="wsproto",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        eventually(lambda: self.server.started or None)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture(scope="module")
def wsgi_served() -> Iterator[WsgiServed]:
    served = WsgiServed()
    yield served
    served.stop()


@pytest.fixture(scope="module")
def asgi_served() -> Iterator[AsgiServed]:
    served = AsgiServed()
    yield served
    served.stop()


@pytest.fixture(params=["wsgi", "asgi"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    server: Served = request.getfixturevalue(f"{request.param}_served")
    yield server
    server.app = server.default()


def fetch(url: str, headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """GET with urllib; (status, parsed JSON body or {})."""
    req = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - 127.0.0.1
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310
            return resp.status, orjson.loads(resp.read())
    except urllib.error.HTTPError as err:
        body = err.read()
        return err.code, orjson.loads(body) if body.startswith(b"{") else {}


def handled(lines: list[dict[str, Any]], message: str = "handled") -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == "app" and line["message"] == message]


def remote(
    headers: Mapping[str, str | Sequence[str]],
) -> tuple[str, str, str, dict[str, str]] | None:
    """What extract_context() makes of *headers*: the remote span's ids, flags and state."""
    sc = trace.get_current_span(extract_context(headers)).get_span_context()
    if not sc.is_valid:
        return None
    ids = format(sc.trace_id, "032x"), format(sc.span_id, "016x"), f"{sc.trace_flags:02x}"
    return (*ids, dict(sc.trace_state))


def otel_remote(headers: Mapping[str, str]) -> tuple[str, str, str, dict[str, str]] | None:
    """What OpenTelemetry's own TraceContextTextMapPropagator makes of the same headers."""
    ctx = TraceContextTextMapPropagator().extract(dict(headers))
    sc = trace.get_current_span(ctx).get_span_context()
    if not sc.is_valid:
        return None
    ids = format(sc.trace_id, "032x"), format(sc.span_id, "016x"), f"{sc.trace_flags:02x}"
    return (*ids, dict(sc.trace_state))


class TestTraceparent:
    @pytest.mark.parametrize(
        ("header", "flags"),
        [
            (TRACEPARENT, "01"),
            (traceparent(flags="00"), "00"),
            (traceparent(flags="03"), "03"),
            (f" \t{TRACEPARENT} \t", "01"),
            (f"cc-{TRACE}-{SPAN}-01", "01"),
            (f"cc-{TRACE}-{SPAN}-01-what-the-future-will-be-like", "01"),
            (f"01-{TRACE}-{SPAN}-00-x", "00"),
        ],
        ids=["v00", "unsampled", "random-bit", "ows", "future", "future-extra", "future-00"],
    )
    def test_valid(self, header: str, flags: str) -> None:
        """Version 00 and future versions (read with the 00 layout) are accepted."""
        assert (TRACE, SPAN, flags, {}) == remote({"traceparent": header})

    @pytest.mark.parametrize(
        "header",
        [
            f"ff-{TRACE}-{SPAN}-01",
            f"00-{TRACE}-{SPAN}-01.",
            f"00-{TRACE}-{SPAN}-01-what-the-future-will-be-like",
            f"cc-{TRACE}-{SPAN}-01.what-the-future-will-be-like",
            f".0-{TRACE}-{SPAN}-01",
            f"000-{TRACE}-{SPAN}-01",
            f"0-{TRACE}-{SPAN}-01",
            f"00-{TRACE.upper()}-{SPAN}-01",
            f"00-{TRACE}-{SPAN.upper()}-01",
            f"0A-{TRACE}-{SPAN}-01",
            f"00-{TRACE}-{SPAN}-0A",
            f"00-{'0' * 32}-{SPAN}-01",
            f"00-{TRACE}-{'0' * 16}-01",
            f"00-{TRACE[:-1]}-{SPAN}-01",
            f"00-{TRACE}5-{SPAN}-01",
            f"00-{TRACE}-{SPAN[:-1]}-01",
            f"00-{TRACE}-{SPAN}5-01",
            f"00-{TRACE}-{SPAN}-1",
            f"00-{TRACE}-{SPAN}-001",
            f"00-{TRACE}-{SPAN}-.0",
            f"cc-{TRACE}-{SPAN}-01-{'x' * 600}",
            "",
            "garbage",
            f"{TRACEPARENT},{traceparent(span_id='1' * 16)}",
        ],
        ids=[
            "version-ff",
            "v00-trailing-char",
            "v00-extra-field",
            "future-no-dash",
            "version-illegal-char",
            "version-too-long",
            "version-too-short",
            "trace-id-uppercase",
            "span-id-uppercase",
            "version-uppercase",
            "flags-uppercase",
            "trace-id-zero",
            "span-id-zero",
            "trace-id-short",
            "trace-id-long",
            "span-id-short",
            "span-id-long",
            "flags-short",
            "flags-long",
            "flags-illegal-char",
            "over-512-chars",
            "empty",
            "garbage",
            "repeated-joined",
        ],
    )
    def test_invalid_starts_fresh(self, header: str) -> None:
        """Each malformed traceparent of W3C's test suite yields no remote parent."""
        assert None is remote({"traceparent": header, "tracestate": "foo=1"})

    def test_header_name_in_any_case(self) -> None:
        """TraceParent and TRACESTATE are the same headers."""
        assert (TRACE, SPAN, "01", {"foo": "1"}) == remote(
            {"TraceParent": TRACEPARENT, "TRACESTATE": "foo=1"}
        )

    def test_repeated_lines_start_fresh(self) -> None:
        """A traceparent sent on two lines is invalid: a new trace."""
        assert None is remote({"traceparent": [TRACEPARENT, traceparent(span_id="1" * 16)]})

    def test_other_propagated_fields_pass_through(self) -> None:
        """The global propagator is used: W3C baggage comes along."""
        ctx = extract_context({"traceparent": TRACEPARENT, "baggage": "user=alice"})
        assert "alice" == baggage.get_baggage("user", ctx)


def members(count: int, start: int = 1) -> str:
    return ",".join(f"k{i}=v{i}" for i in range(start, start + count))


class TestTracestate:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            ("foo=1,bar=2", {"foo": "1", "bar": "2"}),
            ("foo=1 \t , \t bar=2,\t baz=3", {"foo": "1", "bar": "2", "baz": "3"}),
            ("", {}),
            (["foo=1", ""], {"foo": "1"}),
            (["", "foo=1"], {"foo": "1"}),
            (
                ["foo=1,bar=2", "rojo=1,congo=2", "baz=3"],
                {"foo": "1", "bar": "2", "rojo": "1", "congo": "2", "baz": "3"},
            ),
            ("foo= leading,bar=trailing ", {"foo": " leading", "bar": "trailing"}),
            ("tenant@vendor=1,t@" + "v" * 15 + "=2", {"tenant@vendor": "1", "t@" + "v" * 15: "2"}),
            ("foo=bar=baz", {}),
            ("foo=,bar=3", {}),
            ("z" * 256 + "=1,foo=1", {"z" * 256: "1", "foo": "1"}),
            ("z" * 257 + "=1,foo=1", {}),
        ],
        ids=[
            "two",
            "ows",
            "empty",
            "empty-line-after",
            "empty-line-before",
            "three-lines-in-order",
            "value-spaces",
            "tenant-key",
            "equals-in-value",
            "empty-value",
            "key-256",
            "key-257",
        ],
    )
    def test_members(self, header: str | list[str], expected: dict[str, str]) -> None:
        """Valid members are kept in order; one invalid member drops the whole header."""
        result = remote({"traceparent": TRACEPARENT, "tracestate": header})
        assert result is not None
        assert list(expected.items()) == list(result[3].items())

    def test_all_allowed_characters(self) -> None:
        """W3C's all-characters key and value survive unchanged."""
        key = "abcdefghijklmnopqrstuvwxyz0123456789_-*/"
        value = "".join(map(chr, [*range(0x20, 0x2C), *range(0x2D, 0x3D), *range(0x3E, 0x7F)]))
        for name in (key, key + "@a-z0-9_-*/"):
            result = remote({"traceparent": TRACEPARENT, "tracestate": f"{name}={value}"})
            assert result is not None
            assert {name: value} == result[3]

    def test_size_limit_drops_long_members_first(self) -> None:
        """Past 512 characters, members over 128 go first, then members from the right."""
        long = "big=" + "x" * 200
        small = [f"k{i}=" + "v" * 95 for i in range(1, 6)]  # 5 x 99 characters
        result = remote({"traceparent": TRACEPARENT, "tracestate": ",".join([long, *small])})
        assert result is not None
        assert ["k1", "k2", "k3", "k4", "k5"] == list(result[3])
        result = remote({"traceparent": TRACEPARENT, "tracestate": ",".join([*small, *small])})
        assert result is not None
        assert ["k1", "k2", "k3", "k4", "k5"] == list(result[3])
        many = [f"k{i}=" + "v" * 95 for i in range(1, 8)]
        result = remote({"traceparent": TRACEPARENT, "tracestate": ",".join(many)})
        assert result is not None
        assert ["k1", "k2", "k3", "k4", "k5"] == list(result[3])


class TestOpenTelemetryDeviations:
    """Where OTel's TraceContextTextMapPropagator deviates from W3C Level 1 (traceparent) or
    drops a whole tracestate where W3C allows keeping its valid members.

    Each test shows OTel's own result first: when OTel changes, the test says so.
    """

    def test_future_version_keeps_only_the_sampled_flag(self) -> None:
        """A future version's flags: OTel keeps all 8 bits, W3C only the sampled bit."""
        headers = {"traceparent": f"cc-{TRACE}-{SPAN}-09-future"}
        assert (TRACE, SPAN, "09", {}) == otel_remote(headers)
        assert (TRACE, SPAN, "01", {}) == remote(headers)

    def test_repeated_future_version_traceparent_starts_fresh(self) -> None:
        """Two joined future-version lines: OTel takes the first, W3C restarts the trace."""
        headers = {"traceparent": f"cc-{TRACE}-{SPAN}-01-x,cc-{'1' * 32}-{SPAN}-01"}
        assert (TRACE, SPAN, "01", {}) == otel_remote(headers)
        assert None is remote(headers)

    def test_tracestate_over_32_members_is_dropped_whole(self) -> None:
        """33 members: both drop the whole tracestate (W3C's suite expects it); 32 pass."""
        headers = {"traceparent": TRACEPARENT, "tracestate": members(33)}
        assert (TRACE, SPAN, "01", {}) == otel_remote(headers)
        assert (TRACE, SPAN, "01", {}) == remote(headers)
        result = remote({"traceparent": TRACEPARENT, "tracestate": members(32)})
        assert result is not None
        assert [f"k{i}" for i in range(1, 33)] == list(result[3])

    def test_tracestate_duplicate_key_keeps_the_leftmost(self) -> None:
        """A repeated key: OTel drops the whole tracestate, tracelog the later duplicate."""
        headers = {"traceparent": TRACEPARENT, "tracestate": "foo=1,foo=2,bar=3"}
        assert (TRACE, SPAN, "01", {}) == otel_remote(headers)
        assert (TRACE, SPAN, "01", {"foo": "1", "bar": "3"}) == remote(headers)

    def test_tracestate_invalid_member_drops_the_header(self) -> None:
        """An invalid member: both drop the whole tracestate, as W3C's suite expects."""
        headers = {"traceparent": TRACEPARENT, "tracestate": "foo=1,BAR=2,baz=3"}
        assert (TRACE, SPAN, "01", {}) == otel_remote(headers)
        assert (TRACE, SPAN, "01", {}) == remote(headers)

    def test_key_otel_refuses_is_passed_on(self) -> None:
        """A key of W3C's grammar outside OTel's (foo@): OTel drops all, tracelog keeps it."""
        headers = {"traceparent": TRACEPARENT, "tracestate": "foo@=1,bar=2"}
        assert (TRACE, SPAN, "01", {}) == otel_remote(headers)
        assert (TRACE, SPAN, "01", {"foo@": "1", "bar": "2"}) == remote(headers)
        token = attach(extract_context(headers))
        try:
            assert "foo@=1,bar=2" == tracelog.inject_headers()["tracestate"]
        finally:
            detach(token)

    def test_tracestate_over_size_is_truncated_by_whole_members(self) -> None:
        """Too long: OTel drops it all; tracelog drops members over 128 chars, then from the end."""
        long_members = [f"k{i}" + "z" * 200 + "=" + "x" * 256 for i in range(30)]
        headers = {"traceparent": TRACEPARENT, "tracestate": ",".join([*long_members, "a=1,b=2"])}
        assert (TRACE, SPAN, "01", {}) == otel_remote(headers)
        assert (TRACE, SPAN, "01", {"a": "1", "b": "2"}) == remote(headers)


class TestIncomingRequests:
    def test_known_traceparent(self, served, output, framework) -> None:
        """Every line of a request with a traceparent carries the header's trace id."""
        out = output()
        status, body = fetch(
            f"{served.url}/log?framework={framework}", {"traceparent": TRACEPARENT}
        )
        (line,) = handled(out.lines())
        assert (200, TRACEPARENT) == (status, body["received"])
        assert TRACE == line["traceId"]
        assert TRACE == body["outgoing"]["traceparent"].split("-")[1]

    def test_no_traceparent_starts_a_fresh_trace(self, served, output, framework) -> None:
        """Without a traceparent each request gets valid ids of its own (API only)."""
        out = output()
        for _ in range(2):
            assert 200 == fetch(f"{served.url}/log?framework={framework}")[0]
        first, second = handled(out.lines())
        assert is_hex_id(first["traceId"], 32)
        assert is_hex_id(first["spanId"], 16)
        assert first["traceId"] != second["traceId"]
        assert "00" == first["traceFlags"]

    @pytest.mark.parametrize(
        "header",
        [
            f"00-{TRACE[:-2]}-{SPAN}-01",
            f"00-{TRACE.upper()}-{SPAN}-01",
            f"00-{'0' * 32}-{SPAN}-01",
            f"00-{TRACE}-{'0' * 16}-01",
            f"ff-{TRACE}-{SPAN}-01",
        ],
        ids=["wrong-length", "uppercase", "zero-trace-id", "zero-span-id", "version-ff"],
    )
    def test_malformed_traceparent_starts_a_fresh_trace(self, served, output, header) -> None:
        """A malformed traceparent: 200, no exception, a new valid trace id."""
        out = output()
        status, _ = fetch(f"{served.url}/log", {"traceparent": header, "tracestate": "foo=1"})
        (line,) = handled(out.lines())
        assert 200 == status
        assert is_hex_id(line["traceId"], 32)
        assert line["traceId"] not in header.lower()

    def test_concurrent_requests_never_mix_ids(self, served, output) -> None:
        """200 concurrent requests, each with its own traceparent: each line has its own id."""
        out = output()
        expected: dict[str, str] = {}
        requests = []
        for n in range(200):
            trace_id, header = random_traceparent()
            expected[str(n)] = trace_id
            framework = "stdlib" if n % 2 else "structlog"
            url = f"{served.url}/log?framework={framework}"
            requests.append((url, {"traceparent": header, "x-request-id": str(n)}))
        with ThreadPoolExecutor(max_workers=32) as clients:
            answers = list(clients.map(lambda r: fetch(*r), requests))
        seen = {line["request_id"]: line["traceId"] for line in handled(out.lines())}
        assert [200] * 200 == [status for status, _ in answers]
        assert expected == seen
        echoed = [body["outgoing"]["traceparent"].split("-")[1] for _, body in answers]
        assert [expected[str(n)] for n in range(200)] == echoed

    def test_tracestate_is_passed_on(self, served, output) -> None:
        """The incoming tracestate (cleaned) goes out again with inject_headers()."""
        output()
        headers = {"traceparent": TRACEPARENT, "tracestate": "a=1,, b=2 "}
        _, body = fetch(f"{served.url}/log", headers)
        assert {"traceparent": TRACEPARENT, "tracestate": "a=1,b=2"} == body["outgoing"]


class TestWsgi:
    def test_lines_logged_while_streaming_carry_the_id(self, wsgi_served, output) -> None:
        """A body generator logs inside the request's context, after the app returned."""
        out = output()
        fetch(f"{wsgi_served.url}/stream", {"traceparent": TRACEPARENT})
        (line,) = handled(out.lines(), "streaming")
        assert TRACE == line["traceId"]

    def test_server_thread_keeps_no_context(self, output) -> None:
        """After close(), the serving thread has no span left attached."""
        app = TraceContextMiddleware(wsgi_app)
        environ = {"PATH_INFO": "/log", "HTTP_TRACEPARENT": TRACEPARENT}
        body = app(environ, lambda status, headers, exc_info=None: None)
        assert None is tracelog.current_trace_context()
        chunks = list(body)
        body.close()  # type: ignore[attr-defined]
        assert None is tracelog.current_trace_context()
        assert 1 == len(chunks)

    def test_context_held_from_end_of_body_to_close(self, output) -> None:
        """Between the last chunk and close() (gunicorn logs access there) the ids are current."""
        app = TraceContextMiddleware(wsgi_app)
        environ = {"PATH_INFO": "/log", "HTTP_TRACEPARENT": TRACEPARENT}
        body = app(environ, lambda status, headers, exc_info=None: None)
        list(body)
        held = tracelog.current_trace_context()
        body.close()  # type: ignore[attr-defined]
        assert TRACE == (held.trace_id if held else None)

    def test_close_of_the_apps_body_is_called(self, output) -> None:
        """close() reaches the app's own iterable, inside the request's context."""
        seen: list[str | None] = []

        class Body(list[bytes]):
            def close(self) -> None:
                ctx = tracelog.current_trace_context()
                seen.append(None if ctx is None else ctx.trace_id)

        app = TraceContextMiddleware(lambda environ, start: Body([b"x"]))
        body = app({"HTTP_TRACEPARENT": TRACEPARENT}, lambda *a: None)
        body.close()  # type: ignore[attr-defined]
        assert [TRACE] == seen

    def test_app_exception_propagates_and_detaches(self) -> None:
        """API only: the app's exception reaches the server; no context is left behind."""

        def failing(environ: Any, start: Any) -> list[bytes]:
            raise RuntimeError("boom")

        app = TraceContextMiddleware(failing)
        with pytest.raises(RuntimeError, match="boom"):
            app({"HTTP_TRACEPARENT": TRACEPARENT}, lambda *a: None)
        assert None is tracelog.current_trace_context()

    def test_unparsable_status_is_passed_on(self, recorder) -> None:
        """A status line without a number reaches the server as is, with no status code."""
        sent: list[str] = []

        def odd(environ: Any, start: Any) -> list[bytes]:
            start("OK", [])
            return [b"x"]

        app = TraceContextMiddleware(odd, tracer_provider=recorder.provider)
        body = app({"PATH_INFO": "/"}, lambda status, headers, exc_info=None: sent.append(status))
        body.close()  # type: ignore[attr-defined]
        (span,) = recorder.finished()
        assert ["OK"] == sent
        assert "http.response.status_code" not in span.attributes

    def test_a_failing_iteration_is_recorded(self, recorder) -> None:
        """An exception while iterating the body marks the server span as failed."""

        def failing(environ: Any, start: Any) -> Iterator[bytes]:
            start("200 OK", [])
            yield b"partial"
            raise ValueError("broken stream")

        app = TraceContextMiddleware(failing, tracer_provider=recorder.provider)
        body = app({"REQUEST_METHOD": "GET", "PATH_INFO": "/s"}, lambda *a: None)
        iterator = iter(body)
        assert b"partial" == next(iterator)
        with pytest.raises(ValueError, match="broken stream"):
            next(iterator)
        body.close()  # type: ignore[attr-defined]
        (span,) = recorder.finished()
        assert (StatusCode.ERROR, "ValueError") == (
            span.status.status_code,
            span.attributes["error.type"],
        )


class TestAsgi:
    def test_repeated_traceparent_lines_start_fresh(self, asgi_served, output) -> None:
        """Two traceparent header lines are joined, found invalid: a new trace."""
        out = output()
        status, _ = raw_get(asgi_served.url, [("traceparent", TRACEPARENT)] * 2)
        (line,) = handled(out.lines())
        assert 200 == status
        assert TRACE != line["traceId"]

    def test_repeated_tracestate_lines_are_joined(self, asgi_served, output) -> None:
        """tracestate on three lines is one list, in order (RFC 9110 field order)."""
        output()
        lines = [("traceparent", TRACEPARENT), ("tracestate", "a=1,b=2"), ("tracestate", "c=3")]
        _, body = raw_get(asgi_served.url, lines)
        assert "a=1,b=2,c=3" == body["outgoing"]["tracestate"]

    def test_websocket_scope(self, asgi_served, output) -> None:
        """A websocket handshake's lines carry the traceparent's trace id."""
        out = output()
        assert b"101" == websocket_handshake(asgi_served.url, TRACEPARENT)
        (line,) = eventually(lambda: handled(out.lines(), "ws connected") or None)
        assert TRACE == line["traceId"]

    def test_lifespan_passes_through(self, asgi_served) -> None:
        """The lifespan scope reaches the app untouched (the server started)."""
        assert ["lifespan"] == LIFESPAN


def raw_get(url: str, header_lines: list[tuple[str, str]]) -> tuple[int, dict[str, Any]]:
    """GET /log with header lines sent exactly as given, repeated names included."""
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest("GET", "/log")
        for name, value in header_lines:
            conn.putheader(name, value)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, orjson.loads(resp.read())
    finally:
        conn.close()


def websocket_handshake(url: str, header: str) -> bytes:
    """Open a websocket on a raw socket; return the handshake's status code."""
    host, port = urllib.parse.urlsplit(url).netloc.split(":")
    request = (
        "GET /ws HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"traceparent: {header}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request.encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(4096)
            if not chunk:
                break
            response += chunk
    return response.split(b" ", 2)[1]


class TestServerSpan:
    """With an SDK provider the middleware starts a SERVER span under the caller's span."""

    def test_server_span_under_the_remote_parent(self, served, recorder, output, framework) -> None:
        """One SERVER span: the header's trace, the header's span as parent, semconv names."""
        served.app = mount(served, recorder.provider)
        out = output()
        fetch(f"{served.url}/log?framework={framework}", {"traceparent": TRACEPARENT})
        (span,) = eventually(lambda: recorder.finished() or None)
        (line,) = handled(out.lines())
        assert (SpanKind.SERVER, "GET") == (span.kind, span.name)
        assert (TRACE, SPAN) == (
            format(span.context.trace_id, "032x"),
            format(span.parent.span_id, "016x"),
        )
        assert span.parent.is_remote
        assert format(span.context.span_id, "016x") == line["spanId"]
        assert TRACE == line["traceId"]
        expected = {
            "http.request.method": "GET",
            "url.path": "/log",
            "url.scheme": "http",
            "http.response.status_code": 200,
        }
        assert expected == dict(span.attributes)
        assert StatusCode.UNSET == span.status.status_code

    def test_without_traceparent_a_root_span(self, served, recorder, output) -> None:
        """No header: the SERVER span starts a new trace; the line carries its ids."""
        served.app = mount(served, recorder.provider)
        out = output()
        fetch(f"{served.url}/log")
        (span,) = eventually(lambda: recorder.finished() or None)
        (line,) = handled(out.lines())
        assert None is span.parent
        assert format(span.context.trace_id, "032x") == line["traceId"]

    def test_5xx_sets_error_status(self, served, recorder, output) -> None:
        """A 500 response marks the span ERROR with error.type "500"."""
        served.app = mount(served, recorder.provider)
        output()
        assert 500 == fetch(f"{served.url}/status/500")[0]
        (span,) = eventually(lambda: recorder.finished() or None)
        assert (StatusCode.ERROR, 500, "500") == (
            span.status.status_code,
            span.attributes["http.response.status_code"],
            span.attributes["error.type"],
        )

    def test_exception_sets_error_status(self, served, recorder, output) -> None:
        """An exception from the app is recorded on the span, status ERROR."""
        served.app = mount(served, recorder.provider)
        output()
        assert 500 == fetch(f"{served.url}/raise", {"traceparent": TRACEPARENT})[0]
        (span,) = eventually(lambda: recorder.finished() or None)
        assert StatusCode.ERROR == span.status.status_code
        assert "RuntimeError" == span.attributes["error.type"]
        assert ["exception"] == [event.name for event in span.events]
        # The exception's text is redacted like a log line's, in the event and status.
        event = span.events[0]
        assert "boom, password=[REDACTED]" == event.attributes["exception.message"]
        assert "hunter2" not in event.attributes["exception.stacktrace"]
        assert "hunter2" not in (span.status.description or "")

    def test_unknown_method(self, recorder) -> None:
        """A method outside the semconv list is reported as _OTHER, named HTTP."""
        app = TraceContextMiddleware(wsgi_app, tracer_provider=recorder.provider)
        body = app({"REQUEST_METHOD": "BREW", "PATH_INFO": "/pot"}, lambda *a: None)
        body.close()  # type: ignore[attr-defined]
        (span,) = recorder.finished()
        assert ("HTTP", "_OTHER", "BREW") == (
            span.name,
            span.attributes["http.request.method"],
            span.attributes["http.request.method_original"],
        )

    def test_no_second_span_under_otel_instrumentation(self, served, recorder, output) -> None:
        """Inside OpenTelemetry's own middleware, tracelog's adds no span of its own."""
        otel = OtelWsgiMiddleware if served.kind == "wsgi" else OtelAsgiMiddleware
        served.app = otel(mount(served, recorder.provider), tracer_provider=recorder.provider)
        out = output()
        fetch(f"{served.url}/log", {"traceparent": TRACEPARENT})
        spans = eventually(lambda: servers(recorder.finished()) or None)
        (line,) = handled(out.lines())
        assert 1 == len(spans)
        assert spans[0].instrumentation_scope.name.startswith("opentelemetry.instrumentation")
        assert format(spans[0].context.span_id, "016x") == line["spanId"]
        assert {"tracelog.web"}.isdisjoint(
            s.instrumentation_scope.name for s in recorder.finished()
        )


def servers(spans: list[Any]) -> list[Any]:
    return [span for span in spans if span.kind == SpanKind.SERVER]


def mount(served: Served, provider: Any) -> Any:
    if served.kind == "wsgi":
        return TraceContextMiddleware(wsgi_app, tracer_provider=provider)
    return AsgiTraceContextMiddleware(asgi_app, tracer_provider=provider)


class TestGlobalSdk:
    def test_middleware_follows_a_global_sdk_set_up_later(self) -> None:
        """Built before set_tracer_provider(), the middleware starts SERVER spans after it."""
        code = textwrap.dedent(
            f"""
            import json, threading, urllib.request
            from wsgiref.simple_server import make_server, WSGIRequestHandler
            from opentelemetry import trace
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
                InMemorySpanExporter,
            )
            from tracelog.web import TraceContextMiddleware

            def app(environ, start_response):
                start_response("200 OK", [])
                return [b"ok"]

            wrapped = TraceContextMiddleware(app)
            exporter = InMemorySpanExporter()
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(exporter))
            trace.set_tracer_provider(provider)

            class Quiet(WSGIRequestHandler):
                def log_message(self, *args):
                    pass

            server = make_server("127.0.0.1", 0, wrapped, handler_class=Quiet)
            serving = threading.Thread(target=server.handle_request)
            serving.start()
            url = f"http://127.0.0.1:{{server.server_port}}/orders"
            request = urllib.request.Request(url, headers={{"traceparent": "{TRACEPARENT}"}})
            urllib.request.urlopen(request, timeout=30).read()
            serving.join()
            (span,) = exporter.get_finished_spans()
            print(json.dumps([span.name, span.kind.name, format(span.parent.span_id, "016x"),
                              format(span.context.trace_id, "032x")]))
            """
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
        assert ["GET", "SERVER", SPAN, TRACE] == orjson.loads(proc.stdout)


class TestInjectHeaders:
    def test_urllib(self, wsgi_served, recorder) -> None:
        """urllib.request sends the current span's traceparent; the server receives it."""
        with recorder.tracer.start_as_current_span("client") as span:
            url = f"{wsgi_served.url}/log"
            request = urllib.request.Request(url, headers=tracelog.inject_headers())  # noqa: S310
            with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
                received = orjson.loads(resp.read())["received"]
        sc = span.get_span_context()
        assert f"00-{sc.trace_id:032x}-{sc.span_id:016x}-{sc.trace_flags:02x}" == received

    def test_httpx(self, asgi_served, recorder) -> None:
        """httpx sends it too, from a new dict or from the client's own Headers."""
        with recorder.tracer.start_as_current_span("client") as span, httpx.Client() as client:
            first = client.get(f"{asgi_served.url}/log", headers=tracelog.inject_headers())
            tracelog.inject_headers(client.headers)
            second = client.get(f"{asgi_served.url}/log")
        sc = span.get_span_context()
        expected = f"00-{sc.trace_id:032x}-{sc.span_id:016x}-{sc.trace_flags:02x}"
        assert [expected, expected] == [first.json()["received"], second.json()["received"]]

    def test_outside_a_span_adds_nothing(self) -> None:
        """No valid span: the headers are returned as they were."""
        headers = {"accept": "application/json"}
        assert headers is tracelog.inject_headers(headers)
        assert {"accept": "application/json"} == headers
        assert {} == tracelog.inject_headers()
