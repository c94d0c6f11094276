"""_context.py: the one reader of the current span: caches, fallbacks, threads."""

from __future__ import annotations

import sys
from typing import Any

import tracelog
from tracelog import _context as context
from tracelog.testing import SpanRecorder


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
