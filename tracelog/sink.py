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
import sys
import threading
import weakref
from typing import IO, Any

__all__ = ["LineSink"]


def _diagnose(text: str) -> None:
    stream = sys.__stderr__
    try:
        if stream is not None:
            stream.write(f"tracelog: {text}\n")
            stream.flush()
    except Exception:
        pass


_sinks: weakref.WeakSet[LineSink] = weakref.WeakSet()
_fork_hook = threading.Lock()
_fork_hook_installed = False


def _reinit_after_fork() -> None:
    for sink in list(_sinks):
        sink.after_fork()


def _install_fork_hook() -> None:
    # Lazily, on the first sink: importing tracelog registers nothing.
    global _fork_hook_installed  # noqa: PLW0603
    with _fork_hook:
        if _fork_hook_installed:
            return
        _fork_hook_installed = True
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_reinit_after_fork)


class LineSink:
    """Write complete lines (bytes ending in ``\\n``) to a text or binary stream.

    Args:
        stream: any file object with ``write``; None means ``sys.stderr`` at
            construction time.

    Raises:
        TypeError: if *stream* has no ``write`` method.
    """

    __slots__ = ("__weakref__", "_binary", "_fd", "_lock", "failed", "failing", "name", "stream")

    def __init__(self, stream: IO[Any] | None = None) -> None:
        if stream is None:
            stream = sys.stderr
        if not callable(getattr(stream, "write", None)):
            raise TypeError(f"stream must be a writable file object, not {stream!r}")
        self.stream = stream
        self.name = getattr(stream, "name", type(stream).__name__)
        self._lock = threading.Lock()
        self.failed = 0
        self.failing = False
        self._binary = isinstance(stream, io.RawIOBase | io.BufferedIOBase)
        self._fd = self._fileno(stream)
        if self._fd is not None:
            try:
                # Text already buffered in the stream must come before our first line.
                stream.flush()
            except Exception:
                self._fd = None
        _sinks.add(self)
        _install_fork_hook()

    def after_fork(self) -> None:
        """In a forked child: a lock held by a thread that was not copied is replaced."""
        self._lock = threading.Lock()

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
                written = os.write(fd, line)
                if written != len(line):
                    self._write_rest(fd, line, written)
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

    def _write_rest(self, fd: int, line: bytes, written: int) -> None:
        # A short write (pipe buffer full, signal): finish the line under the lock so at
        # least other tracelog writers in this process do not land inside it.
        view = memoryview(line)
        with self._lock:
            while written < len(line):
                written += os.write(fd, view[written:])

    def fail(self, exc: BaseException) -> None:
        """Account for one line that could not be written."""
        with self._lock:
            self.failed += 1
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
