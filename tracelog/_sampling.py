"""Keep the logs that matter: per-trace sampling and a debug buffer that flushes on error.

Sampling is off unless configured. When on, the decision is made per *trace*, never per
line, so a request's lines are kept or dropped together, in every service:

* ``"parent"`` follows the span's sampled flag (W3C flags bit 0);
* a ratio uses the trace id's low 64 bits exactly as OpenTelemetry's
  ``TraceIdRatioBased`` sampler does (``low64 < round(ratio * 2**64)``), so every
  process and every service decides the same, and agrees with a tracer sampling at the
  same ratio. The high bits are not used (X-Ray-style ids put a timestamp there), and
  neither is ``hash()``, which differs per process.

Lines at WARNING and above are always kept. Lines outside any span follow their own
``orphan_rate`` (a per-line coin, since there is no trace to agree on).

The debug buffer keeps lines *below* the output level that are inside a span in a
per-trace ring buffer. When the same trace logs an ERROR (or an exception), the buffer
is written first, each line marked ``"buffered": true`` and carrying its own original
time and ids, then the error. When the trace's local root span has ended without an
error, its buffer is discarded (noticed lazily, on later calls); memory is bounded per
trace (lines and bytes) and across traces (LRU).
"""

from __future__ import annotations

import random
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracelog import _fork
from tracelog._context import TraceContext, is_finished, local_root_span
from tracelog._options import positive_int

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["BUFFER", "DROP", "KEEP", "LogSampler", "SamplingStats", "parse_sample"]

KEEP = 0
DROP = 1
BUFFER = 2

_WARNING = 30
_ERROR = 40
_TRACE_ID_LIMIT = (1 << 64) - 1


def parse_sample(sample: object) -> str | float | None:
    """``None``, ``"parent"`` or a ratio in [0, 1] (a float or its string form).

    Raises:
        ValueError: for any other string or a ratio outside [0, 1].
        TypeError: for another type.
    """
    if sample is None:
        return None
    if isinstance(sample, str):
        text = sample.strip().lower()
        if text in {"", "off", "none"}:
            return None
        if text == "parent":
            return "parent"
        try:
            sample = float(text)
        except ValueError:
            raise ValueError(
                f"sample must be 'parent' or a ratio between 0 and 1, not {sample!r}"
            ) from None
    if isinstance(sample, bool) or not isinstance(sample, int | float):
        raise TypeError(f"sample must be 'parent' or a ratio, not {type(sample).__name__}")
    ratio = float(sample)
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"sample ratio must be between 0 and 1, not {sample!r}")
    return ratio


def check_settings(
    orphan_rate: object, buffer_lines: object, buffer_bytes: object, buffer_traces: object
) -> float:
    """Check the sampler's settings (``configure()`` does, even with sampling off).

    Returns:
        The orphan rate as a float.

    Raises:
        TypeError, ValueError: naming the bad setting.
    """
    rate = parse_sample(orphan_rate)
    if not isinstance(rate, float):
        raise TypeError(f"orphan_rate must be a ratio between 0 and 1, not {orphan_rate!r}")
    positive_int(buffer_lines, "buffer_lines")
    positive_int(buffer_bytes, "buffer_bytes")
    positive_int(buffer_traces, "buffer_traces")
    return rate


def ratio_keeps(trace_id: str, bound: int) -> bool:
    """OpenTelemetry's ``TraceIdRatioBased`` test on a 32-hex trace id."""
    return int(trace_id[16:], 16) < bound


