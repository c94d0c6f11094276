"""`make demo`: three services, one trace id in every log, whole trees at the collector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.test_snippets import all_blocks, masked

ROOT = Path(__file__).parent.parent


def run_demo(tmp_path: Path, exporter: str) -> tuple[subprocess.CompletedProcess[str], Any]:
    summary = tmp_path / "summary.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TRACELOG_"))}
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples/demo/run.py"),
            "--exporter",
            exporter,
            "--out",
            str(tmp_path / "logs"),
            "--summary",
            str(summary),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        cwd=ROOT,
    )
    assert 0 == proc.returncode, proc.stderr[-3000:]
    return proc, json.loads(summary.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("exporter", ["otlp", "zipkin"])
class TestDemo:
    def test_story(self, tmp_path, exporter) -> None:
        """The failed order's trace id is in every service's log and at the collector,
        with whole parent links, the error on the payment span, and no process left."""
        proc, summary = run_demo(tmp_path, exporter)
        trace_id = summary["failed_trace_id"]
        assert "A-1003" == summary["failed_order"]
        services_logging_it = set()
        for path in (tmp_path / "logs").glob("*.log"):
            for raw in path.read_text().splitlines():
                line = json.loads(raw)
                if line.get("traceId") == trace_id and "message" in line:
                    services_logging_it.add(line["service"])
        assert {"checkout", "inventory", "payment"} == services_logging_it

        spans = [s for s in summary["spans"] if s["trace_id"] == trace_id]
        assert {"checkout", "inventory", "payment"} == {s["service"] for s in spans}
        by_id = {s["span_id"]: s for s in spans}
        (root,) = [s for s in spans if s["parent_span_id"] is None]
        assert "checkout" == root["service"]
        for span in spans:
            if span is not root:
                assert span["parent_span_id"] in by_id
        # The services' SERVER spans hang under checkout's CLIENT calls.
        for service in ("inventory", "payment"):
            (server,) = [s for s in spans if s["service"] == service]
            assert "checkout" == by_id[server["parent_span_id"]]["service"]
        (payment,) = [s for s in spans if s["service"] == "payment"]
        assert "ERROR" == payment["status"]
        assert "exception" in payment["events"]
        for pid in summary["pids"]:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        assert ("Zipkin v2 JSON" if exporter == "zipkin" else "OTLP/HTTP protobuf") == (
            summary["collector"]["wire"]
        )
        assert trace_id in proc.stdout
        # The CLI found the request again: grep and show succeeded, the HTML names it.
        assert (0, 0) == (summary["grep_exit"], summary["show_exit"])
        assert trace_id in Path(summary["html"]).read_text()
        grep_section = proc.stdout.split("== tracelog grep")[1].split("== tracelog show")[0]
        assert all(s in grep_section for s in ("checkout", "inventory", "payment"))
        # The page is written beside the log directory, never among the logs.
        assert tmp_path / "failed-order.html" == Path(summary["html"])
        assert ["checkout.log", "inventory.log", "payment.log"] == sorted(
            p.name for p in (tmp_path / "logs").iterdir()
        )
        # Each interleaved JSON line is shown whole, or cut with a visible marker.
        shown = proc.stdout.split("interleaved by time\n")[1].split("\n== ")[0].splitlines()
        assert shown
        for text in shown:
            if text.endswith("…"):
                assert 220 == len(text)
            else:
                assert "service" in json.loads(text)
        # The waterfall docs/demo.md shows is what the demo prints (masked).
        printed = proc.stdout.split("== tracelog show ")[1].split("\n", 1)[1]
        printed = printed.split("\nHTML waterfall")[0]
        docs = [b for b in all_blocks() if b.marker == "demo"]
        assert ["demo.md"] == [b.path.name for b in docs]
        for block in docs:
            assert (block.id, masked(block.code)) == (block.id, masked(printed))
