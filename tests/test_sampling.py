"""Trace-consistent sampling and the debug buffer."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import textwrap
import threading
from typing import Any

import orjson
import pytest
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, Decision, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

import tracelog
from tests.conftest import emit
from tracelog import _state
from tracelog._sampling import LogSampler, parse_sample
from tracelog.schemas import get_schema
from tracelog.testing import SpanRecorder


def span_ids(span: Any) -> tuple[str, str]:
    sc = span.get_span_context()
    return format(sc.trace_id, "032x"), format(sc.span_id, "016x")


class TestSamplingOff:
    def test_nothing_dropped_without_sampling(self, framework, output) -> None:
        """With no sample argument, unsampled spans' lines are all written."""
        out = output(level="DEBUG")
        with SpanRecorder(sampler=ALWAYS_OFF).tracer.start_as_current_span("q"):
            emit(framework, "debug", "d")
            emit(framework, "info", "i")
        assert ["d", "i"] == [x["message"] for x in out.lines() if x["logger"] == "app"]
        assert 0 == tracelog.stats()["sampled_dropped"]


class TestParentMode:
    def test_follows_sampled_flag(self, framework, recorder, output) -> None:
        """Sampled spans keep their lines; unsampled spans lose them, except warnings."""
        out = output(sample="parent")
        with recorder.tracer.start_as_current_span("kept") as kept:
            emit(framework, "info", "kept info")
        with SpanRecorder(sampler=ALWAYS_OFF).tracer.start_as_current_span("dropped"):
            emit(framework, "info", "dropped info")
            emit(framework, "warning", "kept warning")
        lines = out.lines()
        assert ["kept info", "kept warning"] == [x["message"] for x in lines]
        assert span_ids(kept)[0] == lines[0]["traceId"]
        assert {"sampled_kept": 2, "sampled_dropped": 1} == {
            k: v for k, v in tracelog.stats().items() if k in {"sampled_kept", "sampled_dropped"}
        }

    def test_env_var(self, monkeypatch, output) -> None:
        """TRACELOG_SAMPLE=parent turns it on."""
        monkeypatch.setenv("TRACELOG_SAMPLE", "parent")
        out = output()
        with SpanRecorder(sampler=ALWAYS_OFF).tracer.start_as_current_span("q"):
            emit("stdlib", "info", "gone")
        assert [] == out.lines()

    def test_orphan_rate(self, framework, output) -> None:
        """Lines outside spans follow sample_orphans; warnings stay."""
        out = output(sample="parent", sample_orphans=0.0)
        emit(framework, "info", "orphan")
        emit(framework, "warning", "orphan warning")
        assert ["orphan warning"] == [x["message"] for x in out.lines()]


TRACE_IDS = [
    # X-Ray-style: a timestamp in the high 32 bits, random low bits
    f"{0x6565_0000 + i:08x}{(i * 0x9E3779B97F4A7C15 + 0x1234567) % 2**96:024x}"
    for i in range(200)
]

SERVICE = textwrap.dedent(
    """
    import json, logging, sys, tracelog
    from opentelemetry import context
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
    tracelog.configure(stream="stdout", sample=0.25, service=sys.argv[1], schema=sys.argv[2])
    for tid in json.loads(sys.stdin.read()):
        header = f"00-{tid}-00f067aa0ba902b7-01"
        token = context.attach(TraceContextTextMapPropagator().extract({"traceparent": header}))
        logging.getLogger("svc").info("work", extra={"tid": tid})
        tracelog.get_logger("svc").info("more", tid=tid)
        context.detach(token)
    """
)


