"""Carry the caller's context, and so its trace ids, into threads and executor jobs.

OpenTelemetry keeps the active span in a :mod:`contextvars` variable. asyncio copies the
context into every task it creates, so ``asyncio.gather``, ``TaskGroup``,
``create_task`` and ``asyncio.to_thread`` keep the ids without help. Threads do not: a
``threading.Thread`` (before Python 3.14) and every ``ThreadPoolExecutor`` worker run
with a context of their own, where no span is active, so lines logged there lose the
ids without a word. So does ``loop.run_in_executor``.

The helpers here take a snapshot of the caller's context (``contextvars.copy_context``)
at hand-off time and run the work inside a fresh copy of that snapshot:

* :func:`wrap` — any callable; the snapshot is taken when ``wrap`` is called;
* :class:`ContextThreadPoolExecutor` — a drop-in ``ThreadPoolExecutor``; the snapshot is
  taken at ``submit``/``map``;
* :class:`ContextThread` — a drop-in ``threading.Thread``; the snapshot is taken at
  ``start()``;
* :func:`run_in_executor` — ``loop.run_in_executor`` with the awaiting task's context.
"""

from __future__ import annotations

import contextvars
import functools
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, ParamSpec, TypeVar, TypeVarTuple

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable
    from concurrent.futures import Executor

__all__ = ["ContextThread", "ContextThreadPoolExecutor", "run_in_executor", "wrap"]

P = ParamSpec("P")
R = TypeVar("R")
Ts = TypeVarTuple("Ts")


def wrap(fn: Callable[P, R]) -> Callable[P, R]:
    """Return *fn* bound to the caller's context: wherever it runs, it sees the ids now active.

    The context is captured once, when ``wrap`` is called. Each call runs in its own copy
    of that snapshot, so the wrapped function may run in several threads at once (one
    ``Context`` cannot be entered twice concurrently) and one call's context changes
    never leak into the next.

    Args:
        fn: any callable.

    Returns:
        A callable with *fn*'s signature (``functools.wraps`` keeps its name and doc).

    .. versionadded:: 0.1.0
    """
    captured = contextvars.copy_context()

    @functools.wraps(fn)
    def in_captured_context(*args: P.args, **kwargs: P.kwargs) -> R:
        return captured.copy().run(fn, *args, **kwargs)

    return in_captured_context


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A ``ThreadPoolExecutor`` whose jobs run in the submitter's context.

    A plain ``ThreadPoolExecutor`` runs every job in its worker thread's own, empty
    context, so the submitter's span is gone. This one captures the context at
    ``submit()`` (``map()`` submits through it, so each item is captured when ``map`` is
    called) and runs the job in it. Everything else is ``ThreadPoolExecutor``'s.

    .. versionadded:: 0.1.0
    """

    def submit(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> Future[R]:
        """Schedule ``fn(*args, **kwargs)`` in the caller's current context."""
        captured = contextvars.copy_context()

        def job() -> R:
            return captured.run(fn, *args, **kwargs)

        return super().submit(job)


class ContextThread(threading.Thread):
    """A ``threading.Thread`` that runs in a copy of the context of the caller of ``start()``.

    This is what Python 3.14 does for every thread when ``sys.flags.thread_inherit_context``
    is on (and what ``Thread(context=...)`` does there); on 3.11 to 3.13 threads start with an
    empty context. Use it exactly like ``Thread``, with ``target=`` or by overriding
    ``run()``. For a thread you don't construct yourself, pass ``target=tracelog.wrap(fn)``.

    .. versionadded:: 0.1.0
    """

    def start(self) -> None:
        """Capture the caller's context, then start the thread as ``Thread.start`` does."""
        captured = contextvars.copy_context()
        run = self.run
        # Bound per instance, so a subclass's own run() is covered too.
        self.run = functools.partial(captured.run, run)  # type: ignore[method-assign]
        super().start()


def run_in_executor(
    executor: Executor | None,
    func: Callable[[*Ts], R],
    /,
    *args: *Ts,
    loop: asyncio.AbstractEventLoop | None = None,
) -> asyncio.Future[R]:
    """``loop.run_in_executor(executor, func, *args)``, run in the caller's context.

    ``loop.run_in_executor`` runs *func* in the executor thread's own context, where the
    awaiting task's span is not active; ``asyncio.to_thread`` copies the context but
    only uses the default executor. This does both: any (thread) executor, the task's ids.

    Args:
        executor: a thread executor, or None for the loop's default one.
        func: the blocking callable.
        *args: its positional arguments (use ``functools.partial`` for keywords).
        loop: the event loop; by default the running one.

    Returns:
        The asyncio future ``loop.run_in_executor`` returns: await it, gather it, cancel it.

    .. versionadded:: 0.1.0
    """
    if loop is None:
        import asyncio  # noqa: PLC0415 - asyncio costs ~30 ms at `import tracelog`

        loop = asyncio.get_running_loop()
    return loop.run_in_executor(executor, contextvars.copy_context().run, func, *args)
