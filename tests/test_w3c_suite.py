"""W3C's trace-context test suite, restated: every case through both middlewares over HTTP.

W3C's harness (github.com/w3c/trace-context, ``test/test.py``) sends a request with
``traceparent``/``tracestate`` headers to a service, which calls the harness back; the
harness reads the trace context of the callback. Here the service is tracelog's WSGI
middleware on ``wsgiref`` and its ASGI middleware on uvicorn, and each callback is a
CLIENT span whose headers come from ``tracelog.inject_headers()``. The inputs and the
expected outcomes are the suite's (facts); the code is ours. Test names follow the
suite's, so a failure here points at the case there.
"""

from __future__ import annotations

import http.client
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import orjson
import pytest
import uvicorn
from opentelemetry.trace import SpanKind

import tracelog
from tracelog.testing import SpanRecorder
from tracelog.web import AsgiTraceContextMiddleware, TraceContextMiddleware

TRACE = "12345678901234567890123456789012"
PARENT = "1234567890123456"
SAMPLED = f"00-{TRACE}-{PARENT}-01"
UNSAMPLED = f"00-{TRACE}-{PARENT}-00"
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class Callback:
    """The trace context of one callback, parsed the way the harness parses it."""

    trace_id: str
    parent_id: str
    flags: int
    tracestate: dict[str, str]


def parse_callback(headers: dict[str, str]) -> Callback:
    match = _TRACEPARENT.fullmatch(headers["traceparent"])
    assert match is not None, headers
    state: dict[str, str] = {}
    for member in headers.get("tracestate", "").split(","):
        if member.strip(" \t"):
            key, value = member.strip(" \t").split("=", 1)
            state.setdefault(key, value)
    return Callback(match[2], match[3], int(match[4], 16), state)


RECORDER = SpanRecorder(service="w3c-service")


def callbacks(query: str) -> bytes:
    """What the suite's service does: one outgoing call (a CLIENT span) per callback."""
    count = int(urllib.parse.parse_qs(query).get("n", ["1"])[0])
    tracer = RECORDER.provider.get_tracer("w3c")
    out = []
    for _ in range(count):
        with tracer.start_as_current_span("callback", kind=SpanKind.CLIENT):
            out.append(tracelog.inject_headers())
    return orjson.dumps(out)


