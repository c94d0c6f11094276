"""Edges of the plumbing: sinks, the filter, caches, fallbacks."""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import orjson
import pytest

import tracelog
from tracelog import _context as context
from tracelog import _state
from tracelog._line import LineEncoder, resolve_redactor
from tracelog._sink import LineSink
from tracelog.redact import Redactor
from tracelog.stdlib import JsonFormatter, JsonStreamHandler, TraceContextFilter
from tracelog.testing import SpanRecorder


class TestSink:
    def test_binary_stream(self) -> None:
        """A binary stream without a descriptor gets the bytes as they are."""
        out = io.BytesIO()
        assert LineSink(out).write(b'{"a":1}\n')
        assert b'{"a":1}\n' == out.getvalue()

    def test_rejects_non_stream(self) -> None:
        """A stream without write() is refused at construction."""
        with pytest.raises(TypeError, match="writable file object"):
            LineSink(object())  # type: ignore[arg-type]

    def test_short_write_is_completed(self, monkeypatch) -> None:
        """A partial os.write is finished so the line arrives whole."""
        r, w = os.pipe()
        real_write = os.write
        calls: list[int] = []

        def short_write(fd: int, data: Any) -> int:
            calls.append(len(data))
            return real_write(fd, bytes(data)[:3]) if len(calls) == 1 else real_write(fd, data)

        with os.fdopen(w, "w") as stream:
            sink = LineSink(stream)
            monkeypatch.setattr(os, "write", short_write)
            assert sink.write(b"0123456789\n")
            monkeypatch.undo()
        with os.fdopen(r, "rb") as reader:
            assert b"0123456789\n" == reader.read()
        assert 2 <= len(calls)

    def test_unflushable_stream_falls_back_to_write(self) -> None:
        """A stream whose flush fails at construction is written through write()."""

        class NoFlush(io.StringIO):
            def fileno(self) -> int:
                return 1

            def flush(self) -> None:
                raise OSError("no")

        stream = NoFlush()
        sink = LineSink(stream)
        assert sink._fd is None

    def test_diagnostic_channel_gone(self, monkeypatch) -> None:
        """With no stderr at all, failures are still counted and never raise."""
        monkeypatch.setattr(sys, "__stderr__", None)
        stream = io.StringIO()
        stream.close()
        sink = LineSink(stream)
        assert not sink.write(b"x\n")
        assert 1 == sink.failed


class TestStdlibEdges:
    def test_filter_keeps_first_capture(self) -> None:
        """A second filter pass does not overwrite the ids captured at the call."""
        rec = SpanRecorder()
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
        with rec.tracer.start_as_current_span("op"):
            TraceContextFilter().filter(record)
        TraceContextFilter().filter(record)
        line = orjson.loads(JsonFormatter().format(record))
        assert "spanId" in line

    def test_stack_info_and_odd_exc_info(self) -> None:
        """stack_info becomes a field; an exc_info of (None, None, None) is ignored."""
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), (None, None, None))
        record.stack_info = "Stack (most recent call last):\n  here"
        line = orjson.loads(JsonFormatter().format(record))
        assert "exception" not in line
        assert line["stack_info"].startswith("Stack")

    def test_default_formatter_and_format_error(self, capfd) -> None:
        """A handler without formatter writes JSON; a formatter that raises is counted once."""
        buffer = io.StringIO()
        handler = JsonStreamHandler(buffer)
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
        handler.handle(record)
        assert "m" == orjson.loads(buffer.getvalue())["message"]

        class Broken(logging.Formatter):
            def format(self, record: logging.LogRecord) -> str:
                raise RuntimeError("formatter bug")

        handler.setFormatter(Broken())
        handler.handle(record)
        handler.handle(record)
        assert 2 == handler.sink.failed
        assert 1 == capfd.readouterr().err.count("formatter bug")

    def test_rejecting_filter(self) -> None:
        """A filter that rejects keeps the record out."""
        buffer = io.StringIO()
        handler = JsonStreamHandler(buffer)
        handler.addFilter(lambda r: False)
        assert not handler.handle(logging.LogRecord("x", 20, __file__, 1, "m", (), None))
        assert "" == buffer.getvalue()

    def test_flush_failure_is_counted(self) -> None:
        """A text stream whose flush raises goes to the error path."""

        class BadFlush(io.StringIO):
            def flush(self) -> None:
                raise OSError("flush")

        handler = JsonStreamHandler(BadFlush())
        handler.flush()
        assert 1 == handler.sink.failed

    def test_filter_returning_record(self) -> None:
        """A filter may return a replacement record (Python 3.12 protocol)."""
        buffer = io.StringIO()
        handler = JsonStreamHandler(buffer)

        def replace(record: logging.LogRecord) -> logging.LogRecord:
            return logging.LogRecord("other", 20, __file__, 1, "replaced", (), None)

        handler.addFilter(replace)  # type: ignore[arg-type]
        handler.handle(logging.LogRecord("x", 20, __file__, 1, "m", (), None))
        expected = "replaced" if sys.version_info >= (3, 12) else "m"
        assert expected == orjson.loads(buffer.getvalue())["message"]


