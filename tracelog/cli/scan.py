"""Finding one trace's lines in files and pipes, fast and in constant memory.

Input is read with ``readinto`` into one reused buffer (``mmap`` would grow RSS with the
file). Each chunk's complete lines are searched as raw bytes for the id's spellings
(:meth:`TraceQuery.needles`), with the C library's ``memmem`` where there is one (glibc's
skips on pairs of bytes, which on hex-dense logs is about twice as fast as ``bytes.find``);
only lines holding one are parsed as JSON, and a line
matches only when a layout from :func:`tracelog.schemas.all_readers` reads that trace id
from it. Nothing is matched on free text.

Only candidate lines are parsed, so only they can be found malformed: a line that holds
the id's bytes but is no JSON object is skipped and counted (``malformed``, or
``binary`` when it holds a NUL byte or invalid UTF-8). A line longer than
:data:`MAX_LINE` is skipped and counted as ``overlong`` without being searched.

A large plain file may be split between processes (:func:`scan_file`): each scans its
own part, and the parent prints the parts' lines in file order.
"""

from __future__ import annotations

import contextlib
import functools
import io
import itertools
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, Protocol

from tracelog.schemas import Schema, all_readers

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tracelog.cli.ids import TraceQuery

__all__ = [
    "BUFFER_SIZE",
    "MAX_LINE",
    "SPLIT_MIN",
    "Input",
    "InputError",
    "Matcher",
    "StopScan",
    "Tally",
    "counts_line",
    "open_input",
    "scan",
    "scan_file",
    "split_points",
]

BUFFER_SIZE = 1 << 18  # fits in L2 with room to spare: the copy in and the searches stay in cache
MAX_LINE = 8 << 20
SPLIT_MIN = 128 << 20  # below this a second process saves about what it costs to start
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_CHUNK = 1 << 16
_ALIGN_CHUNK = 1 << 16
_PIPE_BUFFER = 1 << 16


class InputError(Exception):
    """An input that cannot be read to its end (missing, unreadable, corrupt, truncated)."""


class StopScan(Exception):  # noqa: N818 - a signal, not an error
    """Raised by an ``emit`` callback to stop reading the current input."""


@dataclass(slots=True)
class Tally:
    """What one scan found and skipped."""

    matched: int = 0
    malformed: int = 0
    binary: int = 0
    overlong: int = 0

    def add(self, other: Tally) -> None:
        """Add *other*'s counts to this one."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def skipped(self) -> int:
        """Lines skipped as not JSON, binary or too long."""
        return self.malformed + self.binary + self.overlong


class Matcher:
    """Whether a parsed line belongs to the trace (and span), through the layouts' readers.

    Args:
        query: the trace.
        span_id: 16 hex digits to narrow the match to one span, or None.
    """

    __slots__ = ("needles", "query", "readers", "span_id")

    def __init__(
        self, query: TraceQuery, span_id: str | None = None, *, ignore_case: bool = False
    ) -> None:
        self.query = query
        self.span_id = span_id
        self.readers = all_readers()
        self.needles = query.needles(ignore_case=ignore_case)

    def match(self, line: dict[str, Any]) -> Schema | None:
        """The layout that reads this trace (and span) from *line*, or None."""
        for schema in self.readers:
            trace_id = schema.read_trace_id(line)
            if trace_id is None or not self.query.matches(trace_id):
                continue
            if self.span_id is not None and schema.read_span_id(line) != self.span_id:
                continue
            return schema
        return None


class _ReadInto(Protocol):
    def __call__(self, view: memoryview, /) -> int: ...


def _classify(line: bytes, tally: Tally) -> None:
    if b"\0" in line:
        tally.binary += 1
        return
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        tally.binary += 1
        return
    tally.malformed += 1


_Find = Callable[[bytes, int, int], int]


@functools.cache
def _memmem() -> Callable[[int, int, bytes, int], int | None] | None:
    """The C library's ``memmem``, or None where it has none (Windows) or ctypes is missing."""
    try:
        import ctypes  # noqa: PLC0415 - only the scanner needs it, and only once

        memmem = ctypes.CDLL(None).memmem  # the C library the interpreter is linked with
    except Exception:  # pragma: no cover - not glibc/musl/macOS
        return None
    memmem.restype = ctypes.c_void_p
    memmem.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t)
    return memmem


def _finder(buf: bytearray) -> _Find:
    """``buf.find(needle, start, end)``, through ``memmem`` where there is one.

    The address is taken once: the caller holds a memoryview of *buf* (so nothing can
    resize it) for as long as it uses the result, and takes a new one after resizing.
    """
    memmem = _memmem()
    if memmem is None or not buf:  # pragma: no cover - not glibc/musl/macOS
        return buf.find
    import ctypes  # noqa: PLC0415 - loaded by _memmem already

    base = ctypes.addressof(ctypes.c_char.from_buffer(buf))

    def find(needle: bytes, start: int, end: int) -> int:
        if end - start < len(needle):
            return -1
        hit = memmem(base + start, end - start, needle, len(needle))
        return -1 if hit is None else hit - base

    return find


