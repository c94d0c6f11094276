"""Where lines go: one write per line, and failures reported once, not per line.

A line is written with a single ``os.write`` when the stream is a plain file, pipe or
terminal whose text encoding is UTF-8 (an ``open()`` file, ``sys.stderr``), so
concurrent threads and processes appending to one file never interleave inside a line,
and no lock is held across a flush. Any other stream (``StringIO``, pytest's capture,
``gzip.open(p, "wt")``, a UTF-16 file, a socket's ``makefile()``) gets one ``write`` +
``flush`` under a lock, through the stream object, so it encodes and compresses the text
itself.

When writing starts to fail (closed stream, broken pipe, full disk), the sink prints
one diagnostic to the process's original stderr, counts the lines it could not write,
and prints the count when output recovers or at shutdown. It never raises into the
caller.

A line that needs more than one write (longer than ``PIPE_BUF`` on a pipe, a short
write, a full non-blocking pipe) is written under the lock with a marker saying which
thread is writing. A log call made on that thread meanwhile (a signal handler, or a
stream whose ``write()`` logs) is held back and written once the line is complete; one
made while those held-back lines are written is dropped and counted
(:attr:`LineSink.reentrant_dropped`), so logging from inside the sink cannot feed back.
"""

from __future__ import annotations

import codecs
import io
import os
import select
import stat
import sys
import threading
import time
from typing import IO, Any

from tracelog import _fork
from tracelog import _render as render

__all__ = ["WAIT_WRITABLE", "LineSink"]

# How long a line waits for a full non-blocking descriptor to take it (once; while
# output is failing, later lines do not wait).
WAIT_WRITABLE = 1.0


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
        "_stuck",
        "_torn",
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
        tracelog flushes ``sys.stdout``/``sys.stderr`` before each line, unless they are
        line-buffered (a terminal; stderr by default), which hold at most a partial
        line that flushing would not help. The flush costs about 0.1 us a line; files
        handed to ``configure()`` are taken to be written by tracelog alone and are not
        flushed.
        """
        stdio = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
        if not any(stream is s for s in stdio):
            return None
        if getattr(stream, "line_buffering", False) or isinstance(stream, io.RawIOBase):
            return None
        return stream.flush

    @staticmethod
    def _atomic_size(fd: int | None) -> int | None:
        """Up to how many bytes one unlocked ``os.write`` stays whole (None: any size).

        Writes to a regular file are whole at any size (the kernel serialises them on
        the file position). On a pipe, FIFO or terminal only writes of up to PIPE_BUF
        bytes are: a longer line (a stack trace) takes the lock so that this process's
        threads never interleave inside it.
        """
        if fd is None:
            return None
        try:
            return None if stat.S_ISREG(os.fstat(fd).st_mode) else select.PIPE_BUF
        except OSError:
            return select.PIPE_BUF

    def after_fork(self) -> None:
        """In a forked child: a lock held by a thread that was not copied is replaced."""
        self._lock = threading.RLock()
        self._busy = None
        self._deferred = []
        self._draining = False

    def write(self, line: bytes) -> bool:
        """Write one line; return False (and account for it) if it could not be written."""
        try:
            fd = self._fd
            if fd is not None and not self.stream.closed:
                flush = self._flush
                if flush is not None:
                    flush()
                atomic = self._atomic
                # _busy is tested last, right before the write: the window in which
                # another thread can start a line in parts between this test and the
                # write is the few microseconds os.write needs to reach the kernel.
                small = atomic is None or len(line) <= atomic
                if small and not self._torn and self._busy is None:
                    try:
                        written = os.write(fd, line)
                    except BlockingIOError:
                        written = 0
                    if written != len(line):
                        self._write_parts(line, written)
                else:
                    self._write_parts(line, 0)
            else:
                self._write_parts(line, 0)
        except Exception as exc:
            self.fail(exc)
            return False
        if self.failing:
            self._recovered()
        return True

    def _write_parts(self, line: bytes, written: int) -> None:
        """Write *line* (of which *written* bytes are out) under the lock, with its marker."""
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
                    self._put(line, written)
                except Exception as exc:
                    error = exc
                # Held-back lines go out once; what they log in turn is dropped.
                self._draining = True
                while self._deferred:
                    try:
                        self._put(self._deferred.pop(0), 0)
                    except Exception as exc:
                        self.fail(exc)
            finally:
                self._busy = None
                self._draining = False
        if error is not None:
            raise error

    def _put(self, line: bytes, written: int) -> None:
        fd = self._fd
        if fd is not None and not self.stream.closed:
            self._write_all(fd, line, written)
        else:
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

    def _write_all(self, fd: int, line: bytes, written: int) -> None:
        # Called with the lock held: a short write (pipe buffer full, a signal) is
        # finished before any other tracelog writer in this process gets a turn.
        if self._torn and not written:
            # The last line was cut short (a full non-blocking pipe): end it, so that
            # this line starts on a line of its own instead of being glued to it.
            line = b"\n" + line
        view = memoryview(line)
        deadline = None
        while written < len(line):
            try:
                written += os.write(fd, view[written:])
            except BlockingIOError:
                # A non-blocking descriptor that is full: wait (bounded) for room.
                now = time.monotonic()
                if deadline is None:
                    deadline = now + (0.0 if self.failing else WAIT_WRITABLE)
                if now >= deadline or not _wait_writable(fd, deadline - now):
                    self._torn = self._torn or written > 0
                    raise
                continue
        self._torn = False

    def _dropped_reentrant(self) -> None:
        self.reentrant_dropped += 1
        if self.reentrant_dropped == 1:
            _diagnose(
                f"a log call made while writing to {self.name} (from the stream's own "
                "write() or a signal handler) was dropped to stop a feedback loop; "
                "counting such lines"
            )

    def fail(self, exc: BaseException) -> None:
        """Account for one line that could not be written."""
        with self._lock:
            self.failed += 1
            self.lost += 1
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
        """Flush a stream the sink writes through (a descriptor needs none); never raises.

        Bounded: if another thread has been stuck in this stream's ``write()`` for a
        second (queue mode's listener on a sink that blocks), the flush is skipped
        rather than waiting for it forever at exit.
        """
        if self._fd is not None or not self._acquire_bounded():
            return
        try:
            flush = getattr(self.stream, "flush", None)
            if flush is not None:
                flush()
        except Exception as exc:
            self.fail(exc)
        finally:
            self._lock.release()

    def _acquire_bounded(self) -> bool:
        # One second the first time; once a writer was found stuck, no more waiting.
        if self._lock.acquire(timeout=0 if self._stuck else 1.0):
            return True
        self._stuck = True
        return False

    def close(self) -> None:
        """Report lines still unwritten at shutdown."""
        # Bounded: a thread stuck in the stream's write() (queue mode's listener on a
        # sink that blocks forever) holds the lock, and exit must not wait for it.
        locked = self._acquire_bounded()
        try:
            lost, self.failed, self.failing = self.failed, 0, False
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


def _wait_writable(fd: int, timeout: float) -> bool:
    """Wait up to *timeout* seconds for *fd* to take more bytes."""
    poll = getattr(select, "poll", None)
    if poll is None:  # pragma: no cover - Windows
        return bool(select.select([], [fd], [], timeout)[1])
    poller = poll()
    poller.register(fd, select.POLLOUT)
    return bool(poller.poll(max(1, int(timeout * 1000))))
