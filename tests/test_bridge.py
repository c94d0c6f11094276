"""The log-to-trace bridge: span events, OTel log records, recursion, limits, de-duplication."""

from __future__ import annotations

import datetime as dt
import logging
import logging.config
import logging.handlers
import queue
import threading
from typing import Any

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.sdk.trace import SpanLimits
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

import tracelog
from tests.conftest import emit
from tracelog.bridge import DROPPED_EVENTS_ATTRIBUTE, Bridge, severity
from tracelog.config import TracelogHandler
from tracelog.stdlib import JsonFormatter, OtelLogHandler, SpanEventHandler, TraceContextFilter
from tracelog.structlog import (
    JsonRenderer,
    OtelLogEmitter,
    SpanEventRecorder,
    capture_trace_context,
)
from tracelog.testing import LogRecorder, SpanRecorder


def micros(line: dict[str, Any]) -> int:
    """The line's timestamp as integer microseconds since the epoch."""
    stamp = dt.datetime.fromisoformat(line["timestamp"])
    delta = stamp - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def events(span: Any) -> list[tuple[str, dict[str, Any]]]:
    return [(e.name, dict(e.attributes)) for e in span.events]


def span_hex(span: Any) -> tuple[str, str]:
    ctx = span.get_span_context() if hasattr(span, "get_span_context") else span.context
    return format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")


def configured_bridge() -> Bridge | None:
    """The bridge on the configured handler's formatter (configure() adds no handler for it)."""
    (handler,) = [h for h in logging.getLogger().handlers if isinstance(h, TracelogHandler)]
    assert isinstance(handler.formatter, JsonFormatter)
    return handler.formatter.bridge


