"""``tracelog pretty``: JSON log lines of any layout as readable console lines.

The same text ``configure(schema="console")`` writes (:func:`tracelog.console.format_line`).
A line that is not a JSON object is printed as it is (escaped for the terminal); nothing
in the input stops the run. ``--follow`` keeps reading files as they grow, like
``tail -f``, and reopens a file that was rotated (moved or truncated).
"""

from __future__ import annotations

import gzip
import os
import sys
import time
from typing import IO, TYPE_CHECKING

import orjson

from tracelog._term import Colors, escape, use_color
from tracelog.console import color_for, format_line

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

__all__ = ["pretty_bytes", "run"]

_POLL = 0.2  # seconds between looks at a followed file that has not grown


def pretty_bytes(raw: bytes, colors: Colors) -> str:
    """One input line (without its newline) as the text to print; never raises."""
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        try:
            return format_line(parsed, colors)
        except Exception:  # pragma: no cover - format_line reads defensively
            pass
    return escape(raw.decode("utf-8", "replace"))


def _open(name: str) -> IO[bytes]:
    if name == "-":
        return sys.stdin.buffer
    handle = open(name, "rb")  # noqa: SIM115, PTH123 - closed by the caller
    if handle.peek(2)[:2] == b"\x1f\x8b":
        handle.close()
        return gzip.open(name, "rb")  # type: ignore[return-value]
    return handle


def _lines(handle: IO[bytes]) -> Iterator[bytes]:
    for raw in handle:
        yield raw.rstrip(b"\r\n")


class _Followed:
    """A file read as it grows; reopened when it is replaced or truncated."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.handle: IO[bytes] | None = None
        self.partial = b""
        self._reopen()

    def _reopen(self) -> None:
        if self.handle is not None:
            self.handle.close()
        try:
            self.handle = open(self.name, "rb")  # noqa: SIM115, PTH123 - kept while followed
        except OSError:
            self.handle = None
        self.partial = b""

    def _rotated(self) -> bool:
        if self.handle is None:
            return True
        try:
            now = os.stat(self.name)  # noqa: PTH116 - compared with os.fstat
        except OSError:
            return False  # moved away and not yet recreated: keep reading the old file
        mine = os.fstat(self.handle.fileno())
        return (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino) or (
            now.st_size < self.handle.tell()
        )

    def read(self) -> list[bytes]:
        """The complete lines written since the last call (a partial one waits)."""
        out: list[bytes] = []
        for _ in range(2):
            if self.handle is not None:
                data = self.partial + self.handle.read()
                *complete, self.partial = data.split(b"\n")
                out.extend(line.rstrip(b"\r") for line in complete)
            if not self._rotated():
                break
            self._reopen()
        return out


def run(args: argparse.Namespace) -> int:
    """Run ``tracelog pretty`` over ``args.files``; return the exit status."""
    if args.color == "auto":
        colors = Colors(color_for(sys.stdout))
    else:
        colors = Colors(use_color(args.color, sys.stdout))
    out = sys.stdout
    names = args.files or ["-"]
    status = 0
    followed: list[_Followed] = []
    for name in names:
        if args.follow and name != "-":
            followed.append(_Followed(name))
            continue
        try:
            handle = _open(name)
        except OSError as exc:
            sys.stderr.write(f"tracelog pretty: {escape(name)}: {escape(exc.strerror or '')}\n")
            status = 2
            continue
        try:
            for raw in _lines(handle):
                out.write(pretty_bytes(raw, colors) + "\n")
            out.flush()
        except (OSError, EOFError) as exc:  # a truncated gzip: what was read is printed
            sys.stderr.write(f"tracelog pretty: {escape(name)}: {escape(str(exc))}\n")
            status = 2
        finally:
            if handle is not sys.stdin.buffer:
                handle.close()
    while followed:
        grew = False
        for item in followed:
            for raw in item.read():
                grew = True
                out.write(pretty_bytes(raw, colors) + "\n")
        out.flush()
        if not grew:
            time.sleep(_POLL)
    return status
