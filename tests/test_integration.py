"""Features working together: the bridge behind queue mode and sampling."""

from __future__ import annotations

from typing import Any

import orjson
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

import tracelog
from tests.conftest import emit
from tracelog.testing import SpanRecorder


def span_ids(span: Any) -> tuple[str, str]:
    sc = span.get_span_context()
    return format(sc.trace_id, "032x"), format(sc.span_id, "016x")


class TestBridgeBehindQueue:
    def test_span_events_recorded_at_the_call(
        self, framework, recorder, log_recorder, tmp_path
    ) -> None:
        """Queue mode: the event lands on the caller's span, one log record per call."""
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(
                stream=stream,
                queue=True,
                span_events=True,
                otel_logs=True,
                logger_provider=log_recorder.provider,
            )
            with recorder.tracer.start_as_current_span("op") as span:
                emit(framework, "warning", "queued and bridged", order_id="A-1")
            tracelog.shutdown()
        (line,) = [orjson.loads(x) for x in path.read_text().splitlines()]
        (finished,) = recorder.finished()
        (event,) = finished.events
        assert "queued and bridged" == event.attributes["log.message"]
        assert "A-1" == event.attributes["order_id"]
        assert span_ids(span) == (line["traceId"], line["spanId"])
        (record,) = log_recorder.records()
        assert span_ids(span) == (format(record.trace_id, "032x"), format(record.span_id, "016x"))


class TestBridgeWithSampling:
    def test_dropped_lines_make_no_events(self, framework, log_recorder, output) -> None:
        """A line the sampler drops is not bridged either."""
        out = output(
            sample="parent", span_events=True, otel_logs=True, logger_provider=log_recorder.provider
        )
        quiet = SpanRecorder(sampler=ALWAYS_OFF)
        with quiet.tracer.start_as_current_span("unsampled"):
            emit(framework, "info", "dropped")
        assert [] == out.lines()
        assert [] == log_recorder.records()

    def test_kept_lines_are_bridged(self, framework, recorder, output) -> None:
        """A kept line of a sampled trace becomes a span event."""
        out = output(sample="parent", span_events=True)
        with recorder.tracer.start_as_current_span("sampled"):
            emit(framework, "info", "kept")
        assert ["kept"] == [x["message"] for x in out.lines()]
        assert ["kept"] == [e.name for e in recorder.finished()[0].events]