class TestSpanEvents:
    def test_log_becomes_event_on_current_span(self, framework, recorder, output) -> None:
        """A log inside a span is an event on it: message name, log.* attributes, fields."""
        out = output(span_events=True)
        with recorder.tracer.start_as_current_span("op"):
            emit(framework, "info", "order placed", order_id="A-1001", qty=3)
        (span,) = recorder.finished()
        expected = [
            (
                "order placed",
                {
                    "log.severity": "INFO",
                    "log.message": "order placed",
                    "log.logger": "app",
                    "order_id": "A-1001",
                    "qty": 3,
                },
            )
        ]
        assert expected == events(span)
        (line,) = out.lines()
        assert (line["traceId"], line["spanId"]) == span_hex(span)

    def test_event_time_is_line_time(self, framework, recorder, output) -> None:
        """The event's timestamp is the instant the JSON line carries."""
        out = output(span_events=True)
        with recorder.tracer.start_as_current_span("op"):
            for i in range(5):
                emit(framework, "warning", f"tick {i}")
        (span,) = recorder.finished()
        assert [micros(line) for line in out.lines()] == [e.timestamp // 1000 for e in span.events]
        assert all(e.timestamp % 1000 == 0 for e in span.events)

    def test_attribute_types(self, framework, recorder, output) -> None:
        """OTel types stay, homogeneous lists stay, None is dropped, the rest is a string."""

        class Opaque:
            def __repr__(self) -> str:
                return "<opaque>"

        class Broken:
            def __repr__(self) -> str:
                raise RuntimeError

            __str__ = __repr__

        output(span_events=True)
        with recorder.tracer.start_as_current_span("op"):
            emit(
                framework,
                "info",
                "typed",
                s="text",
                b=True,
                i=7,
                f=1.5,
                big=2**70,
                tags=["a", "b"],
                nums=(1, 2),
                flags=[True, False],
                floats=[0.5],
                empty=[],
                mixed=[1, "a"],
                bigs=[1, 2**70],
                mapping={"k": 1},
                obj=Opaque(),
                broken=Broken(),
                nothing=None,
            )
        (span,) = recorder.finished()
        attrs = dict(span.events[0].attributes)
        expected = {
            "s": "text",
            "b": True,
            "i": 7,
            "f": 1.5,
            "big": str(2**70),
            "tags": ("a", "b"),
            "nums": (1, 2),
            "flags": (True, False),
            "floats": (0.5,),
            "empty": (),
            # What the line writes for them, as JSON text: one text on every output.
            "mixed": '[1,"a"]',
            "bigs": f'[1,"{2**70}"]',
            "mapping": '{"k":1}',
            "obj": "<opaque>",
            "broken": "<unrepresentable Broken object>",
        }
        assert expected == {k: v for k, v in attrs.items() if not k.startswith("log.")}

    def test_redaction_matches_the_line(self, framework, recorder, output) -> None:
        """Secret fields and secrets in the message are redacted in the event as in the line."""
        out = output(span_events=True)
        with recorder.tracer.start_as_current_span("op"):
            emit(framework, "info", "login token=abc123", password="hunter2", nested={"api_key": 1})
        (span,) = recorder.finished()
        ((name, attrs),) = events(span)
        (line,) = out.lines()
        assert line["message"] == name == attrs["log.message"] == "login token=[REDACTED]"
        assert line["password"] == attrs["password"] == "[REDACTED]"
        assert '{"api_key":"[REDACTED]"}' == attrs["nested"]

    def test_redact_off_keeps_values(self, recorder, output) -> None:
        """With redact=False the event keeps the values, like the line."""
        output(span_events=True, redact=False)
        with recorder.tracer.start_as_current_span("op"):
            tracelog.get_logger("app").info("token=abc", password="hunter2")
            try:
                raise ValueError("token=abc")  # noqa: TRY301
            except ValueError:
                tracelog.get_logger("app").exception("failed")
        ((name, attrs), _, (_, exc)) = events(recorder.finished()[0])
        assert ("token=abc", "hunter2") == (name, attrs["password"])
        assert "token=abc" == exc["exception.message"]

    def test_unnamed_logger_has_no_logger_attribute(self, recorder, output) -> None:
        """A structlog logger without a name leaves log.logger out rather than inventing one."""
        output(span_events=True)
        with recorder.tracer.start_as_current_span("op"):
            tracelog.get_logger().info("anonymous")
        ((_, attrs),) = events(recorder.finished()[0])
        assert {"log.severity": "INFO", "log.message": "anonymous"} == attrs

    def test_unicode_kept_surrogates_replaced(self, framework, recorder, output) -> None:
        """Non-ASCII text stays as it is; a lone surrogate is replaced, so exporters never choke."""
        output(span_events=True)
        with recorder.tracer.start_as_current_span("op"):
            emit(framework, "info", "café ☕ \ud800", who="naïve \udfff")
        ((name, attrs),) = events(recorder.finished()[0])
        assert ("café ☕ \ufffd", "naïve \ufffd") == (name, attrs["who"])

    def test_handler_outside_span_does_nothing(self) -> None:
        """A SpanEventHandler outside any span neither records nor fails."""
        handler = SpanEventHandler()
        logger = logging.getLogger("outside")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            logger.info("no span here", extra={"k": 1})
        finally:
            logger.removeHandler(handler)
        assert 0 == handler.bridge.failures

    def test_user_field_named_like_ours_is_kept_apart(self, framework, recorder, output) -> None:
        """A user field called log.message does not overwrite the bridge's own."""
        output(span_events=True)
        with recorder.tracer.start_as_current_span("op"):
            emit(framework, "info", "real", **{"log.message": "fake"})
        ((_, attrs),) = events(recorder.finished()[0])
        assert ("real", "fake") == (attrs["log.message"], attrs["user.log.message"])

    def test_minimum_level(self, framework, recorder, output) -> None:
        """Below the bridge level (INFO by default) no event, though the line is written."""
        out = output(span_events=True, level="DEBUG")
        with recorder.tracer.start_as_current_span("op"):
            emit(framework, "debug", "quiet")
            emit(framework, "info", "loud")
        assert ["quiet", "loud"] == [line["message"] for line in out.lines()]
        assert ["loud"] == [name for name, _ in events(recorder.finished()[0])]

    def test_bridge_level_debug(self, framework, recorder, output) -> None:
        """bridge_level="DEBUG" records debug logs too."""
        output(span_events=True, level="DEBUG", bridge_level="DEBUG")
        with recorder.tracer.start_as_current_span("op"):
            emit(framework, "debug", "quiet")
        assert ["quiet"] == [name for name, _ in events(recorder.finished()[0])]

    def test_off_by_default(self, framework, recorder, output) -> None:
        """Without span_events the span gets no events and no bridge is installed."""
        output()
        with recorder.tracer.start_as_current_span("op"):
            emit(framework, "info", "hello")
        assert [] == events(recorder.finished()[0])
        assert configured_bridge() is None

    def test_outside_a_span_nothing_happens(self, framework, output) -> None:
        """Outside any span the line is written and nothing else."""
        out = output(span_events=True)
        emit(framework, "info", "alone")
        assert ["alone"] == [line["message"] for line in out.lines()]

    def test_ended_span_gets_nothing(self, framework, recorder, output) -> None:
        """A span that ended but is still current gets no event and the SDK says nothing."""
        out = output(span_events=True)
        span = recorder.tracer.start_span("op")
        with trace.use_span(span, end_on_exit=False):
            span.end()
            emit(framework, "error", "late")
        assert [] == events(recorder.finished()[0])
        assert ["late"] == [line["message"] for line in out.lines()]

    def test_unsampled_span_gets_nothing_but_line_keeps_ids(self, framework, output) -> None:
        """A non-recording span gets no event; the line still carries its ids."""
        rec = SpanRecorder(sampler=ALWAYS_OFF)
        out = output(span_events=True)
        with rec.tracer.start_as_current_span("op") as span:
            emit(framework, "info", "unsampled")
        assert [] == rec.finished()
        (line,) = out.lines()
        assert (line["traceId"], line["spanId"]) == span_hex(span)

    def test_event_goes_on_the_innermost_span(self, framework, recorder, output) -> None:
        """Each log lands on the span current at its call."""
        output(span_events=True)
        with recorder.tracer.start_as_current_span("parent"):
            emit(framework, "info", "in parent")
            with recorder.tracer.start_as_current_span("child"):
                emit(framework, "info", "in child")
        by_name = {s.name: [n for n, _ in events(s)] for s in recorder.finished()}
        assert {"parent": ["in parent"], "child": ["in child"]} == by_name

    def test_event_name_is_cut(self, recorder, output) -> None:
        """Long and multi-line messages give a short one-line name; log.message keeps all."""
        output(span_events=True)
        long = "x" * 300
        with recorder.tracer.start_as_current_span("op"):
            tracelog.get_logger("app").info(long)
            tracelog.get_logger("app").info("first line\nsecond line")
            tracelog.get_logger("app").info("")
        names = [(n, a["log.message"]) for n, a in events(recorder.finished()[0])]
        expected = [
            ("x" * 127 + "…", long),
            ("first line …", "first line\nsecond line"),
            ("log", ""),
        ]
        assert expected == names


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)),
    st.binary(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


def is_otel_value(value: Any) -> bool:
    """An attribute value OTLP can carry: a scalar, or a tuple of one scalar type."""
    if type(value) is tuple:
        return len({type(v) for v in value}) <= 1 and all(is_otel_value(v) for v in value)
    if type(value) is int:
        return -(2**63) <= value < 2**63
    if type(value) is str:
        value.encode("utf-8")  # raises for a lone surrogate
        return True
    return type(value) in {bool, float}


class TestAttributeProperty:
    @settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(value=VALUES)
    def test_any_value_becomes_an_otel_value(self, recorder, value) -> None:
        """Whatever a field holds, the event gets an OTLP-safe value (or nothing, for None)."""
        bridge = Bridge(redact=False)
        with recorder.tracer.start_as_current_span("op") as span:
            bridge.record(
                1.0, 20, "INFO", "app", "m", tracelog.current_trace_context(), {"v": value}
            )
        attrs = dict(span.events[0].attributes)
        if value is None:
            assert "v" not in attrs
        else:
            assert is_otel_value(attrs["v"])


class TestErrors:
    def raise_and_log(self, framework: str, method: str = "exception") -> None:
        try:
            raise ValueError("card 4111 1111 1111 1111 rejected")  # noqa: TRY301
        except ValueError:
            emit(framework, method, "payment failed", exc_info=True)

    def test_exception_event_and_error_status(self, framework, recorder, output) -> None:
        """ERROR with exc_info: the log event, an `exception` event, span status ERROR."""
        out = output(span_events=True)
        with recorder.tracer.start_as_current_span("op"):
            self.raise_and_log(framework)
        (span,) = recorder.finished()
        (log_event, exc_event) = events(span)
        assert "payment failed" == log_event[0]
        assert "exception.type" not in log_event[1]
        assert "exception" == exc_event[0]
        (line,) = out.lines()
        assert {
            "exception.type": line["exception"]["type"],
            "exception.message": "card [REDACTED] rejected",
            "exception.stacktrace": line["exception"]["stacktrace"],
            "exception.escaped": "False",
        } == exc_event[1]
        assert "[REDACTED]" in exc_event[1]["exception.stacktrace"]
        assert (trace.StatusCode.ERROR, "payment failed") == (
            span.status.status_code,
            span.status.description,
        )

    def test_options_turn_both_off(self, recorder) -> None:
        """record_exception=False and set_error_status=False leave the span's status alone."""
        handler = SpanEventHandler(record_exception=False, set_error_status=False)
        logging.getLogger().addHandler(handler)
        with recorder.tracer.start_as_current_span("op"):
            self.raise_and_log("stdlib")
        (span,) = recorder.finished()
        ((name, attrs),) = events(span)
        assert ("payment failed", "ValueError") == (name, attrs["exception.type"])
        assert trace.StatusCode.UNSET == span.status.status_code

    def test_warning_with_exc_info_is_not_an_error(self, framework, recorder, output) -> None:
        """Below ERROR the exception rides on the log event; the status stays unset."""
        output(span_events=True)
        with recorder.tracer.start_as_current_span("op"):
            self.raise_and_log(framework, "warning")
        (span,) = recorder.finished()
        ((name, attrs),) = events(span)
        assert ("payment failed", "ValueError") == (name, attrs["exception.type"])
        assert trace.StatusCode.UNSET == span.status.status_code


class LoggingSpan(trace.NonRecordingSpan):
    """A recording-looking span whose add_event logs, as an exporter or SDK might."""

    def __init__(self, context: trace.SpanContext) -> None:
        super().__init__(context)
        self.added: list[str] = []

    def is_recording(self) -> bool:
        return True

    def add_event(self, name: str, attributes: Any = None, timestamp: int | None = None) -> None:
        self.added.append(name)
        logging.getLogger("app").warning("add_event called for %s", name)


class TestRecursion:
    def test_opentelemetry_loggers_are_skipped(self, recorder, output) -> None:
        """opentelemetry.* records are written as lines but never become events."""
        out = output(span_events=True)
        with recorder.tracer.start_as_current_span("op"):
            logging.getLogger("opentelemetry.sdk.trace").warning("sdk says")
            logging.getLogger("opentelemetry").warning("api says")
            logging.getLogger("opentelemetryish").warning("not otel")
        assert ["not otel"] == [n for n, _ in events(recorder.finished()[0])]
        assert 3 == len(out.lines())

    def test_logging_inside_the_bridge_does_not_come_back(self, framework, output) -> None:
        """A log written while the bridge adds an event is a line, not another event."""
        out = output(span_events=True)
        span = LoggingSpan(trace.SpanContext(1, 2, is_remote=False))
        with trace.use_span(span):
            emit(framework, "info", "outer")
        assert ["outer"] == span.added
        assert ["add_event called for outer", "outer"] == sorted(
            line["message"] for line in out.lines()
        )

    def test_field_repr_that_logs(self, recorder, output) -> None:
        """A field whose repr logs is converted once inside the bridge, without recursion."""

        class Loud:
            def __repr__(self) -> str:
                logging.getLogger("app").info("repr called")
                return "loud"

        out = output(span_events=True)
        with recorder.tracer.start_as_current_span("op"):
            logging.getLogger("app").info("outer", extra={"loud": Loud()})
        names = [n for n, _ in events(recorder.finished()[0])]
        # The line's own render logs once (bridged: the bridge is not running yet); the
        # bridge's conversion logs again, and that one stays a line.
        assert ["repr called", "outer"] == names
        assert 3 == len(out.lines())


class TestBridgeDirectly:
    def test_record_inside_record_is_ignored(self, recorder) -> None:
        """Bridge.record called again while it runs (a field's repr) adds nothing more."""
        bridge = Bridge()

        class Reentrant:
            def __repr__(self) -> str:
                bridge.record(0.0, 20, "INFO", "inner", "inner", ctx, None)
                return "reentrant"

        with recorder.tracer.start_as_current_span("op"):
            ctx = tracelog.current_trace_context()
            bridge.record(1.5, 20, "INFO", "outer", "outer", ctx, {"f": Reentrant()})
        ((name, attrs),) = events(recorder.finished()[0])
        assert ("outer", "reentrant") == (name, attrs["f"])

    def test_ids_of_another_span_give_no_event(self, recorder) -> None:
        """Ids captured in one span and recorded while another is current: no event on either."""
        bridge = Bridge()
        with recorder.tracer.start_as_current_span("first"):
            first = tracelog.current_trace_context()
        with recorder.tracer.start_as_current_span("second"):
            bridge.record(1.0, 20, "INFO", "app", "stale", first, None)
        assert [[], []] == [events(span) for span in recorder.finished()]

    def test_emit_never_raises(self, capfd) -> None:
        """Bridge.emit reports a failing OTel pipeline once and counts, never raising."""
        bridge = Bridge(span_events=False, otel_logs=True, logger_provider=FailingProvider())  # type: ignore[arg-type]
        bridge.emit(1.0, 20, "INFO", "app", "one", None, None)
        bridge.emit(1.0, 20, "INFO", "app", "two", None, None)
        assert 2 == bridge.failures
        assert 1 == capfd.readouterr().err.count("bridge failed")

    def test_many_field_names(self, recorder) -> None:
        """Field names are remembered up to the redactor's bound; past it the memory starts over."""
        bridge = Bridge()
        with recorder.tracer.start_as_current_span("op"):
            ctx = tracelog.current_trace_context()
            bridge.record(1.0, 20, "INFO", "app", "wide", ctx, {f"k{i}": i for i in range(5000)})
            bridge.record(1.0, 20, "INFO", "app", "again", ctx, {"k4999": "v", "password": "p"})
        assert bridge.redactor is not None
        assert len(bridge.redactor._key_cache) <= 10_000
        (_, (_, attrs)) = events(recorder.finished()[0])
        assert ("v", "[REDACTED]") == (attrs["k4999"], attrs["password"])

    def test_many_logger_names(self, log_recorder) -> None:
        """Past a thousand logger names the OTel logger cache starts over, records keep going."""
        bridge = Bridge(span_events=False, otel_logs=True, logger_provider=log_recorder.provider)
        for i in range(1100):
            bridge.record(1.0, 20, "INFO", f"name{i}", "m", None, None)
        scopes = {r.instrumentation_scope.name for r in log_recorder.exporter.get_finished_logs()}
        assert 1100 == len(scopes)


class TestDroppedEvents:
    def test_limit_is_counted_and_said_once(self, framework, output) -> None:
        """Past the limit the span keeps the newest events, counts the rest, one line says so."""
        rec = SpanRecorder(span_limits=SpanLimits(max_events=4))
        out = output(span_events=True)
        with rec.tracer.start_as_current_span("busy") as span:
            for i in range(10):
                emit(framework, "info", f"step {i}")
        (finished,) = rec.finished()
        assert [f"step {i}" for i in range(6, 10)] == [e.name for e in finished.events]
        assert 6 == finished.dropped_events
        assert 6 == finished.attributes[DROPPED_EVENTS_ATTRIBUTE]
        notes = [line for line in out.lines() if line["logger"] == "tracelog"]
        (note,) = notes
        assert "older events are being dropped" in note["message"]
        assert (note["traceId"], note["spanId"]) == span_hex(span)
        assert ("busy", 4, 1) == (note["span_name"], note["event_limit"], note["dropped_events"])

    def test_each_span_is_reported(self, output) -> None:
        """Two spans over the limit give two lines, one each."""
        rec = SpanRecorder(span_limits=SpanLimits(max_events=1))
        out = output(span_events=True)
        for name in ("a", "b"):
            with rec.tracer.start_as_current_span(name):
                for _ in range(3):
                    tracelog.get_logger("app").info("x")
        notes = [line["span_name"] for line in out.lines() if line["logger"] == "tracelog"]
        assert ["a", "b"] == notes

    def test_memory_of_reported_spans_is_bounded(self, output, monkeypatch) -> None:
        """The set of reported spans is bounded; once full it starts over, still one line each."""
        from tracelog import bridge

        monkeypatch.setattr(bridge, "_REPORTED_LIMIT", 1)
        rec = SpanRecorder(span_limits=SpanLimits(max_events=1))
        out = output(span_events=True)
        for name in ("a", "b", "c"):
            with rec.tracer.start_as_current_span(name):
                for _ in range(3):
                    tracelog.get_logger("app").info("x")
        notes = [line["span_name"] for line in out.lines() if line["logger"] == "tracelog"]
        assert ["a", "b", "c"] == notes
        assert 1 == len(bridge._reported)


class TestSeverity:
    @pytest.mark.parametrize(
        ("levelno", "levelname", "number", "text"),
        [
            (0, "NOTSET", SeverityNumber.UNSPECIFIED, "NOTSET"),
            (5, "TRACE", SeverityNumber.TRACE, "TRACE"),
            (10, "DEBUG", SeverityNumber.DEBUG, "DEBUG"),
            (15, "Level 15", SeverityNumber.DEBUG4, "Level 15"),
            (20, "INFO", SeverityNumber.INFO, "INFO"),
            (21, "NOTICE", SeverityNumber.INFO2, "NOTICE"),
            (30, "WARNING", SeverityNumber.WARN, "WARN"),
            (40, "ERROR", SeverityNumber.ERROR, "ERROR"),
            (50, "CRITICAL", SeverityNumber.FATAL, "FATAL"),
            (53, "Level 53", SeverityNumber.FATAL4, "Level 53"),
            (60, "Level 60", SeverityNumber.FATAL4, "Level 60"),
            (100, "Level 100", SeverityNumber.FATAL4, "Level 100"),
        ],
    )
    def test_logs_data_model_mapping(self, levelno, levelname, number, text) -> None:
        """stdlib levels map onto the OTel logs data model's severity ranges."""
        assert (number, text) == severity(levelno, levelname)


class TestOtelLogs:
    def test_record_per_log_with_call_ids(self, framework, recorder, log_recorder, output) -> None:
        """Each log is one LogRecord carrying the line's ids, time, body and fields."""
        out = output(otel_logs=True, logger_provider=log_recorder.provider)
        with recorder.tracer.start_as_current_span("op") as span:
            emit(framework, "warning", "card declined", order_id="A-1", password="p")
        (record,) = log_recorder.records()
        (line,) = out.lines()
        assert span_hex(span) == (format(record.trace_id, "032x"), format(record.span_id, "016x"))
        assert (line["traceId"], line["spanId"]) == span_hex(span)
        assert int(line["traceFlags"], 16) == int(record.trace_flags)
        assert micros(line) * 1000 == record.timestamp
        assert (SeverityNumber.WARN, "WARN", "card declined") == (
            record.severity_number,
            record.severity_text,
            record.body,
        )
        assert {"order_id": "A-1", "password": "[REDACTED]"} == dict(record.attributes)
        assert [] == events(recorder.finished()[0])

    def test_outside_a_span_no_ids(self, framework, log_recorder, output) -> None:
        """Outside a span the record is still emitted, with no trace ids."""
        output(otel_logs=True, logger_provider=log_recorder.provider)
        emit(framework, "info", "alone")
        (record,) = log_recorder.records()
        assert ("alone", 0, 0) == (record.body, record.trace_id or 0, record.span_id or 0)

    def test_exception_attributes(self, framework, log_recorder, output) -> None:
        """An exception becomes exception.type/.message/.stacktrace on the record."""
        out = output(otel_logs=True, logger_provider=log_recorder.provider)
        try:
            raise KeyError("sku")  # noqa: TRY301
        except KeyError:
            emit(framework, "exception", "lookup failed", exc_info=True)
        (record,) = log_recorder.records()
        (line,) = out.lines()
        attrs = dict(record.attributes)
        assert {
            "exception.type": "KeyError",
            "exception.message": "'sku'",
            "exception.stacktrace": line["exception"]["stacktrace"],
        } == attrs

    def test_scope_is_the_logger_name(self, log_recorder, output) -> None:
        """The OTel logger (instrumentation scope) is named after the log's logger."""
        output(otel_logs=True, logger_provider=log_recorder.provider)
        logging.getLogger("payments").info("a")
        tracelog.get_logger().info("b")
        scopes = [
            item.instrumentation_scope.name for item in log_recorder.exporter.get_finished_logs()
        ]
        assert ["payments", "tracelog"] == scopes

    def test_both_signals_together(self, framework, recorder, log_recorder, output) -> None:
        """span_events and otel_logs together: one event and one record per log."""
        output(span_events=True, otel_logs=True, logger_provider=log_recorder.provider)
        with recorder.tracer.start_as_current_span("op"):
            emit(framework, "info", "both")
        assert ["both"] == [n for n, _ in events(recorder.finished()[0])]
        assert ["both"] == [r.body for r in log_recorder.records()]

    def test_no_global_provider_is_a_no_op(self, recorder) -> None:
        """Without an SDK LoggerProvider set globally, the handler quietly does nothing."""
        handler = OtelLogHandler()
        logging.getLogger().addHandler(handler)
        with recorder.tracer.start_as_current_span("op"):
            logging.getLogger("app").warning("nowhere to go")
        assert 0 == handler.bridge.failures

    def test_ids_captured_before_a_queue(self, recorder, log_recorder) -> None:
        """Behind a QueueHandler the record carries the ids captured at the call."""
        q: queue.Queue[logging.LogRecord] = queue.Queue()
        queue_handler = logging.handlers.QueueHandler(q)
        queue_handler.addFilter(TraceContextFilter())
        events_handler = SpanEventHandler()
        listener = logging.handlers.QueueListener(
            q, OtelLogHandler(logger_provider=log_recorder.provider), events_handler
        )
        logger = logging.getLogger("queued")
        logger.addHandler(queue_handler)
        logger.setLevel(logging.INFO)
        listener.start()
        try:
            with recorder.tracer.start_as_current_span("op") as span:
                logger.info("via queue")
        finally:
            listener.stop()
            logger.removeHandler(queue_handler)
        (record,) = log_recorder.records()
        assert span_hex(span) == (format(record.trace_id, "032x"), format(record.span_id, "016x"))
        # The listener thread is not in the span: no event on a wrong (or no) span.
        assert [] == events(recorder.finished()[0])


class TestDeduplication:
    def otel_handler(self, log_recorder: LogRecorder) -> logging.Handler:
        from opentelemetry.sdk._logs import LoggingHandler

        with pytest.warns(DeprecationWarning, match="LoggingHandler"):
            return LoggingHandler(logger_provider=log_recorder.provider)

    def test_otel_handler_present_means_no_second_record(self, log_recorder, output) -> None:
        """With OTel's LoggingHandler on root, a stdlib record goes out once; a warning says so."""
        logging.getLogger().addHandler(self.otel_handler(log_recorder))
        with pytest.warns(UserWarning, match="already on the root logger"):
            output(otel_logs=True, logger_provider=log_recorder.provider)
        logging.getLogger("app").warning("stdlib once")
        tracelog.get_logger("app").warning("structlog once")
        bodies = sorted(r.body for r in log_recorder.records())
        assert ["stdlib once", "structlog once"] == bodies

    def test_span_events_still_work_with_otel_handler(self, recorder, log_recorder, output) -> None:
        """De-duplication affects only OTel logs: span events are still recorded."""
        logging.getLogger().addHandler(self.otel_handler(log_recorder))
        with pytest.warns(UserWarning, match="LoggingHandler"):
            output(span_events=True, otel_logs=True, logger_provider=log_recorder.provider)
        with recorder.tracer.start_as_current_span("op"):
            logging.getLogger("app").info("event")
        assert ["event"] == [n for n, _ in events(recorder.finished()[0])]
        assert ["event"] == [r.body for r in log_recorder.records()]

    def test_no_warning_without_otel_logs(self, log_recorder, output) -> None:
        """span_events alone never warns about OTel's handler."""
        logging.getLogger().addHandler(self.otel_handler(log_recorder))
        output(span_events=True)
        bridge = configured_bridge()
        assert bridge is not None
        assert (True, False) == (bridge.span_events, bridge.otel_logs)


class TestConfigure:
    def test_env_vars(self, recorder, log_recorder, output, monkeypatch) -> None:
        """TRACELOG_SPAN_EVENTS and TRACELOG_OTEL_LOGS turn the bridge on."""
        monkeypatch.setenv("TRACELOG_SPAN_EVENTS", "1")
        monkeypatch.setenv("TRACELOG_OTEL_LOGS", "yes")
        output(logger_provider=log_recorder.provider)
        with recorder.tracer.start_as_current_span("op"):
            tracelog.get_logger("app").info("on")
        assert ["on"] == [n for n, _ in events(recorder.finished()[0])]
        assert ["on"] == [r.body for r in log_recorder.records()]

    def test_reconfigure_replaces_the_bridge(self, recorder, output) -> None:
        """Each configure() replaces the bridge: one event per log, none once turned off."""
        output(span_events=True)
        output(span_events=True, otel_logs=True)
        with recorder.tracer.start_as_current_span("on"):
            emit("stdlib", "info", "once")
            emit("structlog", "info", "once")
        output(span_events=False)
        with recorder.tracer.start_as_current_span("off"):
            emit("stdlib", "info", "none")
            emit("structlog", "info", "none")
        by_span = {s.name: [n for n, _ in events(s)] for s in recorder.finished()}
        assert {"on": ["once", "once"], "off": []} == by_span
        assert 1 == len([h for h in logging.getLogger().handlers if isinstance(h, TracelogHandler)])

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"otel_logs": "maybe"}, ValueError),
            ({"otel_logs": 1}, TypeError),
            ({"span_events": True, "bridge_level": "LOUD"}, ValueError),
        ],
    )
    def test_bad_values_raise_at_once(self, kwargs, error) -> None:
        """Bad bridge settings raise at configure(), not at the first log."""
        with pytest.raises(error):
            tracelog.configure(**kwargs)

    def test_bad_env_value(self, monkeypatch) -> None:
        """A bad TRACELOG_OTEL_LOGS names the valid spellings."""
        monkeypatch.setenv("TRACELOG_OTEL_LOGS", "sometimes")
        with pytest.raises(ValueError, match="true or false"):
            tracelog.configure()


