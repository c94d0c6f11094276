"""The console layout (configure(schema="console")) and `tracelog pretty`."""

from __future__ import annotations

import gzip
import io
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import tracelog
from tests.conftest import Output, emit
from tests.test_lines import HOSTILE
from tracelog._term import Colors
from tracelog.cli import main
from tracelog.cli.pretty import _Followed, pretty_bytes
from tracelog.console import format_line, layout_of
from tracelog.schemas import SCHEMA_NAMES, get_schema
from tracelog.testing import SpanRecorder

PROJECT = "shop-prod"
HEAD = re.compile(
    r"^(?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) (?P<level>[A-Z]+) +"
    r"(?P<logger>[\w.]+): (?P<message>.*?)(?:  (?P<rest>.*))?$"
)
EXAMPLE = Path(__file__).parent / "resources" / "pretty_example.log"


@pytest.fixture(autouse=True)
def _no_colour_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Colour decisions start from a clean environment."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)


def short(span: Any) -> tuple[str, str]:
    """The short trace and span ids the console shows for *span*."""
    sc = span.get_span_context()
    return format(sc.trace_id, "032x")[-8:], format(sc.span_id, "016x")[-8:]


def parse(text: str) -> dict[str, str]:
    """The parts of one console line."""
    found = HEAD.match(text)
    assert found is not None, text
    return {k: v or "" for k, v in found.groupdict().items()}


