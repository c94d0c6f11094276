"""Helpers for the CLI tests: log files written by tracelog itself, and the command."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import FRAMEWORKS, emit
from tracelog.schemas import SCHEMA_NAMES
from tracelog.testing import SpanRecorder, capture_lines

IN_TRACE = "in-trace"
# Every layout, plus Datadog's 128-bit spelling: (file stem, configure() arguments).
LAYOUTS: tuple[tuple[str, dict[str, Any]], ...] = (
    *((name, {"schema": name}) for name in SCHEMA_NAMES),
    ("datadog128", {"schema": "datadog", "datadog_full_trace_id": True}),
)


def hex_ids(span: Any) -> tuple[str, str]:
    sc = span.get_span_context()
    return format(sc.trace_id, "032x"), format(sc.span_id, "016x")


@dataclass
class Corpus:
    """One trace logged in every layout by both frameworks, one file per pair.

    Each file holds two lines of the trace (root span, then child span), a line of
    another trace whose message mentions the trace id, and a line outside any span
    with the id in a field: only the first two belong to the trace.
    """

    trace_id: str
    root_span: str
    child_span: str
    files: dict[str, Path] = field(default_factory=dict)

    def paths(self) -> list[Path]:
        return list(self.files.values())

    def trace_lines(self, path: Path) -> list[bytes]:
        """The lines written inside the trace, found by their text, not their ids."""
        lines = path.read_bytes().splitlines(keepends=True)
        return [line for line in lines if IN_TRACE.encode() in line]


def write_corpus(directory: Path, recorder: SpanRecorder) -> Corpus:
    """Write the corpus (through tracelog's own configure()) into *directory*."""
    with recorder.tracer.start_as_current_span("GET /checkout") as root:
        trace_id, root_span = hex_ids(root)
        with recorder.tracer.start_as_current_span("charge card") as child:
            child_span = hex_ids(child)[1]
    corpus = Corpus(trace_id, root_span, child_span)
    for stem, options in LAYOUTS:
        for framework in FRAMEWORKS:
            with capture_lines(gcp_project="shop", service="checkout", **options) as lines:
                write_lines(recorder, root, child, framework, trace_id)
            path = directory / f"{stem}-{framework}.log"
            path.write_text(lines.text)
            corpus.files[f"{stem}-{framework}"] = path
    return corpus


def write_lines(
    recorder: SpanRecorder, root: Any, child: Any, framework: str, trace_id: str
) -> None:
    from opentelemetry import trace

    with trace.use_span(root):
        emit(framework, "info", f"{IN_TRACE} order placed", order_id="A-1001")
        with trace.use_span(child):
            emit(framework, "warning", f"{IN_TRACE} card declined", order_id="A-1001")
    with recorder.tracer.start_as_current_span("other request"):
        emit(framework, "info", f"another trace mentions {trace_id}")
    emit(framework, "info", "outside any span", ref=trace_id)


def run_cli(
    *args: str | Path,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    in_process: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """``tracelog ARGS`` with bytes in and out.

    In this process by default (``tracelog.cli.main`` with the standard streams swapped),
    which is the same code without an interpreter start per call; ``in_process=False``
    runs ``python -m tracelog.cli`` in a subprocess, for what only a process has (real
    pipes, file descriptors, forked workers, exit at interpreter level). Input on stdin
    always goes through a real pipe, in a subprocess.
    """
    argv = [*map(str, args)]
    if not in_process or stdin is not None:
        full_env = {
            k: v for k, v in os.environ.items() if k not in {"TRACELOG_TRACE_URL", "NO_COLOR"}
        }
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "tracelog.cli", *argv],
            input=stdin if stdin is not None else b"",
            capture_output=True,
            check=False,
            timeout=120,
            env=full_env,
            cwd=cwd,
        )
    from tracelog.cli import main

    out, err = io.BytesIO(), io.BytesIO()
    streams = (sys.stdin, sys.stdout, sys.stderr)
    saved_env = dict(os.environ)
    saved_cwd = Path.cwd()
    fakes = (
        io.TextIOWrapper(io.BytesIO(), encoding="utf-8"),
        io.TextIOWrapper(out, encoding="utf-8", write_through=True),
        io.TextIOWrapper(err, encoding="utf-8", write_through=True),
    )
    try:
        sys.stdin, sys.stdout, sys.stderr = fakes
        for name in ("TRACELOG_TRACE_URL", "NO_COLOR"):
            os.environ.pop(name, None)
        os.environ.update(env or {})
        if cwd is not None:
            os.chdir(cwd)
        status = main(argv)
    finally:
        sys.stdin, sys.stdout, sys.stderr = streams
        for fake in fakes:
            fake.flush()
            fake.detach()  # the buffers stay open for reading
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
    return subprocess.CompletedProcess(argv, status, out.getvalue(), err.getvalue())
