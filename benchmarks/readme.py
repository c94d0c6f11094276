"""Write the benchmark tables of docs/performance.md from one ``benchmarks/rows.py --json`` run.

    .venv/bin/python benchmarks/readme.py benchmarks/results.json [docs/performance.md]

Replaces what lies between the ``<!-- bench:begin -->`` and ``<!-- bench:end -->``
markers, so the numbers the docs show are always one run's, never copied by hand.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

BEGIN = "<!-- bench:begin -->"
END = "<!-- bench:end -->"


def number(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{value:.2f}{unit}"


def verdict(row: dict[str, Any]) -> str:
    if row["skipped"]:
        return f"skipped: {row['skipped']}"
    return "met" if row["met"] else "**not met**"


def rows_table(run: dict[str, Any]) -> list[str]:
    out = ["| case | measured | target | result | detail |", "|---|---|---|---|---|"]
    for row in run["rows"]:
        sense = "≤" if row["sense"] == "<=" else "≥"
        target = "-" if row["target"] is None else f"{sense} {row['target']:g}{row['unit']}"
        detail = row["detail"].replace("|", "\\|")
        case = row["row"].replace("|", "\\|")
        out.append(
            f"| {case} | {number(row['measured'], row['unit'])} "
            f"| {target} | {verdict(row)} | {detail} |"
        )
    return out


def groups_table(run: dict[str, Any]) -> list[str]:
    out = ["| group | case | ns per call (median) |", "|---|---|---|"]
    for group, cases in run["groups"].items():
        out.extend(f"| {group} | {case} | {ns:,.0f} |" for case, ns in cases.items())
    return out


def grep_table(grep: dict[str, Any]) -> list[str]:
    intro = (
        f"{grep['file_mib']:.0f} MiB of mixed-layout lines, page cache warm, median of "
        f"{grep['rounds']} runs each; the trace has {grep['trace_lines']} lines in the file, "
        f"and tracelog's output was byte-identical to them: {grep['identical']}."
    )
    out = [
        intro,
        "",
        "| command | wall s | CPU s | MiB/s | peak RSS MiB | lines printed |",
        "|---|---|---|---|---|---|",
    ]
    out.extend(
        f"| `{row['argv']}` | {row['wall_s']:.3f} | {row['cpu_s']:.3f} "
        f"| {grep['file_mib'] / row['wall_s']:,.0f} | {row['rss_mib']:.1f} | {row['lines']} |"
        for row in grep["commands"].values()
    )
    spent = ", ".join(f"{part} {cpu:.3f} s" for part, cpu in grep["profile"].items())
    out += ["", f"Where one `tracelog grep` process's CPU goes (best of 3 each): {spent}."]
    return out


def profile_tables(profiles: dict[str, list[dict[str, Any]]]) -> list[str]:
    out = [
        "Where a line's time goes, from the same run (`benchmarks/profile_line.py`: cProfile's",
        "own time per function, as a share of the whole call; cProfile's fixed cost per call",
        "makes small functions look bigger than they are):",
    ]
    for path, top in profiles.items():
        out += ["", f"| {path}: function | calls per line | share |", "|---|---|---|"]
        out.extend(
            f"| `{row['function']}` | {row['per_call']:.1f} | {row['share']:.1%} |" for row in top
        )
    return out


def redaction_table(parts: dict[str, float]) -> list[str]:
    out = [
        "Where redaction's time goes on the 32 KiB value with ':'/'=', from the same run",
        "(`benchmarks/profile_redaction.py`: `Redactor.text`, each gate, and each listed",
        "word's search in the folded text, best of 7 loops; the last rows: the 1 KiB value):",
        "",
        "| part | ns per call |",
        "|---|---|",
    ]
    out.extend(f"| {name.replace('|', '/')} | {ns:,.0f} |" for name, ns in parts.items())
    return out


def queue_table(runs: list[dict[str, Any]]) -> list[str]:
    out = [
        "Queue mode against direct mode, from the same run (`rows.py`'s `queue_rows`): each",
        "round's total CPU (both threads, until `shutdown()` wrote the last line) over direct",
        "mode's in the same round, median of the rounds; per round (medians): the garbage",
        "collector's runs (generation 0/1/2) and its CPU per line, the process's context",
        "switches, the lines the listener wrote while the caller was still calling, and the",
        'share of the total spent in `shutdown()`. "pinned": each round on one CPU, the',
        'rounds taking the CPUs in turn; "free": the threads on any CPU.',
        "",
        (
            "| path | calls per round | CPUs | total / direct | collector ns per line | "
            "collections | rounds with a full collection | context switches (direct) | "
            "written during the calls | in `shutdown()` | direct ns per line on each CPU |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        queued, direct = run["queue"], run["direct"]
        per_cpu = ", ".join(
            f"cpu {cpu}: {ns:,.0f}" for cpu, ns in sorted(run["direct_per_cpu"].items())
        )
        out.append(
            f"| {run['path']} | {run['calls']:,} | {'pinned' if run['pinned'] else 'free'} "
            f"| {run['ratio']:.2f}x | {queued['gc']:.0f} "
            f"| {queued['gen0']:.0f}/{queued['gen1']:.0f}/{queued['gen2']:.0f} "
            f"| {queued['full_rounds']} of {run['rounds']} "
            f"| {queued['switches']:.0f} ({direct['switches']:.0f}) | {queued['early']:,.0f} "
            f"| {queued['after']:.0%} | {per_cpu or '-'} |"
        )
    return out


BUDGET_TITLES = {
    "redaction.py": "Redaction on a typical event (`benchmarks/redaction.py`, message and "
    "3 short fields; budget 500 ns):",
    "sampling.py": "Sampling and the debug buffer (`benchmarks/sampling.py`; budgets: "
    "dropped ≤ 300 ns, buffered ≤ 1,500 ns):",
    "propagation.py": "Carrying the ids across hand-offs (`benchmarks/propagation.py`): "
    "`wrap()` per call, `extract_context`, and the WSGI middleware per request, next to "
    "OpenTelemetry's own:",
}


def budget_blocks(budgets: dict[str, str]) -> list[str]:
    out: list[str] = []
    for script, text in budgets.items():
        out += ["", BUDGET_TITLES.get(script, f"`benchmarks/{script}`:"), "", "```", text, "```"]
    return out


def instructions_table(counts: dict[str, dict[str, float]]) -> list[str]:
    """Per call, what callgrind counted (``benchmarks/instructions.py``), with the two
    line rows' ratios worked out in instructions as well as in time."""
    labels = list(next(iter(counts.values())))
    out = [
        (
            "Instructions per call, from the same run (`benchmarks/instructions.py`: each "
            "case under callgrind, its loop only, less an empty call's; the misses and "
            "mispredictions are callgrind's simulation of this CPU's caches and branch "
            "predictor):"
        ),
        "",
        "| case | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    out.extend(
        f"| {name} | "
        + " | ".join("-" if label not in events else f"{events[label]:,.0f}" for label in labels)
        + " |"
        for name, events in counts.items()
    )
    pairs = (
        ("stdlib path / `%(message)s`", "tracelog stdlib", "stdlib %(message)s"),
        ("structlog path / hand-written minimum", "tracelog structlog", "hand-written minimum"),
    )
    out += ["", "The line and bridge rows counted in instructions:", ""]
    for label, ours, theirs in pairs:
        if ours in counts and theirs in counts:
            ratio = counts[ours][labels[0]] / counts[theirs][labels[0]]
            out.append(f"- {label}: {ratio:.2f}x")
    raw = counts.get("bridge: raw span.add_event()", {}).get(labels[0])
    for path in ("structlog", "stdlib"):
        line = counts.get(f"bridge: {path} line", {}).get(labels[0])
        event = counts.get(f"bridge: {path} line + span event", {}).get(labels[0])
        if raw and line is not None and event is not None:
            out.append(
                f"- span-event bridge ({path}), cost beyond the line / raw `span.add_event()`: "
                f"{(event - line) / raw:.2f}x"
            )
    parts = (
        "tracelog stdlib",
        "stdlib dispatch alone (a handler that does nothing)",
        "tracelog's line alone (ids, encode, write)",
    )
    if all(name in counts for name in parts):
        whole, dispatch, line = (counts[name][labels[0]] for name in parts)
        out.append(
            f"- tracelog stdlib less stdlib's dispatch and tracelog's line alone (the "
            f"handler's glue): {whole - dispatch - line:,.0f} instructions, "
            f"{(whole - dispatch - line) / whole:.0%} of the call"
        )
        out.append(
            f"- stdlib's dispatch alone / tracelog stdlib (what a stdlib call costs its "
            f"caller before any handler, queue mode's included): {dispatch / whole:.2f}x"
        )
    return out


