"""Many threads, one file: ``python benchmarks/contention.py [--threads 16] [--lines 2000]``.

Each thread logs as fast as it can inside its own span, through tracelog's structlog and
stdlib paths, to one file on disk. The report gives the throughput (lines per second)
against the same lines written by one thread, and checks the file: every line must parse
(0 torn), carry its thread's span id, and be there (0 lost). The same is done for plain
``logging.StreamHandler`` (which holds a lock across write and flush) as the peer.

Target (issue 18): tracelog's throughput >= 0.8 of one thread's, 0 torn, 0 lost. Each
``os.write`` gives up the GIL; ``LineSink`` lets a thread that finds another one writing
hand it its line, and the writer writes what is pending in one ``os.write``, so threads
do not hand the GIL over once per line: the report counts ``write`` calls and context
switches per line of the threaded run.

``tracelog-structlog`` logs through the structlog path alone (``benchmarks/rows.py``).
``tracelog-queue`` is the same with ``configure(queue=True)``: one listener thread does
all the writing, so the logging threads never give up the GIL for I/O.
"""

from __future__ import annotations

import argparse
import logging
import resource
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from opentelemetry.sdk.trace import TracerProvider

import tracelog

if TYPE_CHECKING:
    from collections.abc import Callable

TRACER = TracerProvider().get_tracer("bench")


def run(kind: str, threads: int, lines: int, path: Path) -> tuple[float, int, int]:
    """Return (ns per line, lines written, torn or wrong lines)."""
    path.unlink(missing_ok=True)
    stream = path.open("a")
    plain = logging.getLogger("plain")
    plain.handlers[:] = []
    plain.propagate = False
    if kind.startswith("tracelog"):
        # redact=False: a random 16-hex span id can be all digits and Luhn-valid, which
        # redaction rightly takes for a card number; this test is about ids, not redaction.
        tracelog.configure(stream=stream, redact=False, queue=kind == "tracelog-queue")
    else:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(
            logging.Formatter('{"message":"%(message)s","spanId":"%(span)s","n":%(n)d}')
        )
        plain.addHandler(handler)
        plain.setLevel(logging.INFO)
    log, std = tracelog.get_logger("c"), logging.getLogger("c")
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        with TRACER.start_as_current_span("w") as span:
            sid = format(span.get_span_context().span_id, "016x")
            barrier.wait()
            for n in range(lines):
                if kind == "plain":
                    plain.info("line", extra={"span": sid, "n": n})
                elif n % 2 or kind == "tracelog-structlog":
                    log.info("line", expect=sid, n=n)
                else:
                    std.info("line", extra={"expect": sid, "n": n})

    elapsed = together(work, threads, barrier)
    tracelog.shutdown()
    stream.close()
    bad = written = 0
    for raw in path.read_bytes().splitlines():
        written += 1
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            bad += 1
            continue
        if kind.startswith("tracelog") and line["spanId"] != line["expect"]:
            bad += 1
    # Wall time per line over all threads. The GIL serialises the Python work, so with no
    # contention this equals the single-thread cost; waiting on locks shows as a ratio > 1.
    return elapsed / (threads * lines), written, bad


def busy(reps: int) -> int:
    """Pure-Python work with no logging and no I/O, *reps* times: a dict, a format, a
    few lookups (what a log line's Python part does, without tracelog)."""
    total = 0
    for n in range(reps):
        fields = {"message": "line", "n": n, "expect": "00f067aa0ba902b7"}
        text = f"{fields['message']} n={fields['n']} span={fields['expect']}"
        total += len(text) + len(fields)
    return total


def busy_reps(line_ns: float) -> int:
    """How many ``busy`` repetitions cost about *line_ns* in one thread (best of 5)."""
    reps = 1000
    best = min(_timed(lambda: busy(reps)) for _ in range(5))
    return max(1, round(line_ns * reps / best))


def _timed(fn: Callable[[], object]) -> int:
    start = time.perf_counter_ns()
    fn()
    return time.perf_counter_ns() - start


def busy_run(threads: int, units: int, reps: int) -> float:
    """Wall ns per unit of ``busy(reps)`` work, *units* units per thread in *threads*
    threads started together: the GIL's own cost of sharing, with no logging and no I/O."""
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        barrier.wait()
        for _ in range(units):
            busy(reps)

    return together(work, threads, barrier) / (threads * units)


def together(work: Callable[[], None], threads: int, barrier: threading.Barrier) -> int:
    """Run *work* in *threads* threads that each wait at *barrier* (sized one more, for
    this thread) before working; wall ns from the barrier's release to the last one's end."""
    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    start = time.perf_counter_ns()
    for w in workers:
        w.join()
    return time.perf_counter_ns() - start


def write_calls() -> float:
    """write() system calls this process made so far (Linux's /proc/self/io; else NaN)."""
    try:
        with Path("/proc/self/io").open() as counters:
            return next(float(x.split()[1]) for x in counters if x.startswith("syscw:"))
    except (OSError, StopIteration):
        return float("nan")


def context_switches() -> int:
    """Voluntary and involuntary context switches of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_nvcsw + usage.ru_nivcsw


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--lines", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contention.log"
        print(f"# {time.strftime('%Y-%m-%d')}, {args.threads} threads x {args.lines} lines")
        total = args.threads * args.lines
        for kind in ("tracelog-structlog", "tracelog", "tracelog-queue", "plain"):
            single, _, _ = run(kind, 1, total, path)
            writes, switches = write_calls(), context_switches()
            multi, written, bad = run(kind, args.threads, args.lines, path)
            writes, switches = write_calls() - writes, context_switches() - switches
            print(
                f"{kind:18} one thread {single:6.0f} ns/line  {args.threads} threads"
                f" {multi:6.0f} ns/line  throughput {single / multi:4.2f}x of one thread's"
                f"  lost {total - written}  torn/wrong {bad}"
                f"  write calls/line {writes / total:.3f}  context switches/line"
                f" {switches / total:.3f}"
            )
    print("target: tracelog throughput >= 0.8x of one thread's, 0 torn, 0 lost")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
