"""Queue mode: formatting and I/O on a listener thread, ids captured at the call.

``configure(queue=True)`` puts a :class:`TracelogQueueHandler` on the root logger and
starts its :class:`TracelogQueueListener`. The caller's thread only captures what must be
captured there (the span's ids, the service, the time, the formatted message, the
exception) and enqueues; the listener renders and writes.

The queue is bounded. When it is full, a log call blocks up to ``block_timeout`` seconds
once; if the queue is still full the line is dropped and counted, and further calls
drop immediately (no second stall) until the listener has caught up and written one
line saying how many were dropped. Nothing is dropped silently.

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
import weakref
from typing import TYPE_CHECKING, Any, NamedTuple

from tracelog import _fork
from tracelog._options import positive_int
from tracelog.stdlib import MESSAGE_ATTR, JsonFormatter, TraceContextFilter, message_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from tracelog.stdlib import JsonStreamHandler

__all__ = ["QueuedEvent", "TracelogQueueHandler", "TracelogQueueListener"]

DEFAULT_QUEUE_SIZE = 10_000
DEFAULT_BLOCK_TIMEOUT = 1.0

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

    def enqueue_sentinel(self) -> None:
        # Blocking, unlike the stdlib's put_nowait: on a full queue the sentinel must wait
        # its turn behind the lines it is meant to flush.
        self.owner.q.put(getattr(self, "_sentinel", None))

    def handle(self, record: Any) -> None:
        """Write one queued item, then the drop count if there is one to report."""
        try:
            write_item(self.target, record)
        except Exception:  # a bug must not kill the listener thread and stall the app
            self.target.handleError(record)
        if self.owner.dropped:
            self.owner.report_drops()


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
        self._overloaded = False
        self._drop_lock = threading.Lock()
        self.running = False
        self.stopped = False
        self.listener = TracelogQueueListener(self, target)
        _handlers.add(self)
        _install_process_hooks()
        _fork.register(self)

    def start(self) -> None:
        """Start the listener thread."""
        self.listener.start()
        self.running = True

    def stop(self) -> None:
        """Drain the queue, stop the listener, and report drops; later calls write directly."""
        if self.running:
            self.running = False
            self.listener.stop()
        # A call that saw `running` just before it turned False may have put its item
        # behind the listener's stop sentinel. From here on such a caller drains the
        # queue itself (see put()); what is already there is written now.
        self.stopped = True
        self._drain()
        self.report_drops()

    def _drain(self) -> None:
        """Write whatever is still queued, directly, on this thread."""
        while True:
            try:
                item = self.q.get_nowait()
            except queue.Empty:
                return
            if item is not None:  # the stop sentinel
                write_item(self.target, item)

    def after_fork(self) -> None:
        """Forget the parent's queue, locks and thread; write synchronously from now on."""
        self.running = False
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
            self._write_now(item)
            return
        try:
            if self._overloaded:
                self.q.put_nowait(item)
            else:
                self.q.put(item, timeout=self.block_timeout)
        except queue.Full:
            with self._drop_lock:
                self.dropped += 1
                self.dropped_total += 1
                self._overloaded = True
        else:
            if self.stopped:
                self._drain()

    def enqueue(self, record: logging.LogRecord) -> None:
        self.put(record)

    def _write_now(self, item: Any) -> None:
        write_item(self.target, item)

    def report_drops(self) -> None:
        """Write one line saying how many lines a full queue dropped (if any)."""
        with self._drop_lock:
            dropped, self.dropped = self.dropped, 0
            self._overloaded = False
        if dropped:
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
