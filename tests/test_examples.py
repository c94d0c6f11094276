"""Every example runs, and its lines carry the ids it announces."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from tracelog.schemas import get_schema

EXAMPLES = Path(__file__).parent.parent / "examples"


def run(name: str, *args: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=EXAMPLES,
    )
    expect = dict(re.findall(r"(trace_id|span_id)=([0-9a-f]+)", proc.stderr))
    return [orjson.loads(x) for x in proc.stdout.splitlines()], expect


class TestExamples:
    @pytest.mark.parametrize(
        ("name", "count"),
        [("stdlib_dictconfig.py", 2), ("structlog_only.py", 1), ("stdlib_and_structlog.py", 2)],
    )
    def test_ids(self, name: str, count: int) -> None:
        """Each line of the example carries the span's ids."""
        lines, expect = run(name)
        assert count == len(lines)
        assert [(expect["trace_id"], expect["span_id"])] * count == [
            (x["traceId"], x["spanId"]) for x in lines
        ]

    def test_structlog_context(self) -> None:
        """Bound values and contextvars reach the line."""
        (line,), _ = run("structlog_only.py")
        assert ("eu-1", "req-7", "inventory") == (
            line["warehouse"],
            line["request_id"],
            line["service"],
        )

    @pytest.mark.parametrize("schema", ["ecs", "gcp", "datadog"])
    def test_layouts(self, schema: str) -> None:
        """The layouts example writes its ids in each backend's spelling."""
        lines, expect = run("layouts.py", schema)
        reader = get_schema(schema, gcp_project="shop-prod")
        trace_id = expect["trace_id"][16:] if schema == "datadog" else expect["trace_id"]
        assert [(trace_id, expect["span_id"])] * 2 == [
            (reader.read_trace_id(x), reader.read_span_id(x)) for x in lines
        ]
