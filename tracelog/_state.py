"""The active configuration: everything ``configure()`` set up, as one object swapped whole.

``configure()`` builds a complete new :class:`State` (handler, sink, structlog renderer,
scrubber, sampler, bridges, queue) before it touches anything global, then makes it
current in one assignment. A log call reads :data:`current` once and uses that
state's parts together, so no call, in any thread, ever sees half of an old
configuration and half of a new one, or none at all.

This module only holds the state; ``tracelog.config`` builds it and the adapters read
it. It imports no framework.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tracelog._event import Scrubber, resolve_redactor

if TYPE_CHECKING:
    import logging

    from tracelog._queue import TracelogQueueHandler
    from tracelog._sampling import LogSampler
    from tracelog._sink import LineSink
    from tracelog.bridge import Bridge
    from tracelog.stdlib import JsonStreamHandler

__all__ = ["UNCONFIGURED", "State", "current", "scrubber", "swap"]


@dataclass(frozen=True, slots=True)
class State:
    """One configuration, complete; never changed after it is built.

    Attributes:
        handler: the handler that formats and writes (stdlib's records reach it through
            *front*).
        front: the handler on the root logger: *handler*, or the queue in front of it.
        renderer: structlog's renderer (a ``tracelog.structlog.JsonRenderer``).
        sink: where both frameworks' lines go: one sink, so they never interleave.
        scrubber: the one event path's redaction (shared with the middleware).
        sampler: per-trace sampling and the debug buffer, or None.
        queue: queue mode's handler, or None.
        bridges: the (stdlib, structlog) bridges, or None where nothing is bridged.
        level: the minimum level.
        callsite: whether lines carry the call's module, function and line.
        direct: no sampler, queue, call site or structlog bridge: a structlog call's
            line can be encoded and written at once (worked out here, not per call).
    """

    handler: JsonStreamHandler | None
    front: logging.Handler | None
    renderer: Any
    sink: LineSink | None
    scrubber: Scrubber | None
    sampler: LogSampler | None
    queue: TracelogQueueHandler | None
    bridges: tuple[Bridge | None, Bridge | None]
    level: int
    callsite: bool = False
    direct: bool = field(init=False)

    def __post_init__(self) -> None:
        direct = (
            self.sampler is None
            and self.queue is None
            and not self.callsite
            and self.bridges[1] is None
        )
        object.__setattr__(self, "direct", direct)


UNCONFIGURED = State(None, None, None, None, None, None, None, (None, None), 20)

#: The state log calls use now. Read it once per call; replace it only through swap().
current: State = UNCONFIGURED


def swap(new: State) -> State:
    """Make *new* the current state in one step; returns the one it replaced."""
    global current
    old, current = current, new
    return old


@functools.cache
def _default_scrubber() -> Scrubber:
    return Scrubber(resolve_redactor(redact=True))


def scrubber() -> Scrubber:
    """The configured scrubber; before any ``configure()``, the default redaction."""
    found = current.scrubber
    return found if found is not None else _default_scrubber()
