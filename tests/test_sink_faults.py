"""Streams and sinks that used to lose, tear or glue lines, or stall the app.

Wrapped text streams, buffered stdout, signal handlers mid-line, non-blocking pipes, a
stream that logs from write(), and queue mode against sinks that block or crawl. Real
files, pipes, sockets, threads and subprocesses; no timing assertions.
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading
from typing import Any

import orjson
import pytest

import tracelog
from tests.conftest import emit
from tracelog._sink import LineSink

UNICODE = "é 日本 😀 \x85"


@pytest.fixture(params=[False, True], ids=["direct", "queue"])
def queue_mode(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def run_child(code: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run *code* in a fresh interpreter with stdout and stderr piped, block-buffered."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )


def log_three(framework: str, stream: Any, queue_mode: bool) -> None:
    tracelog.configure(stream=stream, queue=queue_mode)
    for i in range(3):
        emit(framework, "warning", f"line {i}", v=UNICODE)
    tracelog.shutdown()


def messages(text: str) -> list[tuple[str, str]]:
    return [(x["message"], x["v"]) for x in (orjson.loads(y) for y in text.split("\n") if y)]


EXPECTED = [(f"line {i}", UNICODE) for i in range(3)]


class TestWrappedStreams:
    def test_gzip_text(self, framework, queue_mode, tmp_path) -> None:
        """gzip.open(p, "wt") gets text through its write(): the file is valid gzip."""
        path = tmp_path / "log.gz"
        with gzip.open(path, "wt", encoding="utf-8") as stream:
            log_three(framework, stream, queue_mode)
        with gzip.open(path, "rt", encoding="utf-8") as done:
            assert EXPECTED == messages(done.read())

    def test_utf16_file(self, framework, queue_mode, tmp_path) -> None:
        """A UTF-16 text file gets UTF-16, not UTF-8 bytes on its descriptor."""
        path = tmp_path / "log16.txt"
        with path.open("w", encoding="utf-16") as stream:
            log_three(framework, stream, queue_mode)
        assert EXPECTED == messages(path.read_text(encoding="utf-16"))

    def test_ascii_file(self, framework, queue_mode, tmp_path) -> None:
        """A stream that cannot encode the text gets the same JSON with \\u escapes."""
        path = tmp_path / "ascii.txt"
        with path.open("w", encoding="ascii") as stream:
            log_three(framework, stream, queue_mode)
        raw = path.read_bytes()
        assert (True, EXPECTED) == (raw.isascii(), messages(raw.decode("ascii")))

    def test_socket_makefile(self, framework, queue_mode) -> None:
        """A socket's makefile("w") gets the lines through its own buffer (127.0.0.1)."""
        server = socket.create_server(("127.0.0.1", 0))
        client = socket.create_connection(server.getsockname())
        peer, _ = server.accept()
        received: list[bytes] = []
        reader = threading.Thread(target=lambda: received.append(read_all(peer)))
        reader.start()
        with client, peer, server:
            stream = client.makefile("w", encoding="utf-8")
            log_three(framework, stream, queue_mode)
            stream.close()
            client.shutdown(socket.SHUT_WR)
            reader.join(30)
        assert EXPECTED == messages(b"".join(received).decode())

    @pytest.mark.parametrize(
        ("opener", "direct"),
        [
            (lambda p: open(p, "w", encoding="utf-8"), True),  # noqa: SIM115
            (lambda p: open(p, "ab"), True),  # noqa: SIM115
            (lambda p: open(p, "wb", buffering=0), True),  # noqa: SIM115
            (lambda p: open(p, "w", encoding="utf-16"), False),  # noqa: SIM115
            (lambda p: open(p, "w", encoding="latin-1"), False),  # noqa: SIM115
            (lambda p: gzip.open(p, "wb"), False),  # noqa: SIM115
        ],
        ids=["utf8-text", "buffered-binary", "raw-binary", "utf16", "latin1", "gzip-binary"],
    )
    def test_which_streams_are_bypassed(self, opener, direct, tmp_path) -> None:
        """Only open() files whose text is UTF-8 are written through the descriptor."""
        with opener(tmp_path / "f") as stream:
            assert direct == (LineSink(stream)._fd is not None)


def read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


class TestBufferedStdout:
    @pytest.mark.parametrize("mode", ["direct", "queue"])
    def test_print_then_log_never_glued(self, mode) -> None:
        """print("p" * 9000) on a block-buffered stdout is flushed before the next log line."""
        proc = run_child(
            """
            import logging, sys, tracelog
            tracelog.configure(stream="stdout", queue=sys.argv[1] == "queue")
            queued = tracelog._state.current.queue
            for i in range(20):
                print("p" * 3000)
                print("p" * 9000)  # goes out at once; its "\\n" stays in the buffer
                logging.getLogger("app").warning("after print %d", i)
                tracelog.get_logger("app").warning("structlog after print", i=i)
                if queued is not None:
                    # The listener writes on its own thread; a print racing it may be
                    # cut like a print racing another thread's print. Wait for it.
                    queued.q.join()
            """,
            mode,
        )
        lines = proc.stdout.split("\n")[:-1]
        json_lines = [x for x in lines if not x.startswith("p")]
        assert ([], 20) == (
            [x for x in lines if x.strip("p") and x[0] == "p"],
            lines.count("p" * 9000),
        )
        assert 40 == len([orjson.loads(x) for x in json_lines])


