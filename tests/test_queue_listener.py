"""Queue mode's listener: batched writes, wake-ups, and what the caller captures."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

import tracelog
from tests.conftest import emit
from tracelog import _queue, _state
from tracelog.stdlib import JsonFormatter, JsonStreamHandler


def parse(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_text().splitlines()]


def queued() -> _queue.TracelogQueueHandler:
    handler = _state.current.queue
    assert handler is not None
    return handler


def wait_for_lines(path: Path, count: int) -> list[dict[str, Any]]:
    """The file's lines once it has *count* of them (a liveness bound, not a timing)."""
    deadline = time.monotonic() + 30
    while True:
        lines = parse(path)
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.01)


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The bytes of every write(2) to a file descriptor above stderr, in order."""
    seen: list[bytes] = []
    real = os.write

    def counting(fd: int, data: Any) -> int:
        if fd > 2:
            seen.append(bytes(data))
        return real(fd, data)

    monkeypatch.setattr(os, "write", counting)
    return seen


@pytest.fixture
def no_flush_delay_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The listener, once woken, would wait an hour before it writes on its own."""
    monkeypatch.setattr(_queue, "FLUSH_DELAY", 3600.0)


class Gated(io.StringIO):
    """A stream whose ``write()`` waits for *gate*, and sets *entered* when one begins."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__()
        self.gate, self.entered = gate, threading.Event()

    def write(self, text: str) -> int:
        self.entered.set()
        self.gate.wait(30)
        return super().write(text)


def started_on(
    stream: io.StringIO, name: str
) -> tuple[_queue.TracelogQueueHandler, logging.Logger]:
    """A started queue handler writing JSON lines to *stream*, and a logger using only it."""
    target = JsonStreamHandler(stream)
    target.setFormatter(JsonFormatter())
    handler = _queue.TracelogQueueHandler(target)
    handler.start()
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.propagate = False
    return handler, logger


class TestBatchedWrites:
    def test_burst_is_batched_and_every_line_whole(self, framework, tmp_path, writes) -> None:
        """200 queued lines reach a file in fewer writes than lines, whole and in order."""
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=True)
            for i in range(200):
                emit(framework, "warning", "burst", i=i)
            tracelog.shutdown()
        assert list(range(200)) == [x["i"] for x in parse(path)]
        assert len(writes) < 200

    def test_batches_are_whole_lines(self, framework, tmp_path, writes) -> None:
        """A write carrying several lines ends on a line's end; the file holds every line.

        (The sink sizes batches: PIPE_BUF on a pipe, see tests/test_sink_batching.py.)
        """
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=True)
            for i in range(300):
                emit(framework, "warning", "sized", i=i, pad="p" * (i % 50) * 20)
            tracelog.shutdown()
        batches = [w for w in writes if w.count(b"\n") > 1]
        assert batches
        assert [] == [w[-20:] for w in batches if not w.endswith(b"\n")]
        assert list(range(300)) == [x["i"] for x in parse(path)]

    def test_other_streams_get_one_write_per_line(self, framework, writes) -> None:
        """A stream without a descriptor gets one write() per line, as in direct mode."""
        calls: list[str] = []

        class Counting(io.StringIO):
            def write(self, s: str) -> int:
                calls.append(s)
                return super().write(s)

        stream = Counting()
        tracelog.configure(stream=stream, queue=True)
        for i in range(50):
            emit(framework, "warning", "one by one", i=i)
        tracelog.shutdown()
        assert list(range(50)) == [orjson.loads(c)["i"] for c in calls]

    def test_failed_batch_counts_every_line(self, framework, capfd) -> None:
        """A batch that /dev/full refuses is every one of its lines lost, counted."""
        if not os.path.exists("/dev/full"):
            pytest.skip("no /dev/full here")
        with open("/dev/full", "w") as full:
            tracelog.configure(stream=full, queue=True)
            for i in range(40):
                emit(framework, "warning", "no space", i=i)
            queued().q.join()
            lost = tracelog.stats()["sink_lost"]
            tracelog.shutdown()
        assert 40 == lost
        assert "40 log line(s) to /dev/full were lost" in capfd.readouterr().err


class TestTextFormatterTarget:
    def test_records_go_through_the_targets_handle_in_order(self) -> None:
        """A text formatter on the target: its records and structlog's lines keep their order."""
        stream = io.StringIO()
        tracelog.configure(stream=stream, queue=True)
        target = _state.current.handler
        assert target is not None
        target.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        tracelog.get_logger("app").warning("first")
        logging.getLogger("app").warning("second %d", 2)
        tracelog.get_logger("app").warning("third")
        tracelog.shutdown()
        first, second, third = stream.getvalue().splitlines()
        assert ("first", "WARNING second 2", "third") == (
            orjson.loads(first)["message"],
            second,
            orjson.loads(third)["message"],
        )


