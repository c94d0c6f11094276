"""Where lines go: whole lines per write, and failures reported once, not per line.

Lines are written with ``os.write`` when the stream is a plain file, pipe or terminal
whose text encoding is UTF-8 (an ``open()`` file, ``sys.stderr``), each write carrying
whole lines, so concurrent threads and processes appending to one file never interleave
inside a line, and no lock is held across a flush. Any other stream (``StringIO``,
pytest's capture, ``gzip.open(p, "wt")``, a UTF-16 file, a socket's ``makefile()``) gets
one ``write`` + ``flush`` under a lock, through the stream object, so it encodes and
compresses the text itself.

When writing starts to fail (closed stream, broken pipe, full disk), the sink prints
one diagnostic to the process's original stderr, counts the lines it could not write,
and prints the count when output recovers or at shutdown. It never raises into the
caller.

Threads sharing a descriptor take turns at being its writer (flat combining). A thread
that finds another one writing adds its line to a pending list and returns; the writer,
after each ``os.write``, takes what is pending and writes it joined, in one ``os.write``
of up to ``BATCH_MAX`` bytes on a file and ``PIPE_BUF`` on a pipe or terminal, so a batch
stays whole against other processes too. Each ``os.write`` releases the GIL, and without
batching every line of every thread is a GIL hand-off; with it, threads that find the
writer busy go on without giving up the GIL. Lines keep each thread's order. A caller
whose line is long (over ``PIPE_BUF``), or who finds ``PENDING_MAX`` lines pending, waits
to become the writer instead (blocked in the role's lock, off the GIL), so pending memory
stays bounded. ``flush()``, ``close()`` and interpreter exit write what is pending; a
forked child drops its copy (the parent writes those lines). A failed batch counts every
line in it that did not reach the descriptor whole.

A line that needs more than one write (longer than ``PIPE_BUF`` on a pipe, a short
write, a full non-blocking pipe) is finished by the writer before it lets go. A log call
made on the writing thread meanwhile (a signal handler, a finalizer) adds its line to
pending, written right after. On a stream, a log call made from inside the stream's own
``write()`` is held back and written once the line is complete; one made while those
held-back lines are written is dropped and counted (:attr:`LineSink.reentrant_dropped`),
so logging from inside the sink cannot feed back.
"""

from __future__ import annotations

import atexit
import codecs
import io
import os
import select
import stat
import sys
import threading
import time
import weakref
from bisect import bisect_right
from itertools import accumulate
from typing import IO, Any

from tracelog import _fork
from tracelog import _render as render

__all__ = ["BATCH_MAX", "PENDING_MAX", "WAIT_WRITABLE", "LineSink"]

# How long a line waits for a full non-blocking descriptor to take it (once; while
# output is failing, later lines do not wait).
WAIT_WRITABLE = 1.0
# The most bytes one batched os.write carries to a regular file (a pipe or terminal
# takes PIPE_BUF, the most one write keeps whole against other processes).
BATCH_MAX = 64 << 10
# A caller that finds this many lines pending waits to become the writer (backpressure:
# pending never holds more than this many lines of at most PIPE_BUF bytes each).
PENDING_MAX = 1024

# Every sink, so that interpreter exit writes what is pending (registered on first use).
_sinks: weakref.WeakSet[LineSink] = weakref.WeakSet()
_exit_hook: list[bool] = []
_exit_lock = threading.Lock()


def _diagnose(text: str) -> None:
    stream = sys.__stderr__
    try:
        if stream is not None:
            stream.write(f"tracelog: {text}\n")
            stream.flush()
    except Exception:
        pass


