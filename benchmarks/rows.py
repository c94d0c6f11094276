"""Issue 18's table: every row a ratio measured in this run, next to its target.

    make bench     # or: .venv/bin/python benchmarks/rows.py [--rounds 9] [--json PATH]

Each row times tracelog next to its peer in one process, in rounds that rotate through
the row's cases (so drift and noise hit all of them alike), and takes the median of the
rounds. Absolute times on a shared 2-core machine mean little; the ratios are what the
targets are stated in. Rows whose work is all in the calling thread are timed in that
thread's CPU time (``time.thread_time_ns``), which other processes on the shared cores
do not inflate; the queue rows in CPU time too (the caller's thread for its side, the
whole process for the total work); the threads and grep rows, where waiting is part of
the cost, in wall time. The cases are the ones the other scripts here time
(``overhead.py``, ``contention.py``, ``bridge.py``, ``grep.py``); this script runs them
with the row's inputs. ``--json`` writes the run for ``benchmarks/readme.py``, which
turns it into the README's tables.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import bridge
import contention
import instructions
import overhead
import profile_line
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

import tracelog
from tracelog import _state

if TYPE_CHECKING:
    from collections.abc import Callable

HERE = Path(__file__).resolve().parent


@dataclass
class Row:
    """One line of the table: measured against target, and whether it was met."""

    row: str
    measured: float | None
    target: float | None
    sense: str  # "<=" or ">=": which side of the target meets it
    unit: str = "x"
    detail: str = ""
    skipped: str | None = None

    @property
    def met(self) -> bool | None:
        if self.measured is None or self.target is None:
            return None
        ok = self.measured <= self.target if self.sense == "<=" else self.measured >= self.target
        return ok and "FAILED" not in self.detail


def text_value(size: int, *, separators: bool) -> str:
    """Log-like text of *size* characters; with *separators*, ``:`` and ``=`` in it
    (times, URLs, ``key=value``), none of them a secret."""
    words = ["request", "handled", "cache", "warm", "region", "eu", "west", "retry", "upstream"]
    if separators:
        words += ["at 10:32:07", "status=200", "https://shop.example/cart?id=7", "took=12ms"]
    rng = itertools.cycle(words)
    parts: list[str] = []
    length = 0
    while length < size:
        word = next(rng)
        parts.append(word)
        length += len(word) + 1
    return " ".join(parts)[:size]


def value_case(text: str, *, redact: bool) -> overhead.Scoped:
    """A line with one long string value, new on every call (as production values are)."""
    stream = overhead.devnull_text()
    log = tracelog.get_logger("bench")
    counter = itertools.count()

    def call() -> None:
        log.info("order placed", order_id="A-1001", body=f"{next(counter):08d} {text}")

    def enter() -> None:
        tracelog.configure(stream=stream, level="INFO", redact=redact)

    return overhead.Scoped(call, enter, lambda: None)


def ratio(result: dict[str, float], a: str, b: str) -> float:
    return result[a] / result[b]


def ns(result: dict[str, float], *names: str) -> str:
    return ", ".join(f"{name} {result[name]:.0f} ns" for name in names)


def line_rows(rounds: int, calls: int, groups: dict[str, dict[str, float]]) -> list[Row]:
    """Value size, field count, the benchmark line on both paths."""
    rows: list[Row] = []
    values = {
        "32 KiB": text_value(32 << 10, separators=False),
        "32 KiB with ':'/'='": text_value(32 << 10, separators=True),
        "1 KiB with ':'/'='": text_value(1 << 10, separators=True),
    }
    targets = {"32 KiB": 2.0, "32 KiB with ':'/'='": 2.0, "1 KiB with ':'/'='": 1.3}
    for label, text in values.items():
        cases: dict[str, overhead.Case] = {
            "redaction on": value_case(text, redact=True),
            "redaction off": value_case(text, redact=False),
        }
        result = run_cases(cases, rounds, calls)
        groups[f"value {label}"] = result
        rows.append(
            Row(
                f"{label} string value: redaction on / off (structlog path)",
                ratio(result, "redaction on", "redaction off"),
                targets[label],
                "<=",
                detail=ns(result, "redaction on", "redaction off"),
            )
        )
    tracelog.configure(stream=overhead.devnull_text(), level="INFO")
    cases = {
        "tracelog, 20 fields": overhead.tracelog_structlog(20),
        "structlog recipe, 20 fields": overhead.structlog_recipe(20),
        "tracelog, 0 fields": overhead.tracelog_structlog(0),
        "structlog recipe, 0 fields": overhead.structlog_recipe(0),
    }
    result = run_cases(cases, rounds, calls)
    groups["fields"] = result
    zero = ratio(result, "tracelog, 0 fields", "structlog recipe, 0 fields")
    rows.append(
        Row(
            "20 fields: tracelog / structlog OTel recipe",
            ratio(result, "tracelog, 20 fields", "structlog recipe, 20 fields"),
            0.5,
            "<=",
            detail=f"0 fields: {zero:.2f}x",
        )
    )
    cases = {
        "hand-written minimum": overhead.hand_minimum(),
        "tracelog structlog": overhead.tracelog_structlog(),
        "tracelog stdlib": overhead.tracelog_stdlib(),
        "stdlib %(message)s": overhead.stdlib_message_only(),
        "structlog OTel recipe": overhead.structlog_recipe(),
        "stdlib dispatch alone (a handler that does nothing)": overhead.stdlib_dispatch(),
        "tracelog's line alone (ids, encode, write)": overhead.tracelog_line_alone(),
    }
    peer = overhead.pythonjsonlogger_otel()
    if peer is not None:
        cases["python-json-logger orjson + OTel ids"] = peer
    result = run_cases(cases, rounds, calls)
    groups["benchmark line"] = result
    rows.append(
        Row(
            "structlog path, benchmark line / hand-written minimum",
            ratio(result, "tracelog structlog", "hand-written minimum"),
            1.0,
            "<=",
            detail=ns(result, "tracelog structlog", "hand-written minimum"),
        )
    )
    rows.append(
        Row(
            "stdlib path, benchmark line / stdlib `%(message)s`",
            ratio(result, "tracelog stdlib", "stdlib %(message)s"),
            1.3,
            "<=",
            detail=ns(result, "tracelog stdlib", "stdlib %(message)s"),
        )
    )
    name = "python-json-logger orjson + OTel ids"
    rows.append(
        Row(
            "stdlib path, benchmark line / python-json-logger orjson + OTel ids",
            ratio(result, "tracelog stdlib", name) if name in result else None,
            0.6,
            "<=",
            skipped=None if name in result else "opentelemetry-instrumentation-logging missing",
        )
    )
    return rows


def run_cases(cases: dict[str, overhead.Case], rounds: int, calls: int) -> dict[str, float]:
    """Median ns per call of each case, inside one active SDK span.

    A round of the slowest case is kept near 100 ms (at least 10 calls), so that a case
    costing milliseconds per call does not stretch the run to minutes.
    """
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    slowest = 0.0
    with provider.get_tracer("bench").start_as_current_span("bench"):
        for fn in cases.values():  # warm caches, and find the slowest case
            if isinstance(fn, overhead.Scoped):
                fn.enter()
            fn()
            start = time.perf_counter_ns()
            fn()
            each = time.perf_counter_ns() - start
            slowest = max(slowest, each)
            for _ in range(50 if each < 1_000_000 else 0):
                fn()
            if isinstance(fn, overhead.Scoped):
                fn.leave()
        calls = max(10, min(calls, int(100e6 / slowest)))
        return overhead.measure(cases, rounds, calls, time.thread_time_ns)


def thread_row(rounds: int) -> Row:
    """16 threads x 2,000 lines into one file, against one thread writing 32,000.

    In the same rounds, this machine's floor: the same 16-thread against one-thread
    throughput for pure-Python work of about a line's cost (``contention.busy``, scaled
    to one thread's line), with no logging and no I/O. What it loses is what CPython's
    GIL switching among 16 threads on these cores costs any Python code.
    """
    threads, lines = 16, 2000
    single: list[float] = []
    multi: list[float] = []
    busy: dict[int, list[float]] = {1: [], threads: []}
    lost = torn = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "threads.log"
        line_ns, _, _ = contention.run("tracelog-structlog", 1, lines, path)  # warm-up
        reps = contention.busy_reps(line_ns)
        for r in range(rounds):
            order = [1, threads] if r % 2 else [threads, 1]
            for count in order:
                per_line, written, bad = contention.run(
                    "tracelog-structlog", count, threads * lines // count, path
                )
                (single if count == 1 else multi).append(per_line)
                lost += threads * lines - written
                torn += bad
                busy[count].append(contention.busy_run(count, threads * lines // count, reps))
    tracelog.configure(stream=overhead.devnull_text(), level="INFO")
    # Throughput is lines per second: one thread's ns per line over the threads'.
    found = statistics.median(single) / statistics.median(multi)
    floor = statistics.median(busy[1]) / statistics.median(busy[threads])
    check = "" if lost == torn == 0 else " FAILED"
    return Row(
        f"{threads} threads x {lines:,} lines into one file: throughput / one thread's",
        found,
        0.8,
        ">=",
        detail=f"torn {torn}, lost {lost} over {rounds} rounds{check}; rounds "
        f"{spread(single, multi)}; this machine's floor, pure-Python work of about a line's "
        f"cost ({statistics.median(busy[1]):.0f} ns) with no logging and no I/O, in the same "
        f"rounds: {floor:.2f}x (rounds {spread(busy[1], busy[threads])})",
    )


def spread(single: list[float], multi: list[float]) -> str:
    """The lowest and highest of the rounds' throughput ratios (one thread's ns over
    the threads', round by round)."""
    found = [a / b for a, b in zip(single, multi, strict=True)]
    return f"{min(found):.2f}-{max(found):.2f}"