class TestConsoleLayout:
    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_readable_line(
        self, output: Callable[..., Output], recorder: SpanRecorder, framework: str
    ) -> None:
        """One line: time, level, logger, message, key=value fields, short ids."""
        out = output(schema="console")
        with recorder.tracer.start_as_current_span("req") as span:
            emit(framework, "warning", "card declined", order_id="A-1001", note="two words")
        (text,) = out.raw()
        trace, span_id = short(span)
        expected = {
            "level": "WARNING",
            "logger": "app",
            "message": "card declined",
            "rest": f'order_id=A-1001  note="two words"  trace={trace} span={span_id}',
        }
        actual = parse(text)
        del actual["time"]
        assert expected == actual

    def test_env_var_selects_console(
        self, output: Callable[..., Output], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """TRACELOG_SCHEMA=console gives the console layout."""
        monkeypatch.setenv("TRACELOG_SCHEMA", "console")
        out = output()
        logging.getLogger("app").info("hello")
        assert ("INFO", "hello") == (parse(out.raw()[0])["level"], parse(out.raw()[0])["message"])

    def test_json_stays_the_default(self, output: Callable[..., Output]) -> None:
        """Without schema= the line is still JSON."""
        out = output()
        logging.getLogger("app").info("hello")
        assert "hello" == out.lines()[0]["message"]

    def test_unknown_schema_names_console(self) -> None:
        """An unknown schema's error lists console among the valid ones."""
        with pytest.raises(ValueError, match=r"valid schemas: default, .*, console"):
            tracelog.configure(schema="pretty", stream=io.StringIO())

    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_traceback_follows_the_line(
        self, output: Callable[..., Output], framework: str
    ) -> None:
        """An exception is printed as Python's traceback below the line."""
        out = output(schema="console")
        try:
            1 / 0  # noqa: B018
        except ZeroDivisionError:
            emit(framework, "exception", "charge failed", exc_info=True)
        lines = out.raw()
        expected = ("charge failed", "Traceback (most recent call last):")
        assert expected == (parse(lines[0])["message"], lines[1])
        assert "ZeroDivisionError: division by zero" == lines[-1]

    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_escapes_and_redacts(self, output: Callable[..., Output], framework: str) -> None:
        """Terminal escapes in a message are spelled out; secrets are redacted."""
        out = output(schema="console")
        emit(framework, "info", "clear \x1b[2J", password="hunter2")
        (text,) = out.raw()
        expected = ("clear \\x1b[2J", "password=[REDACTED]", False)
        parts = parse(text)
        assert expected == (parts["message"], parts["rest"], "\x1b" in text)

    def test_no_colour_on_a_plain_stream(self, output: Callable[..., Output]) -> None:
        """A stream that is no terminal gets no colour codes."""
        out = output(schema="console")
        logging.getLogger("app").error("boom")
        assert "\x1b[" not in out.buffer.getvalue()

    def test_force_color(
        self, output: Callable[..., Output], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """FORCE_COLOR turns colour on for any stream."""
        monkeypatch.setenv("FORCE_COLOR", "1")
        out = output(schema="console")
        logging.getLogger("app").error("boom")
        assert "\x1b[1;31mERROR" in out.buffer.getvalue()

    def test_no_color_wins(
        self, output: Callable[..., Output], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """NO_COLOR turns colour off, even with FORCE_COLOR set."""
        monkeypatch.setenv("FORCE_COLOR", "1")
        monkeypatch.setenv("NO_COLOR", "1")
        out = output(schema="console")
        logging.getLogger("app").error("boom")
        assert "\x1b[" not in out.buffer.getvalue()

    def test_terminal_gets_colour(self) -> None:
        """On a real terminal (a pty) the level is coloured."""
        primary, secondary = os.openpty()
        try:
            with os.fdopen(secondary, "w", closefd=False) as tty:
                tracelog.configure(schema="console", stream=tty)
                logging.getLogger("app").warning("careful")
            data = os.read(primary, 4096)
        finally:
            tracelog.shutdown()
            os.close(primary)
            os.close(secondary)
        assert b"\x1b[33mWARNING" in data

    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_hostile_values_make_one_safe_line(
        self, output: Callable[..., Output], framework: str
    ) -> None:
        """NaN, bytes, surrogates, bad reprs, 1 MB strings, escapes: one line, no control bytes."""
        out = output(schema="console")
        emit(framework, "info", "hostile \u2028 \x1b[2J", **HOSTILE)
        text = out.buffer.getvalue()
        controls = {c for c in text if (ord(c) < 0x20 and c != "\n") or c in "\x7f\u2028\u2029"}
        expected = (1, set(), "hostile \\u2028 \\x1b[2J")
        assert expected == (text.count("\n"), controls, parse(text.rstrip("\n"))["message"])


class TestSameRendering:
    @pytest.mark.parametrize("schema", SCHEMA_NAMES)
    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_pretty_matches_console(
        self,
        output: Callable[..., Output],
        recorder: SpanRecorder,
        schema: str,
        framework: str,
    ) -> None:
        """A JSON line of any layout renders as the console layout writes the same event."""
        json_out = output(schema=schema, gcp_project=PROJECT)
        with recorder.tracer.start_as_current_span("req"):
            try:
                raise KeyError("sku")  # noqa: TRY301
            except KeyError:
                emit(framework, "exception", "lookup failed", order_id="A-1", exc_info=True)
            (json_line,) = json_out.raw()[:1]
            console_out = output(schema="console")
            try:
                raise KeyError("sku")  # noqa: TRY301
            except KeyError:
                emit(framework, "exception", "lookup failed", order_id="A-1", exc_info=True)
        rendered = pretty_bytes(json_line.encode(), Colors(enabled=False)).splitlines()
        written = console_out.raw()
        # The same event but for the time, and the traceback's line numbers.
        expected = [written[0][24:], written[1], written[-1]]
        assert expected == [rendered[0][24:], rendered[1], rendered[-1]]

    @pytest.mark.parametrize("schema", SCHEMA_NAMES)
    def test_layout_is_recognised(self, output: Callable[..., Output], schema: str) -> None:
        """A line outside any span is read through the layout that wrote it."""
        out = output(schema=schema, gcp_project=PROJECT)
        logging.getLogger("app").info("hi", extra={"k": 1})
        line = out.lines()[0]
        expected = get_schema(schema, gcp_project=PROJECT)
        assert (expected.level_key, "k=1") == (
            layout_of(line).level_key,
            format_line(line, Colors(enabled=False)).split("  ")[-1],
        )


def run_pretty(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """`python -m tracelog pretty ARGS` with *stdin*, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "tracelog", "pretty", "--color", "never", *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


class TestPretty:
    def test_stdin_pipe(self) -> None:
        """Lines piped in are rendered; a non-JSON line is printed as it is."""
        lines = [
            (
                b'{"timestamp":"2026-11-24T08:05:02.142305Z","level":"info","logger":"shop",'
                b'"message":"order placed","order_id":"A-1001"}'
            ),
            b"plain text line",
            b"[1, 2]",
            b'{"broken": ',
        ]
        done = run_pretty(stdin=b"\n".join(lines) + b"\n")
        expected = [
            "2026-11-24 08:05:02.142 INFO     shop: order placed  order_id=A-1001",
            "plain text line",
            "[1, 2]",
            '{"broken": ',
        ]
        assert (0, expected) == (done.returncode, done.stdout.decode().splitlines())

    def test_files_gzip_and_a_missing_one(self, tmp_path: Path, capsys: Any) -> None:
        """Plain and gzip files are read in order; a missing file is reported, exit 2."""
        plain = tmp_path / "a.log"
        plain.write_bytes(b'{"timestamp":"x","level":"error","message":"one"}\n')
        packed = tmp_path / "b.log.gz"
        packed.write_bytes(gzip.compress(b"\x00\xffbinary junk\n"))
        status = main(["pretty", "--color", "never", str(plain), str(tmp_path / "no"), str(packed)])
        captured = capsys.readouterr()
        expected = (2, ["x ERROR    one", "\\x00\ufffdbinary junk"], 1)
        actual = (status, captured.out.splitlines(), len(captured.err.splitlines()))
        assert expected == actual

    def test_readme_example(self, capsys: Any) -> None:
        """The README's `tracelog pretty` example is this command's real output."""
        assert 0 == main(["pretty", "--color", "never", str(EXAMPLE)])
        shown = capsys.readouterr().out
        readme = (Path(__file__).parent.parent / "README.md").read_text()
        block = readme.split("$ tracelog pretty app.log\n")[1].split("```")[0]
        assert block == shown

    def test_follow_reads_growth_and_rotation(self, tmp_path: Path) -> None:
        """--follow prints lines as they are appended, and after the file is rotated."""
        log = tmp_path / "app.log"
        log.write_bytes(b'{"timestamp":"t","level":"info","message":"first"}\n')
        proc = subprocess.Popen(
            [sys.executable, "-m", "tracelog", "pretty", "--color", "never", "-f", str(log)],
            stdout=subprocess.PIPE,
        )
        # A guard against a hang if following is broken, not a timing assertion.
        guard = threading.Timer(60, proc.kill)
        guard.start()
        try:
            assert proc.stdout is not None
            seen = [proc.stdout.readline()]
            with log.open("ab") as handle:
                handle.write(b'{"timestamp":"t","level":"info","mess')
                handle.flush()
                handle.write(b'age":"second"}\nnot json\n')
            seen += [proc.stdout.readline(), proc.stdout.readline()]
            log.rename(tmp_path / "app.log.1")
            log.write_bytes(b'{"timestamp":"t","level":"warning","message":"rotated"}\n')
            seen.append(proc.stdout.readline())
        finally:
            guard.cancel()
            proc.kill()
            proc.communicate()
        expected = [
            b"t INFO     first\n",
            b"t INFO     second\n",
            b"not json\n",
            b"t WARNING  rotated\n",
        ]
        assert expected == seen

    def test_followed_file_rotation_in_process(self, tmp_path: Path) -> None:
        """A followed file yields whole lines, across a move, a truncation and a removal."""
        log = tmp_path / "app.log"
        followed = _Followed(str(log))  # not there yet
        reads = [followed.read()]
        log.write_bytes(b"a\nb")
        reads.append(followed.read())
        with log.open("ab") as handle:
            handle.write(b"\nc\n")
        reads.append(followed.read())
        log.rename(tmp_path / "old.log")
        reads.append(followed.read())
        log.write_bytes(b"d\n")
        reads.append(followed.read())
        log.write_bytes(b"")
        reads.append(followed.read())
        with log.open("ab") as handle:
            handle.write(b"e\n")
        reads.append(followed.read())
        assert followed.handle is not None
        followed.handle.close()
        expected = [[], [b"a"], [b"b", b"c"], [], [b"d"], [], [b"e"]]
        assert expected == reads

    def test_python_m_help_lists_pretty(self) -> None:
        """`tracelog --help` lists the pretty command."""
        done = subprocess.run(
            [sys.executable, "-m", "tracelog", "--help"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert b"pretty" in done.stdout