class TestRatioMode:
    def test_same_decision_in_every_process(self) -> None:
        """Three processes (two layouts) keep exactly the same traces, as OTel's sampler would."""
        kept_by_service = {}
        for service, schema in (("checkout", "default"), ("inventory", "ecs"), ("payment", "otel")):
            proc = subprocess.run(
                [sys.executable, "-c", SERVICE, service, schema],
                input=json.dumps(TRACE_IDS),
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            )
            lines = [json.loads(x) for x in proc.stdout.splitlines()]
            reader = get_schema(schema)
            assert all(reader.read_trace_id(x) == x["tid"] for x in lines)
            tids = [x["tid"] for x in lines]
            assert all(tids.count(t) == 2 for t in tids)  # both frameworks, every kept trace
            kept_by_service[service] = set(tids)
        otel = TraceIdRatioBased(0.25)
        expected = {
            t
            for t in TRACE_IDS
            if otel.should_sample(None, int(t, 16), "x").decision == Decision.RECORD_AND_SAMPLE
        }
        assert expected == kept_by_service["checkout"]
        assert expected == kept_by_service["inventory"] == kept_by_service["payment"]
        assert 20 < len(expected) < 80  # the low bits are random, the high bits are not

    def test_ratio_ignores_sampled_flag(self, output) -> None:
        """A ratio decides from the id, not from the tracer's decision."""
        out = output(sample=1.0)
        with SpanRecorder(sampler=ALWAYS_OFF).tracer.start_as_current_span("q"):
            emit("structlog", "info", "kept")
        assert ["kept"] == [x["message"] for x in out.lines()]

    @pytest.mark.parametrize(
        ("value", "error"),
        [
            ("sometimes", ValueError),
            (1.5, ValueError),
            (-0.1, ValueError),
            (True, TypeError),
            ([0.5], TypeError),
        ],
    )
    def test_bad_sample(self, value, error) -> None:
        """A bad sample value fails at configure()."""
        with pytest.raises(error):
            tracelog.configure(sample=value)

    @pytest.mark.parametrize(
        "kwargs",
        [{"buffer_lines": 0}, {"buffer_traces": "9"}, {"orphan_rate": 2}, {"orphan_rate": None}],
    )
    def test_bad_buffer_config(self, kwargs) -> None:
        """Bad bounds fail at construction."""
        with pytest.raises((ValueError, TypeError)):
            LogSampler("parent", **kwargs)

    def test_parse_forms(self) -> None:
        """Strings name the modes; 'off' turns sampling off."""
        assert (None, "parent", 0.5) == (
            parse_sample("off"),
            parse_sample("PARENT"),
            parse_sample("0.5"),
        )


def messages(out: Any) -> list[dict[str, Any]]:
    return [x for x in out.lines() if x.get("logger", x.get("log.logger")) == "app"]


