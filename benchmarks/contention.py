"""Many threads, one file: ``python benchmarks/contention.py [--threads 8]``.

Each thread logs as fast as it can inside its own span, through tracelog's structlog and
stdlib paths, to one file on disk. The report gives the per-line cost against the same
run single-threaded, and checks the file: every line must parse (0 torn) and carry its
thread's span id. The same is done for plain ``logging.StreamHandler`` (which holds a
lock across write and flush) as the peer.

Target: tracelog <= 1.5x its single-thread per-line cost, 0 torn lines.

``tracelog-structlog`` logs through the structlog path alone (``benchmarks/rows.py``).
``tracelog-queue`` is the same with ``configure(queue=True)``: one listener thread does
all the writing, so the logging threads never give up the GIL for I/O.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
from pathlib import Path

import orjson
from opentelemetry.sdk.trace import TracerProvider

import tracelog

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

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    start = time.perf_counter_ns()
    for w in workers:
        w.join()
    elapsed = time.perf_counter_ns() - start
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--lines", type=int, default=5000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "contention.log"
        print(f"# {time.strftime('%Y-%m-%d')}, {args.threads} threads x {args.lines} lines")
        for kind in ("tracelog", "tracelog-queue", "plain"):
            single, _, _ = run(kind, 1, args.lines * 2, path)
            multi, written, bad = run(kind, args.threads, args.lines, path)
            print(
                f"{kind:9} single {single:7.0f} ns/line  {args.threads} threads {multi:7.0f}"
                f" ns/line  ratio {multi / single:4.2f}x  lines {written}  torn/wrong {bad}"
            )
    print("target: tracelog ratio <= 1.5x, 0 torn")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
