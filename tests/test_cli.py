"""The tracelog command: help, id spellings, the prefilter's soundness, templates, escaping."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.cli_support import run_cli
from tracelog import _render as render
from tracelog._context import TraceContext
from tracelog._term import Colors, escape, format_ms, use_color
from tracelog.cli import main
from tracelog.cli.ids import IdError, TraceQuery, parse_span_id, parse_trace_id
from tracelog.cli.links import TemplateError, TraceUrl
from tracelog.cli.scan import InputError, Matcher, Tally, _finder, scan, split_points
from tracelog.cli.show import SpanNode, Trace, build_trace
from tracelog.schemas import (
    SCHEMA_NAMES,
    SPAN_RECORD,
    Schema,
    datadog,
    datadog_trace_id,
    get_schema,
    xray_trace_id,
)

TID = "4bf92f3577b34da6a3ce929d0e0e4736"
IDS = st.integers(min_value=1, max_value=2**128 - 1).filter(lambda i: i & (2**64 - 1))


def layouts() -> list[Schema]:
    return [get_schema(name, gcp_project="shop") for name in SCHEMA_NAMES] + [
        datadog(full_trace_id=True)
    ]


class TestHelp:
    def test_module_help_lists_commands_and_examples(self) -> None:
        """`python -m tracelog.cli --help` works and shows both commands with examples."""
        proc = subprocess.run(
            [sys.executable, "-m", "tracelog.cli", "--help"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert 0 == proc.returncode
        assert proc.stdout.startswith("usage: tracelog")
        for text in ("grep", "show", "examples:", "tracelog show --html trace.html"):
            assert text in proc.stdout

    @pytest.mark.parametrize("command", ["grep", "show"])
    def test_subcommand_help(self, command: str, capsys: pytest.CaptureFixture[str]) -> None:
        """Each subcommand's help names its options, the exit codes or templates, examples."""
        assert 0 == main([command, "--help"])
        out = capsys.readouterr().out
        assert out.startswith(f"usage: tracelog {command}")
        assert "examples:" in out
        assert ("Exit status: 0 if a line matched" if command == "grep" else "{trace_id_dd}") in out

    def test_no_command_is_a_usage_error(self) -> None:
        """Without a command, usage goes to stderr and the exit code is 2."""
        proc = run_cli()
        assert 2 == proc.returncode
        assert proc.stderr.startswith(b"usage: tracelog")

    def test_unknown_option_is_one_line(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown option: one stderr line pointing at --help, exit 2."""
        assert 2 == main(["grep", "--nope", TID])
        assert ["tracelog grep: unrecognized arguments: --nope (see 'tracelog grep --help')"] == (
            capsys.readouterr().err.splitlines()
        )

    def test_version(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--version prints the installed version."""
        from importlib.metadata import version

        assert 0 == main(["--version"])
        assert f"tracelog {version('tracelog-otel')}\n" == capsys.readouterr().out


class TestQuickArguments:
    """The quick grep path parses exactly what argparse does, or leaves the line to it."""

    @pytest.mark.parametrize(
        "argv",
        [
            ["grep", TID],
            ["grep", TID, "a.log", "-", "b.log.gz"],
            ["grep", "-j", "1", TID, "big.log"],
            ["grep", "--jobs", "12", "-c", "-H", "-s", "--strict", TID, "x"],
            ["grep", "-l", "-r", "-i", "--ignore-case", "--recursive", TID, "dir"],
            ["grep", "--count", "--with-filename", "--no-messages", "-j", "3", "-j", "007", TID],
            ["grep", "--files-with-matches", TID, "a", "b"],
            ["grep", ""],
        ],
    )
    def test_same_namespace_as_argparse(self, argv: list[str]) -> None:
        """A plain grep line gives the very namespace the full parser gives."""
        from tracelog.cli import _quick_grep_args
        from tracelog.cli._parser import build_parser

        quick = _quick_grep_args(argv)
        assert quick is not None
        assert vars(build_parser().parse_args(argv)) == vars(quick)

    @pytest.mark.parametrize(
        "argv",
        [
            [],
            ["grep"],
            ["show", TID],
            ["grep", "--help"],
            ["grep", "-c", "-l", TID],
            ["grep", "--pretty", TID],
            ["grep", "--span", "00f067aa0ba902b7", TID],
            ["grep", "-j", TID],
            ["grep", "-j", "x", TID],
            ["grep", "-j", "-1", TID],
            ["grep", "--jobs=2", TID],
            ["grep", "-cH", TID],
            ["grep", "--coun", TID],
            ["grep", TID, "-c", "a.log"],
            ["grep", "--", TID],
            ["grep", "-", TID],
        ],
    )
    def test_anything_else_goes_to_argparse(self, argv: list[str]) -> None:
        """Help, errors, abbreviations, clusters and options after the id are argparse's."""
        from tracelog.cli import _quick_grep_args

        assert _quick_grep_args(argv) is None

    def test_plain_grep_does_not_load_argparse_or_the_terminal_helpers(self) -> None:
        """Plain grep loads no argparse, _term or OTel, nor orjson before a candidate line."""
        code = (
            "import sys\n"
            "from tracelog.cli import main\n"
            f"status = main(['grep', '-j', '1', '{TID}', '/dev/null'])\n"
            "loaded = ('argparse', 'tracelog._term', 'orjson', 'opentelemetry', 'structlog')\n"
            "print(status, [m for m in loaded if m in sys.modules])\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        assert "1 []\n" == out


class TestDefaultJobs:
    @pytest.mark.parametrize(
        ("cpus", "load", "expected"),
        [(2, 0.0, 2), (2, 0.9, 2), (2, 1.2, 1), (2, 3.5, 1), (8, 0.1, 4), (8, 5.0, 3), (1, 0, 1)],
    )
    def test_idle_cpus_at_most_four(
        self, monkeypatch: pytest.MonkeyPatch, cpus: int, load: float, expected: int
    ) -> None:
        """The default splits between the CPUs the 1-minute load leaves idle, 1 to 4."""
        from tracelog.cli import inputs

        monkeypatch.setattr(inputs.os, "sched_getaffinity", lambda _: set(range(cpus)))
        monkeypatch.setattr(inputs.os, "getloadavg", lambda: (load, load, load))
        assert expected == inputs.default_jobs()


class TestIdSpellings:
    @given(IDS)
    def test_every_written_spelling_parses_back(self, number: int) -> None:
        """Hex, traceparent, GCP path, X-Ray id and header parse to the same trace."""
        tid = format(number, "032x")
        for text, form in (
            (tid, "hex"),
            (tid.upper(), "hex"),
            (f"00-{tid}-00f067aa0ba902b7-01", "traceparent"),
            (f"projects/shop/traces/{tid}", "gcp"),
            (xray_trace_id(tid), "xray"),
            (f"Root={xray_trace_id(tid)};Parent=00f067aa0ba902b7;Sampled=1", "xray"),
        ):
            assert TraceQuery(tid, tid[16:], form) == parse_trace_id(text)
        assert TraceQuery(None, tid[16:], "datadog") == parse_trace_id(datadog_trace_id(tid))

    def test_digits_only_32_chars_is_hex(self) -> None:
        """32 digits is a hex id (a Datadog decimal has at most 20 digits)."""
        assert "hex" == parse_trace_id("1" * 32).form

    @pytest.mark.parametrize(
        "bad",
        [
            "",
            "0" * 32,
            "g" * 32,
            str(2**64),
            "0",
            "01-" + TID,
            "ff-" + TID + "-00f067aa0ba902b7-01",
            "00-" + TID + "-00f067aa0ba902b7-01-extra",
            "00-" + TID + "-00f067aa0ba902b7-1",
            "projects/p/traces/" + "0" * 32,
            "projects/p/x/traces/" + TID,
            "1-" + TID[:8] + "_" + TID[8:],
        ],
    )
    def test_bad_spellings(self, bad: str) -> None:
        """Zero ids, wrong lengths, wrong versions and separators are rejected."""
        with pytest.raises(IdError, match="expected a 32-hex trace id; a traceparent"):
            parse_trace_id(bad)

    def test_later_traceparent_versions_may_have_more_fields(self) -> None:
        """A future traceparent version may append fields; its trace id is still read."""
        assert TID == parse_trace_id(f"01-{TID}-00f067aa0ba902b7-01-abcd").trace_id

    def test_span_ids(self) -> None:
        """Span ids: 16 hex, or a Datadog decimal; anything else is None."""
        assert "00f067aa0ba902b7" == parse_span_id("00F067AA0BA902B7")
        assert format(42, "016x") == parse_span_id("42")
        assert parse_span_id("0" * 16) is None
        assert parse_span_id("x") is None

    @given(IDS, st.integers(min_value=1, max_value=2**64 - 1))
    def test_prefilter_and_match_find_every_layout(self, number: int, span: int) -> None:
        """Every layout's written line holds a needle of its trace and matches it, also by
        its Datadog decimal spelling: the prefilter never hides a line of the trace."""
        ctx = TraceContext.from_ints(number, span, 1)
        for query in (parse_trace_id(ctx.trace_id), parse_trace_id(datadog_trace_id(ctx.trace_id))):
            matcher = Matcher(query)
            for schema in layouts():
                line: dict[str, Any] = {}
                schema.add_trace(line, ctx)
                raw = render.dumps(line)
                assert any(needle in raw for needle in matcher.needles), schema.name
                assert matcher.match(render.loads(raw)) is not None, schema.name

    def test_other_trace_with_same_low_half_is_not_a_hex_match(self) -> None:
        """A 32-hex query needs all 128 bits from full-id lines, the low 64 only from Datadog."""
        query = parse_trace_id(TID)
        other = "1" * 16 + TID[16:]
        assert not query.matches(other)
        assert query.matches(TID[16:])
        assert parse_trace_id(datadog_trace_id(TID)).matches(other)


class TestScanner:
    def scan_bytes(self, data: bytes, query: str = TID) -> tuple[list[bytes], Tally]:
        found: list[bytes] = []
        tally = Tally()
        source = io.BytesIO(data)
        scan(
            source.readinto,
            Matcher(parse_trace_id(query)),
            lambda v, o, s: found.append(bytes(v)),
            tally,
        )
        return found, tally

    def test_lines_across_buffer_boundaries(self) -> None:
        """Lines that straddle reads, many per buffer, are each found once and in order."""
        lines = [
            render.dumps({"traceId": TID, "n": i, "pad": "x" * (i * 7919 % 3000)})
            for i in range(3000)
        ]
        found, tally = self.scan_bytes(b"".join(lines))
        assert [line.rstrip(b"\n") for line in lines] == found
        assert Tally(matched=3000) == tally

    def test_read_error_after_lines_were_handled(self) -> None:
        """A failing read raises InputError after the lines read before were emitted."""
        line = render.dumps({"traceId": TID})
        reads = [line * 3]

        def readinto(view: memoryview) -> int:
            if not reads:
                raise OSError(5, "Input/output error")
            data = reads.pop()
            view[: len(data)] = data
            return len(data)

        found: list[bytes] = []
        with pytest.raises(InputError, match=r"^read error \(Input/output error\)$"):
            scan(
                readinto,
                Matcher(parse_trace_id(TID)),
                lambda v, o, s: found.append(bytes(v)),
                Tally(),
            )
        assert [line.rstrip(b"\n")] * 3 == found

    def test_invalid_utf8_is_binary(self) -> None:
        """A candidate line with invalid UTF-8 but no NUL counts as binary."""
        _, tally = self.scan_bytes(b'{"traceId": "' + TID.encode() + b'", "x": "\xff"}\n')
        assert Tally(binary=1) == tally

    def test_a_line_holding_several_needles_is_emitted_once(self) -> None:
        """A line with the hex, uppercase and decimal spellings is one match."""
        line = render.dumps(
            {"traceId": TID, "a": TID.upper(), "dd.trace_id": datadog_trace_id(TID)}
        )
        found, _ = self.scan_bytes(line * 2)
        assert [line.rstrip(b"\n")] * 2 == found


class TestSplitPoints:
    def test_parts_start_at_line_starts(self, tmp_path: Path) -> None:
        """Each part after the first starts just after a newline, in increasing order."""
        path = tmp_path / "lines.log"
        path.write_bytes(
            b"x" * 10 + b"\n" + b"y" * 10 + b"\n" + b"z" * 10 + b"\n" + b"w" * 10 + b"\n"
        )
        assert [0, 22, 33, 44] == split_points(str(path), 44, 4)

    def test_a_cut_inside_the_unterminated_last_line_is_dropped(self, tmp_path: Path) -> None:
        """A cut that finds no newline before the end leaves one part: the whole file."""
        path = tmp_path / "tail.log"
        path.write_bytes(b"a\n" + b"b" * 100)
        assert [0, 102] == split_points(str(path), 102, 2)


class TestFinder:
    @given(
        st.binary(max_size=64),
        st.binary(min_size=1, max_size=6),
        st.integers(0, 70),
        st.integers(0, 70),
    )
    def test_agrees_with_bytes_find(self, data: bytes, needle: bytes, a: int, b: int) -> None:
        """The memmem search finds what bytearray.find finds, at the range's edges too."""
        buf = bytearray(data + needle + data)
        start, end = min(a, b, len(buf)), min(max(a, b), len(buf))
        view = memoryview(buf)  # held while searching, as scan() does
        assert buf.find(needle, start, end) == _finder(buf)(needle, start, end)
        view.release()


class TestTraceUrl:
    def test_render(self) -> None:
        """Placeholders take the ids in each backend's spelling; the service is URL-quoted."""
        url = TraceUrl("http://x/{trace_id} {span_id} {trace_id_dd} {xray_trace_id} {service}")
        assert url.uses_span
        ids = f"00f067aa0ba902b7 {datadog_trace_id(TID)} {xray_trace_id(TID)}"
        expected = f"http://x/{TID} {ids} a%2Fb%20c"
        assert expected == url.render(TID, "00f067aa0ba902b7", "a/b c")
        assert f"http://x/{TID}  {datadog_trace_id(TID)} {xray_trace_id(TID)} " == url.render(TID)
        assert not TraceUrl("https://x/{trace_id}").uses_span

    def test_errors_name_valid_placeholders(self) -> None:
        """A bad template raises TemplateError listing every placeholder."""
        with pytest.raises(TemplateError, match=r"valid placeholders: \{trace_id\}, \{span_id\}"):
            TraceUrl("https://x/{trace.id}")

    @pytest.mark.parametrize(
        "template",
        [
            "javascript:alert(1)//{trace_id}",
            "JavaScript:alert(1)//{trace_id}",
            " https://x/{trace_id}",
            "\thttp://x/{trace_id}",
            "data:text/html,{trace_id}",
            "{trace_id}",
            "//x/{trace_id}",
            "ftp://x/{trace_id}",
            "https:/x/{trace_id}",
            "",
        ],
    )
    def test_only_http_and_https(self, template: str) -> None:
        """Only templates that start with http:// or https:// (any case) are accepted."""
        with pytest.raises(TemplateError, match="must start with http:// or https://"):
            TraceUrl(template)
        assert TraceUrl("HTTPS://x/{trace_id}").render(TID) == f"HTTPS://x/{TID}"


class TestTerminalText:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("\x1b[31mred", "\\x1b[31mred"),
            ("a\tb\nc\rd", "a\\tb\\nc\\rd"),
            ("\x00\x07\x7f\x9b", "\\x00\\x07\\x7f\\x9b"),
            ("\u202eevil\u2066\u200f\u061c", "\\u202eevil\\u2066\\u200f\\u061c"),
            ("\u2028\u2029\ufeff\u200b", "\\u2028\\u2029\\ufeff\\u200b"),
            ("a\u200cb\u200dc\u2060d\u2064", "a\\u200cb\\u200dc\\u2060d\\u2064"),
            ("café ✓ 日本", "café ✓ 日本"),
        ],
    )
    def test_escape(self, text: str, expected: str) -> None:
        """Controls, ANSI, bidi and invisible characters become visible escapes; text stays."""
        assert expected == escape(text)

    def test_use_color(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """always/never are forced; auto needs a TTY, no NO_COLOR and no TERM=dumb."""

        class Tty(io.StringIO):
            def isatty(self) -> bool:
                return True

        monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.setenv("TERM", "xterm")
        assert use_color("always", io.StringIO())
        assert not use_color("never", Tty())
        assert use_color("auto", Tty())
        assert not use_color("auto", io.StringIO())
        monkeypatch.setenv("TERM", "dumb")
        assert not use_color("auto", Tty())
        monkeypatch.setenv("TERM", "xterm")
        monkeypatch.setenv("NO_COLOR", "1")
        assert not use_color("auto", Tty())
        closed = io.StringIO()
        closed.close()
        monkeypatch.delenv("NO_COLOR")
        assert not use_color("auto", closed)

    def test_colors_off_is_identity(self) -> None:
        """With colour off, painting changes nothing."""
        assert "x" == Colors(enabled=False).level("x", "error")

    @pytest.mark.parametrize(
        ("ms", "text"), [(0.4123, "0.412 ms"), (38.14, "38.1 ms"), (2345.0, "2.35 s")]
    )
    def test_format_ms(self, ms: float, text: str) -> None:
        """Durations read as people write them."""
        assert text == format_ms(ms)


class TestTraceModel:
    def record(self, span: str, parent: str | None, name: str) -> dict[str, Any]:
        return SPAN_RECORD.record(
            trace_id=TID,
            span_id=span,
            parent_span_id=parent,
            name=name,
            kind="internal",
            service="svc",
            start_ns=1_700_000_000_000_000_000,
            end_ns=1_700_000_000_001_000_000,
            status="unset",
            status_message=None,
            attributes={},
        )

    def test_parent_loops_do_not_hide_spans(self) -> None:
        """Records whose parents form a loop still all show, the loop cut at one member."""
        a, b, c = "a" * 16, "b" * 16, "c" * 16
        lines = [self.record(a, b, "A"), self.record(b, a, "B"), self.record(c, c, "C")]
        trace = build_trace([(line, SPAN_RECORD) for line in lines], parse_trace_id(TID))
        shown = [(node.name, depth) for node, depth, _, _ in trace.walk()]
        assert sorted(shown) == sorted([("A", 0), ("B", 1), ("C", 0)])

    def test_lines_without_span_and_time(self) -> None:
        """Lines of the trace without a span id or time gather under one row, in order."""
        lines = [{"traceId": TID, "message": "first"}, {"traceId": TID, "message": "second"}]
        schema = get_schema("default")
        trace: Trace = build_trace([(line, schema) for line in lines], parse_trace_id(TID))
        (node,) = trace.roots
        assert isinstance(node, SpanNode)
        assert ("(lines without a span)", None, None) == (node.label, node.begin, trace.start)
        assert ["first", "second"] == [e.view.message for e in node.logs]


class TestSparseLines:
    """Lines from other writers: no times, odd times, no service, records without extras."""

    def trace(self) -> Trace:
        schema = get_schema("default")
        lines: list[dict[str, Any]] = [
            {"traceId": TID, "spanId": "a" * 16, "message": "no time", "level": "DEBUG"},
            {"traceId": TID, "spanId": "a" * 16, "timestamp": "yesterday", "message": "odd"},
            {"traceId": TID, "spanId": "a" * 16, "timestamp": "2026-01-01T00:00:00", "n": {"k": 1}},
            {"tracelog.record": "span", "traceId": TID, "spanId": "b" * 16, "name": "bare"},
        ]
        return build_trace([(line, schema) for line in lines], parse_trace_id(TID))

    def test_text_waterfall_without_times(self) -> None:
        """Without any time there is no duration or bar; raw times and values still show."""
        from tracelog.cli.show import render_text

        text = render_text(self.trace(), Colors(enabled=True), 20, None)
        plain = [re.sub(r"\x1b\[[0-9;]*m", "", row) for row in text]
        assert f"trace {TID}  ·  2 span(s)  ·  3 log line(s)" == plain[0]
        assert ["no time", "odd", 'n={"k":1}'] == [
            row.split("  ")[-1].strip() for row in plain if row.strip().startswith(("debug", "-"))
        ]
        assert "\x1b[2mdebug   \x1b[0m" in "".join(text)

    def test_html_without_times(self) -> None:
        """The page has no time axis or dots without times, and still lists every line."""
        from tracelog.cli.html import render_html

        page = render_html(self.trace())
        assert 'class="row axis"' not in page
        assert 'class="dot"' not in page
        assert 3 == page.count('class="row log-row')
        assert '<span class="name">bare</span>' in page

    def test_pretty_line_falls_back_to_raw_time(self) -> None:
        """A time that is no ISO-8601 with a zone is shown as written, escaped."""
        from tracelog._term import LogView
        from tracelog.cli.grep import pretty_line

        view = LogView.of({"timestamp": "yesterday\x1b", "message": "m"}, get_schema("default"))
        assert pretty_line(view, Colors(enabled=False)).startswith("yesterday\\x1b  ")

    def test_record_without_duration(self) -> None:
        """A record without durationMs gets its duration from start and end."""

        line = {
            "tracelog.record": "span",
            "traceId": TID,
            "spanId": "b" * 16,
            "start": "2026-01-01T00:00:00.000000Z",
            "end": "2026-01-01T00:00:00.250000Z",
        }
        trace = build_trace([(line, SPAN_RECORD)], parse_trace_id(TID))
        assert 250.0 == trace.roots[0].duration