def _candidates(
    buf: bytearray, start: int, end: int, needles: tuple[bytes, ...], search: _Find
) -> Iterator[tuple[int, int]]:
    """(start, end) of each line in buf[start:end] holding a needle, in order."""
    find = buf.find  # newlines: memchr, as fast as it gets
    rfind = buf.rfind
    found: dict[int, int] | None = None
    for needle in needles:
        pos = search(needle, start, end)
        while pos != -1:
            line_start = rfind(b"\n", start, pos) + 1 or start
            line_end = find(b"\n", pos, end)
            if line_end == -1:
                line_end = end  # the last line of an input without a final newline
            if found is None:
                found = {}
            found[line_start] = line_end
            pos = search(needle, line_end, end)
    if found is not None:
        yield from sorted(found.items())  # several needles find lines out of order


_Handle = Callable[[memoryview, int, int], None]


@functools.cache
def _decoder() -> Callable[[bytes], Any]:
    """``render.loads``, imported at the first candidate line: the JSON decoder's import
    (orjson's) is a good part of a short run, and an input with no candidate never pays it.
    """
    from tracelog._render import loads  # noqa: PLC0415

    return loads


def _scan_lines(
    readinto: _ReadInto, needles: tuple[bytes, ...], handle: _Handle, tally: Tally
) -> None:
    """Read an input to its end; call ``handle(view, start, end)`` for each candidate line.

    A candidate holds a needle; ``view[start:end]`` is the line without its newline, valid
    only during the call. *handle* may raise :class:`StopScan`. Lines longer than
    :data:`MAX_LINE` are counted in ``tally.overlong``, unsearched.

    Raises:
        InputError: when reading fails, after the lines read before were handled.
    """
    buf = bytearray(BUFFER_SIZE)
    view = memoryview(buf)
    search = _finder(buf)
    keep = 0  # bytes of an unfinished line at the front of buf
    skipping = False  # inside a line longer than MAX_LINE
    try:
        while True:
            if keep == len(buf):
                if len(buf) < MAX_LINE:
                    view.release()
                    buf.extend(bytes(len(buf)))
                    view = memoryview(buf)
                    search = _finder(buf)
                else:
                    tally.overlong += 1
                    skipping = True
                    keep = 0
            try:
                n = readinto(view[keep:])
            except OSError as exc:  # not around handle: a closed stdout is no read error
                raise _read_error(exc) from None
            total = keep + n
            if not n:
                end = total
                start = 0
                if skipping or not total:
                    break
            else:
                last = buf.rfind(b"\n", keep, total)
                if last == -1:
                    keep = 0 if skipping else total
                    continue
                start = 0
                if skipping:
                    start = buf.find(b"\n", keep, total) + 1
                    skipping = False
                end = last + 1
            for line_start, line_end in _candidates(buf, start, end, needles, search):
                handle(view, line_start, line_end)
            if not n:
                break
            keep = total - end
            if keep:
                buf[:keep] = bytes(view[end:total])
    finally:
        view.release()


def scan(
    readinto: _ReadInto,
    matcher: Matcher,
    emit: Callable[[memoryview, dict[str, Any], Schema], None],
    tally: Tally,
) -> bool:
    """Read an input to its end and call *emit* for each matching line.

    *emit* gets the line without its newline (a view valid only during the call), the
    parsed object and the layout that matched. It may raise :class:`StopScan` to stop
    reading; then the result is True.

    Raises:
        InputError: when reading fails, after the lines read before were handled.
    """
    match = matcher.match

    def handle(view: memoryview, line_start: int, line_end: int) -> None:
        line = bytes(view[line_start:line_end])
        try:
            obj = _decoder()(line)
        except ValueError:
            _classify(line, tally)
            return
        if type(obj) is not dict:
            tally.malformed += 1
            return
        schema = match(obj)
        if schema is not None:
            tally.matched += 1
            emit(view[line_start:line_end], obj, schema)

    try:
        _scan_lines(readinto, matcher.needles, handle, tally)
    except StopScan:
        return True
    return False