class TestListenerWakes:
    def test_first_line_after_idle_is_written_by_itself(self, framework, tmp_path) -> None:
        """An idle listener is woken by the next line and writes it without shutdown()."""
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=True)
            emit(framework, "warning", "first")
            lines = wait_for_lines(path, 1)
            tracelog.shutdown()
        assert ["first"] == [x["message"] for x in lines]

    def test_half_full_queue_ends_the_delay(
        self, framework, tmp_path, no_flush_delay_expiry
    ) -> None:
        """Half the bound queued wakes a listener that is waiting out its flush delay."""
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=True, queue_size=10)
            emit(framework, "warning", "half", i=0)
            deadline = time.monotonic() + 30
            while queued().state != _queue.DELAYING and time.monotonic() < deadline:
                time.sleep(0.001)  # until the woken listener waits out its delay
            for i in range(1, 5):
                emit(framework, "warning", "half", i=i)
            lines = wait_for_lines(path, 5)
            tracelog.shutdown()
        assert list(range(5)) == [x["i"] for x in lines]

    def test_an_error_line_ends_the_delay(self, framework, tmp_path, no_flush_delay_expiry) -> None:
        """An ERROR line is written without waiting out the delay, with the lines before it."""
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=True)
            emit(framework, "warning", "before", i=0)
            deadline = time.monotonic() + 30
            while queued().state != _queue.DELAYING and time.monotonic() < deadline:
                time.sleep(0.001)  # the woken listener now waits out its (hour-long) delay
            emit(framework, "error", "failed", i=1)
            lines = wait_for_lines(path, 2)
            tracelog.shutdown()
        assert [("warning", 0), ("error", 1)] == [(x["level"], x["i"]) for x in lines]

    def test_an_error_after_idle_is_not_delayed(
        self, framework, tmp_path, no_flush_delay_expiry
    ) -> None:
        """An idle listener woken by an ERROR line writes it at once, not after its delay."""
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=True)
            deadline = time.monotonic() + 30
            while queued().state != _queue.IDLE and time.monotonic() < deadline:
                time.sleep(0.001)
            emit(framework, "error", "failed", i=1)
            lines = wait_for_lines(path, 1)
            tracelog.shutdown()
        assert [("error", 1)] == [(x["level"], x["i"]) for x in lines]

    def test_join_ends_the_delay(self, framework, tmp_path, no_flush_delay_expiry) -> None:
        """q.join() wakes the listener and returns once the queued lines are written."""
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=True)
            for i in range(3):
                emit(framework, "warning", "joined", i=i)
            queued().q.join()
            lines = parse(path)
            tracelog.shutdown()
        assert [0, 1, 2] == [x["i"] for x in lines]