class TestSignalDuringLongLine:
    @pytest.mark.parametrize("mode", ["direct", "queue"])
    def test_handler_line_never_inside_another(self, mode) -> None:
        """SIGALRM handlers that log while 100 KB lines go to a pipe never tear them."""
        proc = run_child(
            """
            import json, os, signal, sys, threading, logging, tracelog
            r, w = os.pipe()
            chunks = []
            def read():
                while data := os.read(r, 65536):
                    chunks.append(data)
            reader = threading.Thread(target=read)
            reader.start()
            out = open(w, "w", encoding="utf-8")
            tracelog.configure(stream=out, queue=sys.argv[1] == "queue")
            fired = [0]
            def on_alarm(signum, frame):
                fired[0] += 1
                logging.getLogger("signal").warning("from handler")
            signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
            big = "x" * 100_000
            for i in range(150):
                tracelog.get_logger("main").warning("big", i=i, pad=big)
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            sink = tracelog._state.current.sink
            tracelog.shutdown()
            out.close()
            reader.join()
            lines = b"".join(chunks).split(b"\\n")[:-1]
            ok = bad = 0
            loggers = {}
            for line in lines:
                try:
                    name = json.loads(line)["logger"]
                except ValueError:
                    bad += 1
                else:
                    loggers[name] = loggers.get(name, 0) + 1
            dropped = sink.reentrant_dropped
            result = {"bad": bad, "loggers": loggers, "fired": fired[0], "dropped": dropped}
            print(json.dumps(result))
            """,
            mode,
        )
        result = orjson.loads(proc.stdout)
        assert 0 == result["bad"]
        assert 150 == result["loggers"]["main"]
        # A handler that fires while held-back lines are written is dropped and counted.
        assert result["fired"] == result["loggers"].get("signal", 0) + result["dropped"]
        assert 0 < result["fired"]


class TestNonBlockingPipe:
    def test_full_pipe_never_glues_lines(self, framework, queue_mode, capfd) -> None:
        """A full non-blocking pipe: each line is whole or counted lost, never glued."""
        r, w = os.pipe()
        os.set_blocking(w, False)
        os.set_blocking(r, False)
        stream = open(w, "w", encoding="utf-8")  # noqa: SIM115 - closed below
        tracelog.configure(stream=stream, queue=queue_mode)
        pad = "y" * 10_000  # over PIPE_BUF: the pipe takes part of a line, then is full
        for i in range(20):
            emit(framework, "warning", "filling", i=i, pad=pad)
        if queue_mode:
            tracelog._state.current.queue.q.join()  # type: ignore[union-attr]
        first = drain(r)
        for i in range(20, 25):
            emit(framework, "warning", "after drain", i=i, pad=pad)
        tracelog.shutdown()
        stream.close()
        text = first + drain(r)
        os.close(r)
        segments = text.split(b"\n")[:-1]
        glued = [s[:80] for s in segments if s.count(b'{"timestamp"') > 1]
        whole = [orjson.loads(s) for s in segments if s.endswith(b"}") and s.startswith(b"{")]
        assert [] == glued
        assert list(range(20, 25)) == [x["i"] for x in whole if x["message"] == "after drain"]
        err = capfd.readouterr().err
        lost = int(err.split("recovered; ")[1].split(" line(s)")[0])
        assert 20 == lost + len([x for x in whole if x["message"] == "filling"])


