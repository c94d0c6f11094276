"""Faults a review read found: each reproduced here before it was fixed."""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
import signal
import threading
from typing import Any

import orjson
import pytest

import tracelog
from tests.conftest import emit
from tracelog import _state
from tracelog._queue import TracelogQueueHandler
from tracelog.stdlib import JsonFormatter, JsonStreamHandler
from tracelog.testing import SpanRecorder


class TestPipeLines:
    @pytest.mark.parametrize("size", [3000, 8000, 70_000])
    def test_long_lines_never_tear_on_a_pipe(self, framework, size) -> None:
        """Lines longer than PIPE_BUF, from 4 threads into one pipe, all arrive whole."""
        read_fd, write_fd = os.pipe()
        chunks: list[bytes] = []

        def reader() -> None:
            while data := os.read(read_fd, 65536):
                chunks.append(data)

        reading = threading.Thread(target=reader)
        reading.start()
        with os.fdopen(write_fd, "w") as stream:
            tracelog.configure(stream=stream, redact=False)

            def work(n: int) -> None:
                for i in range(100):
                    emit(framework, "info", "big", n=n, i=i, pad="p" * size)

            threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            tracelog.shutdown()
        reading.join()
        os.close(read_fd)
        lines = b"".join(chunks).splitlines()
        assert 400 == len(lines)
        parsed = [orjson.loads(x) for x in lines]  # a torn line would not parse
        assert 400 == len({(x["n"], x["i"]) for x in parsed})


class TestQueueStopRace:
    def test_no_line_lost_while_stopping(self) -> None:
        """Stopping the queue while threads log: every call is written exactly once."""
        buffer = io.StringIO()
        target = JsonStreamHandler(buffer)
        target.setFormatter(JsonFormatter())
        handler = TracelogQueueHandler(target)
        logger = logging.getLogger("race")
        logger.propagate = False
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        handler.start()
        go = threading.Barrier(5)

        def work(n: int) -> None:
            go.wait()
            for i in range(3000):
                logger.info("line", extra={"n": n, "i": i})

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        go.wait()
        handler.stop()  # mid-run
        for t in threads:
            t.join()
        handler.stop()
        logger.removeHandler(handler)
        lines = [orjson.loads(x) for x in buffer.getvalue().splitlines()]
        assert 12_000 == len({(x["n"], x["i"]) for x in lines})
        assert 12_000 == len(lines)


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


class TestSignalReentry:
    def test_signal_handler_logging_mid_write(self) -> None:
        """A signal handler that logs while the same thread writes does not deadlock."""
        fired: list[bool] = []

        class Interrupting(io.StringIO):
            def write(self, s: str) -> int:
                if not fired:
                    fired.append(True)
                    signal.raise_signal(signal.SIGUSR1)
                return super().write(s)

        stream = Interrupting()
        tracelog.configure(stream=stream)
        previous = signal.signal(
            signal.SIGUSR1, lambda *_: logging.getLogger("sig").warning("from the handler")
        )
        try:
            logging.getLogger("main").warning("outer line")
        finally:
            signal.signal(signal.SIGUSR1, previous)
        messages = sorted(orjson.loads(x)["message"] for x in stream.getvalue().splitlines())
        assert ["from the handler", "outer line"] == messages


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


class TestFormatterOptions:
    def test_static_fields(self) -> None:
        """python-json-logger's static_fields are on every line."""
        fmt = JsonFormatter(static_fields={"env": "prod"})
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
        assert "prod" == orjson.loads(fmt.format(record))["env"]

    @pytest.mark.parametrize(
        "option",
        [
            {"json_indent": 2},
            {"prefix": "x"},
        ],
    )
    def test_layout_changing_options_fail_at_once(self, option) -> None:
        """Options that would change the layout raise TypeError instead of being dropped."""
        with pytest.raises(TypeError, match="does not support"):
            JsonFormatter(**option)

    def test_bad_static_fields(self) -> None:
        """static_fields must be a str-keyed dict."""
        with pytest.raises(TypeError, match="static_fields"):
            JsonFormatter(static_fields=["env"])

    def test_fmt_is_accepted(self) -> None:
        """A dictConfig 'format' string is accepted (tracelog's layout decides the keys)."""
        fmt = JsonFormatter("%(message)s %(levelname)s")
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
        assert "m" == orjson.loads(fmt.format(record))["message"]


class TestEveryArgumentChecked:
    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"bridge_level": "LOUD"}, ValueError),
            ({"sample_orphans": 5}, ValueError),
            ({"buffer_lines": -1}, ValueError),
            ({"buffer_bytes": "1k"}, TypeError),
            ({"queue_size": -3}, ValueError),
            ({"logger_provider": "nope"}, TypeError),
            ({"gcp_project": "shop/prod"}, ValueError),
            ({"datadog_full_trace_id": "maybe"}, ValueError),
        ],
    )
    def test_checked_even_when_the_feature_is_off(self, kwargs, error) -> None:
        """A bad setting fails at configure() even if its feature is not turned on."""
        with pytest.raises(error):
            tracelog.configure(**kwargs)

    def test_datadog_flag_string(self, output) -> None:
        """datadog_full_trace_id='false' means false (not bool('false'))."""
        out = output(schema="datadog", datadog_full_trace_id="false")
        with SpanRecorder().tracer.start_as_current_span("op"):
            emit("stdlib", "info", "x")
        assert out.lines()[0]["dd.trace_id"].isdigit()
