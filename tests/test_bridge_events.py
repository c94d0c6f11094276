"""The bridge's span events skip the SDK's second attribute cleaning, and match add_event()."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import Span, SpanLimits

import tracelog
from tracelog import _compat
from tracelog._compat import span_event_adder
from tracelog.bridge import Bridge
from tracelog.testing import SpanRecorder

FIELDS = {"order_id": "A-1001", "count": 3, "ok": True, "ratio": 0.5, "tags": ["a", "b"]}


def bridged_and_raw(rec: SpanRecorder, fields: dict[str, Any]) -> tuple[Any, Any]:
    """One event through the bridge and one through add_event() with the bridge's attributes."""
    with rec.tracer.start_as_current_span("bridged"):
        Bridge().record(
            1.5, 20, "INFO", "app", "order placed", tracelog.current_trace_context(), fields
        )
    (bridged,) = rec.finished()[-1].events
    with rec.tracer.start_as_current_span("raw") as span:
        span.add_event(bridged.name, dict(bridged.attributes), bridged.timestamp)
    (raw,) = rec.finished()[-1].events
    return bridged, raw


class TestSameEventAsAddEvent:
    def test_attributes_types_and_time_match(self, recorder) -> None:
        """The event holds the attributes, types and time add_event() would have stored."""
        bridged, raw = bridged_and_raw(recorder, FIELDS)
        assert dict(raw.attributes) == dict(bridged.attributes)
        assert ("A-1001", 3, True, 0.5, ("a", "b")) == tuple(bridged.attributes[k] for k in FIELDS)
        assert (raw.name, raw.timestamp, 0) == (
            bridged.name,
            bridged.timestamp,
            bridged.dropped_attributes,
        )
        assert isinstance(bridged.attributes, BoundedAttributes)

    def test_attributes_are_immutable(self, recorder) -> None:
        """As with add_event(), the stored attributes cannot be changed afterwards."""
        bridged, _ = bridged_and_raw(recorder, FIELDS)
        with pytest.raises(TypeError):
            bridged.attributes["order_id"] = "changed"  # type: ignore[index]
        assert "A-1001" == bridged.attributes["order_id"]

    def test_value_length_limit_still_cuts(self) -> None:
        """With a value length limit the SDK's own cleaning runs and cuts long values."""
        rec = SpanRecorder(span_limits=SpanLimits(max_attribute_length=4))
        bridged, raw = bridged_and_raw(rec, {"order_id": "A-1001"})
        assert ("A-10", "orde") == (bridged.attributes["order_id"], bridged.name[:4])
        assert dict(raw.attributes) == dict(bridged.attributes)
        rec.shutdown()

    def test_attribute_count_limit_still_drops(self) -> None:
        """Past the event attribute limit the SDK keeps the newest and counts the dropped."""
        rec = SpanRecorder(span_limits=SpanLimits(max_event_attributes=2))
        with rec.tracer.start_as_current_span("op"):
            ctx = tracelog.current_trace_context()
            Bridge().record(1.5, 20, "INFO", "app", "m", ctx, {"a": 1, "b": 2})
        (event,) = rec.finished()[0].events
        assert ({"a": 1, "b": 2}, 3) == (dict(event.attributes), event.dropped_attributes)
        rec.shutdown()

    def test_empty_field_name_is_dropped_as_the_sdk_does(self, recorder) -> None:
        """A field named "" is dropped and counted, as add_event() does with it."""
        with recorder.tracer.start_as_current_span("op"):
            ctx = tracelog.current_trace_context()
            Bridge().record(1.5, 20, "INFO", "app", "m", ctx, {"": "v", "k": "w"})
        (event,) = recorder.finished()[0].events
        assert ("w", False, 1) == (
            event.attributes["k"],
            "" in event.attributes,
            event.dropped_attributes,
        )

    def test_threads_lose_no_event(self) -> None:
        """Four threads logging into one span: every event is on it, each with its field."""
        rec = SpanRecorder(span_limits=SpanLimits(max_events=1000))
        bridge = Bridge()
        with rec.tracer.start_as_current_span("shared") as span:
            ctx = tracelog.current_trace_context()

            def work(n: int) -> None:
                for i in range(50):
                    bridge.record(1.5, 20, "INFO", "app", "m", ctx, {"n": n, "i": i}, span=span)

            threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        events = rec.finished()[0].events
        expected = {(n, i) for n in range(4) for i in range(50)}
        assert expected == {(e.attributes["n"], e.attributes["i"]) for e in events}
        rec.shutdown()


class TestAdderChoice:
    def test_sdk_span_uses_no_fallback(self, recorder) -> None:
        """On the installed SDK the direct path resolves without a public fallback."""
        with recorder.tracer.start_as_current_span("op") as span:
            add = span_event_adder(span)
        assert add is not _compat._public_add_event
        assert [] == _compat.FALLBACKS

    def test_subclass_with_own_add_event_gets_it_called(self, recorder) -> None:
        """A Span subclass that overrides add_event() has its override called."""
        seen: list[tuple[str, dict[str, Any]]] = []

        class Auditing(Span):
            def add_event(self, name: str, attributes: Any = None, timestamp: Any = None) -> None:
                seen.append((name, dict(attributes or {})))
                super().add_event(name, attributes, timestamp)

        with recorder.tracer.start_as_current_span("op") as parent:
            span = Auditing("child", parent.get_span_context())
            span.start()
            span_event_adder(span)(span, "hello", {"k": "v"}, 5)
            span.end()
        assert [("hello", {"k": "v"})] == seen
        assert ("hello", 5) == (span.events[0].name, span.events[0].timestamp)

    def test_non_sdk_span_gets_public_add_event(self) -> None:
        """Any other span type is handed to its own add_event()."""
        calls: list[tuple[str, dict[str, Any], int]] = []

        class Custom(trace.NonRecordingSpan):
            def add_event(self, name: str, attributes: Any = None, timestamp: Any = None) -> None:
                calls.append((name, attributes, timestamp))

        span = Custom(trace.INVALID_SPAN_CONTEXT)
        span_event_adder(span)(span, "hello", {"k": "v"}, 5)
        assert [("hello", {"k": "v"}, 5)] == calls
