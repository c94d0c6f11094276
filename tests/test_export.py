"""tracelog.export.JsonLinesSpanExporter and the span record layout it writes."""

from __future__ import annotations

import io
import re
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

from tests.conftest import emit
from tracelog import _render as render
from tracelog.export import JsonLinesSpanExporter
from tracelog.schemas import SPAN_RECORD, SpanRecord
from tracelog.testing import SpanRecorder

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def ids(span: Any) -> tuple[str, str]:
    sc = span.get_span_context()
    return format(sc.trace_id, "032x"), format(sc.span_id, "016x")


def exported(target: Any, **kwargs: Any) -> tuple[SpanRecorder, JsonLinesSpanExporter]:
    recorder = SpanRecorder(service="checkout")
    exporter = JsonLinesSpanExporter(target, **kwargs)
    recorder.provider.add_span_processor(SimpleSpanProcessor(exporter))
    return recorder, exporter


class TestRecordLine:
    def test_one_line_per_span_with_every_field(self) -> None:
        """Ids, parent, name, kind, service, start/end/duration, status and attributes."""
        out = io.StringIO()
        recorder, _ = exported(out)
        tracer = recorder.tracer
        with (
            tracer.start_as_current_span("GET /checkout", kind=SpanKind.SERVER) as root,
            tracer.start_as_current_span("charge", attributes={"amount": 12}) as child,
        ):
            child.set_status(Status(StatusCode.ERROR, "declined"))
        recorder.shutdown()
        first, second = (render.loads(line) for line in out.getvalue().splitlines())
        trace_id, root_id = ids(root)
        times = {k: first.pop(k) for k in ("start", "end", "durationMs")}
        assert {
            "tracelog.record": "span",
            "name": "charge",
            "kind": "internal",
            "service": "checkout",
            "traceId": trace_id,
            "spanId": ids(child)[1],
            "parentSpanId": root_id,
            "status": "error",
            "statusMessage": "declined",
            "attributes": {"amount": 12},
        } == first
        assert ISO.match(times["start"])
        assert ISO.match(times["end"])
        start, end = (datetime.fromisoformat(times[k]) for k in ("start", "end"))
        assert times["durationMs"] == pytest.approx((end - start).total_seconds() * 1000, abs=0.002)
        assert ["tracelog.record", "name", "kind", "service", "traceId", "spanId"] == list(second)[
            :6
        ]
        assert ("server", "unset", root_id) == (second["kind"], second["status"], second["spanId"])
        assert "parentSpanId" not in second
        assert "attributes" not in second

    def test_unknown_service_is_left_out(self) -> None:
        """A Resource without a real service name gives no service field, as for log lines."""
        out = io.StringIO()
        recorder = SpanRecorder(service="unknown_service:python")
        recorder.provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(out)))
        with recorder.tracer.start_as_current_span("op"):
            pass
        recorder.shutdown()
        assert "service" not in render.loads(out.getvalue())

    def test_read_back(self) -> None:
        """SPAN_RECORD.read_record gives back what record() wrote."""
        line = render.loads(
            render.dumps(
                SPAN_RECORD.record(
                    trace_id="ab" * 16,
                    span_id="cd" * 8,
                    parent_span_id="ef" * 8,
                    name="op",
                    kind="client",
                    service="svc",
                    start_ns=1_764_000_000_123_456_789,
                    end_ns=1_764_000_000_125_456_789,
                    status="ok",
                    status_message="fine",
                    attributes={"k": "v"},
                )
            )
        )
        assert SpanRecord(
            trace_id="ab" * 16,
            span_id="cd" * 8,
            parent_span_id="ef" * 8,
            name="op",
            kind="client",
            service="svc",
            start="2025-11-24T16:00:00.123456Z",
            end="2025-11-24T16:00:00.125456Z",
            duration_ms=2.0,
            status="ok",
            status_message="fine",
            attributes={"k": "v"},
        ) == SPAN_RECORD.read_record(line)

    @pytest.mark.parametrize(
        "line",
        [
            {"traceId": "ab" * 16, "spanId": "cd" * 8},
            {"tracelog.record": "span", "traceId": "ab" * 16},
            {"tracelog.record": "log", "traceId": "ab" * 16, "spanId": "cd" * 8},
        ],
    )
    def test_not_a_record(self, line: dict[str, Any]) -> None:
        """A log line, a record without ids, or another marker value is no record."""
        assert SPAN_RECORD.read_record(line) is None

    def test_minimal_record_defaults(self) -> None:
        """Missing or mistyped optional fields read as empty/None, never raise."""
        line = {
            "tracelog.record": "span",
            "traceId": "ab" * 16,
            "spanId": "cd" * 8,
            "name": 3,
            "durationMs": True,
            "attributes": [],
        }
        record = SPAN_RECORD.read_record(line)
        assert record is not None
        assert ("", None, "unset", {}) == (
            record.name,
            record.duration_ms,
            record.status,
            record.attributes,
        )

    def test_log_line_cannot_pose_as_a_record(self, framework: str, output: Any) -> None:
        """A user field named like the record marker moves to user.<name> in log lines."""
        out = output()
        emit(framework, "info", "hi", **{"tracelog.record": "span"})
        (line,) = out.lines()
        assert ("span", None) == (line["user.tracelog.record"], line.get("tracelog.record"))


