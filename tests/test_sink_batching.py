"""_sink.py's batching writer: threads that find another one writing hand it their lines.

Real threads, files, pipes and subprocesses. A test that needs lines to wait holds the
sink's writer role itself (as a thread in the middle of a write would), so what is
batched is known exactly; no assertion depends on timing.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from tracelog import _sink
from tracelog._sink import BATCH_MAX, PENDING_MAX, LineSink


def line(source: str, n: int, pad: int = 0) -> bytes:
    return orjson.dumps({"src": source, "n": n, "pad": "p" * pad}) + b"\n"


@contextlib.contextmanager
def holding_role(sink: LineSink) -> Iterator[None]:
    """Hold the sink's writer role, as a thread in the middle of a write does."""
    with sink._role:
        yield


def hand_over(sink: LineSink, lines: list[bytes]) -> None:
    """Write *lines* from another thread while the caller holds the writer role."""
    results: list[bool] = []
    writer = threading.Thread(target=lambda: results.extend(sink.write(x) for x in lines))
    writer.start()
    writer.join(30)
    assert [True] * len(lines) == results


class CountingWrites:
    """os.write, recording what each call was given for one descriptor."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fd: int) -> None:
        self.fd = fd
        self.calls: list[bytes] = []
        self.real = os.write
        monkeypatch.setattr(os, "write", self)

    def __call__(self, fd: int, data: Any) -> int:
        if fd == self.fd:
            self.calls.append(bytes(data))
        return self.real(fd, data)


def parse(raw: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(x) for x in raw.splitlines()]


class TestBatching:
    def test_lines_wait_while_another_thread_writes(self, tmp_path, monkeypatch) -> None:
        """Lines logged while another thread writes return at once, then go out in one write."""
        path = tmp_path / "out.log"
        with path.open("ab") as stream:
            sink = LineSink(stream)
            writes = CountingWrites(monkeypatch, stream.fileno())
            lines = [line("a", n) for n in range(5)]
            with holding_role(sink):
                hand_over(sink, lines)
                assert (b"", 5) == (path.read_bytes(), len(sink._pending))
            sink.flush()
        assert ([b"".join(lines)], b"".join(lines)) == (writes.calls, path.read_bytes())

    def test_writer_takes_pending_lines_with_its_own(self, tmp_path, monkeypatch) -> None:
        """The next caller that gets the role writes what is pending and its own line, in order."""
        path = tmp_path / "out.log"
        with path.open("ab") as stream:
            sink = LineSink(stream)
            writes = CountingWrites(monkeypatch, stream.fileno())
            waiting = [line("a", n) for n in range(3)]
            with holding_role(sink):
                hand_over(sink, waiting)
            assert sink.write(line("b", 0))
        assert ([b"".join([*waiting, line("b", 0)])], []) == (writes.calls, sink._pending)

    def test_batches_on_a_pipe_stay_within_pipe_buf(self, monkeypatch) -> None:
        """On a pipe every batch is at most PIPE_BUF bytes of whole lines, so it stays atomic."""
        read_fd, write_fd = os.pipe()
        chunks: list[bytes] = []
        reader = threading.Thread(
            target=lambda: chunks.extend(iter(lambda: os.read(read_fd, 1 << 16), b""))
        )
        reader.start()
        lines = [line("a", n, pad=700) for n in range(40)]
        with os.fdopen(write_fd, "wb") as stream:
            sink = LineSink(stream)
            writes = CountingWrites(monkeypatch, write_fd)
            with holding_role(sink):
                hand_over(sink, lines)
            sink.flush()
        reader.join(30)
        os.close(read_fd)
        assert 1 < len(writes.calls)
        assert [] == [len(c) for c in writes.calls if len(c) > select.PIPE_BUF]
        assert [] == [c[-80:] for c in writes.calls if not c.endswith(b"\n")]
        assert (b"".join(lines), b"".join(lines)) == (b"".join(writes.calls), b"".join(chunks))

    def test_batches_to_a_file_stay_within_batch_max(self, tmp_path, monkeypatch) -> None:
        """On a regular file a batch carries up to BATCH_MAX bytes of whole lines."""
        path = tmp_path / "out.log"
        lines = [line("a", n, pad=2000) for n in range(100)]
        with path.open("ab") as stream:
            sink = LineSink(stream)
            writes = CountingWrites(monkeypatch, stream.fileno())
            with holding_role(sink):
                hand_over(sink, lines)
            sink.flush()
        sizes = [len(c) for c in writes.calls]
        full = [s > BATCH_MAX - len(lines[0]) for s in sizes[:-1]]
        assert (4, True, [True] * 3) == (len(sizes), max(sizes) <= BATCH_MAX, full)
        assert b"".join(lines) == path.read_bytes()

    def test_caller_blocks_when_pending_is_full(self, tmp_path) -> None:
        """Backpressure: at PENDING_MAX pending lines a caller waits to become the writer."""
        path = tmp_path / "out.log"
        lines = [line("a", n) for n in range(PENDING_MAX + 50)]
        with path.open("ab") as stream:
            sink = LineSink(stream)
            writer = threading.Thread(target=lambda: [sink.write(x) for x in lines])
            with holding_role(sink):
                writer.start()
                deadline = time.monotonic() + 30
                while len(sink._pending) < PENDING_MAX and time.monotonic() < deadline:
                    time.sleep(0.005)
                writer.join(0.5)  # it does not finish: it waits for the role
                assert (True, PENDING_MAX) == (writer.is_alive(), len(sink._pending))
            writer.join(30)
        assert (False, b"".join(lines)) == (writer.is_alive(), path.read_bytes())

    def test_long_line_waits_to_write_itself(self, tmp_path) -> None:
        """A line over PIPE_BUF is not left pending: its caller waits for the role."""
        path = tmp_path / "out.log"
        long_line = line("a", 0, pad=select.PIPE_BUF)
        with path.open("ab") as stream:
            sink = LineSink(stream)
            writer = threading.Thread(target=sink.write, args=(long_line,))
            with holding_role(sink):
                writer.start()
                deadline = time.monotonic() + 30
                while not sink._pending and time.monotonic() < deadline:
                    time.sleep(0.005)
                writer.join(0.5)
                assert writer.is_alive()
            writer.join(30)
        assert long_line == path.read_bytes()


class TestReentry:
    def test_log_call_during_a_batch_write_goes_after_it(self, tmp_path, monkeypatch) -> None:
        """A log call made on the writing thread mid-batch (a signal handler) waits for nothing.

        Its line is long, so on another thread it would wait for the role; here the role
        is its own thread's, and the line is written right after the batch.
        """
        path = tmp_path / "out.log"
        nested = line("nested", 0, pad=select.PIPE_BUF)
        with path.open("ab") as stream:
            sink = LineSink(stream)
            real_write = os.write
            fired: list[bool] = []

            def write_then_log(fd: int, data: Any) -> int:
                done = real_write(fd, data)
                if not fired:
                    fired.append(True)
                    assert sink.write(nested)  # as a signal handler would, mid-write
                return done

            batch = [line("a", n) for n in range(3)]
            with holding_role(sink):
                hand_over(sink, batch)
            monkeypatch.setattr(os, "write", write_then_log)
            sink.flush()
        assert b"".join([*batch, nested]) == path.read_bytes()


class TestThreadsAndProcesses:
    def test_16_threads_keep_their_order_in_a_file(self, tmp_path) -> None:
        """16 threads x 2,000 lines into one file: none torn or lost, each thread's in order."""
        path = tmp_path / "out.log"
        with path.open("ab") as stream:
            sink = LineSink(stream)

            def work(t: int) -> None:
                for n in range(2000):
                    sink.write(line(f"t{t}", n, pad=n % 97))

            threads = [threading.Thread(target=work, args=(t,)) for t in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        rows = parse(path.read_bytes())
        by_thread: dict[str, list[int]] = {}
        for row in rows:
            by_thread.setdefault(row["src"], []).append(row["n"])
        assert {f"t{t}": list(range(2000)) for t in range(16)} == by_thread

    def test_pipe_shared_with_other_processes(self) -> None:
        """16 threads and 2 other processes on one pipe, read by a third: no line torn or glued."""
        read_fd, write_fd = os.pipe()
        reader = subprocess.Popen(
            [sys.executable, "-c", "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"],
            stdin=read_fd,
            stdout=subprocess.PIPE,
        )
        os.close(read_fd)
        others = [
            subprocess.Popen([sys.executable, "-c", OTHER_WRITER, f"p{k}"], stdout=write_fd)
            for k in range(2)
        ]
        with os.fdopen(write_fd, "wb") as stream:
            sink = LineSink(stream)

            def work(t: int) -> None:
                for n in range(500):
                    sink.write(line(f"t{t}", n, pad=(n * 37) % 1500))

            threads = [threading.Thread(target=work, args=(t,)) for t in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for other in others:
                other.wait(60)
        out, _ = reader.communicate(timeout=60)
        by_source: dict[str, list[int]] = {}
        for row in parse(out):  # a torn or glued line would not parse
            by_source.setdefault(row["src"], []).append(row["n"])
        expected = {f"t{t}": list(range(500)) for t in range(16)}
        expected |= {f"p{k}": list(range(1500)) for k in range(2)}
        assert expected == by_source


OTHER_WRITER = """
import json, os, sys
for n in range(1500):
    data = json.dumps({"src": sys.argv[1], "n": n, "pad": "q" * ((n * 53) % 3000)}) + "\\n"
    os.write(1, data.encode())
"""


def run_child(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run *code* in a fresh interpreter, its stdout a block-buffered pipe."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


class TestExit:
    def test_exit_writes_lines_a_stopped_writer_took_on(self, tmp_path) -> None:
        """Lines handed to a daemon writer that stops at exit are written by the exit hook."""
        path = tmp_path / "out.log"
        proc = run_child(
            """
            import sys, threading
            from tracelog._sink import LineSink
            sink = LineSink(open(sys.argv[1], "ab"))  # on no logging handler
            taken, finish = threading.Event(), threading.Event()
            def writer():  # in the middle of a write until exit begins, then gone
                sink._role.acquire()
                taken.set()
                finish.wait()
                sink._role.release()
                threading.Event().wait()
            threading.Thread(target=writer, daemon=True).start()
            taken.wait()
            for n in range(50):
                sink.write(b"%d\\n" % n)
            print(len(sink._pending))
            import atexit
            atexit.register(finish.set)  # runs before tracelog's hook (registered first)
            """,
            str(path),
        )
        assert ("50\n", "") == (proc.stdout, proc.stderr)
        assert [str(n) for n in range(50)] == path.read_text().split()

    def test_main_thread_last_lines_while_daemons_write(self, tmp_path) -> None:
        """The main thread's lines are all written though daemon threads still write at exit."""
        path = tmp_path / "out.log"
        run_child(
            """
            import sys, threading, tracelog
            tracelog.configure(stream=sys.argv[1], redact=False)
            log = tracelog.get_logger("exit")
            started = threading.Barrier(9)
            def work(t):
                started.wait()
                n = 0
                while True:
                    log.info("daemon", t=t, n=n)
                    n += 1
            for t in range(8):
                threading.Thread(target=work, args=(t,), daemon=True).start()
            started.wait()
            for n in range(300):
                log.info("main", n=n)
            """,
            str(path),
        )
        rows = parse(path.read_bytes())
        by_thread: dict[Any, list[int]] = {}
        for row in rows:
            by_thread.setdefault(row.get("t", "main"), []).append(row["n"])
        assert list(range(300)) == by_thread.pop("main")
        assert {t: list(range(len(ns))) for t, ns in by_thread.items()} == by_thread

    @pytest.mark.parametrize("daemon", [False, True], ids=["threads", "daemon-threads"])
    def test_threads_log_then_main_exits(self, tmp_path, daemon) -> None:
        """16 threads log through tracelog and the main thread exits: every line is in the file."""
        path = tmp_path / "out.log"
        proc = run_child(
            """
            import sys, threading, tracelog
            tracelog.configure(stream=sys.argv[1], redact=False)
            log = tracelog.get_logger("exit")
            done = [threading.Event() for _ in range(16)]
            def work(t):
                for n in range(500):
                    log.info("line", t=t, n=n)
                done[t].set()
            for t in range(16):
                threading.Thread(target=work, args=(t,), daemon=sys.argv[2] == "1").start()
            if sys.argv[2] == "1":  # daemon threads: exit once their calls returned
                for event in done:
                    event.wait()
            """,
            str(path),
            str(int(daemon)),
        )
        assert "" == proc.stderr
        rows = parse(path.read_bytes())
        by_thread: dict[int, list[int]] = {}
        for row in rows:
            by_thread.setdefault(row["t"], []).append(row["n"])
        assert {t: list(range(500)) for t in range(16)} == by_thread


class TestFailures:
    def test_failed_batch_counts_every_line(self, capfd) -> None:
        """A batch the pipe refuses (no reader left) counts each of its lines; one diagnostic."""
        read_fd, write_fd = os.pipe()
        with os.fdopen(write_fd, "wb") as stream:
            sink = LineSink(stream)
            with holding_role(sink):
                hand_over(sink, [line("a", n) for n in range(10)])
                os.close(read_fd)
            sink.flush()
            assert (10, 10) == (sink.lost, sink.failed)
            sink.close()
        err = capfd.readouterr().err
        assert (1, 1) == (err.count("cannot write log lines"), err.count("10 log line(s)"))

    def test_file_full_mid_batch(self, tmp_path) -> None:
        """A file that takes part of a batch (size limit): only lines not out whole are lost."""
        path = tmp_path / "out.log"
        proc = run_child(
            """
            import json, resource, signal, sys, threading
            from tracelog._sink import LineSink
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            lines = [b"%09d\\n" % n for n in range(40)]  # 10 bytes each
            resource.setrlimit(resource.RLIMIT_FSIZE, (125, 125))  # 12 lines and a half
            sink = LineSink(open(sys.argv[1], "ab"))
            sink._role.acquire()  # the writer role, as a thread in the middle of a write
            worker = threading.Thread(target=lambda: [sink.write(x) for x in lines])
            worker.start()
            worker.join()
            sink._role.release()
            sink.flush()
            after = sink.write(b"next\\n")
            print(json.dumps({"lost": sink.lost, "after": after}))
            """,
            str(path),
        )
        # 12 lines out whole; the 13th cut short and the 27 after it lost; then "next".
        assert {"lost": 29, "after": False} == orjson.loads(proc.stdout)
        assert 1 == proc.stderr.count("cannot write log lines")
        raw = path.read_bytes()
        assert (b"".join(b"%09d\n" % n for n in range(12)), b"00000") == (raw[:120], raw[120:])

    def test_descriptor_fails_after_part_of_a_batch(self, tmp_path, monkeypatch) -> None:
        """A write that takes part of a batch and then fails: only lines not out whole are lost."""
        path = tmp_path / "out.log"
        lines = [b"%09d\n" % n for n in range(10)]  # 10 bytes each
        real_write = os.write
        calls: list[int] = []

        def part_then_fail(fd: int, data: Any) -> int:
            calls.append(len(data))
            if len(calls) == 1:
                return real_write(fd, bytes(data)[:35])  # 3 lines and a half
            raise OSError(5, "EIO")

        with path.open("ab") as stream:
            sink = LineSink(stream)
            with holding_role(sink):
                hand_over(sink, lines)
            monkeypatch.setattr(os, "write", part_then_fail)
            sink.flush()
            monkeypatch.undo()
            assert (7, True) == (sink.lost, sink._torn)
            assert sink.write(b"next\n")  # starts on a line of its own
        assert b"".join(lines)[:35] + b"\nnext\n" == path.read_bytes()

    def test_ending_a_cut_line_keeps_a_full_pipe_batch_whole(self, monkeypatch) -> None:
        """After a line cut short on a pipe, the "\\n" that ends it does not make a batch of
        PIPE_BUF bytes one write of PIPE_BUF + 1 (which another process's could tear)."""
        read_fd, write_fd = os.pipe()
        real_write = os.write
        sizes: list[int] = []

        def cut_then_fail(fd: int, data: Any) -> int:
            if not sizes:
                sizes.append(len(data))
                return real_write(fd, bytes(data)[:5])
            raise OSError(5, "EIO")

        def spy(fd: int, data: Any) -> int:
            sizes.append(len(data))
            return real_write(fd, data)

        lines = [b"%099d\n" % n for n in range(select.PIPE_BUF // 100)]
        lines.append(b"y" * (select.PIPE_BUF - 100 * len(lines) - 1) + b"\n")
        with os.fdopen(write_fd, "wb") as stream:
            sink = LineSink(stream)
            monkeypatch.setattr(os, "write", cut_then_fail)
            assert not sink.write(b"cut short\n")
            monkeypatch.setattr(os, "write", spy)
            sizes.clear()
            assert sink.write_lines(lines)
            monkeypatch.undo()
        with os.fdopen(read_fd, "rb") as out:
            assert b"cut s\n" + b"".join(lines) == out.read()
        assert select.PIPE_BUF == sum(map(len, lines))
        assert max(sizes) <= select.PIPE_BUF

    def test_a_failed_ending_of_a_cut_line_is_retried(self, monkeypatch) -> None:
        """When the "\\n" that ends a cut line cannot be written either, the batch is lost
        and counted, and the next line still starts on a line of its own."""
        read_fd, write_fd = os.pipe()
        real_write = os.write
        cut: list[int] = []

        def cut_then_fail(fd: int, data: Any) -> int:
            if not cut:
                cut.append(len(data))
                return real_write(fd, bytes(data)[:5])
            raise OSError(5, "EIO")

        lines = [b"%0*d\n" % (select.PIPE_BUF // 2 - 1, n) for n in range(2)]
        with os.fdopen(write_fd, "wb") as stream:
            sink = LineSink(stream)
            monkeypatch.setattr(os, "write", cut_then_fail)
            assert not sink.write(b"cut short\n")
            assert not sink.write_lines(lines)
            monkeypatch.undo()
            assert (3, True) == (sink.lost, sink._torn)
            assert sink.write(b"next\n")
        with os.fdopen(read_fd, "rb") as out:
            assert b"cut s\nnext\n" == out.read()

    def test_full_nonblocking_pipe_counts_a_short_line(self, monkeypatch, capfd) -> None:
        """A short line that a full non-blocking pipe does not take in time is counted lost."""
        monkeypatch.setattr(_sink, "WAIT_WRITABLE", 0.01)
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        with os.fdopen(write_fd, "wb") as stream:
            sink = LineSink(stream)
            with contextlib.suppress(BlockingIOError):
                while True:
                    os.write(write_fd, b"x" * 4096)
            assert (False, 1) == (sink.write(b'{"a":1}\n'), sink.lost)
        os.close(read_fd)
        assert "BlockingIOError" in capfd.readouterr().err

    def test_stream_closed_while_lines_wait(self, tmp_path, capfd) -> None:
        """Lines pending when their stream is closed are counted lost, not written elsewhere."""
        stream = (tmp_path / "out.log").open("ab")
        sink = LineSink(stream)
        with holding_role(sink):
            hand_over(sink, [line("a", n) for n in range(3)])
            stream.close()
        sink.flush()
        assert (3, b"") == (sink.lost, (tmp_path / "out.log").read_bytes())
        assert "I/O operation on closed file" in capfd.readouterr().err

    def test_close_counts_lines_behind_a_stuck_writer(self, tmp_path, capfd) -> None:
        """close() waits a bounded time for a writer that is stuck, then counts its lines lost."""
        path = tmp_path / "out.log"
        with path.open("ab") as stream:
            sink = LineSink(stream)
            held, release = threading.Event(), threading.Event()

            def stuck() -> None:
                with holding_role(sink):
                    held.set()
                    release.wait(30)

            holder = threading.Thread(target=stuck)
            holder.start()
            held.wait(30)
            hand_over(sink, [line("a", n) for n in range(4)])
            sink.close()
            release.set()
            holder.join(30)
        assert 4 == sink.lost
        assert "4 log line(s)" in capfd.readouterr().err


class TestStdout:
    def test_batch_never_glued_to_a_print(self) -> None:
        """A block-buffered stdout is flushed before each batch: print output never glues to it."""
        proc = run_child(
            """
            import sys, threading
            from tracelog._sink import LineSink
            sink = LineSink(sys.stdout)
            sink._role.acquire()  # the writer role, as a thread in the middle of a write
            worker = threading.Thread(target=lambda: sink.write(b'{"from":"thread"}\\n'))
            worker.start()
            worker.join()
            print("p" * 9000)  # written at once; its "\\n" stays in the buffer
            sink._role.release()
            sink.flush()
            """
        )
        assert ["p" * 9000, '{"from":"thread"}'] == proc.stdout.splitlines()


class TestFork:
    @pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
    def test_child_drops_the_parents_pending_lines(self, tmp_path) -> None:
        """A forked child does not write the lines pending in its parent: the parent does, once."""
        path = tmp_path / "out.log"
        with path.open("ab") as stream:
            sink = LineSink(stream)
            with holding_role(sink):
                hand_over(sink, [line("parent", n) for n in range(5)])
                pid = os.fork()
                if pid == 0:  # pragma: no cover - the child
                    code = 0 if sink.write(line("child", 0)) and not sink._pending else 1
                    sink.flush()
                    os._exit(code)
                _, status = os.waitpid(pid, 0)
            sink.flush()
        rows = parse(path.read_bytes())
        assert 0 == status
        assert [("child", 0)] + [("parent", n) for n in range(5)] == [
            (x["src"], x["n"]) for x in rows
        ]


class TestExitHook:
    def test_hook_writes_pending_of_every_sink(self, tmp_path) -> None:
        """The exit hook writes the pending lines of each live sink."""
        paths = [tmp_path / "a.log", tmp_path / "b.log"]
        streams = [p.open("ab") for p in paths]
        sinks = [LineSink(s) for s in streams]
        for n, sink in enumerate(sinks):
            with holding_role(sink):
                hand_over(sink, [line("s", n)])
        _sink._write_pending_at_exit()
        for s in streams:
            s.close()
        assert [[line("s", 0)], [line("s", 1)]] == [
            p.read_bytes().splitlines(keepends=True) for p in paths
        ]


class TestInterruptsAndStalls:
    def test_ctrl_c_during_a_batch_counts_the_other_threads_lines(self) -> None:
        """KeyboardInterrupt while the writer is blocked in a batch: its lines are counted lost."""
        proc = run_child(
            """
            import fcntl, json, os, signal, threading
            from tracelog._sink import LineSink
            r, w = os.pipe()
            sink = LineSink(open(w, "wb", buffering=0))
            fcntl.fcntl(w, fcntl.F_SETFL, os.O_NONBLOCK)
            try:
                while True:
                    os.write(w, b"#" * 4095 + b"\\n")  # fill the pipe: the next write blocks
            except BlockingIOError:
                pass
            fcntl.fcntl(w, fcntl.F_SETFL, 0)
            sink._role.acquire()  # another writer is busy: these five wait in pending
            threads = [
                threading.Thread(target=sink.write, args=(b'{"thread":%d}\\n' % i,))
                for i in range(5)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            sink._role.release()
            def interrupt(*_):
                raise KeyboardInterrupt
            signal.signal(signal.SIGALRM, interrupt)
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            try:
                sink.write(b'{"main":1}\\n')  # becomes the writer, blocks on the full pipe
                interrupted = False
            except KeyboardInterrupt:
                interrupted = True
            found = {"interrupted": interrupted, "pending": len(sink._pending)}
            print(json.dumps({**found, "lost": sink.lost}))
            """
        )
        assert {"interrupted": True, "pending": 0, "lost": 6} == orjson.loads(proc.stdout)
        assert "KeyboardInterrupt" in proc.stderr

    def test_a_slow_moment_does_not_make_close_report_written_lines_lost(self) -> None:
        """A flush that once waited out a slow writer leaves close() to wait afresh."""
        r, w = os.pipe()
        sink = LineSink(open(w, "wb", buffering=0))  # noqa: SIM115 - closed below

        def hold(seconds: float) -> None:
            with holding_role(sink):
                time.sleep(seconds)

        slow = threading.Thread(target=hold, args=(1.3,))
        slow.start()
        time.sleep(0.05)
        sink.write(b'{"a":1}\n')
        sink.flush()  # waits 1 s, gives up: the writer looked stuck
        slow.join()
        busy = threading.Thread(target=hold, args=(0.2,))
        busy.start()
        time.sleep(0.05)
        sink.write(b'{"b":2}\n')
        sink.close()  # the writer is healthy now: its lines are not lost
        busy.join()
        sink.flush()
        sink.stream.close()
        with os.fdopen(r, "rb") as reader:
            lines = reader.read().splitlines()
        assert ([{"a": 1}, {"b": 2}], 0) == ([orjson.loads(x) for x in lines], sink.lost)