class _Gunzip:
    """``readinto`` over gzip data (several members too), never losing what was read.

    ``gzip.GzipFile`` behind a buffered reader drops the last decoded bytes when the data
    ends early; this reader hands out everything it decoded, then raises.
    """

    __slots__ = ("_decoder", "_pending", "_pos", "_read")

    def __init__(self, read: Callable[[int], bytes]) -> None:
        import zlib  # noqa: PLC0415 - a plain file's run never needs it

        self._read = read
        self._decoder = zlib.decompressobj(wbits=31)
        self._pending = b""
        self._pos = 0

    def readinto(self, view: memoryview) -> int:
        import zlib  # noqa: PLC0415 - loaded by __init__

        while self._pos >= len(self._pending):
            decoder = self._decoder
            if decoder.eof:  # before unconsumed_tail, which still holds bytes past the end
                # A new member may follow; gzip(1) pads with zeros, which it skips too.
                data = decoder.unused_data.lstrip(b"\0") or self._read(_GZIP_CHUNK).lstrip(b"\0")
                if not data:
                    return 0
                decoder = self._decoder = zlib.decompressobj(wbits=31)
            elif decoder.unconsumed_tail:
                data = decoder.unconsumed_tail
            else:
                data = self._read(_GZIP_CHUNK)
                if not data:
                    raise InputError("unexpected end of gzip data (truncated file?)")
            try:
                self._pending = decoder.decompress(data, len(view))
            except zlib.error as exc:
                raise InputError(f"invalid gzip data ({exc})") from None
            self._pos = 0
        n = min(len(view), len(self._pending) - self._pos)
        view[:n] = self._pending[self._pos : self._pos + n]
        self._pos += n
        return n


class Input:
    """An open input: where to read from, what to call it, and whether to split it.

    A plain class: each dataclass costs about a millisecond of every start.
    """

    __slots__ = ("close", "name", "raw", "readinto", "size")

    def __init__(
        self,
        name: str,
        readinto: _ReadInto,
        close: Callable[[], None],
        raw: io.FileIO | None = None,
        size: int = 0,
    ) -> None:
        self.name = name
        self.readinto = readinto
        self.close = close
        self.raw = raw  # set for a plain regular file, which may be split
        self.size = size


def _stream_reader(read1: Callable[[int], bytes]) -> _ReadInto:
    # Not BufferedReader.readinto1: with a view larger than its buffer it hands out the
    # peeked bytes and then blocks for more, which stalls a live pipe (tail -f | ...).
    def readinto(view: memoryview, /) -> int:
        data = read1(len(view))
        view[: len(data)] = data
        return len(data)

    return readinto


def _stdin() -> io.BufferedReader:
    if sys.stdin is None:
        raise InputError("standard input is closed")
    return sys.stdin.buffer  # type: ignore[return-value]  # a BufferedReader unless replaced


def open_input(name: str) -> Input:
    """Open a file name (``-`` is stdin); gzip is detected by its magic bytes.

    Raises:
        InputError: for a file that cannot be opened, with the system's reason.
    """
    if name == "-":
        stdin = _stdin()
        label = "(standard input)"
        if stdin.peek(2)[:2] == _GZIP_MAGIC:
            return Input(label, _Gunzip(stdin.read1).readinto, lambda: None)
        return Input(label, _stream_reader(stdin.read1), lambda: None)
    try:
        raw = open(name, "rb", buffering=0)  # noqa: PTH123, SIM115 - closed by Input.close
    except OSError as exc:
        raise InputError(exc.strerror or str(exc)) from None
    try:
        st = os.fstat(raw.fileno())
        if raw.seekable():
            head = raw.read(2)
            raw.seek(0)
            if head == _GZIP_MAGIC:
                return Input(name, _Gunzip(raw.read).readinto, raw.close)
            regular = stat.S_ISREG(st.st_mode)
            return Input(name, raw.readinto, raw.close, raw if regular else None, st.st_size)
        buffered = io.BufferedReader(raw, _GZIP_CHUNK)
        if buffered.peek(2)[:2] == _GZIP_MAGIC:
            return Input(name, _Gunzip(buffered.read1).readinto, buffered.close)
        return Input(name, _stream_reader(buffered.read1), buffered.close)
    except OSError as exc:
        raw.close()
        raise InputError(exc.strerror or str(exc)) from None


def _read_error(exc: OSError) -> InputError:
    return InputError(f"read error ({exc.strerror or exc})")


def _limited(raw: io.FileIO, remaining: int) -> _ReadInto:
    def readinto(view: memoryview, /) -> int:
        nonlocal remaining
        if remaining <= 0:
            return 0
        n = raw.readinto(view[:remaining] if len(view) > remaining else view) or 0
        remaining -= n
        return n

    return readinto