def drain(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return b"".join(chunks)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


class LoggingStream(io.StringIO):
    """A stream whose write() logs: a debug wrapper, a misguided instrumentation."""

    def write(self, s: str) -> int:
        logging.getLogger("inner").warning("wrote %d chars", len(s))
        return super().write(s)


class TestReentrantStream:
    def test_write_that_logs_does_not_feed_back(self, framework, queue_mode, capfd) -> None:
        """A stream whose write() logs: the nested line is written once, then dropped.

        In queue mode the nested call comes from the listener thread: queued, it would
        feed the listener its own output forever.
        """
        stream = LoggingStream()
        done = threading.Event()

        def run() -> None:
            tracelog.configure(stream=stream, queue=queue_mode)
            emit(framework, "warning", "outer")
            if queue_mode:  # the listener writes, and its nested call is written at once
                tracelog._state.current.queue.q.join()  # type: ignore[union-attr]
            tracelog.shutdown()
            done.set()

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(30)
        assert done.is_set()
        lines = [orjson.loads(x) for x in stream.getvalue().split("\n") if x]
        assert ["outer", "wrote"] == [x["message"].split(" ")[0] for x in lines]
        assert "were dropped" in capfd.readouterr().err

    def test_sink_counts_dropped(self) -> None:
        """LineSink.reentrant_dropped counts the lines the guard dropped."""
        sink: LineSink

        class Echo(io.StringIO):
            def write(self, s: str) -> int:
                sink.write(b'{"nested":1}\n')
                return super().write(s)

        stream = Echo()
        sink = LineSink(stream)
        assert sink.write(b'{"outer":1}\n')
        assert sink.write(b'{"outer":2}\n')
        assert (['{"outer":1}', '{"nested":1}', '{"outer":2}', '{"nested":1}'], 2) == (
            stream.getvalue().split("\n")[:-1],
            sink.reentrant_dropped,
        )


class TestQueueStalls:
    def test_blocked_sink_exits_in_bounded_time(self) -> None:
        """A sink that blocks forever: the process still exits, reporting the lost lines."""
        proc = run_child(
            """
            import logging, threading, tracelog

            class Stuck:
                def write(self, s):
                    threading.Event().wait()
                def flush(self):
                    pass

            tracelog.configure(stream=Stuck(), queue=True, queue_size=5)
            for i in range(20):
                logging.getLogger("app").warning("line %d", i)
                tracelog.get_logger("app").warning("structlog line", i=i)
            print("main done", flush=True)
            """,
        )
        assert "main done" in proc.stdout
        assert "queued log line(s) were lost" in proc.stderr
        assert "Traceback" not in proc.stderr

    def test_socket_nobody_reads_exits(self) -> None:
        """A socket whose peer never reads (127.0.0.1): the process exits, reporting loss."""
        proc = run_child(
            """
            import logging, socket, tracelog
            server = socket.create_server(("127.0.0.1", 0))
            client = socket.create_connection(server.getsockname())
            peer, _ = server.accept()  # never read from
            stream = client.makefile("w", encoding="utf-8")
            tracelog.configure(stream=stream, queue=True, queue_size=5, redact=False)
            for i in range(2000):  # more than the socket buffers hold
                logging.getLogger("app").warning("line %d %s", i, "z" * 20_000)
            print("main done", flush=True)
            """,
        )
        assert "main done" in proc.stdout
        assert "queued log line(s) were lost" in proc.stderr

    def test_slow_sink_drops_instead_of_stalling(self) -> None:
        """0.2 s a write, queue_size=5: later calls drop at once, and every line is counted."""
        proc = run_child(
            """
            import io, json, logging, threading, time, tracelog

            class Slow(io.StringIO):
                def write(self, s):
                    time.sleep(0.2)
                    return super().write(s)

            stream = Slow()
            tracelog.configure(stream=stream, queue=True, queue_size=5)
            for i in range(40):
                logging.getLogger("app").warning("line %d", i)
            tracelog.shutdown()
            lines = [json.loads(x) for x in stream.getvalue().split("\\n") if x]
            written = sum(1 for x in lines if x["logger"] == "app")
            dropped = sum(x.get("dropped", 0) for x in lines if x["logger"] == "tracelog")
            print(json.dumps({"written": written, "dropped": dropped}))
            """,
        )
        result = orjson.loads(proc.stdout)
        assert 0 < result["dropped"]
        assert 40 == result["written"] + result["dropped"]


class TestSinkUnits:
    def test_binary_stream_through_write(self) -> None:
        """A binary stream without a descriptor gets the bytes through write()."""
        stream = io.BytesIO()
        sink = LineSink(stream)
        assert (True, b'{"a":1}\n') == (sink.write(b'{"a":1}\n'), stream.getvalue())

    def test_flush_failure_is_counted(self, capfd) -> None:
        """A stream whose flush() raises: flush() does not raise, the failure is reported."""

        class BadFlush(io.StringIO):
            def flush(self) -> None:
                raise OSError(5, "EIO")

        sink = LineSink(BadFlush())
        sink.flush()
        assert (1, True) == (sink.failed, "cannot write log lines" in capfd.readouterr().err)

    def test_flush_skips_a_stuck_writer(self) -> None:
        """flush() gives up on a lock held by a stuck writer, and later calls do not wait."""
        stream = io.StringIO()
        sink = LineSink(stream)
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            with sink._lock:
                held.set()
                release.wait(30)

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait(30)
        sink.flush()
        sink.close()
        release.set()
        holder.join(30)
        assert sink._stuck

    def test_stream_without_flush(self) -> None:
        """A stream with write() alone is enough: lines are written, none counted lost."""

        class WriteOnly:
            def __init__(self) -> None:
                self.parts: list[str] = []

            def write(self, s: str) -> int:
                self.parts.append(s)
                return len(s)

        stream = WriteOnly()
        sink = LineSink(stream)  # type: ignore[arg-type]
        sink.write(b'{"a":1}\n')
        sink.flush()
        assert (['{"a":1}\n'], 0) == (stream.parts, sink.failed)
