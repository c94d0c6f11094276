"""Queue mode: formatting and I/O on a listener thread, ids captured at the call.

``configure(queue=True)`` puts a :class:`TracelogQueueHandler` on the root logger and
starts its :class:`TracelogQueueListener`. The caller's thread only captures what must be
captured there (the span's ids, the service, the time, the formatted message, the
exception) and enqueues; the listener renders and writes.

The queue is bounded. When it is full, a log call blocks up to ``block_timeout`` seconds
(1 s) for room; if the queue is still full the line is dropped and counted. A slow sink
(one that takes more than a tenth of ``block_timeout`` to free a slot) must not stall
every call in turn: such waits share one budget of ``block_timeout`` seconds, and once it
is spent, or a call timed out, calls that find the queue full drop at once (no second
stall) until the listener has emptied half of it. The listener writes one line saying
how many were dropped. Nothing is dropped silently.

Exit: the listener gets ``EXIT_TIMEOUT`` seconds at most (and ``STALL_TIMEOUT`` without
writing a line) to write what is queued. If the sink does not take it (a write that
blocks forever), what is left is counted lost and reported on stderr, and the process
exits anyway.

A log call made on the listener thread itself (a stream whose ``write()`` logs) is
written directly instead of queued: queued, it would feed the listener its own output
forever, and on a full queue it would wait for the only thread that empties it.

fork: a child process has no listener thread, and the queue's locks may have been held
by a thread that does not exist there. After a fork the child gets a fresh queue and
writes synchronously, like direct mode.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any, NamedTuple

from tracelog import _fork
from tracelog._options import positive_int
from tracelog._sink import _diagnose
from tracelog.stdlib import MESSAGE_ATTR, JsonFormatter, TraceContextFilter, message_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from tracelog.stdlib import JsonStreamHandler

__all__ = ["QueuedEvent", "TracelogQueueHandler", "TracelogQueueListener"]

DEFAULT_QUEUE_SIZE = 10_000
DEFAULT_BLOCK_TIMEOUT = 1.0
# At exit and shutdown: the longest wait for the listener to write what is queued, and
# the longest wait during which it writes nothing.
EXIT_TIMEOUT = 10.0
STALL_TIMEOUT = 2.0

_handlers: weakref.WeakSet[TracelogQueueHandler] = weakref.WeakSet()
_hooks_installed = False
_hooks_lock = threading.Lock()


class QueuedEvent(NamedTuple):
    """A structlog event captured at the call, rendered later by the listener."""

    render: Callable[[Any, int, dict[str, Any]], bytes]
    logger_name: Any
    levelno: int
    fields: dict[str, Any]


def _install_process_hooks() -> None:
    # Registered on first use of queue mode, never at import.
    global _hooks_installed  # noqa: PLW0603
    with _hooks_lock:
        if _hooks_installed:
            return
        _hooks_installed = True
    atexit.register(_stop_all)


def _stop_all() -> None:
    for handler in list(_handlers):
        handler.stop()


def write_item(target: JsonStreamHandler, item: Any) -> None:
    """Write one queued item (a structlog event or a LogRecord) through *target*."""
    if type(item) is QueuedEvent:
        target.sink.write(item.render(item.logger_name, item.levelno, item.fields))
    else:
        target.handle(item)


class TracelogQueueListener(logging.handlers.QueueListener):
    """Renders and writes what :class:`TracelogQueueHandler` enqueued."""

    def __init__(self, owner: TracelogQueueHandler, target: JsonStreamHandler) -> None:
        super().__init__(owner.queue, target, respect_handler_level=False)
        self.owner = owner
        self.target = target

    def stop(self, timeout: float = EXIT_TIMEOUT, stall: float = STALL_TIMEOUT) -> bool:  # type: ignore[override]
        """Let the listener write what is queued, then end it; False if it did not finish.

        The stop marker waits its turn behind the lines it is meant to flush, but no
        longer than *timeout* seconds in all, nor *stall* seconds in which the listener
        writes nothing (a sink whose write blocks forever).
        """
        thread = self._thread
        if thread is None:
            return True
        owner = self.owner
        start = last = time.monotonic()
        seen = owner.handled
        queued = False
        while True:
            if not queued:
                try:
                    owner.q.put(None, timeout=0.05)  # None: QueueListener's stop marker
                    queued = True
                except queue.Full:
                    pass
            if queued:
                thread.join(0.05)
                if not thread.is_alive():
                    self._thread = None
                    return True
            now = time.monotonic()
            if owner.handled != seen:
                seen, last = owner.handled, now
            if now - last >= stall or now - start >= timeout:
                return False

    def handle(self, record: Any) -> None:
        """Write one queued item, then the drop count if there is one to report."""
        owner = self.owner
        try:
            write_item(self.target, record)
        except Exception:  # a bug must not kill the listener thread and stall the app
            self.target.handleError(record)
        owner.handled += 1
        if owner.dropped:
            owner.report_drops()
        if owner.overloaded and owner.q.qsize() <= owner.maxsize // 2:
            owner.room_again()


class TracelogQueueHandler(logging.handlers.QueueHandler):
    """A bounded ``QueueHandler`` that captures ids at the call and never drops silently.

    Args:
        target: the handler the listener writes through (tracelog's JSON handler).
        maxsize: queue bound (default 10,000 records).
        block_timeout: how long a full queue may block one call before it drops.

    Raises:
        ValueError: for a bound < 1 or a negative timeout.

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        target: JsonStreamHandler,
        maxsize: int = DEFAULT_QUEUE_SIZE,
        block_timeout: float = DEFAULT_BLOCK_TIMEOUT,
    ) -> None:
        positive_int(maxsize, "queue_size")
        if block_timeout < 0:
            raise ValueError(f"block_timeout must be >= 0, not {block_timeout}")
        self.q: queue.Queue[Any] = queue.Queue(maxsize)
        super().__init__(self.q)
        self.maxsize = maxsize
        self.block_timeout = block_timeout
        self.target = target
        self.addFilter(TraceContextFilter())
        self.dropped = 0
        self.dropped_total = 0
        self.lost_at_exit = 0  # queued lines a stuck sink never took (see stop())
        self.handled = 0  # items the listener has written, to see it make progress
        self.overloaded = False
        self._stalled = 0.0  # seconds callers waited for a slow sink in this overload
        self._slow_wait = block_timeout / 10
        self._drop_lock = threading.Lock()
        self._listener_ident: int | None = None
        self._local = threading.local()
        self.running = False
        self.stopped = False
        self.abandoned = False
        self.listener = TracelogQueueListener(self, target)
        _handlers.add(self)
        _install_process_hooks()
        _fork.register(self)

    def start(self) -> None:
        """Start the listener thread."""
        self.listener.start()
        thread = getattr(self.listener, "_thread", None)
        self._listener_ident = None if thread is None else thread.ident
        self.running = True

    def stop(self, timeout: float = EXIT_TIMEOUT) -> None:
        """Drain the queue, stop the listener, and report drops; later calls write directly.

        If the sink takes nothing for ``STALL_TIMEOUT`` seconds (or the drain takes
        *timeout*), the rest of the queue is counted lost and reported on stderr, and
        later calls are counted instead of written: the process can still exit.
        """
        if self.running:
            self.running = False
            if not self.listener.stop(timeout):
                self.abandoned = True
        # A call that saw `running` just before it turned False may have put its item
        # behind the listener's stop sentinel. From here on such a caller drains the
        # queue itself (see put()); what is already there is written now.
        self.stopped = True
        self._drain()
        self.report_drops()
        if self.abandoned and self.lost_at_exit:
            _diagnose(
                f"{self.lost_at_exit} queued log line(s) were lost: the sink "
                f"({self.target.sink.name}) took no line for {STALL_TIMEOUT:g} s at shutdown"
            )

    def _drain(self) -> None:
        """Write whatever is still queued, directly, on this thread (or count it lost)."""
        while True:
            try:
                item = self.q.get_nowait()
            except queue.Empty:
                return
            if item is None:  # the stop sentinel
                continue
            if self.abandoned:  # the listener is stuck in the sink: writing would hang too
                self.lost_at_exit += 1
            else:
                write_item(self.target, item)

    def after_fork(self) -> None:
        """Forget the parent's queue, locks and thread; write synchronously from now on."""
        self.running = False
        self._listener_ident = None
        self._local = threading.local()
        self.q = self.queue = queue.Queue(self.maxsize)
        self._drop_lock = threading.Lock()
        self.createLock()
        self.listener = TracelogQueueListener(self, self.target)
        self.target.sink.after_fork()

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """Capture what must be read on the caller's thread; keep the record structured.

        Unlike ``QueueHandler.prepare`` this neither formats the record into text nor
        drops ``exc_info``: the listener writes the same structured line direct mode
        would.
        """
        if not hasattr(record, MESSAGE_ATTR):
            setattr(record, MESSAGE_ATTR, message_of(record))
        formatter = self.target.formatter
        if isinstance(formatter, JsonFormatter) and formatter.bridge is not None:
            # Span events go on the span current at the call; the listener has none.
            formatter.bridge_now(record)
        return record

    def put(self, item: Any) -> None:
        """Enqueue, or write directly when no listener runs; count what a full queue drops."""
        if not self.running:
            if self.abandoned:
                self.lost_at_exit += 1
            else:
                self._write_now(item)
            return
        if threading.get_ident() == self._listener_ident:
            self._write_now(item)  # logged from inside the listener's write: see the module
            return
        local = self._local
        if getattr(local, "busy", False):
            # A signal handler that logs while this thread is inside put(): the queue's
            # (non-reentrant) lock may be held below us, so taking it would deadlock.
            # The outer put() enqueues this item when it is done.
            local.held.append(item)
            return
        local.busy, local.held = True, []
        try:
            self._enqueue(item)
            while local.held:
                self._enqueue(local.held.pop(0))
        finally:
            local.busy = False

    def _enqueue(self, item: Any) -> None:
        try:
            self.q.put_nowait(item)
        except queue.Full:
            if not self._put_full(item):
                return
        else:
            if self._stalled:
                self._stalled = 0.0  # there was room at once: the overload is over
        if self.stopped:
            self._drain()

    def _put_full(self, item: Any) -> bool:
        """Wait for room within the stall budget, or drop; True if *item* was queued."""
        if not self.overloaded:
            start = time.monotonic()
            try:
                self.q.put(item, timeout=max(0.0, self.block_timeout - self._stalled))
            except queue.Full:
                pass
            else:
                return True
            finally:
                waited = time.monotonic() - start
                if waited >= self._slow_wait:
                    with self._drop_lock:
                        self._stalled += waited
                        if self._stalled >= self.block_timeout:
                            self.overloaded = True
        with self._drop_lock:
            self.dropped += 1
            self.dropped_total += 1
            self.overloaded = True
        return False

    def room_again(self) -> None:
        """The listener has emptied half the queue: calls may block for room again."""
        with self._drop_lock:
            self.overloaded = False
            self._stalled = 0.0

    def enqueue(self, record: logging.LogRecord) -> None:
        self.put(record)

    def _write_now(self, item: Any) -> None:
        write_item(self.target, item)

    def report_drops(self) -> None:
        """Write one line saying how many lines a full queue dropped (if any)."""
        with self._drop_lock:
            dropped, self.dropped = self.dropped, 0
        if dropped and self.abandoned:  # the sink is stuck: say it on stderr instead
            _diagnose(f"{dropped} log line(s) were dropped: the log queue was full")
        elif dropped:
            self.target.write_notice(
                logging.WARNING,
                f"tracelog dropped {dropped} log line(s): the log queue was full",
                {"dropped": dropped, "queue_size": self.maxsize},
            )

    def close(self) -> None:
        self.stop()
        _handlers.discard(self)
        self.target.close()
        super().close()
