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


def stderr_json(name: str) -> tuple[list[dict[str, Any]], dict[str, str], list[dict[str, Any]]]:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=EXAMPLES,
    )
    expect = dict(re.findall(r"(trace_id|span_id)=([0-9a-f]+)", proc.stderr))
    extra = [orjson.loads(x) for x in proc.stderr.splitlines() if x.startswith("{")]
    return [orjson.loads(x) for x in proc.stdout.splitlines()], expect, extra


class TestIntegrationExamples:
    @pytest.mark.parametrize(
        ("name", "count"),
        [("wsgi_app.py", 1), ("asgi_app.py", 1), ("threads_asyncio.py", 7)],
    )
    def test_ids_reach_every_line(self, name: str, count: int) -> None:
        """Middleware, pools, threads and tasks: each line carries the expected ids."""
        lines, expect, _ = stderr_json(name)
        assert count == len(lines)
        assert [(expect["trace_id"], expect["span_id"])] * count == [
            (x["traceId"], x["spanId"]) for x in lines
        ]

    def test_span_events(self) -> None:
        """Each log became an event on the span; the exception set its status."""
        lines, expect, extra = stderr_json("span_events.py")
        assert 2 == len(lines)
        events = [x for x in extra if "span_event" in x]
        assert ["charging card", "charge failed", "exception"] == [x["span_event"] for x in events]
        assert {expect["span_id"]} == {x["span_id"] for x in events}
        assert {"span_status": "ERROR"} in extra

    def test_otlp_logs(self) -> None:
        """The exported log record carries the line's ids."""
        (line,), expect, extra = stderr_json("otlp_logs.py")
        (record,) = [x for x in extra if "otel_log" in x]
        assert ("stock low", expect["trace_id"], expect["span_id"]) == (
            record["otel_log"],
            record["trace_id"],
            record["span_id"],
        )
        assert expect["trace_id"] == line["traceId"]
