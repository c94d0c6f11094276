"""Queue mode: formatting and I/O on a listener thread, ids captured at the call.

``configure(queue=True)`` puts a :class:`TracelogQueueHandler` on the root logger and
starts its :class:`TracelogQueueListener`. The caller's thread only captures what must be
captured there (the span's ids, the service, the time, the formatted message, the
exception) and appends it to a ``collections.deque``; the listener renders and writes.
The caller takes no lock, and wakes the listener only when it sleeps, not per line.

The listener shares the GIL with the app, so any work it does while the app is busy is
work the app waits for. It keeps out of the way: woken by the first line after it went
idle, it waits ``FLUSH_DELAY`` seconds (0.05) before it writes what has queued up, unless
the queue fills to half first, an ERROR or worse line is queued (it may be the last one
before a crash), or ``join()``, ``shutdown()`` or exit want it; and while the queue is
less than half full it yields the GIL after each batch, so a busy app runs until the
GIL's switch interval hands the listener its next batch. A line below ERROR reaches the
sink about ``FLUSH_DELAY`` seconds after the call.

Batches: on a descriptor the listener joins ready lines into one ``LineSink.write`` of at
most ``PIPE_BUF`` bytes (whole lines; a longer line goes alone), which a pipe takes whole
or not at all, so a failed batch is exactly its lines lost, and is counted so. Any other
stream gets one ``write()`` per line, as in direct mode.

The queue is bounded. When it is full, a log call blocks up to ``block_timeout`` seconds
(1 s) for room; if the queue is still full the line is dropped and counted. The listener
tells calls waiting for room once it has freed an eighth of the queue (or emptied it),
not after every batch: each wake-up hands the GIL over twice, and a caller woken per batch
would fill the batch's few slots and wait again, thousands of times a second; a waiting
call also looks again every ``_POLL`` seconds by itself, so a slow sink's room is found.
A slow sink (one that takes more than a tenth of ``block_timeout`` to free a slot) must
not stall every call in turn: such waits share one budget of ``block_timeout`` seconds, and once it
is spent, or a call timed out, calls that find the queue full drop at once (no second
stall) until the listener has emptied half of it. The listener writes one line saying
how many were dropped. Nothing is dropped silently. The bound is checked without a
lock: threads that find one slot left at the same instant may each take it, so the
queue can exceed the bound by a line per such thread.

Exit: the listener gets ``EXIT_TIMEOUT`` seconds at most (and ``STALL_TIMEOUT`` without
writing a line) to write what is queued. If the sink does not take it (a write that
blocks forever), what is left (the batch stuck in that write included) is counted lost
and reported on stderr, and the process exits anyway.

A log call made on the listener thread itself (a stream whose ``write()`` logs) is
written directly instead of queued: queued, it would feed the listener its own output
forever, and on a full queue it would wait for the only thread that empties it.

Signals: a handler that logs while its thread is inside a log call never waits for a
lock that thread holds: the append and the wake-up are single C calls, and a call that
interrupts a wait for room is queued past the bound instead of waiting too.

fork: a child process has no listener thread, and the queue's locks may have been held
by a thread that does not exist there. After a fork the child gets a fresh queue and
writes synchronously, like direct mode.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import logging
import logging.handlers
import select
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from tracelog import _fork
from tracelog._context import capture
from tracelog._levels import ERROR
from tracelog._options import positive_int
from tracelog._sink import _diagnose
from tracelog.stdlib import (
    CONTEXTVARS_ATTR,
    MESSAGE_ATTR,
    SERVICE_ATTR,
    TRACE_ATTR,
    JsonFormatter,
    bound_contextvars,
    message_of,
)

if TYPE_CHECKING:
    from tracelog._sink import LineSink
    from tracelog.stdlib import JsonStreamHandler

__all__ = ["TracelogQueueHandler", "TracelogQueueListener"]

DEFAULT_QUEUE_SIZE = 10_000
DEFAULT_BLOCK_TIMEOUT = 1.0
# How long the listener, woken by a line, lets more lines queue up before it writes them.
FLUSH_DELAY = 0.05
# The most bytes of lines the listener joins into one write: what a pipe takes whole.
BATCH_SIZE = select.PIPE_BUF
# At exit and shutdown: the longest wait for the listener to write what is queued, and
# the longest wait during which it writes nothing.
EXIT_TIMEOUT = 10.0
STALL_TIMEOUT = 2.0
# How often a thread waiting on the listener looks again, should a notify be missed.
_POLL = 0.05

# The listener's state, as callers read it (without a lock) after they append: BUSY, it
# is writing and needs no wake-up; IDLE, it sleeps until a line comes; DELAYING, it waits
# FLUSH_DELAY and is woken early only by a half-full queue or an ERROR or worse line.
BUSY, IDLE, DELAYING = 0, 1, 2

_handlers: weakref.WeakSet[TracelogQueueHandler] = weakref.WeakSet()
_hooks_installed = False
_hooks_lock = threading.Lock()


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


class _Written(threading.Event):
    """The mark :meth:`TracelogQueueHandler.wait_written` queues: set once every line
    queued before it is written (or counted lost)."""


def write_item(target: JsonStreamHandler, item: Any) -> None:
    """Write one queued item through *target*.

    A structlog event is a tuple ``(render, renderer, logger_name, levelno, fields, ctx,
    service, time)`` whose ``render(renderer, ...)`` makes the line; a ``_Written`` mark
    is set; anything else is a ``LogRecord``.
    """
    if type(item) is tuple:
        target.sink.write(item[0](*item[1:]))
    elif type(item) is _Written:
        item.set()
    else:
        target.handle(item)


class _Pending:
    """The queue as tests and ``shutdown()`` see it: ``join()`` waits until it is written."""

    __slots__ = ("owner",)

    def __init__(self, owner: TracelogQueueHandler) -> None:
        self.owner = owner

    def join(self) -> None:
        """Wake the listener and wait until everything queued so far is written."""
        self.owner.wait_written()


class TracelogQueueListener:
    """The thread that renders and writes what :class:`TracelogQueueHandler` queued."""

    def __init__(self, owner: TracelogQueueHandler, target: JsonStreamHandler) -> None:
        self.owner = owner
        self.target = target
        self._thread: threading.Thread | None = None
        # The batch the listener is taking lines into, while it renders them.
        self.assembling: list[bytes] | None = None

    def start(self) -> None:
        """Start the listener thread (a daemon: exit drains it through ``atexit``)."""
        thread = threading.Thread(target=self._run, name="tracelog-queue", daemon=True)
        self._thread = thread
        thread.start()

    @property
    def ident(self) -> int | None:
        """The listener thread's id, or None before it started."""
        thread = self._thread
        return None if thread is None else thread.ident

    def stop(self, timeout: float = EXIT_TIMEOUT, stall: float = STALL_TIMEOUT) -> bool:
        """Let the listener write what is queued, then end it; False if it did not finish.

        No longer than *timeout* seconds in all, nor *stall* seconds in which the
        listener writes nothing (a sink whose write blocks forever).
        """
        thread = self._thread
        if thread is None:
            return True
        owner = self.owner
        owner.stopping = True
        owner.wake()
        start = last = time.monotonic()
        seen = owner.handled
        while True:
            thread.join(_POLL)
            if not thread.is_alive():
                self._thread = None
                return True
            now = time.monotonic()
            if owner.handled != seen:
                seen, last = owner.handled, now
            if now - last >= stall or now - start >= timeout:
                return False

    def _run(self) -> None:
        owner = self.owner
        items = owner.items
        wake = owner.wake_lock
        while True:
            if items:
                owner.urgent = False
                self._write_ready(items)
                continue
            if owner.stopping:
                return
            owner.state = IDLE
            owner.notify_waiters()  # calls waiting for room: the queue is empty
            if not items and not owner.stopping:
                wake.acquire()
            owner.state = BUSY
            # Let a burst of calls queue up before competing with them for the GIL; an
            # ERROR or worse line (the last one before a crash, maybe) does not wait.
            if len(items) < owner.high and not (owner.stopping or owner.urgent):
                owner.state = DELAYING
                if len(items) < owner.high and not (owner.stopping or owner.urgent):
                    wake.acquire(timeout=FLUSH_DELAY)
                owner.state = BUSY

    def _write_ready(self, items: collections.deque[Any]) -> None:
        """Render everything queued, oldest first, and write the lines in batches.

        On a descriptor, a batch is as many whole lines as fit in ``PIPE_BUF`` bytes
        (one line if it is longer), written with one ``LineSink.write``: a pipe takes
        such a write whole or not at all, so a failed batch is exactly its lines lost.
        Any other stream gets one ``write()`` per line, as in direct mode.
        """
        owner = self.owner
        target = self.target
        sink = target.sink
        limit = BATCH_SIZE if getattr(sink, "_fd", None) is not None else 0
        formatter = target.formatter
        # The line of a record, without the handler's write: tracelog's formatter and no
        # filters on the handler (else each record goes through target.handle()).
        line_of = (
            formatter.format_bytes
            if isinstance(formatter, JsonFormatter) and not target.filters
            else None
        )
        popleft = items.popleft
        write = self._write
        carried: bytes | None = None  # the line that did not fit in the last batch
        freed = 0  # slots freed since calls waiting for room were last told
        while items or carried is not None:
            batch: list[bytes] = []
            self.assembling = batch
            size = taken = 0
            if carried is not None:
                batch.append(carried)
                size = len(carried)
                carried = None
            while items:
                item = popleft()
                taken += 1
                try:
                    if type(item) is tuple:
                        render, renderer, name, levelno, fields, ctx, service, ts = item
                        line = render(renderer, name, levelno, fields, ctx, service, ts)
                    elif type(item) is _Written:
                        # wait_written(): the lines before it go out now, then it is set.
                        self.write_assembled()
                        size = 0
                        item.set()
                        continue
                    elif line_of is not None:
                        line = line_of(item)
                    else:
                        self.write_assembled()
                        size = 0
                        target.handle(item)
                        # Written one by one: progress counts now, not after the queue
                        # (stop() and wait_written() take no progress for a stuck sink).
                        owner.handled += taken
                        freed += taken
                        taken = 0
                        continue
                except Exception:  # a bug must not kill the listener and stall the app
                    target.handleError(item)
                    continue
                if size + len(line) > limit and batch:
                    carried = line  # it starts the next batch
                    break
                batch.append(line)
                size += len(line)
            owner.handled += taken
            freed += taken
            if owner.waiters and (freed >= owner.refill or not items):
                owner.notify_waiters(freed)  # slots are free for calls waiting for room
                freed = 0
            write(sink, batch, carried is not None)
            if owner.dropped:
                owner.report_drops()
            if owner.overloaded and len(items) <= owner.maxsize // 2:
                owner.room_again()
            if items and len(items) < owner.high and not (owner.stopping or owner.waiters):
                # Give way to the app: if it is busy, it runs until the GIL's switch
                # interval hands the listener its next batch; if not, this costs nothing.
                time.sleep(0)

    def write_assembled(self) -> None:
        """On the listener thread: write the lines of the batch taken so far, now.

        Before a line logged while the listener renders (a value's ``__repr__`` that
        logs), which is written directly, and before a flush mark or a record that goes
        through the target handler on its own.
        """
        batch = self.assembling
        if batch:
            lines = batch[:]
            batch.clear()  # the listener's size count only overstates: batches stay whole
            self._write(self.target.sink, lines, 0)
            self.assembling = batch  # the listener goes on taking lines into it

    def _write(self, sink: LineSink, batch: list[bytes], carried: int) -> None:
        """Write a batch of lines; the sink counts each line a failed write lost."""
        # Being written now: a line the stream's write() logs must not write it again.
        self.assembling = None
        if not batch:
            return
        owner = self.owner
        # Lost, should the sink never return (see TracelogQueueHandler.stop()).
        owner.in_flight = len(batch) + carried
        sink.write_lines(batch)
        owner.in_flight = 0


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
        self.q = _Pending(self)
        super().__init__(self.q)  # type: ignore[arg-type]  # only put() touches it
        self.maxsize = maxsize
        self.high = max(1, maxsize // 2)  # the listener stops delaying at half full
        self.refill = max(1, maxsize // 8)  # slots freed before waiting calls are told
        self.block_timeout = block_timeout
        self.target = target
        self.dropped = 0
        self.dropped_total = 0
        self.lost_at_exit = 0  # queued lines a stuck sink never took (see stop())
        self.in_flight = 0  # lines in the listener's write right now
        self.handled = 0  # items the listener has written, to see it make progress
        self.overloaded = False
        self.stalled = 0.0  # seconds callers waited for a slow sink in this overload
        self._slow_wait = block_timeout / 10
        self.running = False
        self.stopping = False
        self.stopped = False
        self.abandoned = False
        self._fresh_queue()
        self.listener = TracelogQueueListener(self, target)
        _handlers.add(self)
        _install_process_hooks()
        _fork.register(self)

    def _fresh_queue(self) -> None:
        self.items: collections.deque[Any] = collections.deque()
        # A binary semaphore: released (unlocked) means "wake up". Released and tested
        # with single C calls, so a signal handler that logs cannot deadlock on it.
        self.wake_lock = threading.Lock()
        self.wake_lock.acquire()
        self.state = BUSY
        self.urgent = False  # an ERROR or worse line is queued: no flush delay
        self.waiters = 0  # threads waiting on _room for room
        self._room = threading.Condition(threading.Lock())
        # Re-entrant: a signal handler may count a drop while its thread counts one.
        self._drop_lock = threading.RLock()
        self._local = threading.local()
        self._listener_ident: int | None = None

    def start(self) -> None:
        """Start the listener thread."""
        self.listener.start()
        self._listener_ident = self.listener.ident
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
                self.lost_at_exit += self.in_flight  # stuck in the sink's write
        # A call that saw `running` just before it turned False may have put its item
        # in the queue after the listener left. From here on such a caller drains the
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
        items = self.items
        while True:
            try:
                item = items.popleft()
            except IndexError:
                return
            if type(item) is _Written:
                item.set()  # not a line: its waiter may go on
            elif self.abandoned:  # the listener is stuck in the sink: writing would hang too
                self.lost_at_exit += 1
            else:
                write_item(self.target, item)

    def after_fork(self) -> None:
        """Forget the parent's queue, locks and thread; write synchronously from now on."""
        self.running = False
        self._fresh_queue()
        self.createLock()
        self.listener = TracelogQueueListener(self, self.target)
        self.target.sink.after_fork()

    def wake(self) -> None:
        """Wake the listener if it sleeps or delays (no-op if it is awake already)."""
        wake = self.wake_lock
        if wake.locked():
            with contextlib.suppress(RuntimeError):  # another thread woke it in between
                wake.release()

    def notify_waiters(self, freed: int = 0) -> None:
        """Tell threads waiting for room to look again.

        With *freed*, as many as there are free slots (the rest would find the queue
        full again); otherwise all of them.
        """
        if self.waiters:
            with self._room:
                if freed:
                    self._room.notify(freed)
                else:
                    self._room.notify_all()

    def wait_written(self) -> bool:
        """Wake the listener and wait until it has written everything queued so far.

        A mark is queued behind those lines and waited for, so lines queued later (other
        threads keep logging) do not hold the wait up. False if the listener wrote
        nothing for ``STALL_TIMEOUT`` seconds (a sink whose write blocks): the wait ends
        then, as :meth:`stop`'s does, and the lines stay queued.
        """
        if not self.running or threading.get_ident() == self._listener_ident:
            return False  # no listener, or the listener itself (its stream flushed us)
        mark = _Written()
        self.items.append(mark)
        self.urgent = True  # no flush delay: the caller waits
        self.wake()
        seen, last = self.handled, time.monotonic()
        while not mark.wait(_POLL):
            if self.stopped:
                # stop() drained the queue (setting the mark), or finished just before
                # the mark was queued: this thread writes what is left.
                self._drain()
                return mark.is_set()
            now = time.monotonic()
            if self.handled != seen:
                seen, last = self.handled, now
            elif now - last >= STALL_TIMEOUT:
                return False
        return True

    def flush(self) -> None:
        """Wait until the lines queued so far are written, then flush the target.

        ``logging.shutdown()`` and a user's ``handler.flush()`` come here. A sink that
        takes nothing for ``STALL_TIMEOUT`` seconds ends the wait: flushing never hangs
        the program on a stuck stream.
        """
        self.wait_written()
        self.target.flush()

    def handle(self, record: logging.LogRecord) -> logging.LogRecord | bool:  # type: ignore[override]
        """Filter (the sampler, if configured) and queue, without the handler lock.

        The queue needs none: appending to it is atomic.
        """
        if self.filters:
            rv = self.filter(record)
            if not rv:
                return False
            if isinstance(rv, logging.LogRecord):
                record = rv
        try:  # emit(), inline: this is the caller's whole cost beyond logging's own
            self.put(self.prepare(record))
        except RecursionError:  # pragma: no cover - stdlib convention
            raise
        except Exception:
            self.handleError(record)
        return record

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.put(self.prepare(record))
        except RecursionError:  # pragma: no cover - stdlib convention
            raise
        except Exception:
            self.handleError(record)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """Capture what must be read on the caller's thread; keep the record structured.

        Unlike ``QueueHandler.prepare`` this neither formats the record into text nor
        drops ``exc_info``: the listener writes the same structured line direct mode
        would.
        """
        attrs = record.__dict__
        if TRACE_ATTR not in attrs:  # the sampler's filter may have captured them
            attrs[TRACE_ATTR], attrs[SERVICE_ATTR] = capture()
            attrs[CONTEXTVARS_ATTR] = bound_contextvars()
        if MESSAGE_ATTR not in attrs and (record.args or type(record.msg) is not str):
            # The arguments (or the message object) may change after the call: format
            # now. A plain string message is formatted by the listener.
            attrs[MESSAGE_ATTR] = message_of(record)
        formatter = self.target.formatter
        if getattr(formatter, "bridge", None) is not None:
            # Span events go on the span current at the call; the listener has none.
            formatter.bridge_now(record)  # type: ignore[union-attr]
        return record

    def put(self, item: Any) -> None:
        """Queue *item*, or write it directly when no listener runs; count what drops."""
        if not self.running:
            if self.abandoned:
                self.lost_at_exit += 1
            else:
                write_item(self.target, item)
            return
        if self.state == BUSY and threading.get_ident() == self._listener_ident:
            # Logged from inside the listener (a value's __repr__ while it renders, the
            # stream's write()): written directly, after the lines taken before it.
            self.listener.write_assembled()
            write_item(self.target, item)
            return
        items = self.items
        if len(items) >= self.maxsize:
            self._put_full(item)
        else:
            items.append(item)
            if self.stalled:
                self.stalled = 0.0  # there was room at once: the overload is over
            if (item[3] if type(item) is tuple else getattr(item, "levelno", 0)) >= ERROR:
                self.urgent = True  # the listener writes it without its flush delay
            state = self.state  # read after the append: see TracelogQueueListener._run
            if state and (state == IDLE or len(items) >= self.high or self.urgent):
                self.wake()
        if self.stopped:
            self._drain()

    def _put_full(self, item: Any) -> None:
        """Wait for room within the stall budget, or drop and count *item*."""
        local = self._local
        if getattr(local, "waiting", False):
            # A signal handler that logs while this thread waits for room: waiting
            # again here would wait on a lock this thread holds. Past the bound instead.
            self.items.append(item)
            return
        if not self.overloaded:
            local.waiting = True
            start = time.monotonic()
            try:
                if self._wait_for_room(item, max(0.0, self.block_timeout - self.stalled)):
                    return
            finally:
                local.waiting = False
                waited = time.monotonic() - start
                if waited >= self._slow_wait:
                    with self._drop_lock:
                        self.stalled += waited
                        if self.stalled >= self.block_timeout:
                            self.overloaded = True
        with self._drop_lock:
            self.dropped += 1
            self.dropped_total += 1
            self.overloaded = True

    def _wait_for_room(self, item: Any, budget: float) -> bool:
        """Queue *item* once there is room, waiting at most *budget* seconds."""
        deadline = time.monotonic() + budget
        items = self.items
        with self._room:
            self.waiters += 1
            try:
                while len(items) >= self.maxsize and self.running:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self.wake()
                    self._room.wait(min(remaining, _POLL))
            finally:
                self.waiters -= 1
        items.append(item)
        return True

    def room_again(self) -> None:
        """The listener has emptied half the queue: calls may block for room again."""
        with self._drop_lock:
            self.overloaded = False
            self.stalled = 0.0

    def enqueue(self, record: logging.LogRecord) -> None:
        self.put(record)

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
