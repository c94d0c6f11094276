"""benchmarks/readme.py: the README's benchmark tables come from one run's JSON."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "readme.py"


def load() -> Any:
    spec = importlib.util.spec_from_file_location("bench_readme", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUN: dict[str, Any] = {
    "machine": {
        "date": "2026-12-02",
        "cpu": "Some CPU @ 2.60GHz",
        "cores": 2,
        "python": "3.11.7",
        "system": "Linux x86_64",
    },
    "rounds": 9,
    "calls": 5000,
    "seconds": 95,
    "rows": [
        {
            "row": "a | b",
            "measured": 0.4,
            "target": 0.5,
            "sense": "<=",
            "unit": "x",
            "detail": "x 1 ns",
            "skipped": None,
            "met": True,
        },
        {
            "row": "grep speed",
            "measured": 0.5,
            "target": 1.0,
            "sense": ">=",
            "unit": "x",
            "detail": "",
            "skipped": None,
            "met": False,
        },
        {
            "row": "rg",
            "measured": None,
            "target": 1.0,
            "sense": ">=",
            "unit": "x",
            "detail": "",
            "skipped": "rg not installed",
            "met": None,
        },
    ],
    "groups": {"fields": {"tracelog, 20 fields": 11725.4}},
    "grep": None,
}


class TestReadmeTables:
    def test_rows_are_written_with_target_and_verdict(self) -> None:
        """Each row shows its measured ratio, its target and met / not met / skipped."""
        text = load().section(RUN)
        lines = text.splitlines()
        assert "| a \\| b | 0.40x | ≤ 0.5x | met | x 1 ns |" in lines
        assert "| grep speed | 0.50x | ≥ 1x | **not met** |  |" in lines
        assert "| rg | - | ≥ 1x | skipped: rg not installed |  |" in lines
        assert "| fields | tracelog, 20 fields | 11,725 |" in lines
        assert "1 of 3 rows met their target in this run, which took 95 s." in text
        assert "Some CPU @ 2.60GHz, 2 cores (Linux x86_64), Python 3.11.7" in text

    def test_only_the_marked_section_is_replaced(self, tmp_path: Path) -> None:
        """The script rewrites what lies between the markers and leaves the rest as it was."""
        results = tmp_path / "results.json"
        results.write_text(json.dumps(RUN))
        readme = tmp_path / "README.md"
        readme.write_text("head\n<!-- bench:begin -->\nold\n<!-- bench:end -->\ntail\n")
        subprocess.run([sys.executable, SCRIPT, results, readme], check=True, capture_output=True)
        text = readme.read_text()
        assert "old" not in text
        assert text.startswith("head\n<!-- bench:begin -->\n")
        assert text.endswith("<!-- bench:end -->\ntail\n")
        assert "| grep speed | 0.50x |" in text

    def test_missing_markers_fail(self, tmp_path: Path) -> None:
        """A README without the markers is an error, not silently left stale."""
        results = tmp_path / "results.json"
        results.write_text(json.dumps(RUN))
        readme = tmp_path / "README.md"
        readme.write_text("no markers\n")
        proc = subprocess.run(
            [sys.executable, SCRIPT, results, readme], check=False, capture_output=True
        )
        assert 1 == proc.returncode
        assert "no markers\n" == readme.read_text()


QUEUE_FIGURES = {
    "gc": 121.6,
    "gen0": 10,
    "gen1": 1,
    "gen2": 0,
    "full_rounds": 1,
    "switches": 21,
    "early": 10014,
    "after": 0.684,
}


class TestQueueTable:
    def test_each_run_is_a_row(self) -> None:
        """Every queue run becomes a row: its ratio, collections, switches, CPUs."""
        run = {
            **RUN,
            "queue": [
                {
                    "path": "structlog",
                    "calls": 20000,
                    "pinned": True,
                    "rounds": 7,
                    "ratio": 1.084,
                    "queue": QUEUE_FIGURES,
                    "direct": {**QUEUE_FIGURES, "switches": 2},
                    "direct_per_cpu": {"0": 4216.2, "1": 7451.0},
                },
                {
                    "path": "stdlib",
                    "calls": 5000,
                    "pinned": False,
                    "rounds": 7,
                    "ratio": 0.9,
                    "queue": QUEUE_FIGURES,
                    "direct": QUEUE_FIGURES,
                    "direct_per_cpu": {},
                },
            ],
        }
        lines = load().section(run).splitlines()
        assert (
            "| structlog | 20,000 | pinned | 1.08x | 122 | 10/1/0 | 1 of 7 | 21 (2) | 10,014 "
            "| 68% | cpu 0: 4,216, cpu 1: 7,451 |"
        ) in lines
        assert (
            "| stdlib | 5,000 | free | 0.90x | 122 | 10/1/0 | 1 of 7 | 21 (21) | 10,014 | 68% | - |"
            in lines
        )

    def test_no_queue_runs_no_table(self) -> None:
        """A run without queue rows writes no queue table."""
        assert "calls per round" not in load().section(RUN)


def counted(instructions: float) -> dict[str, float]:
    return {"instructions": instructions, "L1 data read misses": 7.0}


class TestInstructionsTable:
    def test_counts_and_ratios_are_written(self) -> None:
        """Each counted case is a row; the two line rows' ratios and the glue follow."""
        run = {
            **RUN,
            "instructions": {
                "stdlib %(message)s": counted(60000),
                "tracelog stdlib": counted(78000),
                "stdlib dispatch alone (a handler that does nothing)": counted(45000),
                "tracelog's line alone (ids, encode, write)": counted(26000),
                "tracelog structlog": counted(30000),
                "hand-written minimum": counted(24000),
                "bridge: raw span.add_event()": {"instructions": 50000},
                "bridge: stdlib line": {"instructions": 80000},
                "bridge: stdlib line + span event": {"instructions": 115000},
            },
        }
        lines = load().section(run).splitlines()
        assert "| case | instructions | L1 data read misses |" in lines
        assert "| tracelog stdlib | 78,000 | 7 |" in lines
        assert "- stdlib path / `%(message)s`: 1.30x" in lines
        assert "- structlog path / hand-written minimum: 1.25x" in lines
        assert "| bridge: stdlib line | 80,000 | - |" in lines
        assert (
            "- span-event bridge (stdlib), cost beyond the line / raw `span.add_event()`: 0.70x"
        ) in lines
        assert not any(line.startswith("- span-event bridge (structlog)") for line in lines)
        assert (
            "- tracelog stdlib less stdlib's dispatch and tracelog's line alone (the handler's "
            "glue): 7,000 instructions, 9% of the call"
        ) in lines
        assert (
            "- stdlib's dispatch alone / tracelog stdlib (what a stdlib call costs its caller "
            "before any handler, queue mode's included): 0.58x"
        ) in lines

    def test_no_counts_no_table(self) -> None:
        """A run without valgrind (no counts) writes no instructions table."""
        assert "Instructions per call" not in load().section({**RUN, "instructions": None})