class TestDebugBuffer:
    @pytest.mark.parametrize("schema", ["default", "ecs"])
    def test_flush_on_error_in_child_span(self, framework, recorder, output, schema) -> None:
        """Buffered debug lines are written before the error, in order, with their own ids."""
        out = output(buffer_debug=True, schema=schema)
        msg = get_schema(schema).message_key
        with recorder.tracer.start_as_current_span("root") as root:
            emit(framework, "debug", "step 1")
            emit(framework, "info", "visible")
            with recorder.tracer.start_as_current_span("child") as child:
                emit(framework, "debug", "step 2")
                emit(framework, "error", "failed")
        lines = messages(out)
        assert ["visible", "step 1", "step 2", "failed"] == [x[msg] for x in lines]
        assert [None, True, True, None] == [x.get("buffered") for x in lines]
        reader = get_schema(schema)
        assert [span_ids(root)[1], span_ids(child)[1]] == [
            reader.read_span_id(x) for x in lines[1:3]
        ]
        time_key = reader.timestamp_key
        assert lines[1][time_key] <= lines[0][time_key] <= lines[3][time_key]

    def test_flush_from_another_thread_of_the_trace(self, framework, recorder, output) -> None:
        """An exception in a worker thread carrying the trace's context flushes the buffer."""
        out = output(buffer_debug=True)
        with recorder.tracer.start_as_current_span("root"):
            emit(framework, "debug", "before")

            def worker() -> None:
                try:
                    raise ValueError("bad")  # noqa: TRY301
                except ValueError:
                    emit(framework, "exception", "worker failed")

            thread = tracelog.ContextThread(target=worker)  # carries the trace's context
            thread.start()
            thread.join()
        assert ["before", "worker failed"] == [x["message"] for x in messages(out)]

    def test_discard_on_success(self, framework, recorder, output) -> None:
        """A trace that ends without error never writes its debug lines."""
        out = output(buffer_debug=True)
        for _ in range(5):
            with recorder.tracer.start_as_current_span("ok"):
                emit(framework, "debug", "detail")
                emit(framework, "info", "done")
        assert ["done"] * 5 == [x["message"] for x in messages(out)]
        counts = tracelog.stats()
        assert 5 == counts["buffered"]
        assert 0 == counts["buffer_flushed"]
        assert counts["buffer_discarded"] >= 3
        assert counts["buffered_traces"] <= 2

    def test_no_line_twice_after_flush(self, framework, recorder, output) -> None:
        """After the flush, later detail lines of the failed trace are written once, directly."""
        out = output(buffer_debug=True)
        with recorder.tracer.start_as_current_span("root"):
            emit(framework, "debug", "a")
            emit(framework, "error", "boom")
            emit(framework, "debug", "b")
            emit(framework, "error", "boom again")
        assert ["a", "boom", "b", "boom again"] == [x["message"] for x in messages(out)]

    def test_no_leak_across_traces(self, framework, recorder, output) -> None:
        """An error in one trace writes only that trace's buffer."""
        out = output(buffer_debug=True)
        with recorder.tracer.start_as_current_span("other"):
            emit(framework, "debug", "other detail")
            with recorder.tracer.start_as_current_span("x"):
                pass
        with recorder.tracer.start_as_current_span("failing"):
            emit(framework, "debug", "own detail")
            emit(framework, "error", "boom")
        assert ["own detail", "boom"] == [x["message"] for x in messages(out)]

    def test_bounds(self, recorder, output) -> None:
        """Per-trace lines and the number of traces are bounded; drops are counted."""
        out = output(buffer_debug=True, buffer_lines=5, buffer_traces=100)
        spans = [recorder.tracer.start_span(f"t{i}") for i in range(10_000)]
        from opentelemetry import trace

        for span in spans:
            with trace.use_span(span):
                tracelog.get_logger("app").debug("d")
        counts = tracelog.stats()
        assert counts["buffered_traces"] <= 100
        assert 10_000 == counts["buffered"]
        with trace.use_span(spans[-1]):
            for i in range(20):
                tracelog.get_logger("app").debug("many", i=i)
            tracelog.get_logger("app").error("boom")
        lines = messages(out)
        assert [15, 16, 17, 18, 19] == [x["i"] for x in lines if x["message"] == "many"]
        assert tracelog.stats()["buffer_evicted"] >= 9_900 + 16
        for span in spans:
            span.end()

    def test_byte_bound(self, recorder, output) -> None:
        """A trace's buffer keeps its byte bound, dropping the oldest lines."""
        out = output(buffer_debug=True, buffer_bytes=2000)
        with recorder.tracer.start_as_current_span("big"):
            for i in range(10):
                emit("stdlib", "debug", "x" * 500, i=i)
            emit("stdlib", "error", "boom")
        kept = [x["i"] for x in messages(out) if x.get("buffered")]
        assert kept
        assert len(kept) <= 4
        assert 9 == kept[-1]

    def test_with_queue_mode(self, recorder, tmp_path) -> None:
        """The buffer flushes through queue mode's listener, in order."""
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(stream=stream, buffer_debug=True, queue=True)
            with recorder.tracer.start_as_current_span("root"):
                emit("structlog", "debug", "d1")
                emit("stdlib", "debug", "d2")
                emit("stdlib", "error", "e")
            tracelog.shutdown()
        lines = [json.loads(x) for x in path.read_text().splitlines()]
        assert ["d1", "d2", "e"] == [x["message"] for x in lines]

    def test_sampled_out_traces_are_not_buffered(self, output) -> None:
        """With parent sampling, unsampled traces' debug lines are dropped, not buffered."""
        out = output(buffer_debug=True, sample="parent")
        with SpanRecorder(sampler=ALWAYS_OFF).tracer.start_as_current_span("q"):
            emit("structlog", "debug", "nope")
            emit("structlog", "error", "kept error")
        assert ["kept error"] == [x["message"] for x in messages(out)]

    def test_orphan_debug_is_dropped(self, output) -> None:
        """Debug lines outside any span are neither buffered nor written."""
        out = output(buffer_debug=True)
        emit("stdlib", "debug", "orphan")
        emit("structlog", "error", "orphan error")
        assert ["orphan error"] == [x["message"] for x in messages(out)]

    def test_remote_parent_root(self, output) -> None:
        """A server span under a remote parent is its trace's local root."""
        rec = SpanRecorder()
        out = output(buffer_debug=True)
        header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        token = otel_context.attach(
            TraceContextTextMapPropagator().extract({"traceparent": header})
        )
        try:
            with rec.tracer.start_as_current_span("server"):
                emit("stdlib", "debug", "detail")
                emit("stdlib", "info", "ok")
        finally:
            otel_context.detach(token)
        for i in range(3):
            with rec.tracer.start_as_current_span(f"next{i}"):
                emit("stdlib", "debug", "more")
        assert tracelog.stats()["buffer_discarded"] >= 1
        assert ["ok"] == [x["message"] for x in messages(out)]