class _Collections:
    """The garbage collector's runs while it is installed: how many, and their CPU time
    (in the thread that ran each: the caller's or the listener's)."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.ns = 0
        self._start = 0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.thread_time_ns()
        else:
            self.ns += time.thread_time_ns() - self._start
            self.count[info["generation"]] += 1

    def __enter__(self) -> Self:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def queue_round(call: Callable[[], None], calls: int, *, queue: bool) -> dict[str, float]:
    """One round of *calls* calls and ``shutdown()``, direct or queue mode.

    Per call, in ns: ``caller`` (the calling thread's CPU during the calls), ``total``
    (the process's CPU, every thread, until ``shutdown()`` has written the last line),
    ``caller_wall`` and ``total_wall``, ``gc`` (the collector's CPU); per round: ``after``
    (the share of ``total`` spent in ``shutdown()``), ``early`` (lines the listener wrote
    before the last call returned: it ran alongside the caller), ``switches`` (the
    process's context switches), ``gen0``/``gen1``/``gen2`` (collections of each
    generation).
    """
    tracelog.configure(stream=overhead.devnull_text(), level="INFO", queue=queue)
    handler = _state.current.queue
    before = resource.getrusage(resource.RUSAGE_SELF)
    with _Collections() as collected:
        wall, cpu, proc = time.perf_counter_ns(), time.thread_time_ns(), time.process_time_ns()
        for _ in range(calls):
            call()
        mid_wall, mid_cpu, mid_proc = (
            time.perf_counter_ns(),
            time.thread_time_ns(),
            time.process_time_ns(),
        )
        early = 0 if handler is None else handler.handled
        tracelog.shutdown()  # queue mode: waits until the listener wrote all
        end_wall, end_proc = time.perf_counter_ns(), time.process_time_ns()
    after = resource.getrusage(resource.RUSAGE_SELF)
    switches = sum(getattr(after, f) - getattr(before, f) for f in ("ru_nvcsw", "ru_nivcsw"))
    return {
        "caller": (mid_cpu - cpu) / calls,
        "total": (end_proc - proc) / calls,
        "caller_wall": (mid_wall - wall) / calls,
        "total_wall": (end_wall - wall) / calls,
        "gc": collected.ns / calls,
        "after": (end_proc - mid_proc) / max(1, end_proc - proc),
        "early": early,
        "switches": switches,
        "gen0": collected.count[0],
        "gen1": collected.count[1],
        "gen2": collected.count[2],
    }


def queue_medians(
    call: Callable[[], None], rounds: int, calls: int, *, pinned: bool = True
) -> dict[str, Any]:
    """Direct and queue mode's medians over *rounds* rounds of every figure
    ``queue_round`` takes, and ``ratio``: the median over the rounds of queue mode's
    total over direct mode's in the same round.

    One warm-up round of each mode comes first, and the rounds alternate which mode goes
    first. *pinned*: each round runs on one CPU, both modes and both of queue mode's
    threads (the listener inherits the caller's affinity), pairs of rounds taking the
    CPUs in turn (so that each CPU sees both orders). On this shared virtual machine the
    two vCPUs at times run the same code at different speeds (``direct_per_cpu``: direct
    mode's median on each), and unpinned, a listener scheduled on the slower vCPU counts
    the same work as more CPU time than direct mode's caller does on the faster one (or
    less, on the faster): a swing from run to run that is not in the work.
    """
    cpus = sorted(os.sched_getaffinity(0)) if pinned and hasattr(os, "sched_setaffinity") else []
    saved = os.sched_getaffinity(0) if cpus else set()
    samples: dict[bool, list[dict[str, float]]] = {False: [], True: []}
    on_cpu: dict[int, list[float]] = {}
    ratios: list[float] = []
    try:
        for r in range(rounds + 1):
            cpu = cpus[r // 2 % len(cpus)] if cpus else -1
            if cpus:
                os.sched_setaffinity(0, {cpu})
            found = {
                queue: queue_round(call, calls, queue=queue) for queue in (r % 2 == 0, r % 2 == 1)
            }
            if r:  # round 0 warms up
                for queue, figures in found.items():
                    samples[queue].append(figures)
                ratios.append(found[True]["total"] / found[False]["total"])
                if cpus:
                    on_cpu.setdefault(cpu, []).append(found[False]["total"])
    finally:
        if cpus:
            os.sched_setaffinity(0, saved)
    direct, queued = (
        {key: statistics.median(s[key] for s in samples[mode]) for key in samples[mode][0]}
        for mode in (False, True)
    )
    for mode, medians in ((False, direct), (True, queued)):
        # The rounds with a full collection, and the slowest round's total over the median.
        medians["full_rounds"] = sum(1 for s in samples[mode] if s["gen2"])
        medians["worst"] = max(s["total"] for s in samples[mode]) / medians["total"]
    return {
        "direct": direct,
        "queue": queued,
        "rounds": rounds,
        "ratio": statistics.median(ratios),
        "pinned": bool(cpus),
        "direct_per_cpu": {cpu: statistics.median(v) for cpu, v in on_cpu.items()},
    }


# The structlog path's extra runs in the queue table, each round on one CPU: fewer calls
# per round than half the queue (the listener drains in shutdown()), and more (it runs
# alongside the caller).
QUEUE_SWEEP = (1000, 20_000)


def queue_rows(rounds: int, calls: int, table: list[dict[str, Any]] | None = None) -> list[Row]:
    """configure(queue=True) against direct mode: the caller's cost, and the total work.

    Both in CPU time, which other processes on the shared cores do not inflate. The
    caller's in the calling thread's (``time.thread_time_ns``), with the threads free to
    run on any CPU (as the app's would). The total in the process's, every thread
    included (the listener's rendering and writing), from the first call until
    ``shutdown()`` has written the last line, with each round on one CPU (see
    ``queue_medians``: CPU time on two vCPUs of different speed is not the same amount
    of work), the ratio the median of the rounds' ratios. Each mode's listener start-up
    (in ``configure()``) is outside the timed span, and a warm-up round of each mode
    comes first. Wall-clock ratios are in the detail, with the garbage collector's
    share: queued events live until the listener takes them, so the collector counts
    them and runs, where direct mode frees each line's objects at once. Into *table*,
    for ``benchmarks/readme.py``: every run (each path free and pinned, the structlog
    path pinned at the other numbers of calls per round in ``QUEUE_SWEEP``), with the
    collections, context switches, lines the listener wrote while the caller was still
    calling, and the share of the total spent in ``shutdown()``.
    """
    std = __import__("logging").getLogger("bench.queue")
    log = tracelog.get_logger("bench.queue")
    paths = {
        "structlog": lambda: log.info("order placed", order_id="A-1001"),
        "stdlib": lambda: std.info("order placed", extra={"order_id": "A-1001"}),
    }
    rows: list[Row] = []
    provider = TracerProvider()
    runs: list[dict[str, Any]] = []
    with provider.get_tracer("bench").start_as_current_span("bench"):
        for path_name, call in paths.items():
            free, pinned = (
                {"path": path_name, "calls": calls, **queue_medians(call, rounds, calls, pinned=p)}
                for p in (False, True)
            )
            runs += [free, pinned]
            rows += queue_path_rows(path_name, free, pinned)
        sweep = paths["structlog"]
        runs += [
            {"path": "structlog", "calls": count, **queue_medians(sweep, rounds, count)}
            for count in QUEUE_SWEEP
        ]
    if table is not None:
        table.extend(runs)
    tracelog.configure(stream=overhead.devnull_text(), level="INFO")
    return rows


def queue_path_rows(path_name: str, free: dict[str, Any], pinned: dict[str, Any]) -> list[Row]:
    """The caller-side row (from the *free* run) and the total row (from the *pinned*)."""
    direct, queued = free["direct"], free["queue"]
    caller = Row(
        f"queue mode ({path_name}): caller side / direct",
        queued["caller"] / direct["total"],
        0.5,
        "<=",
        detail=f"direct {direct['total']:.0f} ns, queue caller {queued['caller']:.0f} "
        f"ns CPU; wall clock {queued['caller_wall'] / direct['total_wall']:.2f}x",
    )
    direct, queued = pinned["direct"], pinned["queue"]
    total = Row(
        f"queue mode ({path_name}): total work / direct",
        pinned["ratio"],
        1.2,
        "<=",
        detail=f"queue total {queued['total']:.0f} ns CPU, both threads, each round on one "
        f"CPU (threads on any CPU: {free['ratio']:.2f}x); "
        f"wall clock {queued['total_wall'] / direct['total_wall']:.2f}x; "
        f"garbage collector {queued['gc']:.0f} ns per line (direct {direct['gc']:.0f} ns)",
    )
    return [caller, total]


def bridge_rows(rounds: int, groups: dict[str, dict[str, float]]) -> list[Row]:
    """The span-event bridge's cost beyond the line, against a raw span.add_event()."""
    from tracelog.bridge import Bridge

    tracer = TracerProvider(resource=Resource.create({"service.name": "bench"})).get_tracer("b")
    cases = {
        **bridge.span_event_cases(),
        "stdlib handler, one reused LogRecord": bridge.reused_record_case(),
        "stdlib handler, one reused LogRecord + span event": bridge.reused_record_case(Bridge()),
    }
    bridge.measure(cases, tracer, 2, 20)  # warm caches
    samples = bridge.measure(cases, tracer, rounds, 100, time.thread_time_ns)
    result = {name: statistics.median(values) for name, values in samples.items()}
    groups["bridge"] = result
    tracelog.configure(stream=overhead.devnull_text(), level="INFO")
    raw = result["raw span.add_event()"]
    rows = []
    for framework in ("structlog", "stdlib"):
        extra = result[f"{framework} line + span event"] - result[f"{framework} line"]
        rows.append(
            Row(
                f"span-event bridge ({framework}), cost beyond the line / raw add_event",
                extra / raw,
                1.3,
                "<=",
                detail=f"extra {extra:.0f} ns, raw add_event {raw:.0f} ns",
            )
        )
    return rows


def grep_rows(rounds: int, size: str) -> tuple[list[Row], dict[str, object]]:
    """benchmarks/grep.py in a child process (so the RSS it reports is the commands' own)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "grep.json"
        cmd = [sys.executable, str(HERE / "grep.py"), "--size", size, "--rounds", str(rounds)]
        subprocess.run([*cmd, "--json", str(out)], check=True)
        result = json.loads(out.read_text())
    commands = result["commands"]
    one, default, grep, both = (
        commands["tracelog grep -j 1"],
        commands["tracelog grep"],
        commands["grep -F"],
        commands["grep -F, both spellings"],
    )
    check = "" if result["identical"] else " FAILED: output differs"
    rows = [
        Row(
            "`tracelog grep`, one process (-j 1): speed / `grep -F`",
            grep["wall_s"] / one["wall_s"],
            1.0,
            ">=",
            detail=f"wall {one['wall_s']:.3f} s vs {grep['wall_s']:.3f} s; "
            f"CPU {one['cpu_s']:.3f} s vs {grep['cpu_s']:.3f} s; the same search as "
            f"tracelog's (`grep -F -e <hex tail> -e <decimal>`): {both['wall_s']:.3f} s, "
            f"so {both['wall_s'] / one['wall_s']:.2f}x{check}",
        )
    ]
    rg = commands.get("rg -F")
    rows.append(
        Row(
            "`tracelog grep` (default jobs): speed / `rg -F`",
            None if rg is None else rg["wall_s"] / default["wall_s"],
            1.0,
            ">=",
            detail="" if rg is None else f"wall {default['wall_s']:.3f} s vs {rg['wall_s']:.3f} s",
            skipped="rg not installed (the bench dependency group has it)" if rg is None else None,
        )
    )
    rows.append(
        Row(
            "`tracelog grep` peak RSS",
            max(one["rss_mib"], default["rss_mib"]),
            64.0,
            "<=",
            unit=" MiB",
            detail=f"output byte-identical to the trace's lines: {result['identical']}",
        )
    )
    return rows, result


def redaction_parts() -> dict[str, float]:
    """``Redactor.text``, each of its gates and each word search on the 32 KiB value with
    ``:``/``=`` (``benchmarks/profile_redaction.py``), and the main parts on the 1 KiB
    one, in ns per call."""
    import profile_redaction

    from tracelog.redact import Redactor

    redactor = Redactor()
    found = profile_redaction.parts(redactor, text_value(32 << 10, separators=True))
    timed = {name.strip(): profile_redaction.best_ns(fn, 100) for name, fn in found.items()}
    # The 1 KiB row's value: the whole call and the two gates that decide its cost.
    small = profile_redaction.parts(redactor, text_value(1 << 10, separators=True))
    for name in (
        "Redactor.text",
        "gate: the fold (one translate pass)",
        "gate: listed words in the fold",
    ):
        timed[f"1 KiB value: {name}"] = profile_redaction.best_ns(small[name], 1000)
    return timed


def budget_scripts() -> dict[str, str]:
    """The output of the scripts behind the docs' other figures: DESIGN.md's per-call
    budgets (redaction, sampling and the debug buffer) and what carrying the ids across
    hand-offs costs (``docs/propagation.md``), each run in a child process."""
    found = {}
    for script in ("redaction.py", "sampling.py", "propagation.py"):
        done = subprocess.run(
            [sys.executable, str(HERE / script)], capture_output=True, text=True, check=True
        )
        found[script] = done.stdout.strip()
    return found


def line_profiles() -> dict[str, list[dict[str, object]]]:
    """Where a line's time goes, per path: cProfile's own time by function."""
    found = {name: profile_line.profile(call) for name, call in profile_line.cases().items()}
    tracelog.configure(stream=overhead.devnull_text(), level="INFO")
    return found


def machine() -> dict[str, object]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:  # not Linux
        pass
    return {
        "date": time.strftime("%Y-%m-%d"),
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.machine()}",
    }


def print_rows(rows: list[Row]) -> None:
    print(f"{'row':78} {'measured':>10} {'target':>9}  result")
    for row in rows:
        measured = "-" if row.measured is None else f"{row.measured:.2f}{row.unit}"
        target = "-" if row.target is None else f"{row.sense} {row.target:g}{row.unit}"
        result = f"skipped: {row.skipped}" if row.skipped else ("met" if row.met else "NOT MET")
        print(f"{row.row:78} {measured:>10} {target:>9}  {result}")
        if row.detail:
            print(f"{'':4}{row.detail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="rounds per row (median)")
    parser.add_argument("--calls", type=int, default=5000, help="calls per case per round")
    parser.add_argument(
        "--grep-size", default="1G", help="the grep rows' file size (the issue's 1 GiB)"
    )
    parser.add_argument("--json", type=Path, default=None, help="write the run here")
    parser.add_argument(
        "--only", default=None, help="comma-separated: lines,threads,queue,bridge,grep"
    )
    args = parser.parse_args()
    if args.rounds < 7:
        parser.error("--rounds must be at least 7 (the rows are medians of 7 or more)")
    wanted = set((args.only or "lines,threads,queue,bridge,grep").split(","))
    started = time.perf_counter()
    rows: list[Row] = []
    groups: dict[str, dict[str, float]] = {}
    grep: dict[str, object] | None = None
    queue_table: list[dict[str, Any]] = []
    if "lines" in wanted:
        rows += line_rows(args.rounds, args.calls, groups)
    if "threads" in wanted:
        rows.append(thread_row(args.rounds))
    if "queue" in wanted:
        rows += queue_rows(args.rounds, args.calls, queue_table)
    if "bridge" in wanted:
        rows += bridge_rows(args.rounds, groups)
    if "grep" in wanted:
        found, grep = grep_rows(args.rounds, args.grep_size)
        rows += found
    profiles = line_profiles() if "lines" in wanted else {}
    redaction = redaction_parts() if "lines" in wanted else {}
    budgets = budget_scripts() if "lines" in wanted else {}
    counted = instructions.counts() if "lines" in wanted else None
    tracelog.shutdown()
    info = machine()
    print(
        f"# {info['date']} {info['cpu']}, {info['cores']} cores, Python {info['python']}; "
        f"median of {args.rounds} rounds; {time.perf_counter() - started:.0f} s"
    )
    print_rows(rows)
    if args.json is not None:
        run = {
            "machine": info,
            "rounds": args.rounds,
            "calls": args.calls,
            "seconds": round(time.perf_counter() - started),
            "rows": [{**asdict(row), "met": row.met} for row in rows],
            "groups": groups,
            "grep": grep,
            "queue": queue_table,
            "profiles": profiles,
            "redaction": redaction,
            "budgets": budgets,
            "instructions": counted,
        }
        args.json.write_text(json.dumps(run, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