def wsgi_service(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = callbacks(environ.get("QUERY_STRING", ""))
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


async def asgi_service(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = callbacks(scope.get("query_string", b"").decode())
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        """No request lines on stderr."""


Send = Callable[..., list[Callback]]


def sender(port: int) -> Send:
    def send(headers: Headers, count: int = 1) -> list[Callback]:
        """POST with *headers* (repeats allowed, names as given); the callbacks' contexts."""
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.putrequest("POST", f"/test?n={count}")
            for name, value in headers:
                connection.putheader(name, value)
            connection.putheader("Content-Length", "0")
            connection.endheaders()
            response = connection.getresponse()
            assert 200 == response.status
            return [parse_callback(h) for h in orjson.loads(response.read())]
        finally:
            connection.close()

    return send


@pytest.fixture(scope="module")
def wsgi_send() -> Iterator[Send]:
    app = TraceContextMiddleware(wsgi_service, tracer_provider=RECORDER.provider)
    server = make_server("127.0.0.1", 0, app, WSGIServer, QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield sender(server.server_port)
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def asgi_send() -> Iterator[Send]:
    app = AsgiTraceContextMiddleware(asgi_service, tracer_provider=RECORDER.provider)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="off", access_log=False, log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    while not started.wait(0.01):
        if server.started:
            started.set()
    port = server.servers[0].sockets[0].getsockname()[1]
    yield sender(port)
    server.should_exit = True
    thread.join(30)


@pytest.fixture(params=["wsgi", "asgi"])
def send(request: pytest.FixtureRequest) -> Send:
    fixture: Send = request.getfixturevalue(f"{request.param}_send")
    return fixture


def one(send: Send, *headers: tuple[str, str]) -> Callback:
    (callback,) = send(list(headers))
    return callback


def with_state(*states: str, traceparent: str = UNSAMPLED) -> Headers:
    return [("traceparent", traceparent), *(("tracestate", state) for state in states)]


class TestTraceContext:
    def test_both_traceparent_and_tracestate_missing(self, send) -> None:
        """No headers: the callback still carries a valid traceparent."""
        callback = one(send)
        assert 32 == len(callback.trace_id)

    def test_traceparent_included_tracestate_missing(self, send) -> None:
        """The trace id is inherited; the parent id is the service's own."""
        callback = one(send, ("traceparent", SAMPLED))
        assert TRACE == callback.trace_id
        assert PARENT != callback.parent_id

    def test_traceparent_duplicated(self, send) -> None:
        """Two traceparent headers: a new trace id, neither of the two."""
        callback = one(
            send,
            ("traceparent", f"00-{TRACE[:-1]}1-{PARENT}-01"),
            ("traceparent", SAMPLED),
        )
        assert callback.trace_id not in {TRACE, f"{TRACE[:-1]}1"}

    @pytest.mark.parametrize("name", ["trace-parent", "trace.parent"])
    def test_traceparent_header_name(self, send, name) -> None:
        """A misspelt header name is not a traceparent: a new trace id."""
        assert TRACE != one(send, (name, SAMPLED)).trace_id

    @pytest.mark.parametrize("name", ["TraceParent", "TrAcEpArEnT", "TRACEPARENT"])
    def test_traceparent_header_name_valid_casing(self, send, name) -> None:
        """The header name is matched in any case."""
        assert TRACE == one(send, (name, SAMPLED)).trace_id

    @pytest.mark.parametrize("value", [f"{SAMPLED}.", f"{SAMPLED}-what-the-future-will-be-like"])
    def test_traceparent_version_0x00(self, send, value) -> None:
        """Version 00 with trailing characters is invalid: a new trace id."""
        assert TRACE != one(send, ("traceparent", value)).trace_id

    @pytest.mark.parametrize(
        ("value", "inherited"),
        [
            (f"cc-{TRACE}-{PARENT}-01", True),
            (f"cc-{TRACE}-{PARENT}-01-what-the-future-will-be-like", True),
            (f"cc-{TRACE}-{PARENT}-01.what-the-future-will-be-like", False),
        ],
    )
    def test_traceparent_version_0xcc(self, send, value, inherited) -> None:
        """A future version is read with the 00 layout; more fields need a dash."""
        assert inherited == (TRACE == one(send, ("traceparent", value)).trace_id)

    def test_traceparent_version_0xff(self, send) -> None:
        """Version ff is invalid: a new trace id."""
        assert TRACE != one(send, ("traceparent", f"ff-{TRACE}-{PARENT}-01")).trace_id

    @pytest.mark.parametrize(
        "value",
        [
            f".0-{TRACE}-{PARENT}-01",  # version_illegal_characters
            f"0.-{TRACE}-{PARENT}-01",
            f"000-{TRACE}-{PARENT}-01",  # version_too_long
            f"0000-{TRACE}-{PARENT}-01",
            f"0-{TRACE}-{PARENT}-01",  # version_too_short
            f"00-{TRACE}-0000000000000000-01",  # parent_id_all_zero
            f"00-{TRACE}-.234567890123456-01",  # parent_id_illegal_characters
            f"00-{TRACE}-123456789012345.-01",
            f"00-{TRACE}-12345678901234567-01",  # parent_id_too_long
            f"00-{TRACE}-123456789012345-01",  # parent_id_too_short
            f"00-{TRACE}-{PARENT}-.0",  # trace_flags_illegal_characters
            f"00-{TRACE}-{PARENT}-0.",
            f"00-{TRACE}-{PARENT}-001",  # trace_flags_too_long
            f"00-{TRACE}-{PARENT}-1",  # trace_flags_too_short
            f"00-{TRACE[:-1]}-{PARENT}-01",  # trace_id_too_short
        ],
    )
    def test_traceparent_malformed_fields(self, send, value) -> None:
        """The suite's version, parent-id and flags cases: each gives a new trace id."""
        assert TRACE != one(send, ("traceparent", value)).trace_id

    def test_traceparent_trace_id_all_zero(self, send) -> None:
        """An all-zero trace id is invalid: a new, non-zero trace id."""
        callback = one(send, ("traceparent", f"00-{'0' * 32}-{PARENT}-01"))
        assert "0" * 32 != callback.trace_id

    @pytest.mark.parametrize("trace_id", [f".{TRACE[1:]}", f"{TRACE[:-1]}."])
    def test_traceparent_trace_id_illegal_characters(self, send, trace_id) -> None:
        """A non-hex character in the trace id: a new trace id."""
        callback = one(send, ("traceparent", f"00-{trace_id}-{PARENT}-01"))
        assert TRACE[1:-1] not in callback.trace_id

    def test_traceparent_trace_id_too_long(self, send) -> None:
        """33 hex digits: neither the first nor the last 32 are taken."""
        callback = one(send, ("traceparent", f"00-{TRACE}3-{PARENT}-01"))
        assert callback.trace_id not in {TRACE, f"{TRACE[1:]}3"}

    @pytest.mark.parametrize(
        "value", [f" {SAMPLED}", f"\t{SAMPLED}", f"{SAMPLED} ", f"{SAMPLED}\t", f"\t {SAMPLED} \t"]
    )
    def test_traceparent_ows_handling(self, send, value) -> None:
        """Leading and trailing spaces and tabs are optional whitespace."""
        assert TRACE == one(send, ("traceparent", value)).trace_id

    def test_tracestate_included_traceparent_missing(self, send) -> None:
        """A tracestate without a traceparent is ignored."""
        first = one(send, ("tracestate", "foo=1"))
        second = one(send, ("tracestate", "foo=1,bar=2"))
        assert len(first.tracestate) == len(second.tracestate)
        assert {} == first.tracestate

    def test_tracestate_included_traceparent_included(self, send) -> None:
        """Both headers: the trace id and the tracestate are inherited."""
        callback = one(send, *with_state("foo=1,bar=2"))
        assert (TRACE, {"foo": "1", "bar": "2"}) == (callback.trace_id, callback.tracestate)

    @pytest.mark.parametrize("name", ["trace-state", "trace.state"])
    def test_tracestate_header_name(self, send, name) -> None:
        """A misspelt tracestate header is not read."""
        assert "foo" not in one(send, ("traceparent", UNSAMPLED), (name, "foo=1")).tracestate

    @pytest.mark.parametrize("name", ["TraceState", "TrAcEsTaTe", "TRACESTATE"])
    def test_tracestate_header_name_valid_casing(self, send, name) -> None:
        """The tracestate header name is matched in any case."""
        callback = one(send, ("traceparent", UNSAMPLED), (name, "foo=1"))
        assert {"foo": "1"} == callback.tracestate

    @pytest.mark.parametrize(
        ("states", "expected"),
        [(("",), {}), (("foo=1", ""), {"foo": "1"}), (("", "foo=1"), {"foo": "1"})],
    )
    def test_tracestate_empty_header(self, send, states, expected) -> None:
        """An empty tracestate line is allowed and adds nothing."""
        callback = one(send, *with_state(*states))
        assert (TRACE, expected) == (callback.trace_id, callback.tracestate)

    def test_tracestate_multiple_headers_different_keys(self, send) -> None:
        """Several tracestate lines combine, in order."""
        callback = one(send, *with_state("foo=1,bar=2", "rojo=1,congo=2", "baz=3"))
        assert TRACE == callback.trace_id
        expected = [("foo", "1"), ("bar", "2"), ("rojo", "1"), ("congo", "2"), ("baz", "3")]
        assert expected == list(callback.tracestate.items())

    @pytest.mark.parametrize(
        ("states", "allowed"),
        [
            (("foo=1,foo=1",), ({"foo": "1"},)),
            (("foo=1,foo=2",), ({"foo": "1"}, {"foo": "2"})),
            (("foo=1", "foo=1"), ({"foo": "1"},)),
            (("foo=1", "foo=2"), ({"foo": "1"}, {"foo": "2"})),
        ],
    )
    def test_tracestate_duplicated_keys(self, send, states, allowed) -> None:
        """A repeated key: the trace is inherited, with one of the entries."""
        callback = one(send, *with_state(*states))
        assert TRACE == callback.trace_id
        assert callback.tracestate in allowed

    def test_tracestate_all_allowed_characters(self, send) -> None:
        """Every character the grammar allows, in keys with and without a vendor part."""
        key = "abcdefghijklmnopqrstuvwxyz0123456789_-*/"
        value = "".join(map(chr, [*range(0x20, 0x2C), *range(0x2D, 0x3D), *range(0x3E, 0x7F)]))
        for name in (key, key + "@a-z0-9_-*/"):
            assert {name: value} == one(send, *with_state(f"{name}={value}")).tracestate

    @pytest.mark.parametrize(
        "states",
        [
            ("foo=1 \t , \t bar=2, \t baz=3",),
            ("foo=1\t \t,\t \tbar=2,\t \tbaz=3",),
        ],
    )
    def test_tracestate_ows_handling(self, send, states) -> None:
        """Spaces and tabs around list members are optional whitespace."""
        callback = one(send, *with_state(*states))
        assert {"foo": "1", "bar": "2", "baz": "3"} == callback.tracestate

    @pytest.mark.parametrize("state", [" foo=1", "\tfoo=1", "foo=1 ", "foo=1\t", "\t foo=1 \t"])
    def test_tracestate_ows_single_member(self, send, state) -> None:
        """Whitespace around a single member (the rest of the suite's OWS case)."""
        callback = one(send, *with_state(state))
        assert (TRACE, {"foo": "1"}) == (callback.trace_id, callback.tracestate)

    @pytest.mark.parametrize("state", ["foo =1", "FOO=1", "foo.bar=1"])
    def test_tracestate_key_illegal_characters(self, send, state) -> None:
        """An illegal key discards the tracestate."""
        assert {} == one(send, *with_state(state)).tracestate

    def test_tracestate_key_illegal_vendor_format_at_start(self, send) -> None:
        """A key starting with "@" discards the whole tracestate."""
        assert {} == one(send, *with_state("@foo=1,bar=2")).tracestate

    @pytest.mark.parametrize("key", ["foo@", "foo@@bar", "foo@bar@baz"])
    def test_tracestate_key_illegal_vendor_format(self, send, key) -> None:
        """Keys with "@" anywhere but first follow the grammar and are inherited."""
        assert {key: "1", "bar": "2"} == one(send, *with_state(f"{key}=1,bar=2")).tracestate

    def test_tracestate_member_count_limit(self, send) -> None:
        """32 members are inherited; a 33rd discards the tracestate."""
        lines = [
            ",".join(f"bar{i:02d}={i:02d}" for i in range(start, min(start + 10, 33)))
            for start in (1, 11, 21, 31)
        ]
        callback = one(send, *with_state(*lines))
        assert (32, "01") == (len(callback.tracestate), callback.tracestate["bar01"])
        callback = one(send, *with_state(*lines[:-1], "bar31=31,bar32=32,bar33=33"))
        assert {} == callback.tracestate

    @pytest.mark.parametrize(
        ("key", "kept"),
        [
            ("z" * 256, True),
            ("z" * 257, False),
            ("t" * 241 + "@" + "v" * 14, True),
        ],
    )
    def test_tracestate_key_length_limit(self, send, key, kept) -> None:
        """Keys of up to 256 characters are inherited; 257 discards the tracestate."""
        callback = one(send, *with_state("foo=1", f"{key}=1"))
        assert ({"foo": "1", key: "1"} if kept else {}) == callback.tracestate

    @pytest.mark.parametrize("key", ["t" * 242 + "@v", "t@" + "v" * 15])
    def test_tracestate_key_length_limit_vendor(self, send, key) -> None:
        """Keys with "@" within 256 characters are inherited whatever the split."""
        assert {"foo": "1", key: "1"} == one(send, *with_state("foo=1", f"{key}=1")).tracestate

    @pytest.mark.parametrize("state", ["foo=bar=baz", "foo=,bar=3"])
    def test_tracestate_value_illegal_characters(self, send, state) -> None:
        """An illegal value discards the tracestate."""
        assert {} == one(send, *with_state(state)).tracestate


class TestAdvanced:
    def test_multiple_requests_with_valid_traceparent(self, send) -> None:
        """Three callbacks share the trace id, each with its own parent id."""
        callbacks = send([("traceparent", SAMPLED)], 3)
        assert {TRACE} == {c.trace_id for c in callbacks}
        assert 3 == len({c.parent_id for c in callbacks})

    def test_multiple_requests_without_traceparent(self, send) -> None:
        """Without a traceparent, each callback still has its own parent id."""
        assert 3 == len({c.parent_id for c in send([], 3)})

    def test_multiple_requests_with_illegal_traceparent(self, send) -> None:
        """An all-zero trace id is replaced; each callback has its own parent id."""
        callbacks = send([("traceparent", f"00-{'0' * 32}-{PARENT}-01")], 3)
        assert "0" * 32 not in {c.trace_id for c in callbacks}
        assert 3 == len({c.parent_id for c in callbacks})


class TestLevel2:
    def test_propagates_random_flag(self, send) -> None:
        """Trace Context Level 2: the random flag (bit 1) of the caller is passed on."""
        callback = one(send, ("traceparent", f"00-{TRACE}-{PARENT}-02"))
        assert (TRACE, 0x02) == (callback.trace_id, callback.flags & 0x02)
        assert PARENT != callback.parent_id
