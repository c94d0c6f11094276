"""``tracelog grep`` next to ``grep -F <hex id>`` on one large file of mixed tracelog lines.

    .venv/bin/python benchmarks/grep.py               # 1 GiB in /tmp, kept for the next run
    .venv/bin/python benchmarks/grep.py --size 128M   # a smaller file while iterating

The file holds lines in every layout (default, otel, ecs, gcp, datadog, xray), written by
tracelog's own line encoder, with one trace's lines sprinkled through it. Both commands
read the same file, from the page cache (one warm-up read first), in rotating rounds;
the table shows each one's best wall time, the speed ratio (grep's time / tracelog's,
the issue's target is >= 0.5) and tracelog's peak RSS (``ru_maxrss`` of the child, the
target is <= 64 MiB).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import subprocess
import sys
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
    from tracelog._context import TraceContext
    from tracelog._line import LineEncoder
    from tracelog.schemas import SCHEMA_NAMES, get_schema

    target = TraceContext(TARGET_ID, "00f067aa0ba902b7", "01")
    rng = random.Random(seed)  # noqa: S311 - ids for a test file
    encoders = [
        LineEncoder(get_schema(name, gcp_project="shop"), service=f"svc-{name}", redact=False)
        for name in SCHEMA_NAMES
    ]
    written = 0
    targets = 0
    n = 0
    ts = 1_790_000_000.0
    with path.open("wb") as out:
        batch: list[bytes] = []
        while written < size:
            n += 1
            ts += 0.000_37
            encoder = encoders[n % len(encoders)]
            if n % TARGET_EVERY == 0:
                ctx = target
                targets += 1
            else:
                ctx = TraceContext.from_ints(rng.getrandbits(128), rng.getrandbits(64), 1)
            fields = {"order_id": f"A-{n}", "attempt": n % 5, "region": "eu-west-1"}
            line = encoder.encode(
                ts, 20, "INFO", "shop.checkout", MESSAGES[n % len(MESSAGES)], ctx, None, fields
            )
            batch.append(line)
            written += len(line)
            if len(batch) == 4096:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))
    return targets


def count_target(path: Path) -> int:
    """The target's lines as the generator writes them: every TARGET_EVERY-th line."""
    with path.open("rb") as f:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    return lines // TARGET_EVERY


def run(cmd: list[str]) -> tuple[float, float, bytes]:
    """Wall seconds, peak RSS in MiB (``ru_maxrss`` of this child alone) and stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()  # type: ignore[union-attr]
    proc.stderr.close()  # type: ignore[union-attr]
    if proc.returncode not in {0, 1}:
        sys.exit(f"{cmd[0]} failed ({proc.returncode}): {err.decode(errors='replace')}")
    return elapsed, usage.ru_maxrss / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1G", help="file size, e.g. 1G, 256M (default 1G)")
    parser.add_argument("--file", type=Path, default=None, help="where to write the file")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--regenerate", action="store_true", help="rewrite an existing file")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = parse_size(args.size)
    path = args.file or Path("/tmp") / f"tracelog-grep-bench-{size}.jsonl"  # noqa: S108
    if args.generate_only:
        generate(path, size)
        return
    if args.regenerate or not path.exists() or path.stat().st_size < size:
        start = time.perf_counter()
        # In a child: a command's ru_maxrss starts at the RSS of the process that forked
        # it, so this one stays small (it never imports tracelog).
        cmd = [
            sys.executable,
            __file__,
            "--generate-only",
            "--size",
            str(size),
            "--file",
            str(path),
        ]
        subprocess.run(cmd, check=True)
        print(f"generated {path} in {time.perf_counter() - start:.1f} s")
    expected = count_target(path)
    grep = shutil.which("grep")
    if grep is None:
        sys.exit("grep not found on PATH")
    script = Path(sys.executable).with_name("tracelog")
    tracelog = [str(script)] if script.exists() else [sys.executable, "-m", "tracelog.cli"]
    commands = {
        "tracelog grep -c": [*tracelog, "grep", "-c", TARGET_ID, str(path)],
        "grep -F -c": [grep, "-F", "-c", TARGET_ID, str(path)],
    }
    for cmd in commands.values():
        run(cmd)  # warm the page cache and the interpreter's files
    best: dict[str, float] = dict.fromkeys(commands, float("inf"))
    rss: dict[str, float] = dict.fromkeys(commands, 0.0)
    counts: dict[str, str] = {}
    for _ in range(args.rounds):
        for name, cmd in commands.items():
            elapsed, peak, out = run(cmd)
            best[name] = min(best[name], elapsed)
            rss[name] = max(rss[name], peak)
            counts[name] = out.decode().strip()
    mib = path.stat().st_size / (1 << 20)
    print(
        f"# {time.strftime('%Y-%m-%d')} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {mib:.0f} MiB file, best of {args.rounds}"
    )
    print(f"{'command':<20}{'seconds':>9}{'MiB/s':>8}{'peak RSS MiB':>14}{'lines':>7}")
    for name in commands:
        print(
            f"{name:<20}{best[name]:>9.3f}{mib / best[name]:>8.0f}{rss[name]:>14.1f}"
            f"{counts[name]:>7}"
        )
    ratio = best["grep -F -c"] / best["tracelog grep -c"]
    print(f"tracelog's speed vs grep -F: {ratio:.2f}x (target >= 0.5x)")
    print(f"tracelog's peak RSS: {rss['tracelog grep -c']:.1f} MiB (target <= 64 MiB)")
    print(f"the trace's lines in the file: {expected} (grep -F finds the hex spelling only)")


if __name__ == "__main__":
    main()