def split_points(path: str, size: int, parts: int) -> list[int]:
    """Offsets of line starts that cut *path* into up to *parts* pieces (0 and size included)."""
    points = [0]
    with open(path, "rb", buffering=0) as raw:  # noqa: PTH123
        for i in range(1, parts):
            offset = max(size * i // parts, points[-1])
            raw.seek(offset)
            while True:
                chunk = raw.read(_ALIGN_CHUNK)
                if not chunk:
                    offset = size
                    break
                nl = chunk.find(b"\n")
                if nl != -1:
                    offset += nl + 1
                    break
                offset += len(chunk)
            if offset >= size:
                break
            if offset > points[-1]:
                points.append(offset)
    points.append(size)
    return points


class _Worker:
    __slots__ = ("data", "pid", "stats")

    def __init__(self, pid: int, data: int, stats: int) -> None:
        self.pid = pid
        self.data = data
        self.stats = stats


def _fork_worker(path: str, start: int, stop: int | None, matcher: Matcher) -> _Worker:
    data_r, data_w = os.pipe()
    stats_r, stats_w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(data_w)
        os.close(stats_w)
        return _Worker(pid, data_r, stats_r)
    # The child: send its part's candidate lines, then its count of overlong lines and any
    # read error; never return. It parses nothing, so it needs no JSON decoder: the
    # parent imports that (at its first candidate) while the children search.
    status = 0
    try:
        os.close(data_r)
        os.close(stats_r)
        tally = Tally()
        error = ""
        with open(data_w, "wb", buffering=_PIPE_BUFFER) as out:  # noqa: PTH123
            write = out.write

            def handle(view: memoryview, line_start: int, line_end: int) -> None:
                write(view[line_start:line_end])
                write(b"\n")

            try:
                with open(path, "rb", buffering=0) as raw:  # noqa: PTH123
                    raw.seek(start)
                    limit = _limited(raw, stop - start) if stop is not None else raw.readinto
                    _scan_lines(limit, matcher.needles, handle, tally)
            except InputError as exc:  # pragma: no cover - a disk error inside the file
                error = str(exc)
        os.write(stats_w, f"{tally.overlong}\n{error}".encode())
    except BaseException:  # pragma: no cover - the parent reports a missing count as an error
        status = 2
    os._exit(status)


def _collect(
    worker: _Worker,
    matcher: Matcher,
    emit: Callable[[memoryview, dict[str, Any], Schema], None],
    tally: Tally,
) -> tuple[bool, str | None]:
    """Feed a worker's candidate lines through *emit*, in order: (stopped early, its error)."""
    with open(worker.data, "rb", buffering=0, closefd=False) as data:
        # Parsed and counted here, in file order, as if this process had read them.
        stopped = scan(data.readinto, matcher, emit, tally)
    if stopped:
        return True, None
    with open(worker.stats, "rb", closefd=False) as stats:
        count, _, error = stats.read().decode("utf-8", "replace").partition("\n")
    if not count.isdigit():  # pragma: no cover - the worker died
        return False, "a worker process failed"
    tally.overlong += int(count)
    return False, error or None


def _reap(workers: list[_Worker], *, kill: bool) -> None:
    for worker in workers:
        if kill:
            import signal  # noqa: PLC0415 - only to stop workers early

            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGTERM)
        os.close(worker.data)
        os.close(worker.stats)
        os.waitpid(worker.pid, 0)


def scan_file(
    source: Input,
    matcher: Matcher,
    emit: Callable[[memoryview, dict[str, Any], Schema], None],
    tally: Tally,
    jobs: int,
    split_min: int = SPLIT_MIN,
) -> bool:
    """Scan one input, split between *jobs* processes when it is a plain file of at least
    *split_min* bytes.

    Returns True when *emit* stopped the scan.

    Raises:
        InputError: when the input cannot be read to its end (after emitting what was).
    """
    raw = source.raw
    points: list[int] = []
    if raw is not None and jobs > 1 and source.size >= split_min and hasattr(os, "fork"):
        try:
            points = split_points(str(raw.name), source.size, jobs)
        except OSError as exc:  # pragma: no cover - it was just opened and stat'ed
            raise _read_error(exc) from None
    if raw is None or len(points) <= 2:
        return scan(source.readinto, matcher, emit, tally)
    sys.stdout.flush()  # a forked child must not inherit unwritten output
    last = len(points) - 2
    workers = [
        _fork_worker(str(raw.name), a, b if i < last else None, matcher)
        for i, (a, b) in enumerate(itertools.pairwise(points[1:]), start=1)
    ]
    done = 0
    try:
        stopped = scan(_limited(raw, points[1]), matcher, emit, tally)
        error = None
        for worker in workers:
            if stopped:
                break
            stopped, failure = _collect(worker, matcher, emit, tally)
            if stopped:
                break
            error = error or failure
            _reap([worker], kill=False)
            done += 1
    finally:
        _reap(workers[done:], kill=True)
    if error is not None:
        raise InputError(error)
    return stopped


def counts_line(tally: Tally) -> str:
    """The skipped lines as words: ``2 malformed, 1 binary``."""
    parts = [
        f"{count} {label}"
        for count, label in (
            (tally.malformed, "malformed (not JSON)"),
            (tally.binary, "binary"),
            (tally.overlong, f"too long (over {MAX_LINE >> 20} MiB)"),
        )
        if count
    ]
    return ", ".join(parts)