class TestLineEdges:
    def test_redact_argument(self) -> None:
        """redact accepts True, False, None and a Redactor, nothing else."""
        custom = Redactor()
        assert custom is resolve_redactor(custom)
        assert resolve_redactor(None) is None
        with pytest.raises(TypeError, match="redact must be"):
            resolve_redactor("yes")

    def test_non_str_key_and_prefixed_collision(self) -> None:
        """Non-str field keys are stringified; user.<name> collisions get another prefix."""
        enc = LineEncoder(redact=False)
        line = enc.build(
            0.0,
            20,
            "INFO",
            "l",
            "m",
            None,
            None,
            {1: "one", "user.level": "first", "level": "second"},
        )  # type: ignore[dict-item]
        assert ("one", "first", "second") == (line["1"], line["user.level"], line["_user.level"])

    def test_exception_text_is_redacted(self) -> None:
        """An exception message holding a secret is redacted."""
        enc = LineEncoder()
        try:
            raise ValueError("login failed password=hunter2")  # noqa: TRY301
        except ValueError:
            line = enc.build(0.0, 40, "ERROR", "l", "m", None, None, None, sys.exc_info())  # type: ignore[arg-type]
        assert "hunter2" not in orjson.dumps(line).decode()

    def test_bad_service(self) -> None:
        """An empty service name is refused."""
        with pytest.raises(ValueError, match="service"):
            LineEncoder(service=" ")


class Exploding(Mapping[str, Any]):
    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("cannot iterate")

    def __len__(self) -> int:
        return 1


class TestRedactorEdges:
    def test_unwalkable_value(self) -> None:
        """A mapping that raises while walked becomes the placeholder."""
        assert "[REDACTED]" == Redactor().value(Exploding())

    def test_compiled_pattern_and_non_str_keys(self) -> None:
        """Compiled patterns are accepted; non-str keys are walked, not matched."""
        import re

        r = Redactor(patterns=[re.compile(r"ORD-\d+")])
        assert {1: "[REDACTED]"} == r.value({1: "ORD-1"})

    def test_no_words_at_all(self) -> None:
        """With defaults off and no keys, only patterns apply."""
        r = Redactor(defaults=False, patterns=[r"x+"])
        assert "a [REDACTED] b" == r.text("a xxx b")
        assert not r.is_secret_key("password")

    def test_key_cache_is_bounded(self, monkeypatch) -> None:
        """The key cache is cleared when full rather than growing without bound."""
        from tracelog import redact

        monkeypatch.setattr(redact, "_KEY_CACHE_LIMIT", 3)
        monkeypatch.setattr(redact, "_CLEAN_LIMIT", 3)
        r = Redactor()
        for i in range(10):
            r.is_secret_key(f"k{i}")
            r.text(f"text {i}")
        assert len(r._key_cache) <= 3
        assert len(r._clean) <= 3