class TestAdapters:
    def test_span_event_handler_by_dictconfig(self, recorder) -> None:
        """SpanEventHandler works from dictConfig, with dictConfig's level applied."""
        logging.config.dictConfig(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "handlers": {
                    "events": {"class": "tracelog.stdlib.SpanEventHandler", "level": "DEBUG"}
                },
                "loggers": {"dc": {"handlers": ["events"], "level": "DEBUG", "propagate": False}},
            }
        )
        with recorder.tracer.start_as_current_span("op"):
            logging.getLogger("dc").debug("configured")
        assert ["configured"] == [n for n, _ in events(recorder.finished()[0])]
        logging.getLogger("dc").handlers.clear()

    def test_structlog_chain_with_recorder(self, recorder) -> None:
        """SpanEventRecorder in a custom chain: same time as the line, event dict unchanged."""
        log = structlog.wrap_logger(
            structlog.ReturnLogger(),
            processors=[capture_trace_context, SpanEventRecorder(), JsonRenderer()],
        )
        with recorder.tracer.start_as_current_span("op") as span:
            line = tracelog._render.loads(log.info("chained", logger="shop", k=1))
            log.debug("too low")
        ((name, attrs),) = events(recorder.finished()[0])
        assert ("chained", {"log.severity": "INFO", "log.message": "chained"}) == (
            name,
            {k: attrs[k] for k in ("log.severity", "log.message")},
        )
        assert ("shop", 1) == (attrs["log.logger"], attrs["k"])
        assert (line["traceId"], line["spanId"], line["k"]) == (*span_hex(span), 1)
        assert micros(line) == recorder.finished()[0].events[0].timestamp // 1000

    def test_structlog_emitter(self, recorder, log_recorder) -> None:
        """OtelLogEmitter emits one record per event at or above its level."""
        log = structlog.wrap_logger(
            structlog.ReturnLogger(),
            processors=[OtelLogEmitter("WARNING", logger_provider=log_recorder.provider)],
        )
        with recorder.tracer.start_as_current_span("op") as span:
            log.info("skipped")
            log.error("kept", code=7)
        (record,) = log_recorder.records()
        assert ("kept", {"code": 7}) == (record.body, dict(record.attributes))
        assert span_hex(span)[1] == format(record.span_id, "016x")

    @pytest.mark.parametrize(
        ("make", "error", "match"),
        [
            (lambda: SpanEventHandler("LOUD"), ValueError, "DEBUG, INFO"),
            (lambda: SpanEventRecorder(record_exception="yes"), TypeError, "record_exception"),
            (lambda: SpanEventRecorder(max_name_length=3), ValueError, "at least 8"),
            (lambda: SpanEventRecorder(max_name_length="3"), TypeError, "max_name_length"),
            (lambda: OtelLogEmitter(logger_provider=object()), TypeError, "LoggerProvider"),
            (lambda: OtelLogHandler(redact="yes"), TypeError, "redact"),
            (lambda: Bridge(otel_logs=None), TypeError, "otel_logs"),
        ],
    )
    def test_construction_errors(self, make, error, match) -> None:
        """Bad arguments raise at construction, naming what is valid."""
        with pytest.raises(error, match=match):
            make()