class TestWaitingForRoom:
    def test_waiting_callers_are_woken_an_eighth_of_the_queue_at_a_time(
        self, framework, tmp_path, monkeypatch
    ) -> None:
        """Callers blocked on a full queue are told of room once an eighth of it is free
        (or it is empty), not after each batch; no line is lost, all stay in order."""
        told: list[tuple[int, int]] = []
        notify = _queue.TracelogQueueHandler.notify_waiters

        def recording(self: _queue.TracelogQueueHandler, freed: int = 0) -> None:
            if freed:
                told.append((freed, len(self.items)))
            notify(self, freed)

        monkeypatch.setattr(_queue.TracelogQueueHandler, "notify_waiters", recording)
        real_write = os.write

        def slow_write(fd: int, data: Any) -> int:
            if fd > 2:  # the sink slower than the caller, whatever the machine's load
                time.sleep(0.005)
            return real_write(fd, data)

        monkeypatch.setattr(os, "write", slow_write)
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=True, queue_size=800)
            for i in range(5000):
                emit(framework, "warning", "full", i=i)
            tracelog.shutdown()
        assert list(range(5000)) == [x["i"] for x in parse(path)]
        assert told  # the caller did wait for room
        assert [] == [(freed, left) for freed, left in told if freed < 800 // 8 and left]


class TestCapturedAtTheCall:
    def test_percent_arguments_formatted_at_the_call(self, tmp_path, no_flush_delay_expiry) -> None:
        """A %-argument changed after the call is logged as it was at the call."""
        path = tmp_path / "q.log"
        cart = ["apple"]
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=True)
            logging.getLogger("shop").warning("cart %s", cart)
            logging.getLogger("shop").warning(cart)
            cart.append("pear")  # the listener has not run: it waits out its delay
            tracelog.shutdown()
        assert ["cart ['apple']", "['apple']"] == [x["message"] for x in parse(path)]

    def test_plain_message_formatted_by_the_listener(self, tmp_path) -> None:
        """A message without arguments is written as given, with the call's fields."""
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=True)
            logging.getLogger("shop").warning("100% sure", extra={"n": 1})
            tracelog.shutdown()
        (line,) = parse(path)
        assert ("100% sure", 1) == (line["message"], line["n"])


class TestSignalWhileWaitingForRoom:
    def test_handler_logging_during_a_wait_for_room(self) -> None:
        """A signal handler that logs while its thread waits for room: no deadlock, no loss.

        The signal is raised while the waiting thread holds the queue's room lock (from
        inside its wake-up of the listener), the moment a second wait would deadlock.
        """
        code = """
            import io, json, logging, signal, threading
            from tracelog._queue import TracelogQueueHandler
            from tracelog.stdlib import JsonFormatter, JsonStreamHandler

            gate = threading.Event()

            class Gated(io.StringIO):
                def write(self, s):
                    gate.wait(30)
                    return super().write(s)

            stream = Gated()
            target = JsonStreamHandler(stream)
            target.setFormatter(JsonFormatter())
            handler = TracelogQueueHandler(target, maxsize=2, block_timeout=30)
            root = logging.getLogger()
            root.addHandler(handler)
            handler.start()
            fired = []

            def on_alarm(signum, frame):
                fired.append(signum)
                logging.getLogger("signal").warning("from handler")

            signal.signal(signal.SIGALRM, on_alarm)
            wake = handler.wake

            def wake_and_signal():
                if handler.waiters and not fired:  # a caller waits for room, lock held
                    signal.raise_signal(signal.SIGALRM)
                wake()

            handler.wake = wake_and_signal
            threading.Timer(0.6, gate.set).start()
            for i in range(4):  # the listener holds one, two fill the queue, one waits
                logging.getLogger("main").warning("line %d", i)
            handler.close()
            lines = [json.loads(x) for x in stream.getvalue().splitlines()]
            print(json.dumps({
                "fired": len(fired),
                "main": [x["message"] for x in lines if x["logger"] == "main"],
                "signal": sum(1 for x in lines if x["logger"] == "signal"),
                "dropped": handler.dropped_total,
            }))
        """
        proc = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "" == proc.stderr
        result = orjson.loads(proc.stdout)
        assert {
            "fired": 1,
            "main": [f"line {i}" for i in range(4)],
            "signal": 1,
            "dropped": 0,
        } == result


