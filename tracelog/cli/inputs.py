"""The input loop both commands share: names to files, scanning, and what goes to stderr."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from tracelog.cli.scan import (
    SPLIT_MIN,
    InputError,
    Matcher,
    Tally,
    counts_line,
    open_input,
    scan_file,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tracelog.schemas import Schema

__all__ = ["Session", "default_jobs"]


def default_jobs() -> int:
    """Processes a large file may be split between: the idle CPUs, at most 4.

    Idle is the usable CPUs less the whole runnable tasks of the 1-minute load average
    (as ``make -l`` reads it): a second process pays only on a CPU nobody else is using,
    and on a busy machine the split's start-up and hand-over are pure cost.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    try:
        busy = int(os.getloadavg()[0])
    except (AttributeError, OSError):  # pragma: no cover - no load average (Windows)
        busy = 0
    return max(1, min(cpus - busy, 4))


class Session:
    """One run over the inputs: reports problems once each and decides the exit status.

    Args:
        matcher: what to look for.
        quiet: ``-s``: no messages about unreadable files or skipped lines.
        strict: ``--strict``: skipped lines make the exit status 2.
        jobs: processes a large plain file may be split between.
    """

    def __init__(
        self, matcher: Matcher, *, quiet: bool, strict: bool, jobs: int | None = None
    ) -> None:
        self.matcher = matcher
        self.quiet = quiet
        self.strict = strict
        # An explicit --jobs splits a plain file of any size; the default only large ones.
        self.jobs = jobs or default_jobs()
        self.split_min = 0 if jobs else SPLIT_MIN
        self.tally = Tally()
        self.failed = False

    def error(self, text: str) -> None:
        """One line on stderr (unless quiet); the exit status becomes 2."""
        self.failed = True
        if not self.quiet:
            from tracelog._term import escape  # noqa: PLC0415 - not needed on a clean run

            sys.stderr.write(f"tracelog: {escape(text)}\n")

    def inputs(self, names: list[str], *, recursive: bool) -> Iterator[str]:
        """The file names to read, directories expanded under ``-r``; ``-`` is stdin."""
        if not names:
            names = ["."] if recursive else ["-"]
        for name in names:
            if name != "-" and os.path.isdir(name):  # noqa: PTH112
                if not recursive:
                    self.error(f"{name}: is a directory (use -r to search it)")
                    continue
                yield from _walk(name, self)
            else:
                yield name

    def scan(self, name: str, emit: Callable[[memoryview, dict[str, Any], Schema], None]) -> Tally:
        """Scan one input; report it if it cannot be read to its end. Returns its counts."""
        tally = Tally()
        try:
            source = open_input(name)
        except InputError as exc:
            self.error(f"{name}: {exc}")
            return tally
        try:
            scan_file(source, self.matcher, emit, tally, self.jobs, self.split_min)
        except InputError as exc:
            self.error(f"{source.name}: {exc}")
        finally:
            source.close()
            self.tally.add(tally)
        return tally

    def finish(self, *, found: bool) -> int:
        """Report skipped lines and return the exit status: 0 found, 1 not, 2 trouble."""
        tally = self.tally
        if tally.skipped:
            words = counts_line(tally)
            if self.strict:
                self.error(f"{words} line(s) held the id but could not be read (--strict)")
            elif not self.quiet:
                sys.stderr.write(
                    f"tracelog: skipped {words} line(s) that held the id "
                    "(--strict to fail, -s to hide)\n"
                )
        if self.failed:
            return 2
        return 0 if found else 1


def _walk(top: str, session: Session) -> Iterator[str]:
    def on_error(exc: OSError) -> None:  # pragma: no cover - root reads every directory
        session.error(f"{exc.filename}: {exc.strerror}")

    for root, dirs, files in os.walk(top, onerror=on_error):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)  # noqa: PTH118
            if os.path.isfile(path):  # noqa: PTH113 - skip sockets, FIFOs, broken links
                yield path
