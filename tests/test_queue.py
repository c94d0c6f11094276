"""Queue mode and fork: ids captured at the call, bounded queue, nothing dropped silently."""

from __future__ import annotations

import io
import logging
import multiprocessing
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest

import tracelog
from tests.conftest import emit
from tracelog import _state
from tracelog._queue import TracelogQueueHandler
from tracelog.stdlib import JsonFormatter, JsonStreamHandler
from tracelog.testing import SpanRecorder


def span_ids(span: Any) -> tuple[str, str]:
    sc = span.get_span_context()
    return format(sc.trace_id, "032x"), format(sc.span_id, "016x")


def parse(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_text().splitlines()]


class TestQueueMode:
    def test_ids_captured_at_call(self, framework, recorder, tmp_path) -> None:
        """The listener thread writes the caller's ids, for both frameworks."""
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=True)
            with recorder.tracer.start_as_current_span("op") as span:
                emit(framework, "info", "queued", n=1)
            tracelog.shutdown()
        (line,) = parse(path)
        assert span_ids(span) == (line["traceId"], line["spanId"])
        assert ("queued", 1, "checkout") == (line["message"], line["n"], line["service"])

    @pytest.mark.parametrize("schema", ["default", "ecs"])
    def test_structlog_line_as_direct_mode_writes_it(self, recorder, tmp_path, schema) -> None:
        """A plain structlog call (bound values, a field named like a trace field, a
        secret) gives the line direct mode gives, the time apart."""
        lines: dict[bool, dict[str, Any]] = {}
        with recorder.tracer.start_as_current_span("op"):
            for queue in (False, True):
                path = tmp_path / f"{queue}.log"
                with path.open("a") as stream:
                    tracelog.configure(stream=stream, queue=queue, schema=schema)
                    log = tracelog.get_logger("shop").bind(cart="c-7")
                    log.warning("order placed", traceId="mine", password="hunter2", n=[1])
                    tracelog.shutdown()
                (lines[queue],) = parse(path)
                for key in ("timestamp", "@timestamp"):
                    lines[queue].pop(key, None)
        assert lines[False] == lines[True]
        assert "hunter2" not in str(lines[True])

    def test_exceptions_are_structured(self, framework, tmp_path) -> None:
        """exc_info is resolved at the call, not in the listener (where none is active)."""
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=True)
            try:
                raise OSError("disk")  # noqa: TRY301
            except OSError:
                if framework == "stdlib":
                    logging.getLogger("x").exception("failed %s", "write")
                else:
                    tracelog.get_logger("x").exception("failed %s", "write")
            tracelog.shutdown()
        (line,) = parse(path)
        assert ("failed write", "OSError", "disk") == (
            line["message"],
            line["exception"]["type"],
            line["exception"]["message"],
        )

    def test_full_queue_drops_are_counted_and_written(self, capfd) -> None:
        """A full queue blocks briefly, then drops, counts, and writes the count as a line."""
        gate = threading.Event()

        class SlowStream(io.StringIO):
            def write(self, s: str) -> int:
                gate.wait(5)
                return super().write(s)

        stream = SlowStream()
        target = JsonStreamHandler(stream)
        target.setFormatter(JsonFormatter())
        handler = TracelogQueueHandler(target, maxsize=2, block_timeout=0.01)
        logger = logging.getLogger("full")
        logger.propagate = False
        logger.addHandler(handler)
        handler.start()
        try:
            for i in range(50):
                logger.warning("line %d", i)
            gate.set()
        finally:
            handler.close()
            logger.removeHandler(handler)
        lines = [orjson.loads(x) for x in stream.getvalue().splitlines()]
        written = [x for x in lines if x["logger"] == "full"]
        notices = [x for x in lines if x["logger"] == "tracelog"]
        assert 50 == len(written) + sum(x["dropped"] for x in notices)
        assert notices
        assert all("log queue was full" in x["message"] for x in notices)
        assert 2 == notices[0]["queue_size"]

    def test_flushed_at_interpreter_exit(self) -> None:
        """Lines still queued when the program ends are written, without shutdown()."""
        code = textwrap.dedent(
            """
            import logging, tracelog
            tracelog.configure(stream="stdout", queue=True)
            for i in range(3000):
                logging.getLogger("x").warning("line %d", i)
                tracelog.get_logger("y").warning("s", i=i)
            """
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
        ).stdout.splitlines()
        assert 6000 == len(out)
        assert "line 2999" in {orjson.loads(x)["message"] for x in out}

    def test_bad_queue_size(self) -> None:
        """queue_size is checked at configure()."""
        with pytest.raises(ValueError, match="queue_size must be >= 1"):
            tracelog.configure(queue=True, queue_size=0)
        with pytest.raises(TypeError, match="queue_size must be an int"):
            tracelog.configure(queue=True, queue_size="10")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="block_timeout"):
            TracelogQueueHandler(JsonStreamHandler(io.StringIO()), block_timeout=-1)

    def test_env_turns_it_on(self, monkeypatch, tmp_path, recorder) -> None:
        """TRACELOG_QUEUE=true turns queue mode on; reconfiguring drains the old queue."""
        monkeypatch.setenv("TRACELOG_QUEUE", "true")
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(stream=stream)
            assert _state.current.queue is not None
            tracelog.get_logger("x").info("one")
            tracelog.configure(stream=stream, queue=False)
            tracelog.get_logger("x").info("two")
        assert ["one", "two"] == [x["message"] for x in parse(path)]

    def test_writes_directly_once_stopped(self) -> None:
        """After stop(), a call that still reaches the handler is written synchronously."""
        buffer = io.StringIO()
        target = JsonStreamHandler(buffer)
        handler = TracelogQueueHandler(target)
        handler.start()
        handler.stop()
        handler.handle(logging.LogRecord("late", 30, __file__, 1, "after stop", (), None))
        assert "after stop" == orjson.loads(buffer.getvalue())["message"]


def _child(path: str, traceparent_out: Any) -> None:
    rec = SpanRecorder(service="child")
    with rec.tracer.start_as_current_span("in-child") as span:
        tracelog.get_logger("child").warning("from child")
        logging.getLogger("child").warning("from child stdlib")
        traceparent_out.put(span_ids(span))
    tracelog.shutdown()


class TestFork:
    @pytest.mark.parametrize("queue", [True, False], ids=["queue", "direct"])
    def test_fork_while_logging(self, tmp_path, queue) -> None:
        """A child forked while another thread logs does not deadlock and logs its own ids."""
        path = tmp_path / "fork.log"
        stop = threading.Event()
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=queue)

            def chatter() -> None:
                while not stop.is_set():
                    tracelog.get_logger("parent").info("busy")
                    logging.getLogger("parent").info("busy")

            thread = threading.Thread(target=chatter)
            thread.start()
            ctx = multiprocessing.get_context("fork")
            ids_q = ctx.Queue()
            children = []
            try:
                for _ in range(5):
                    child = ctx.Process(target=_child, args=(str(path), ids_q))
                    child.start()
                    children.append(child)
                for child in children:
                    child.join(timeout=30)
                    assert 0 == child.exitcode
            finally:
                stop.set()
                thread.join()
                for child in children:
                    if child.is_alive():  # pragma: no cover - only on a deadlock
                        child.kill()
            child_ids = [ids_q.get(timeout=5) for _ in children]
            tracelog.shutdown()
        lines = parse(path)
        from_child = [x for x in lines if x["logger"] == "child"]
        assert 10 == len(from_child)
        assert sorted(child_ids * 2) == sorted((x["traceId"], x["spanId"]) for x in from_child)
        assert {"child"} == {x["service"] for x in from_child}


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
