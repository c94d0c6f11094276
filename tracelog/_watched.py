"""``configure(stream=PATH)``: append to a file, and reopen it after log rotation.

Like :class:`logging.handlers.WatchedFileHandler`: before each line the path is
``stat``-ed, and when it names another file than the one open (logrotate moved it and a
new one was created) or is missing (it was removed), the path is opened afresh, created
if need be. ``copytruncate`` needs nothing: the
file is open for appending, so the next line lands at the truncated file's end.
"""

from __future__ import annotations

import os
from typing import IO, Any

from tracelog._sink import LineSink

__all__ = ["WatchedLineSink", "is_path", "open_log_file"]


def is_path(stream: object) -> bool:
    """Whether a ``stream`` setting names a file: a path object, or text with ``/`` or ``.``.

    A bare word is no path, so a typo of ``stderr`` fails instead of creating a file.
    """
    if isinstance(stream, os.PathLike):
        return True
    return isinstance(stream, str) and ("/" in stream or os.sep in stream or "." in stream)


def open_log_file(path: str | os.PathLike[str]) -> IO[bytes]:
    """Open *path* for appending (created if missing).

    Raises:
        ValueError: when it cannot be opened, with the reason.
    """
    try:
        return open(path, "ab")  # noqa: PTH123 - owned by the sink
    except OSError as exc:
        raise ValueError(f"cannot open log file {os.fspath(path)!r}: {exc.strerror}") from exc


class WatchedLineSink(LineSink):
    """A :class:`~tracelog._sink.LineSink` on a file path that follows log rotation.

    Args:
        path: the log file's path.
        stream: the file already opened on it by :func:`open_log_file`.
    """

    __slots__ = ("_ident", "_retired", "path")

    def __init__(self, path: str | os.PathLike[str], stream: IO[bytes]) -> None:
        super().__init__(stream)
        self.path = os.fspath(path)
        self.name = self.path
        self._ident = self._identity(stream)
        # The file replaced at the last rotation: closed at the next one, so a thread
        # still writing to its descriptor never writes into a file opened in its place.
        self._retired: IO[Any] | None = None

    @staticmethod
    def _identity(stream: IO[Any]) -> tuple[int, int]:
        info = os.fstat(stream.fileno())
        return info.st_dev, info.st_ino

    def _rotated(self) -> bool:
        try:
            info = os.stat(self.path)  # noqa: PTH116 - compared with os.fstat
        except FileNotFoundError:
            return True  # moved or removed: a new file is made at the path
        except OSError:
            return False  # unreadable for another reason: keep the open file
        return (info.st_dev, info.st_ino) != self._ident

    def reopen(self) -> None:
        """Open the path afresh if the file there is no longer the one being written."""
        with self._lock:
            if not self._rotated():
                return
            try:
                fresh = open(self.path, "ab")  # noqa: SIM115, PTH123 - owned by the sink
            except OSError as exc:
                self.fail(exc)  # counted; lines go on to the old file
                return
            if self._retired is not None:
                self._retired.close()
            self._retired = self.stream
            self.stream = fresh
            self._fd = fresh.fileno()
            self._atomic = self._atomic_size(self._fd)
            self._ident = self._identity(fresh)

    def write(self, line: bytes) -> bool:
        """Reopen after a rotation, then write the line as :class:`LineSink` does."""
        try:
            if self._rotated():
                self.reopen()
        except Exception as exc:  # a stat that fails oddly must not lose the line
            self.fail(exc)
        return super().write(line)

    def close(self) -> None:
        """Report lost lines, then close the file(s)."""
        super().close()
        with self._lock:
            for stream in (self._retired, self.stream):
                if stream is not None:
                    stream.close()
            self._retired = None