class LineSink:
    """Write complete lines (bytes ending in ``\\n``) to a text or binary stream.

    Args:
        stream: any file object with ``write``; None means ``sys.stderr`` at
            construction time.

    Raises:
        TypeError: if *stream* has no ``write`` method.
    """

    __slots__ = (
        "__weakref__",
        "_atomic",
        "_binary",
        "_busy",
        "_deferred",
        "_draining",
        "_fd",
        "_flush",
        "_lock",
        "_pending",
        "_role",
        "_stuck",
        "_torn",
        "_writing",
        "failed",
        "failing",
        "lost",
        "name",
        "reentrant_dropped",
        "stream",
    )

    def __init__(self, stream: IO[Any] | None = None) -> None:
        if stream is None:
            stream = sys.stderr
        if not callable(getattr(stream, "write", None)):
            raise TypeError(f"stream must be a writable file object, not {stream!r}")
        self.stream = stream
        self.name = getattr(stream, "name", type(stream).__name__)
        # Re-entrant: a signal handler that logs while this thread writes must not
        # deadlock on its own lock.
        self._lock = threading.RLock()
        # The descriptor's writer role: its holder writes its own line and what is
        # pending. Re-entrant for the same reason: a signal handler or a finalizer that
        # logs on the writing thread adds its line instead of waiting for itself.
        self._role = threading.RLock()
        self._pending: list[bytes] = []
        self._writing = False  # the role's holder is writing a batch or a line in parts
        self.failed = 0
        # Every line this sink could not write, for stats(); `failed` counts only the
        # current run of failures, for the "recovered" report.
        self.lost = 0
        self.failing = False
        self.reentrant_dropped = 0
        self._busy: int | None = None  # the thread writing a line in several parts
        self._deferred: list[bytes] = []
        self._draining = False
        self._stuck = False  # a writer held the lock past flush()/close()'s wait
        self._torn = False  # a line was cut short: the next one starts with "\n"
        self._binary = isinstance(stream, io.RawIOBase | io.BufferedIOBase)
        self._fd = self._direct_fd(stream)
        self._flush = None
        if self._fd is not None:
            try:
                # Text already buffered in the stream must come before our first line.
                stream.flush()
            except Exception:
                self._fd = None
            else:
                self._flush = self._flush_before_write(stream)
        self._atomic = self._atomic_size(self._fd)
        _fork.register(self)
        _register_for_exit(self)

    @staticmethod
    def _direct_fd(stream: IO[Any]) -> int | None:
        """The descriptor a line may be written to directly, bypassing *stream*.

        Only for a file, pipe or terminal opened by ``open()`` (a ``FileIO``, possibly
        under a buffered writer and a UTF-8 text wrapper): every other stream gets the
        text through its own ``write``, so a compressed, UTF-16 or socket stream stays
        correct.
        """
        raw: Any = stream
        if isinstance(raw, io.TextIOWrapper):
            try:
                if codecs.lookup(raw.encoding).name != "utf-8":
                    return None
            except (LookupError, TypeError):
                return None
            raw = raw.buffer
        if isinstance(raw, io.BufferedWriter | io.BufferedRandom):
            raw = raw.raw
        if not isinstance(raw, io.FileIO):
            return None
        try:
            fd = stream.fileno()
        except Exception:
            return None
        return fd if isinstance(fd, int) and fd >= 0 else None

    @staticmethod
    def _flush_before_write(stream: IO[Any]) -> Any:
        """``stream.flush`` if the program prints to *stream* too, else None.

        ``print()`` on a block-buffered stdout (a pipe, a file) writes a long text at
        once but keeps its ``"\\n"`` in the stream's buffer; a line written to the
        descriptor before that buffer is flushed would be glued to the text. So
        tracelog flushes ``sys.stdout``/``sys.stderr`` before each line (and before each
        batch), unless they are line-buffered (a terminal; stderr by default), which
        hold at most a partial line that flushing would not help. The flush costs about
        0.1 us a line; files handed to ``configure()`` are taken to be written by
        tracelog alone and are not flushed.
        """
        stdio = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
        if not any(stream is s for s in stdio):
            return None
        if getattr(stream, "line_buffering", False) or isinstance(stream, io.RawIOBase):
            return None
        return stream.flush

    @staticmethod
    def _atomic_size(fd: int | None) -> int | None:
        """Up to how many bytes one ``os.write`` stays whole (None: any size).

        Writes to a regular file are whole at any size (the kernel serialises them on
        the file position). On a pipe, FIFO or terminal only writes of up to PIPE_BUF
        bytes are, against other processes writing to it: batches are kept to that
        size there, and a longer line (a stack trace) is written in parts by the
        writer alone, so that this process's threads never interleave inside it.
        """
        if fd is None:
            return None
        try:
            return None if stat.S_ISREG(os.fstat(fd).st_mode) else select.PIPE_BUF
        except OSError:
            return select.PIPE_BUF

    def after_fork(self) -> None:
        """In a forked child: a lock held by a thread that was not copied is replaced.

        Lines pending at the fork are dropped here: the parent writes them.
        """
        self._lock = threading.RLock()
        self._role = threading.RLock()
        self._pending = []
        self._writing = False
        self._busy = None
        self._deferred = []
        self._draining = False

    def write(self, line: bytes) -> bool:
        """Write one line; return False (and account for it) if it could not be written.

        True also when the line was handed to the thread writing to the same
        descriptor: that thread writes it next, and accounts for it if that fails.
        """
        ok = True
        try:
            fd = self._fd
            if fd is None or self.stream.closed:
                self._write_parts(line)
            else:
                flush = self._flush
                if flush is not None:
                    flush()
                role = self._role
                # Positional: acquire(blocking=False) parses its keyword at a cost per line.
                if role.acquire(False):  # noqa: FBT003
                    try:
                        if self._pending or self._torn or self._writing:
                            # Lines before this one wait, or this thread is re-entered
                            # while it writes (then that write takes this line next).
                            self._pending.append(line)
                            if not self._writing:
                                ok = self._drain()
                        else:
                            # Marked before the write: a signal handler that runs when a
                            # long line is out only in part must not write in between.
                            self._writing = True
                            try:
                                try:
                                    written = os.write(fd, line)
                                except BlockingIOError:
                                    written = 0
                                if written != len(line):
                                    _, error = self._write_all(fd, line, written)
                                    if error is not None:
                                        raise error
                            finally:
                                self._writing = False
                    finally:
                        role.release()
                else:
                    # Another thread is writing: it takes this line with the next batch.
                    pending = self._pending
                    pending.append(line)
                    if len(pending) >= PENDING_MAX or len(line) > select.PIPE_BUF:
                        return self._hand_over(-1)  # wait, and write as the writer
        except Exception as exc:
            self.fail(exc)
            ok = False
        if self._pending:
            # Lines added while this thread held the role, or since the last writer
            # gave it up: the writer re-checks after it lets go, so none is stranded.
            # Asked first with one C call: while another thread writes (the usual
            # answer under contention) that thread takes them, and this one goes on.
            role = self._role
            if role.acquire(False):  # noqa: FBT003 - as above
                role.release()
                ok = self._hand_over(0) and ok
        if ok and self.failing:
            self._recovered()
        return ok

    def write_lines(self, lines: list[bytes]) -> bool:
        """Write several whole lines, in order, batched as threads' lines are.

        For queue mode's listener, which keeps *lines* within ``PIPE_BUF`` bytes: on a
        descriptor they go out in one write when no other thread is writing, else they
        join the pending lines and this thread writes them as the writer; either way a
        failed or short write counts each line it lost, exactly as for lines from several
        threads. Any other stream gets one ``write`` per line. False if a line could not
        be written.
        """
        if self._fd is None or len(lines) == 1:
            ok = True
            for line in lines:
                ok = self.write(line) and ok
            return ok
        role = self._role
        if not self._pending and role.acquire(False):  # noqa: FBT003 - as in write()
            # The usual case: nobody else is writing, so the lines go out as one batch
            # (the caller keeps it within PIPE_BUF), counted line by line if it fails.
            try:
                if self._pending or self._torn or self._writing:
                    self._pending.extend(lines)
                    ok = self._writing or self._drain()
                else:
                    self._writing = True
                    try:
                        ok = self._write_batch(lines)
                    finally:
                        self._writing = False
            finally:
                role.release()
            if self._pending:
                ok = self._hand_over(0) and ok
            return ok
        self._pending.extend(lines)  # one call: no other thread's line lands inside them
        return self._hand_over(-1)

    def _hand_over(self, timeout: float) -> bool:
        """Write what is pending if the role can be had within *timeout* (-1: wait).

        Otherwise the thread holding the role writes it: every holder looks at pending
        again after it lets go. False if a batch written here failed.
        """
        role = self._role
        ok = True
        while self._pending:
            if not role.acquire(True, timeout):  # noqa: FBT003 - positional, as above
                if timeout > 0:
                    self._stuck = True
                return ok
            self._stuck = False  # whoever held the role let go: nobody is stuck now
            try:
                if self._writing:
                    return ok  # re-entered on the writing thread: its write takes them
                ok = self._drain() and ok
            finally:
                role.release()
            timeout = 0
        return ok

    def _drain(self, limit: int = -1) -> bool:
        """With the role held: write what is pending, in order, a batch per write (at
        most *limit* lines if it is not negative)."""
        pending = self._pending
        ok = True
        self._writing = True
        try:
            while pending and limit:
                cap = BATCH_MAX if self._atomic is None else self._atomic
                head = pending[: PENDING_MAX if limit < 0 else min(limit, PENDING_MAX)]
                # As many whole lines as fit in *cap* (at least one), counted in C: this
                # runs while other threads keep adding lines, and must outpace them.
                count = bisect_right(list(accumulate(map(len, head))), cap) or 1
                # Only the role's holder removes lines; others only append at the end.
                del pending[:count]
                if limit > 0:
                    limit -= count
                ok = self._write_batch(head[:count] if count < len(head) else head) and ok
        finally:
            self._writing = False
        return ok

    def _write_batch(self, batch: list[bytes]) -> bool:
        """Write *batch* joined, in one os.write if the descriptor takes it whole."""
        data = batch[0] if len(batch) == 1 else b"".join(batch)
        written = 0
        error: BaseException | None = None
        try:
            fd = self._fd
            if fd is None or self.stream.closed:
                raise ValueError("I/O operation on closed file.")  # noqa: TRY301
            flush = self._flush
            if flush is not None:
                flush()
            written, error = self._write_all(fd, data, 0)
        except BaseException as exc:  # KeyboardInterrupt too: counted below, then raised
            error = exc
        if error is None:
            if self.failing:
                self._recovered()
            return True
        # Lines that reached the descriptor whole were written; the rest are lost.
        end = whole = 0
        for line in batch:
            end += len(line)
            if end > written:
                break
            whole += 1
        self.fail(error, len(batch) - whole)
        if not isinstance(error, Exception):
            # Ctrl-C (or SystemExit) during the write: the batch's other threads' lines
            # are counted above, and the interrupt goes on to the program.
            raise error
        return False

    def _write_parts(self, line: bytes) -> None:
        """Write *line* through the stream under the lock, with its marker."""
        me = threading.get_ident()
        if self._busy == me:
            # Re-entered on the thread that is writing: a signal handler, or a stream
            # whose write() logs. Writing now would put this line inside the other one.
            if self._draining:
                self._dropped_reentrant()
            else:
                self._deferred.append(line)
            return
        error: Exception | None = None
        with self._lock:
            self._busy = me
            try:
                try:
                    self._put(line)
                except Exception as exc:
                    error = exc
                # Held-back lines go out once; what they log in turn is dropped.
                self._draining = True
                while self._deferred:
                    try:
                        self._put(self._deferred.pop(0))
                    except Exception as exc:
                        self.fail(exc)
            finally:
                self._busy = None
                self._draining = False
        if error is not None:
            raise error

    def _put(self, line: bytes) -> None:
        stream = self.stream
        if self._binary:
            stream.write(line)  # type: ignore[arg-type]  # a binary stream
        else:
            text = line.decode("utf-8", "replace")
            try:
                stream.write(text)
            except UnicodeEncodeError:  # an ascii/latin-1 stream: the same JSON, escaped
                stream.write(render.ascii_only(text))
        flush = getattr(stream, "flush", None)  # write() is all a stream must have
        if flush is not None:
            flush()

    def _write_all(self, fd: int, data: bytes, written: int) -> tuple[int, BaseException | None]:
        """Write the rest of *data* (*written* bytes are out): bytes of it out, and why not all.

        Called with the role held: a short write (pipe buffer full, a signal) is
        finished before any other tracelog writer in this process gets a turn.
        """
        lead = 0
        if self._torn and not written:
            # The last line was cut short (a full non-blocking pipe): end it, so that
            # this line starts on a line of its own instead of being glued to it.
            if self._atomic is not None and len(data) >= self._atomic:
                # One more byte would pass what one write keeps whole on a pipe: the
                # "\n" goes out first, on its own.
                self._torn = False
                ended, failed = self._write_all(fd, b"\n", 0)
                if failed is not None:
                    self._torn = not ended
                    return 0, failed
            else:
                data = b"\n" + data
                lead = 1
        view = memoryview(data)
        deadline = None
        error: BaseException | None = None
        while written < len(data):
            try:
                written += os.write(fd, view[written:])
            except BlockingIOError as exc:
                # A non-blocking descriptor that is full: wait (bounded) for room.
                now = time.monotonic()
                if deadline is None:
                    deadline = now + (0.0 if self.failing else WAIT_WRITABLE)
                if now >= deadline or not _wait_writable(fd, deadline - now):
                    error = exc
                    break
            except BaseException as exc:  # KeyboardInterrupt: the caller counts, re-raises
                error = exc
                break
        if written:
            # Torn when the write stopped inside a line: the next one starts with "\n".
            self._torn = data[written - 1] != 0x0A
        return max(written - lead, 0), error

    def _dropped_reentrant(self) -> None:
        self.reentrant_dropped += 1
        if self.reentrant_dropped == 1:
            _diagnose(
                f"a log call made while writing to {self.name} (from the stream's own "
                "write() or a signal handler) was dropped to stop a feedback loop; "
                "counting such lines"
            )

    def fail(self, exc: BaseException, lines: int = 1) -> None:
        """Account for *lines* lines that could not be written (one diagnostic a run)."""
        with self._lock:
            self.failed += lines
            self.lost += lines
            first = not self.failing
            self.failing = True
        if first:
            _diagnose(
                f"cannot write log lines to {self.name} ({type(exc).__name__}: {exc}); "
                "counting lost lines until it recovers"
            )

    def _recovered(self) -> None:
        with self._lock:
            if not self.failing:
                return
            lost, self.failed, self.failing = self.failed, 0, False
        _diagnose(f"log output to {self.name} recovered; {lost} line(s) were lost")

    def flush(self) -> None:
        """Write pending lines, or flush a stream the sink writes through; never raises.

        Bounded: if another thread has been stuck writing for a second (queue mode's
        listener on a sink that blocks, a pipe nobody reads), the flush is skipped
        rather than waiting for it forever at exit.
        """
        if self._fd is not None:
            self._write_pending()
            return
        if not self._acquire_bounded():
            return
        try:
            flush = getattr(self.stream, "flush", None)
            if flush is not None:
                flush()
        except Exception as exc:
            self.fail(exc)
        finally:
            self._lock.release()

    def _write_pending_now(self) -> None:
        """Write the lines pending at this moment (not those added meanwhile); bounded."""
        count = len(self._pending)
        if not count or not self._role.acquire(True, 0 if self._stuck else 1.0):  # noqa: FBT003
            return
        try:
            if not self._writing:
                self._drain(count)
        finally:
            self._role.release()

    def _write_pending(self) -> None:
        # One second the first time; once a writer was found stuck, no more waiting.
        if self._pending:
            self._hand_over(0 if self._stuck else 1.0)

    def _acquire_bounded(self) -> bool:
        # One second the first time; once a writer was found stuck, no more waiting.
        if self._lock.acquire(timeout=0 if self._stuck else 1.0):
            self._stuck = False
            return True
        self._stuck = True
        return False

    def close(self) -> None:
        """Report lines still unwritten at shutdown."""
        # Bounded: a thread stuck in the stream's write() (queue mode's listener on a
        # sink that blocks forever) holds the lock, and exit must not wait for it.
        # A fresh bounded wait, whatever an earlier flush found: a writer that was slow
        # then may be healthy now.
        if self._pending:
            self._hand_over(1.0)
        # Lines still pending behind a write that is stuck now are counted lost (without
        # a stuck writer, the thread writing takes them before it lets go).
        stranded = len(self._pending) if self._stuck else 0
        locked = self._acquire_bounded()
        try:
            self.lost += stranded
            lost, self.failed, self.failing = self.failed + stranded, 0, False
        finally:
            if locked:
                self._lock.release()
        if lost:
            _diagnose(f"{lost} log line(s) to {self.name} were lost before shutdown")
        if self.reentrant_dropped:
            _diagnose(
                f"{self.reentrant_dropped} log line(s) logged from inside the write to "
                f"{self.name} were dropped"
            )


def _register_for_exit(sink: LineSink) -> None:
    """Have interpreter exit write *sink*'s pending lines (one hook, on first use)."""
    _sinks.add(sink)
    if not _exit_hook:
        with _exit_lock:
            if not _exit_hook:
                _exit_hook.append(True)
                atexit.register(_write_pending_at_exit)


def _write_pending_at_exit() -> None:
    # A daemon thread that was writing stops for good once exit begins: write what it
    # had taken on (it lets go of the role as soon as its current write returns). Only
    # the lines pending now: daemon threads still logging would keep the drain, and
    # the exit, going for as long as they run.
    for sink in list(_sinks):
        sink._write_pending_now()


def _wait_writable(fd: int, timeout: float) -> bool:
    """Wait up to *timeout* seconds for *fd* to take more bytes."""
    poll = getattr(select, "poll", None)
    if poll is None:  # pragma: no cover - Windows
        return bool(select.select([], [fd], [], timeout)[1])
    poller = poll()
    poller.register(fd, select.POLLOUT)
    return bool(poller.poll(max(1, int(timeout * 1000))))
