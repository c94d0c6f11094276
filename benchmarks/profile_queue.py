"""Where queue mode's time goes: ``python benchmarks/profile_queue.py [--profile]``.

For each path (structlog, stdlib) and mode (direct, queue) it runs the benchmark line
5,000 times inside an SDK span, writing to /dev/null, then ``tracelog.shutdown()``, as
``rows.py``'s queue rows do, and prints the medians over the rounds of:

- caller wall: the calls' wall time (what ``rows.py`` calls the caller side);
- caller CPU: the calling thread's own CPU time (``time.thread_time_ns``), which the
  listener's work and other processes on the shared cores do not inflate;
- total wall: calls plus the drain in ``shutdown()``;
- total CPU: the process's CPU time over the same span, every thread included: the
  work queue mode does in all, which noise from other processes does not inflate.

All per call, in ns, with the ratios to direct mode. Then the stdlib caller's floor, in
CPU time: ``logging``'s own work for the same call (``Logger.info``, ``findCaller``, the
``LogRecord``, ``callHandlers``) with a root handler that does nothing, next to stdlib
with a plain ``%(message)s`` ``StreamHandler`` (the issue's reference for the direct
stdlib path). ``--profile`` adds a cProfile of the caller side and one of the listener
thread's drain, per path.
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import statistics
import time
from typing import IO, TYPE_CHECKING, Any

from opentelemetry.sdk.trace import TracerProvider

import tracelog
from tracelog import _queue

if TYPE_CHECKING:
    from collections.abc import Callable

CALLS = 5000


def paths() -> dict[str, Callable[[], None]]:
    std = logging.getLogger("bench.queue")
    log = tracelog.get_logger("bench.queue")
    return {
        "structlog": lambda: log.info("order placed", order_id="A-1001"),
        "stdlib": lambda: std.info("order placed", extra={"order_id": "A-1001"}),
    }


def devnull() -> IO[Any]:
    return open(os.devnull, "w")  # noqa: PTH123 - kept open for the run


def one_round(call: Callable[[], None], *, queue: bool) -> tuple[float, float, float, float]:
    """(caller wall, caller CPU, total wall, total CPU) per call, in ns."""
    tracelog.configure(stream=devnull(), level="INFO", queue=queue)
    wall0, cpu0, proc0 = time.perf_counter_ns(), time.thread_time_ns(), time.process_time_ns()
    for _ in range(CALLS):
        call()
    wall1, cpu1 = time.perf_counter_ns(), time.thread_time_ns()
    tracelog.shutdown()
    wall2, proc2 = time.perf_counter_ns(), time.process_time_ns()
    return (
        (wall1 - wall0) / CALLS,
        (cpu1 - cpu0) / CALLS,
        (wall2 - wall0) / CALLS,
        (proc2 - proc0) / CALLS,
    )


def measure(rounds: int) -> None:
    names = ("caller wall", "caller CPU", "total wall", "total CPU")
    for path, call in paths().items():
        runs: dict[bool, list[tuple[float, ...]]] = {False: [], True: []}
        for r in range(rounds + 1):
            for queue in (r % 2 == 0, r % 2 == 1):
                result = one_round(call, queue=queue)
                if r:  # round 0 warms up
                    runs[queue].append(result)
        direct = [statistics.median(x[i] for x in runs[False]) for i in range(4)]
        queued = [statistics.median(x[i] for x in runs[True]) for i in range(4)]
        print(f"{path}: direct mode, per call")
        print("  " + ", ".join(f"{n} {v:.0f} ns" for n, v in zip(names, direct, strict=True)))
        print(f"{path}: queue mode, per call (ratio to direct mode's total of the same kind)")
        print(
            "  "
            + ", ".join(
                f"{n} {v:.0f} ns ({v / direct[2 + i % 2]:.2f}x)"
                for i, (n, v) in enumerate(zip(names, queued, strict=True))
            )
        )


class _Nothing(logging.Handler):
    """A handler that takes the record and does nothing: what logging costs by itself."""

    def handle(self, record: logging.LogRecord) -> bool:  # type: ignore[override]
        return True


def stdlib_floor(rounds: int) -> None:
    """logging's own cost of the benchmark call, next to a plain %(message)s handler."""
    tracelog.shutdown()
    call = paths()["stdlib"]
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    plain = logging.StreamHandler(devnull())
    plain.setFormatter(logging.Formatter("%(message)s"))
    handlers = {"logging alone (a handler that does nothing)": _Nothing(), "plain": plain}
    cpu: dict[str, list[float]] = {name: [] for name in handlers}
    try:
        root.setLevel(logging.INFO)
        for _ in range(rounds):
            for name, handler in handlers.items():
                root.handlers[:] = [handler]
                start = time.thread_time_ns()
                for _ in range(CALLS):
                    call()
                cpu[name].append((time.thread_time_ns() - start) / CALLS)
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
    floor, reference = (statistics.median(cpu[name]) for name in handlers)
    print("stdlib: the caller's floor, CPU per call")
    print(
        f"  logging alone {floor:.0f} ns; plain %(message)s handler {reference:.0f} ns; "
        f"floor / plain = {floor / reference:.2f}"
    )


def profile(calls: int) -> None:
    """cProfile the caller side, then the listener's drain of the same calls."""
    listener = cProfile.Profile()
    write_ready = _queue.TracelogQueueListener._write_ready

    def profiled(self: _queue.TracelogQueueListener, items: object) -> None:
        listener.enable()
        try:
            write_ready(self, items)  # type: ignore[arg-type]
        finally:
            listener.disable()

    _queue.TracelogQueueListener._write_ready = profiled  # type: ignore[method-assign]
    try:
        for path, call in paths().items():
            tracelog.configure(stream=devnull(), queue=True, queue_size=calls + 1)
            caller = cProfile.Profile()
            caller.enable()
            for _ in range(calls):
                call()
            caller.disable()
            tracelog.shutdown()
            print(f"\n### {path}: caller side ({calls} calls)")
            pstats.Stats(caller).sort_stats("tottime").print_stats(12)
            print(f"\n### {path}: listener thread")
            pstats.Stats(listener).sort_stats("tottime").print_stats(12)
            listener.clear()
    finally:
        _queue.TracelogQueueListener._write_ready = write_ready  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--profile", action="store_true", help="cProfile both sides too")
    args = parser.parse_args()
    tracer = TracerProvider().get_tracer("bench")
    with tracer.start_as_current_span("bench"):
        measure(args.rounds)
        stdlib_floor(args.rounds)
        if args.profile:
            profile(5000)


if __name__ == "__main__":
    main()