class TestLossCountOnAFile:
    @pytest.mark.parametrize("queue", [False, True], ids=["direct", "queue"])
    def test_lines_past_a_file_size_limit_are_each_counted(self, queue: bool, tmp_path) -> None:
        """A file that stops growing mid-batch: every line not in it whole is counted, once."""
        code = textwrap.dedent(
            f"""
            import logging, resource, signal, sys
            import tracelog
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            stream = open({str(tmp_path / "out.log")!r}, "w")
            resource.setrlimit(resource.RLIMIT_FSIZE, (1500, resource.RLIM_INFINITY))
            tracelog.configure(stream=stream, queue={queue})
            for i in range(30):
                logging.getLogger("t").warning("line %d %s", i, "x" * 40)
            tracelog.shutdown()
            """
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
        data = (tmp_path / "out.log").read_bytes()
        whole = [line for line in data.split(b"\n") if line.endswith(b"}")]
        assert whole
        assert [f"{30 - len(whole)} log line(s)"] == [
            line.split(" to ")[0].removeprefix("tracelog: ")
            for line in proc.stderr.splitlines()
            if "were lost" in line
        ]


class TestFlush:
    def test_flush_writes_what_is_queued(self, framework, tmp_path, no_flush_delay_expiry) -> None:
        """handler.flush() writes the queued lines at once (not after the flush delay)."""
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=True)
            for i in range(3):
                emit(framework, "info", "queued", i=i)
            queued().flush()
            assert [0, 1, 2] == [x["i"] for x in parse(path)]
            tracelog.shutdown()

    def test_flush_on_a_stuck_sink_returns(self, monkeypatch) -> None:
        """A sink whose write blocks ends flush()'s wait after the stall bound; the line is
        still written once the sink takes it."""
        monkeypatch.setattr(_queue, "STALL_TIMEOUT", 0.2)
        gate = threading.Event()
        stream = Gated(gate)
        handler, logger = started_on(stream, "flush.stuck")
        try:
            logger.warning("held by the sink")
            flushing = threading.Thread(target=handler.flush)
            flushing.start()
            flushing.join(30)  # a liveness bound: flush() must come back by itself
            returned = not flushing.is_alive()
            gate.set()
        finally:
            gate.set()
            handler.close()
            logger.handlers.clear()
        assert returned
        assert ["held by the sink"] == [
            orjson.loads(x)["message"] for x in stream.getvalue().splitlines()
        ]

    def test_flush_returns_while_another_thread_keeps_logging(self, tmp_path) -> None:
        """flush() waits for the lines queued before it, not for a queue that another
        thread keeps filling."""
        path = tmp_path / "q.log"
        done = threading.Event()
        logger = logging.getLogger("flush.busy")

        def chatter() -> None:
            while not done.is_set():
                logger.info("chatter")

        talker = threading.Thread(target=chatter)
        with path.open("ab") as stream:
            tracelog.configure(stream=stream, queue=True)
            try:
                logger.warning("before the flush")
                talker.start()
                flushing = threading.Thread(target=queued().flush)
                flushing.start()
                flushing.join(30)  # a liveness bound: it returns while the chatter goes on
                returned = not flushing.is_alive()
            finally:
                done.set()
                if talker.is_alive():
                    talker.join(30)
                tracelog.shutdown()
        assert returned
        assert "before the flush" == parse(path)[0]["message"]

    def test_records_written_one_by_one_count_as_progress(self) -> None:
        """Through a target with a filter (each record handled on its own), a slow but
        working sink is not taken for a stuck one: stopping writes every line."""

        class Slow(io.StringIO):
            def write(self, text: str) -> int:
                time.sleep(0.001)
                return super().write(text)

        stream = Slow()
        handler, logger = started_on(stream, "flush.slow")
        handler.target.addFilter(lambda record: True)
        try:
            for i in range(600):  # about 0.6 s of writes, twice the stall bound
                logger.warning("slow %d", i)
            finished = handler.listener.stop(stall=0.3)
        finally:
            handler.close()
            logger.handlers.clear()
        assert finished
        assert (600, 0) == (len(stream.getvalue().splitlines()), handler.lost_at_exit)


class _LogsWhenShown:
    """A value whose repr logs a line of its own (on the thread that renders it)."""

    def __repr__(self) -> str:
        logging.getLogger("inner").warning("logged by a repr")
        return "<shown>"


class TestLinesLoggedWhileRendering:
    def test_lines_queued_before_stay_ahead(
        self, framework, tmp_path, no_flush_delay_expiry
    ) -> None:
        """A line a value's repr logs on the listener lands after the lines queued before
        its own, and before its own (as in direct mode)."""
        path = tmp_path / "q.log"
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=True)
            emit(framework, "info", "before")
            emit(framework, "info", "shown", value=_LogsWhenShown())
            emit(framework, "info", "shown again", value=_LogsWhenShown())
            queued().flush()
            tracelog.shutdown()
        assert [
            "before",
            "logged by a repr",
            "shown",
            "logged by a repr",
            "shown again",
        ] == [x["message"] for x in parse(path)]