class TestContextEdges:
    def test_cache_is_bounded(self, monkeypatch) -> None:
        """The formatted-id cache is cleared when full."""
        monkeypatch.setattr(context, "_CACHE_LIMIT", 2)
        rec = SpanRecorder()
        for _ in range(5):
            with rec.tracer.start_as_current_span("op"):
                assert tracelog.current_trace_context() is not None
        assert len(context._formatted) <= 2

    def test_broken_resource(self) -> None:
        """A resource whose attributes raise counts as no service name."""

        class Broken:
            @property
            def attributes(self) -> Any:
                raise RuntimeError("x")

        assert context._resource_service(Broken()) is None

    def test_current_service(self, monkeypatch) -> None:
        """current_service follows the span's Resource, then OTEL_SERVICE_NAME."""
        monkeypatch.setenv("OTEL_SERVICE_NAME", "env-name")
        rec = SpanRecorder(service="span-name")
        with rec.tracer.start_as_current_span("op"):
            assert "span-name" == context.current_service()
        assert "env-name" == context.current_service()

    def test_program_name_without_argv(self, monkeypatch) -> None:
        """An empty argv falls back to 'python'."""
        monkeypatch.setattr(sys, "argv", [])
        assert "python" == context.fallback_service()

    def test_traceparent_and_sampled(self) -> None:
        """TraceContext spells a traceparent and reads the sampled bit."""
        ctx = tracelog.TraceContext.from_ints(1, 2, 3)
        assert "00-" + "0" * 31 + "1-" + "0" * 15 + "2-03" == ctx.traceparent
        assert ctx.sampled


class TestStructlogEdges:
    def test_render_active_processor(self, output) -> None:
        """The configured chain's last processor renders with the active settings."""
        import structlog

        from tracelog.structlog import render_active

        out = output()
        log = structlog.wrap_logger(tracelog.structlog.SinkLogger("w"), processors=[render_active])
        log.info("through render_active")
        assert "through render_active" == out.lines()[0]["message"]

    def test_sink_before_configure(self, capfd) -> None:
        """Before configure(), the structlog logger writes JSON to stderr."""

        _state.swap(_state.UNCONFIGURED)
        tracelog.get_logger("early").warning("unconfigured")
        assert "unconfigured" == orjson.loads(capfd.readouterr().err)["message"]

    def test_exc_info_forms(self) -> None:
        """exc_info may be True, a tuple, an exception, or falsy."""
        from tracelog.structlog import _exc_info

        assert _exc_info(False) is None
        assert _exc_info(True) is None  # no exception being handled
        err = ValueError("x")
        assert err is _exc_info((ValueError, err, None))[1]  # type: ignore[index]


class TestFastContextRead:
    def test_agrees_with_the_api(self, monkeypatch) -> None:
        """The direct ContextVar read gives what trace.get_current_span() gives, and so
        does the public fallback."""
        from opentelemetry import context as otel_context
        from opentelemetry import trace
        from opentelemetry.trace.propagation import _SPAN_KEY

        rec = SpanRecorder()
        cases = []
        cases.append((None, trace.get_current_span(), context._current_span()))
        with rec.tracer.start_as_current_span("op"):
            cases.append(("span", trace.get_current_span(), context._current_span()))
        token = otel_context.attach(otel_context.set_value(_SPAN_KEY, "not a span"))
        try:
            cases.append(("junk", trace.get_current_span(), context._current_span()))
            monkeypatch.setattr(context, "_read_context", None)
            cases.append(("fallback", trace.get_current_span(), context._current_span()))
        finally:
            otel_context.detach(token)
        for _, api, ours in cases:
            assert api is ours


class TestCaptureCache:
    def test_follows_every_context_change(self) -> None:
        """The one-entry capture cache answers only while the same Context is current."""
        rec = SpanRecorder()
        seen = []
        with rec.tracer.start_as_current_span("a") as a:
            seen.append((context.capture()[0], a))
            with rec.tracer.start_as_current_span("b") as b:
                seen.append((context.capture()[0], b))
                seen.append((context.capture()[0], b))  # from the cache
            seen.append((context.capture()[0], a))  # a's Context is current again
            seen.append((context.capture_span()[1], a))
        assert (None, None) == (context.capture()[0], context.capture_span()[1])
        for ctx, span in seen:
            assert ctx is not None
            assert format(span.get_span_context().span_id, "016x") == ctx.span_id

    def test_other_threads_see_their_own_context(self) -> None:
        """A thread in another span never gets the cached answer of this one."""
        import threading

        rec = SpanRecorder()
        results: list[Any] = []

        def other() -> None:
            with rec.tracer.start_as_current_span("other") as span:
                results.append((context.capture()[0], span))

        with rec.tracer.start_as_current_span("main") as main:
            mine = context.capture()[0]
            thread = threading.Thread(target=other)
            thread.start()
            thread.join()
            again = context.capture()[0]
        ((theirs, span),) = results
        assert theirs is not None
        assert mine is again
        assert format(span.get_span_context().span_id, "016x") == theirs.span_id
        assert format(main.get_span_context().span_id, "016x") == mine.span_id  # type: ignore[union-attr]