def section(run: dict[str, Any]) -> str:
    m = run["machine"]
    met = sum(1 for row in run["rows"] if row["met"])
    note = "<!-- written by benchmarks/readme.py from benchmarks/results.json by `make bench` -->"
    summary = (
        f"Run on {m['date']}: {m['cpu']}, {m['cores']} cores ({m['system']}), "
        f"Python {m['python']}. Each row is the median of {run['rounds']} rounds. "
        f"{met} of {len(run['rows'])} rows met their target in this run"
        + (f", which took {run['seconds']} s." if "seconds" in run else ".")
    )
    lines = [
        BEGIN,
        note,
        "",
        summary,
        "",
        *rows_table(run),
        "",
        "Per call, from the same run (inside one SDK span, lines to `/dev/null`):",
        "",
        *groups_table(run),
    ]
    if run.get("instructions"):
        lines += ["", *instructions_table(run["instructions"])]
    if run.get("queue"):
        lines += ["", *queue_table(run["queue"])]
    if run.get("profiles"):
        lines += ["", *profile_tables(run["profiles"])]
    if run.get("redaction"):
        lines += ["", *redaction_table(run["redaction"])]
    if run.get("budgets"):
        lines += [
            "",
            "The per-call budgets of the design, from the same run:",
            *budget_blocks(run["budgets"]),
        ]
    if run.get("grep"):
        lines += ["", "`tracelog grep` from the same run (`benchmarks/grep.py`):", ""]
        lines += grep_table(run["grep"])
    lines.append(END)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("readme", type=Path, nargs="?", default=Path("docs/performance.md"))
    args = parser.parse_args()
    run = json.loads(args.results.read_text())
    text = args.readme.read_text()
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        sys.exit(f"{args.readme}: needs one {BEGIN} and one {END} marker")
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    args.readme.write_text(head + section(run) + tail)
    print(f"{args.readme}: benchmark tables from {args.results} ({run['machine']['date']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
