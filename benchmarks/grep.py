"""``tracelog grep`` next to ``grep -F`` and ``rg -F`` on one large file of mixed tracelog lines.

    .venv/bin/python benchmarks/grep.py                 # 256 MiB in a temp dir, deleted after
    .venv/bin/python benchmarks/grep.py --size 1G --file /tmp/big.jsonl   # kept for the next run

The file holds lines in every layout (default, otel, ecs, gcp, datadog, xray), their trace
fields written by the layouts' own ``Schema`` objects, with one trace's lines sprinkled
through it. Every command reads the same file from the page cache (one warm-up run each
first), in rotating rounds, and prints its lines to a pipe. The table shows each one's
median wall and CPU time (user + system, from ``os.wait4``), its peak RSS (``ru_maxrss``)
and the lines it printed. ``tracelog grep -j 1`` is one process; plain ``tracelog grep``
splits a file of 128 MiB or more between the idle CPUs (the CPUs less the 1-minute load
average, at most 4), so on a busy machine it is one process too.

Checks: tracelog's output must be byte-identical to the trace's lines in the file, which
``grep -F`` finds when given every spelling of the id (the hex tail and the Datadog
decimal): the same search as tracelog's prefilter, timed too. Plain ``grep -F`` and
``rg -F`` are given the hex id alone, as a person would type it, so they search for one
string and find only the lines that spell it in hex.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TARGET_EVERY = 50_000  # one line of the target trace per this many lines
MESSAGES = (
    "order placed",
    "charging card",
    "cache miss for product catalogue page",
    "request finished",
    "retrying upstream call after timeout",
    "inventory reserved for all items in basket",
)


def parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = text.strip().upper().removesuffix("IB").removesuffix("B")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def generate(path: Path, size: int, seed: int = 7) -> int:
    """Write *size* bytes of mixed-layout lines to *path*; return the target's line count."""
    import orjson

    from tracelog import TraceContext
    from tracelog.schemas import SCHEMA_NAMES, get_schema

    target = TraceContext.from_ints(int(TARGET_ID, 16), 0x00F067AA0BA902B7, 1)
    rng = random.Random(seed)  # noqa: S311 - ids for a test file
    schemas = [get_schema(name, gcp_project="shop") for name in SCHEMA_NAMES]
    written = targets = n = 0
    ts = 1_790_000_000.0
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    with path.open("wb") as out:
        batch: list[bytes] = []
        while written < size:
            n += 1
            ts += 0.000_37
            schema = schemas[n % len(schemas)]
            if n % TARGET_EVERY == 0:
                ctx = target
                targets += 1
            else:
                ctx = TraceContext.from_ints(rng.getrandbits(128), rng.getrandbits(64), 1)
            line = schema.head(ts, 20, "INFO", "shop.checkout", MESSAGES[n % len(MESSAGES)])
            schema.add_service(line, f"svc-{schema.name}")
            schema.add_trace(line, ctx)
            line.update(order_id=f"A-{n}", attempt=n % 5, region="eu-west-1")
            data = dumps(line, option=newline)
            batch.append(data)
            written += len(data)
            if len(batch) == 4096:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))
    return targets


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, bytes]:
    """Wall seconds, CPU seconds, peak RSS in MiB (of this child alone) and stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = proc.stdout.read()  # type: ignore[union-attr]
    err = proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()  # type: ignore[union-attr]
    proc.stderr.close()  # type: ignore[union-attr]
    if proc.returncode not in {0, 1}:
        sys.exit(f"{cmd[0]} failed ({proc.returncode}): {err.decode(errors='replace')}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out


def find_rg() -> str | None:
    """ripgrep from the bench dependency group (next to this Python), else on PATH."""
    beside = Path(sys.executable).with_name("rg")
    return str(beside) if beside.exists() else shutil.which("rg")


def cached_bytecode(cache: Path) -> dict[str, str]:
    """The environment for tracelog's runs: its modules' bytecode cached (in *cache*), as
    an installed package has it. Without this, where PYTHONDONTWRITEBYTECODE is set (as on
    this project's machines), every run compiles tracelog's modules from source."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    return env


def measure(path: Path, rounds: int, cache: Path) -> dict[str, object]:
    """Time every command on *path*; return the results as plain data (for --json)."""
    env = cached_bytecode(cache)
    grep = shutil.which("grep")
    if grep is None:
        sys.exit("grep not found on PATH")
    script = Path(sys.executable).with_name("tracelog")
    tracelog = [str(script)] if script.exists() else [sys.executable, "-m", "tracelog.cli"]
    # Every spelling of the id: the last 24 hex digits (hex, GCP, X-Ray) and the Datadog
    # decimal of the low 64 bits. Written out here, not imported, so that this process
    # stays small (see run()) and the check does not trust tracelog's own needles.
    spellings = ["-e", TARGET_ID[8:], "-e", str(int(TARGET_ID[16:], 16))]
    commands = {
        "tracelog grep -j 1": [*tracelog, "grep", "-j", "1", TARGET_ID, str(path)],
        "tracelog grep": [*tracelog, "grep", TARGET_ID, str(path)],
        "grep -F": [grep, "-F", TARGET_ID, str(path)],
        # The same search as tracelog's prefilter: both spellings, so every trace line.
        "grep -F, both spellings": [grep, "-F", *spellings, str(path)],
    }
    rg = find_rg()
    if rg is not None:
        commands["rg -F"] = [rg, "-F", TARGET_ID, str(path)]
    expected = run(commands["grep -F, both spellings"])[3]
    for cmd in commands.values():
        run(cmd, env)  # warm the page cache, each program's files and tracelog's bytecode
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    rss = dict.fromkeys(commands, 0.0)
    lines: dict[str, int] = {}
    identical = True
    names = list(commands)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            wall, cpu, peak, out = run(commands[name], env)
            walls[name].append(wall)
            cpus[name].append(cpu)
            rss[name] = max(rss[name], peak)
            lines[name] = out.count(b"\n")
            if name.startswith("tracelog") and out != expected:
                identical = False
    return {
        "profile": profile(path, tracelog, sys.executable, env),
        "file_mib": path.stat().st_size / (1 << 20),
        "rounds": rounds,
        "trace_lines": expected.count(b"\n"),
        "identical": identical,
        "rg": rg is not None,
        "commands": {
            name: {
                "argv": " ".join([Path(cmd[0]).name, *cmd[1:-1], "FILE"]),
                "wall_s": statistics.median(walls[name]),
                "cpu_s": statistics.median(cpus[name]),
                "rss_mib": rss[name],
                "lines": lines[name],
            }
            for name, cmd in commands.items()
        },
    }


PASSES = """
import resource, sys
def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime
from tracelog.cli import scan
from tracelog.cli.ids import parse_trace_id
needles = scan.Matcher(parse_trace_id(sys.argv[2])).needles
def one_pass(search):
    buf = bytearray(scan.BUFFER_SIZE)
    view = memoryview(buf)
    find = scan._finder(buf)
    start = cpu()
    with open(sys.argv[1], "rb", buffering=0) as f:
        while n := f.readinto(buf):
            for needle in search:
                find(needle, 0, n)
    view.release()
    return cpu() - start
read = min(one_pass(()) for _ in range(3))
each = [min(one_pass((needle,)) for _ in range(3)) - read for needle in needles]
print(read, *each)
"""


def first_target_line(path: Path) -> bytes:
    """The first line of *path* that holds the target's hex tail."""
    tail = TARGET_ID[8:].encode()
    with path.open("rb") as f:
        for line in f:
            if tail in line:
                return line
    sys.exit("the file holds no line of the target trace")


def profile(path: Path, tracelog: list[str], python: str, env: dict[str, str]) -> dict[str, float]:
    """Where one ``tracelog grep -j 1`` process's CPU goes (best of 5 runs each).

    Whole runs tell the fixed costs apart: the bare interpreter; the start-up to the scan
    (imports, arguments, the id, exit) as a run on an empty file less the interpreter; the
    JSON decoder's import (at the first candidate line) as a run on a one-line file less
    that. In one process: reading the file into the buffer, and one ``memmem`` pass per
    spelling of the id. The rest is the whole run less all of these: the per-chunk and
    per-line work in Python and the output.
    """

    def best(cmd: list[str]) -> float:
        return min(run(cmd, env)[1] for _ in range(5))

    grep = [*tracelog, "grep", "-j", "1", TARGET_ID]
    with tempfile.TemporaryDirectory(prefix="tracelog-grep-profile-") as tmp:
        one = Path(tmp) / "one.jsonl"
        one.write_bytes(first_target_line(path))
        bare = best([python, "-c", "pass"])
        empty = best([*grep, os.devnull])
        one_line = best([*grep, str(one)])
    whole = best([*grep, str(path)])
    out = subprocess.run(
        [python, "-c", PASSES, str(path), TARGET_ID],
        capture_output=True,
        check=True,
        text=True,
        env=env,
    ).stdout.split()
    read, *passes = (float(x) for x in out)
    spent = {
        "interpreter": bare,
        "start-up to the scan": empty - bare,
        "JSON decoder import": one_line - empty,
        "read": read,
        **{f"memmem pass {i + 1}": cpu for i, cpu in enumerate(passes)},
    }
    spent["rest"] = whole - sum(spent.values())
    spent["whole -j 1 run"] = whole
    return spent


def report(result: dict[str, object]) -> None:
    commands: dict[str, dict[str, float]] = result["commands"]  # type: ignore[assignment]
    print(
        f"# {time.strftime('%Y-%m-%d')} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {result['file_mib']:.0f} MiB file, "
        f"median of {result['rounds']}"
    )
    print(f"{'command':<20}{'wall s':>8}{'CPU s':>8}{'MiB/s':>8}{'peak RSS MiB':>14}{'lines':>7}")
    for name, row in commands.items():
        mib_s = result["file_mib"] / row["wall_s"]  # type: ignore[operator]
        print(
            f"{name:<20}{row['wall_s']:>8.3f}{row['cpu_s']:>8.3f}{mib_s:>8.0f}"
            f"{row['rss_mib']:>14.1f}{row['lines']:>7}"
        )
    spent: dict[str, float] = result["profile"]  # type: ignore[assignment]
    print(
        "one tracelog process's CPU (best of 5): "
        + ", ".join(f"{k} {v:.3f} s" for k, v in spent.items())
    )
    print(
        f"the trace's lines in the file: {result['trace_lines']}; tracelog's output "
        f"byte-identical to them: {result['identical']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="256M", help="file size, e.g. 1G (default 256M)")
    parser.add_argument("--file", type=Path, default=None, help="keep the file here (reused)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = parse_size(args.size)
    if args.generate_only:
        generate(args.file, size)
        return
    with tempfile.TemporaryDirectory(prefix="tracelog-grep-bench-") as tmp:
        path = args.file or Path(tmp) / "mixed.jsonl"
        if not path.exists() or path.stat().st_size < size:
            start = time.perf_counter()
            # In a child: a command's ru_maxrss starts at the RSS of the process that
            # forks it, so this one stays small (it never imports the SDK).
            cmd = [sys.executable, __file__, "--generate-only", "--size", str(size)]
            subprocess.run([*cmd, "--file", str(path)], check=True)
            print(
                f"generated {path.stat().st_size >> 20} MiB in {time.perf_counter() - start:.1f} s"
            )
        result = measure(path, args.rounds, Path(tmp) / "pycache")
    report(result)
    if args.json is not None:
        import json

        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
