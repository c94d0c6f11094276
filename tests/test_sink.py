"""_sink.py: one write per line, whatever the stream."""

from __future__ import annotations

import asyncio
import io
import logging
import logging.handlers
import os
import random
import signal
import sys
import threading
from typing import Any

import orjson
import pytest

import tracelog
from tests.conftest import emit
from tracelog import _state
from tracelog._sink import LineSink
from tracelog.stdlib import JsonFormatter
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


class SwitchableStream(io.StringIO):
    """A text stream whose write fails with *error* while `broken` is set."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error
        self.broken = True

    def write(self, s: str) -> int:
        if self.broken:
            raise self.error
        return super().write(s)


class RandomFailure(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.rng = random.Random(7)  # noqa: S311 - a reproducible fault schedule
        self.failures = 0

    def write(self, s: str) -> int:
        if self.rng.random() < 0.3:
            self.failures += 1
            raise self.rng.choice([OSError(5, "EIO"), RuntimeError("driver bug"), ValueError("x")])
        return super().write(s)


class TestSinks:
    @pytest.mark.parametrize(
        "error",
        [
            BrokenPipeError(32, "Broken pipe"),
            OSError(28, "No space left on device"),
            ValueError("I/O operation on closed file."),
            RuntimeError("unexpected"),
        ],
        ids=["epipe", "enospc", "closed", "random"],
    )
    def test_fail_small_then_resume(self, framework, queue_mode, error, capfd) -> None:
        """No exception in the caller, one diagnostic, and logging resumes when healthy."""
        stream = SwitchableStream(error)
        tracelog.configure(stream=stream, queue=queue_mode)
        for i in range(20):
            emit(framework, "warning", f"lost {i}")
        if queue_mode:
            _state.current.queue.q.join()  # type: ignore[union-attr]
        stream.broken = False
        emit(framework, "warning", "back")
        tracelog.shutdown()
        err = capfd.readouterr().err
        assert 1 == err.count("cannot write log lines")
        assert "20 line(s) were lost" in err
        assert ["back"] == [orjson.loads(x)["message"] for x in stream.getvalue().splitlines()]

    def test_random_write_failures(self, framework, queue_mode, capfd) -> None:
        """A stream failing at random: every line is either written whole or counted lost."""
        stream = RandomFailure()
        tracelog.configure(stream=stream, queue=queue_mode)
        for i in range(300):
            emit(framework, "warning", "m", i=i)
        tracelog.shutdown()
        written = [orjson.loads(x) for x in stream.getvalue().splitlines()]
        assert 300 == len(written) + stream.failures
        err = capfd.readouterr().err
        assert err.count("cannot write log lines") <= err.count("recovered") + 1
        assert "Traceback" not in err

    def test_dev_full_real_fd(self, framework, queue_mode, capfd) -> None:
        """ENOSPC from a real descriptor (/dev/full): one diagnostic, a count at shutdown."""
        if not os.path.exists("/dev/full"):
            pytest.skip("no /dev/full here")
        with open("/dev/full", "w") as full:
            tracelog.configure(stream=full, queue=queue_mode)
            for _ in range(5):
                emit(framework, "warning", "no space")
            tracelog.shutdown()
        err = capfd.readouterr().err
        assert 1 == err.count("No space left on device")
        assert "5 log line(s)" in err

    @pytest.mark.parametrize("handler_cls", ["watched", "rotating"])
    def test_file_rotated_underneath(self, tmp_path, handler_cls, recorder) -> None:
        """WatchedFileHandler/RotatingFileHandler with tracelog's formatter survive rotation."""
        from tracelog.stdlib import TraceContextFilter

        path = tmp_path / "app.log"
        if handler_cls == "watched":
            handler: logging.Handler = logging.handlers.WatchedFileHandler(path)
        else:
            handler = logging.handlers.RotatingFileHandler(path, maxBytes=2000, backupCount=50)
        handler.setFormatter(JsonFormatter(service="svc"))
        handler.addFilter(TraceContextFilter())
        logger = logging.getLogger(f"rot.{handler_cls}")
        logger.propagate = False
        logger.addHandler(handler)
        try:
            with recorder.tracer.start_as_current_span("op") as span:
                for i in range(60):
                    logger.warning("line", extra={"i": i})
                    if handler_cls == "watched" and i in {20, 40}:
                        os.rename(path, tmp_path / f"old{i}.log")  # logrotate's move
                    if handler_cls == "watched" and i == 30:
                        path.unlink()  # deleted underneath
        finally:
            handler.close()
            logger.removeHandler(handler)
        seen = []
        for file in tmp_path.iterdir():
            seen += [orjson.loads(x) for x in file.read_text().splitlines()]
        expected_trace = format(span.get_span_context().trace_id, "032x")
        got = sorted(x["i"] for x in seen)
        assert (
            list(range(60))
            if handler_cls == "rotating"
            else sorted(set(range(60)) - set(range(21, 31)))
        ) == got
        assert {expected_trace} == {x["traceId"] for x in seen}


class TestConcurrency:
    @pytest.mark.slow
    def test_16_threads_to_one_file(self, tmp_path, queue_mode) -> None:
        """16 threads x 2,000 lines into one file: 0 torn, 0 lost, 0 wrong ids, no drops."""
        rec = SpanRecorder()
        path = tmp_path / "threads.log"
        with path.open("a") as stream:
            # redact=False: a random 16-hex span id can be all digits and Luhn-valid, which
            # redaction rightly takes for a card number; this test is about ids, not redaction.
            tracelog.configure(stream=stream, queue=queue_mode, redact=False)

            def work(n: int) -> None:
                log, std = tracelog.get_logger("w"), logging.getLogger("w")
                with rec.tracer.start_as_current_span(f"w{n}") as span:
                    sid = format(span.get_span_context().span_id, "016x")
                    for i in range(2000):
                        if i % 2:
                            log.info("s", worker=n, i=i, expect=sid)
                        else:
                            std.info("l", extra={"worker": n, "i": i, "expect": sid})

            threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            tracelog.shutdown()
        lines = [orjson.loads(x) for x in path.read_text().splitlines()]
        assert 32_000 == len(lines)
        assert [] == [x for x in lines if x["spanId"] != x["expect"]]
        assert 32_000 == len({(x["worker"], x["i"]) for x in lines})
        assert [] == [x for x in lines if "dropped" in x]

    def test_1000_asyncio_tasks(self, output) -> None:
        """1,000 tasks, each in its own span, never see another task's ids."""
        rec = SpanRecorder()
        # redact=False: a random 16-hex span id can be all digits and Luhn-valid, which
        # redaction rightly takes for a card number; this test is about ids, not redaction.
        out = output(redact=False)
        log = tracelog.get_logger("task")

        async def one(n: int) -> None:
            with rec.tracer.start_as_current_span(f"t{n}") as span:
                sid = format(span.get_span_context().span_id, "016x")
                await asyncio.sleep(0)
                log.info("step 1", n=n, expect=sid)
                await asyncio.sleep(0)
                await log.ainfo("step 2", n=n, expect=sid)

        async def main() -> None:
            await asyncio.gather(*(one(n) for n in range(1000)))

        asyncio.run(main())
        lines = [x for x in out.lines() if x["logger"] == "task"]
        assert 2000 == len(lines)
        assert [] == [x for x in lines if x["spanId"] != x["expect"]]


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