@dataclass
class SamplingStats:
    """Counts since ``configure()``; read them with ``tracelog.stats()``."""

    kept: int = 0
    dropped: int = 0
    buffered: int = 0
    flushed: int = 0
    discarded: int = 0
    evicted: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain dict."""
        return {
            "sampled_kept": self.kept,
            "sampled_dropped": self.dropped,
            "buffered": self.buffered,
            "buffer_flushed": self.flushed,
            "buffer_discarded": self.discarded,
            "buffer_evicted": self.evicted,
        }


@dataclass
class _TraceBuffer:
    items: deque[tuple[Callable[[Any], None], Any, int]] = field(default_factory=deque)
    size: int = 0
    root: Any = None
    flushed: bool = False


class LogSampler:
    """The policy both adapters ask, once per log call, on the caller's thread.

    Args:
        sample: None (keep everything), ``"parent"``, or a ratio in [0, 1].
        orphan_rate: the share of lines outside any span to keep (default 1.0).
        buffer_debug: buffer lines below *output_level* inside spans until an error.
        output_level: the level lines must reach to be written directly.
        buffer_lines, buffer_bytes: bounds of one trace's buffer.
        buffer_traces: how many traces may hold a buffer at once (LRU).

    Raises:
        ValueError, TypeError: for bad arguments, at construction.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        sample: object = None,
        *,
        orphan_rate: float = 1.0,
        buffer_debug: bool = False,
        output_level: int = 20,
        buffer_lines: int = 100,
        buffer_bytes: int = 64 * 1024,
        buffer_traces: int = 1000,
    ) -> None:
        self.sample = parse_sample(sample)
        self.orphan_rate = check_settings(orphan_rate, buffer_lines, buffer_bytes, buffer_traces)
        self.bound = (
            round(self.sample * (_TRACE_ID_LIMIT + 1)) if isinstance(self.sample, float) else 0
        )
        self.buffer_debug = bool(buffer_debug)
        self.output_level = output_level
        self.buffer_lines = buffer_lines
        self.buffer_bytes = buffer_bytes
        self.buffer_traces = buffer_traces
        self.stats = SamplingStats()
        # The Context object current when a trace's line was last dropped (the structlog
        # path's shortcut; a strong reference, so its identity cannot be reused).
        self.dropped_context: object | None = None
        self._decisions: dict[str, bool] = {}
        self._buffers: OrderedDict[str, _TraceBuffer] = OrderedDict()
        self._lock = threading.Lock()
        _fork.register(self)

    def after_fork(self) -> None:
        """In a forked child: replace a lock a vanished thread may hold."""
        self._lock = threading.Lock()

    # -- deciding ---------------------------------------------------------------------

    def keeps_trace(self, ctx: TraceContext) -> bool:
        """Whether lines of this trace are kept (before the level rules)."""
        sample = self.sample
        if sample is None:
            return True
        if sample == "parent":
            return ctx.sampled
        decisions = self._decisions
        kept = decisions.get(ctx.trace_id)
        if kept is None:
            kept = ratio_keeps(ctx.trace_id, self.bound)
            if len(decisions) >= 65_536:
                decisions.clear()
            decisions[ctx.trace_id] = kept
        return kept

    def decide(self, levelno: int, ctx: TraceContext | None) -> int:
        """KEEP, DROP or BUFFER for one line."""
        if levelno >= _WARNING:
            self.stats.kept += 1
            return KEEP
        if ctx is None:
            if self.orphan_rate >= 1.0 or random.random() < self.orphan_rate:  # noqa: S311
                if levelno >= self.output_level:
                    self.stats.kept += 1
                    return KEEP
                return DROP
            self.stats.dropped += 1
            return DROP
        if not self.keeps_trace(ctx):
            self.stats.dropped += 1
            return DROP
        if levelno >= self.output_level:
            self.stats.kept += 1
            return KEEP
        if self.buffer_debug:
            return BUFFER
        return DROP

    def admit(self, levelno: int, failed: bool, ctx: TraceContext | None) -> int:
        """KEEP, DROP or BUFFER for one log call: the admission both frameworks use.

        A failing call (ERROR and above, or one carrying an exception) is always kept,
        and first writes what its trace had buffered, oldest first. A kept call inside
        a span notes its trace's local root, so the buffer notices when the trace ends.
        """
        if failed:
            self.stats.kept += 1
            if ctx is not None:
                for write, item, _ in self.take(ctx):
                    write(item)
            return KEEP
        decision = self.decide(levelno, ctx)
        if decision == KEEP and ctx is not None and self.buffer_debug:
            self.note_root(ctx)
        return decision

    # -- the debug buffer -------------------------------------------------------------

    def buffer(self, ctx: TraceContext, write: Callable[[Any], None], item: Any, size: int) -> bool:
        """Hold *item* until the trace errors; False if the trace already flushed.

        ``write(item)`` is called, marked as buffered, if the trace logs an error.
        """
        with self._lock:
            buf = self._buffers.get(ctx.trace_id)
            if buf is None:
                buf = self._new_buffer(ctx.trace_id)
            else:
                self._buffers.move_to_end(ctx.trace_id)
            if buf.flushed:
                return False
            if buf.root is None:
                buf.root = local_root_span()
            buf.items.append((write, item, size))
            buf.size += size
            self.stats.buffered += 1
            while len(buf.items) > self.buffer_lines or (
                buf.size > self.buffer_bytes and len(buf.items) > 1
            ):
                buf.size -= buf.items.popleft()[2]
                self.stats.evicted += 1
            return True

    def note_root(self, ctx: TraceContext) -> None:
        """Remember the trace's local root span, when the caller is in it."""
        buf = self._buffers.get(ctx.trace_id)
        if buf is not None and buf.root is None:
            buf.root = local_root_span()

    def take(self, ctx: TraceContext) -> list[tuple[Callable[[Any], None], Any, int]]:
        """The trace's buffered items, oldest first; the trace writes directly from now on."""
        with self._lock:
            buf = self._buffers.get(ctx.trace_id)
            if buf is None:
                if not self.buffer_debug:
                    return []
                buf = self._new_buffer(ctx.trace_id)
            items = list(buf.items)
            buf.items.clear()
            buf.size = 0
            buf.flushed = True
            self.stats.flushed += len(items)
        return items

    def _new_buffer(self, trace_id: str) -> _TraceBuffer:
        # Called with the lock held.
        self._sweep()
        buf = self._buffers[trace_id] = _TraceBuffer()
        if len(self._buffers) > self.buffer_traces:
            _, evicted = self._buffers.popitem(last=False)
            self.stats.evicted += len(evicted.items)
        return buf

    def _sweep(self) -> None:
        # Lazily drop the buffers of traces whose local root has ended: look at the two
        # oldest on each new trace, which keeps the cost constant.
        for trace_id in list(self._buffers)[:2]:
            buf = self._buffers[trace_id]
            if buf.root is not None and is_finished(buf.root):
                del self._buffers[trace_id]
                self.stats.discarded += len(buf.items)

    def buffered_traces(self) -> int:
        """How many traces hold a buffer now."""
        return len(self._buffers)