class TestDroppedShortcut:
    def test_shortcut_never_drops_what_it_should_keep(self, recorder, output) -> None:
        """After a dropped trace's line, a kept span, a warning and an exception still log."""
        out = output(sample="parent")
        log = tracelog.get_logger("app")
        quiet = SpanRecorder(sampler=ALWAYS_OFF)
        with quiet.tracer.start_as_current_span("dropped"):
            log.info("gone 1")
            log.info("gone 2")  # answered by the shortcut
            log.warning("kept warning")
            try:
                raise ValueError("x")  # noqa: TRY301
            except ValueError:
                log.info("kept exception", exc_info=True)
            with recorder.tracer.start_as_current_span("child, same unsampled trace"):
                log.info("gone 3")  # a new context: decided again, dropped again
            log.info("gone 4")
        with recorder.tracer.start_as_current_span("sampled"):
            log.info("kept after")
        assert ["kept warning", "kept exception", "kept after"] == [
            x["message"] for x in messages(out)
        ]
        assert 4 == tracelog.stats()["sampled_dropped"]

    def test_new_configuration_forgets(self, output) -> None:
        """A later configure() without sampling keeps the lines the old sampler dropped."""
        output(sample="parent")
        quiet = SpanRecorder(sampler=ALWAYS_OFF)
        with quiet.tracer.start_as_current_span("dropped"):
            tracelog.get_logger("app").info("gone")
            out = output()
            tracelog.get_logger("app").info("kept now")
        assert ["kept now"] == [x["message"] for x in messages(out)]


def _child_logs_debug(out: Any) -> None:
    with SpanRecorder().tracer.start_as_current_span("child"):
        tracelog.get_logger("child").debug("buffered in the child")
        tracelog.get_logger("child").error("flush in the child")
    out.put("done")


class TestForkedSampler:
    def test_child_does_not_deadlock_on_a_held_sampler_lock(self, tmp_path) -> None:
        """fork() while another thread holds the debug buffer's lock: the child logs."""
        with (tmp_path / "f.log").open("a") as stream:
            tracelog.configure(stream=stream, buffer_debug=True)
            sampler = _state.current.sampler
            assert sampler is not None
            held, release = threading.Event(), threading.Event()

            def hold() -> None:
                with sampler._lock:
                    held.set()
                    release.wait(10)

            holder = threading.Thread(target=hold)
            holder.start()
            held.wait(5)
            ctx = multiprocessing.get_context("fork")
            out = ctx.Queue()
            child = ctx.Process(target=_child_logs_debug, args=(out,))
            child.start()
            child.join(20)
            release.set()
            holder.join()
            alive = child.is_alive()
            if alive:  # pragma: no cover - only on a deadlock
                child.kill()
            assert not alive
            assert "done" == out.get(timeout=5)
        messages = [
            orjson.loads(x)["message"] for x in (tmp_path / "f.log").read_text().splitlines()
        ]
        assert ["buffered in the child", "flush in the child"] == messages


class TestBufferedTraceKeys:
    def test_no_private_keys_after_flush(self, recorder, output) -> None:
        """Detail lines of a trace that already flushed carry no tracelog-internal keys."""
        out = output(buffer_debug=True)
        with recorder.tracer.start_as_current_span("root"):
            emit("structlog", "debug", "d1")
            emit("structlog", "error", "boom")
            emit("structlog", "debug", "d2 after flush")
        lines = [x for x in out.lines() if x["logger"] == "app"]
        assert ["d1", "boom", "d2 after flush"] == [x["message"] for x in lines]
        assert [] == [k for x in lines for k in x if k.startswith("_tracelog")]