class FailingProvider:
    """A LoggerProvider whose loggers cannot be created (a broken SDK)."""

    def get_logger(self, name: str, *args: Any) -> Any:
        raise RuntimeError("no logger today")


class TestFailures:
    def test_handler_failure_reported_once(self, capfd) -> None:
        """A failing bridge handler prints one stderr line, then counts."""
        handler = OtelLogHandler(logger_provider=FailingProvider())  # type: ignore[arg-type]
        logger = logging.getLogger("failing")
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        try:
            logger.info("one")
            logger.info("two")
        finally:
            logger.removeHandler(handler)
        err = capfd.readouterr().err
        assert 1 == err.count("log-to-trace bridge failed (RuntimeError: no logger today)")
        assert 2 == handler.bridge.failures

    def test_processor_never_raises(self, capfd) -> None:
        """A failing structlog processor passes the event dict on and reports once."""
        emitter = OtelLogEmitter(logger_provider=FailingProvider())  # type: ignore[arg-type]
        log = structlog.wrap_logger(structlog.ReturnLogger(), processors=[emitter])
        assert ((), {"event": "x", "k": 1}) == log.info("x", k=1)
        assert 1 == emitter.bridge.failures
        assert "bridge failed" in capfd.readouterr().err

    def test_configured_path_never_raises(self, output, capfd) -> None:
        """With configure(), a failing bridge still lets the line through."""
        out = output(otel_logs=True, logger_provider=FailingProvider())
        tracelog.get_logger("app").info("still written")
        logging.getLogger("app").info("also written")
        assert ["still written", "also written"] == [line["message"] for line in out.lines()]
        assert 1 == capfd.readouterr().err.count("bridge failed")