class TestExporterTargets:
    def test_path_appends_one_write_per_line(self, tmp_path: Path) -> None:
        """A path is opened for appending; threads' spans never tear a line."""
        path = tmp_path / "spans.log"
        path.write_text('{"existing": true}\n')
        recorder, exporter = exported(path)

        def work(n: int) -> None:
            for i in range(50):
                with recorder.tracer.start_as_current_span(
                    f"t{n}-{i}", attributes={"pad": "x" * 3000}
                ):
                    pass

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        recorder.shutdown()
        lines = [render.loads(line) for line in path.read_text().splitlines()]
        assert {"existing": True} == lines[0]
        assert 200 == len({line["name"] for line in lines[1:]})
        assert SpanExportResult.FAILURE == exporter.export([])

    def test_binary_stream_and_default_stderr(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A binary stream gets bytes; None means sys.stderr."""
        buffer = io.BytesIO()
        recorder, _ = exported(buffer)
        with recorder.tracer.start_as_current_span("op"):
            pass
        recorder.shutdown()
        assert "op" == render.loads(buffer.getvalue())["name"]
        recorder, _ = exported(None)
        with recorder.tracer.start_as_current_span("to stderr"):
            pass
        recorder.shutdown()
        assert "to stderr" == render.loads(capsys.readouterr().err)["name"]

    def test_write_failure_is_reported_not_raised(self, capfd: pytest.CaptureFixture[str]) -> None:
        """A closed stream: export returns FAILURE; one diagnostic, then a count at shutdown."""
        stream = io.StringIO()
        recorder, exporter = exported(stream)
        stream.close()
        with recorder.tracer.start_as_current_span("lost"):
            pass
        assert SpanExportResult.FAILURE == exporter.export([recorder.finished()[0]])
        assert exporter.force_flush()
        recorder.shutdown()
        err = capfd.readouterr().err.splitlines()
        assert err[0].startswith("tracelog: cannot write log lines to StringIO (ValueError: ")
        assert ["tracelog: 2 log line(s) to StringIO were lost before shutdown"] == err[1:]

    def test_attributes_are_redacted(self) -> None:
        """Secret attribute keys and secrets in text are redacted by default, kept with False."""
        attributes = {"http.url": "https://u:hunter2@shop/x", "db.password": "pw", "n": 1}
        for redact, expected in (
            (
                True,
                {"http.url": "https://u:[REDACTED]@shop/x", "db.password": "[REDACTED]", "n": 1},
            ),
            (False, attributes),
        ):
            out = io.StringIO()
            recorder, _ = exported(out, redact=redact)
            with recorder.tracer.start_as_current_span("op", attributes=attributes) as span:
                span.set_status(Status(StatusCode.ERROR, "token=abc123"))
            recorder.shutdown()
            line = render.loads(out.getvalue())
            assert expected == line["attributes"]
            assert ("token=[REDACTED]" if redact else "token=abc123") == line["statusMessage"]
