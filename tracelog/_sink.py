"""Where lines go: one write per line, and failures reported once, not per line.

A line is written with a single ``os.write`` when the stream has a real file
descriptor, so concurrent threads and processes appending to one file never interleave
inside a line, and no lock is held across a flush. Streams without one (``StringIO``,
pytest's capture) get one ``write`` + ``flush`` under a lock.

When writing starts to fail (closed stream, broken pipe, full disk), the sink prints
one diagnostic to the process's original stderr, counts the lines it could not write,
and prints the count when output recovers or at shutdown. It never raises into the
caller.
"""

from __future__ import annotations

import io
import os
import select
import stat
import sys
import threading
from typing import IO, Any

from tracelog import _fork

__all__ = ["LineSink"]


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
        "_fd",
        "_lock",
        "failed",
        "failing",
        "lost",
        "name",
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
        self._binary = isinstance(stream, io.RawIOBase | io.BufferedIOBase)
        self._fd = self._fileno(stream)
        if self._fd is not None:
            try:
                # Text already buffered in the stream must come before our first line.
                stream.flush()
            except Exception:
                self._fd = None
        self._atomic = self._atomic_size(self._fd)
        _fork.register(self)

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

    @staticmethod
    def _fileno(stream: IO[Any]) -> int | None:
        try:
            fd = stream.fileno()
        except Exception:
            return None
        return fd if isinstance(fd, int) and fd >= 0 else None

    def write(self, line: bytes) -> bool:
        """Write one line; return False (and account for it) if it could not be written."""
        try:
            fd = self._fd
            if fd is not None and not self.stream.closed:
                atomic = self._atomic
                if atomic is not None and len(line) > atomic:
                    with self._lock:
                        self._write_all(fd, line)
                else:
                    written = os.write(fd, line)
                    if written != len(line):
                        with self._lock:
                            self._write_all(fd, line, written)
            elif self._binary:
                with self._lock:
                    self.stream.write(line)  # type: ignore[arg-type]  # a binary stream
                    self.stream.flush()
            else:
                text = line.decode("utf-8", "replace")
                with self._lock:
                    self.stream.write(text)
                    self.stream.flush()
        except Exception as exc:
            self.fail(exc)
            return False
        if self.failing:
            self._recovered()
        return True

    @staticmethod
    def _write_all(fd: int, line: bytes, written: int = 0) -> None:
        # Called with the lock held: a short write (pipe buffer full, a signal) is
        # finished before any other tracelog writer in this process gets a turn.
        view = memoryview(line)
        while written < len(line):
            written += os.write(fd, view[written:])

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

    def close(self) -> None:
        """Report lines still unwritten at shutdown."""
        with self._lock:
            lost, self.failed, self.failing = self.failed, 0, False
        if lost:
            _diagnose(f"{lost} log line(s) to {self.name} were lost before shutdown")