class TestThreads:
    def test_threads_record_on_their_own_spans(self, recorder, output) -> None:
        """Concurrent threads each put their events on their own span."""
        output(span_events=True)

        def work(n: int) -> None:
            with recorder.tracer.start_as_current_span(f"t{n}"):
                for i in range(20):
                    tracelog.get_logger("app").info(f"t{n} {i}")
                    logging.getLogger("app").info("t%d %d", n, i)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for span in recorder.finished():
            assert {span.name} == {e.name.split()[0] for e in span.events}
            assert 40 == len(span.events)


class TestBridgeRedactsAnyValue:
    def test_repr_and_dataclass_secrets(self, recorder, output) -> None:
        """A secret inside an object's repr or a dataclass never reaches a span event."""
        import dataclasses

        @dataclasses.dataclass
        class Creds:
            user: str
            password: str

        class Req:
            def __repr__(self) -> str:
                return "Req(token=s3cr3t-value)"

        output(span_events=True)
        with recorder.tracer.start_as_current_span("op"):
            tracelog.get_logger("x").info("m", creds=Creds("bob", "hunter2"), req=Req())
        (span,) = recorder.finished()
        text = repr(dict(span.events[0].attributes))
        assert "hunter2" not in text
        assert "s3cr3t-value" not in text
