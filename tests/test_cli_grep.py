"""`tracelog grep`, end to end: subprocess runs on files tracelog itself wrote."""

from __future__ import annotations

import gzip
import io
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli_support import Corpus, run_cli, write_corpus
from tracelog import _render as render
from tracelog.schemas import DEFAULT, datadog_span_id, datadog_trace_id, xray_trace_id
from tracelog.testing import SpanRecorder

ANSI = re.compile(rb"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    recorder = SpanRecorder(service="checkout")
    yield write_corpus(tmp_path_factory.mktemp("corpus"), recorder)
    recorder.shutdown()


def counts(stdout: bytes) -> dict[str, int]:
    """`-c` output over several files -> {file stem: count}."""
    found = {}
    for line in stdout.decode().splitlines():
        name, _, count = line.rpartition(":")
        found[Path(name).stem] = int(count)
    return found


class TestEveryLayout:
    def test_hex_id_finds_the_trace_in_every_layout_and_framework(self, corpus: Corpus) -> None:
        """A 32-hex id finds both trace lines in each layout (Datadog on its low 64 bits)."""
        proc = run_cli("grep", "-c", corpus.trace_id, *corpus.paths())
        assert (0, b"") == (proc.returncode, proc.stderr)
        assert dict.fromkeys(corpus.files, 2) == counts(proc.stdout)

    def test_output_is_the_input_lines_byte_for_byte(self, corpus: Corpus) -> None:
        """Plain output is exactly the trace's lines, in file order, nothing else."""
        proc = run_cli("grep", corpus.trace_id, *corpus.paths())
        expected = b"".join(b"".join(corpus.trace_lines(p)) for p in corpus.paths())
        assert 0 == proc.returncode
        assert expected == proc.stdout

    @pytest.mark.parametrize(
        "spelling",
        ["traceparent", "datadog", "gcp", "xray", "xray-header", "uppercase"],
    )
    def test_every_id_spelling_finds_the_same_lines(self, corpus: Corpus, spelling: str) -> None:
        """traceparent, Datadog decimal, GCP path, X-Ray id (and header), uppercase hex."""
        tid = corpus.trace_id
        query = {
            "traceparent": f"00-{tid}-{corpus.root_span}-01",
            "datadog": datadog_trace_id(tid),
            "gcp": f"projects/other-project/traces/{tid}",
            "xray": xray_trace_id(tid),
            "xray-header": f"Root={xray_trace_id(tid)};Parent=53995c3f42cd8ad8;Sampled=1",
            "uppercase": tid.upper(),
        }[spelling]
        proc = run_cli("grep", "-c", query, *corpus.paths())
        assert (0, b"") == (proc.returncode, proc.stderr)
        assert dict.fromkeys(corpus.files, 2) == counts(proc.stdout)

    def test_span_narrows_to_one_span(self, corpus: Corpus) -> None:
        """--span keeps the child span's line only, given as hex or as Datadog decimal."""
        for span in (corpus.child_span, datadog_span_id(corpus.child_span)):
            proc = run_cli("grep", "-c", "--span", span, corpus.trace_id, *corpus.paths())
            assert dict.fromkeys(corpus.files, 1) == counts(proc.stdout)

    def test_id_format_flag_forces_a_form(self, corpus: Corpus) -> None:
        """--id-format datadog reads a digits-only id as decimal; a mismatch is a usage error."""
        path = corpus.files["datadog-stdlib"]
        proc = run_cli(
            "grep", "-c", "--id-format", "datadog", datadog_trace_id(corpus.trace_id), path
        )
        assert (0, b"2\n") == (proc.returncode, proc.stdout)
        proc = run_cli("grep", "--id-format", "xray", corpus.trace_id, path)
        assert 2 == proc.returncode
        assert (
            f"tracelog grep: not a trace id: '{corpus.trace_id}'; expected an X-Ray id "
            "(1-<8 hex>-<24 hex>, or Root=1-...;Parent=...)\n"
        ).encode() == proc.stderr


class TestOutputModes:
    def test_files_with_matches(self, corpus: Corpus, tmp_path: Path) -> None:
        """-l prints the names of the files holding the trace, one per line."""
        empty = tmp_path / "empty.log"
        empty.write_text("")
        files = [corpus.files["ecs-stdlib"], empty, corpus.files["xray-structlog"]]
        proc = run_cli("grep", "-l", corpus.trace_id, *files)
        assert [str(files[0]), str(files[2])] == proc.stdout.decode().splitlines()

    def test_with_filename_prefixes_lines(self, corpus: Corpus) -> None:
        """-H prefixes each line with its file name; the rest stays byte-identical."""
        path = corpus.files["otel-stdlib"]
        proc = run_cli("grep", "-H", corpus.trace_id, path)
        assert [f"{path}:".encode() + line for line in corpus.trace_lines(path)] == (
            proc.stdout.splitlines(keepends=True)
        )

    def test_single_file_count_has_no_name(self, corpus: Corpus) -> None:
        """-c on one input prints just the number."""
        proc = run_cli("grep", "-c", corpus.trace_id, corpus.files["gcp-structlog"])
        assert b"2\n" == proc.stdout

    def test_pretty_is_aligned_columns_without_colour_in_a_pipe(self, corpus: Corpus) -> None:
        """--pretty: time, service, level, span, message, fields; no colour into a pipe."""
        path = corpus.files["datadog-structlog"]
        proc = run_cli("grep", "--pretty", corpus.trace_id, path)
        assert 0 == proc.returncode
        assert b"\x1b" not in proc.stdout
        rows = [line.split() for line in proc.stdout.decode().splitlines()]
        expected = [
            ["checkout", "info", corpus.root_span, "in-trace", "order", "placed"],
            ["checkout", "warning", corpus.child_span, "in-trace", "card", "declined"],
        ]
        assert expected == [row[2:8] for row in rows]
        assert [["order_id=A-1001"], ["order_id=A-1001"]] == [row[8:] for row in rows]
        assert all(
            re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", " ".join(r[:2])) for r in rows
        )

    def test_color_always_and_never(self, corpus: Corpus) -> None:
        """--color=always colours the pretty view (stripped, it is the plain one); never doesn't."""
        path = corpus.files["default-stdlib"]
        always = run_cli("grep", "--pretty", "--color=always", corpus.trace_id, path).stdout
        never = run_cli("grep", "--pretty", "--color=never", corpus.trace_id, path).stdout
        assert ANSI.search(always)
        assert never == ANSI.sub(b"", always)

    def test_no_color_env_turns_auto_off(self, corpus: Corpus) -> None:
        """NO_COLOR disables colour for --color=auto even on a terminal-less run."""
        path = corpus.files["default-stdlib"]
        proc = run_cli("grep", "--pretty", corpus.trace_id, path, env={"NO_COLOR": "1"})
        assert b"\x1b" not in proc.stdout

    def test_colour_on_a_tty(self, corpus: Corpus) -> None:
        """On a terminal --pretty is coloured, while plain output stays byte-identical."""
        path = corpus.files["default-structlog"]
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm"}
        out = {}
        for mode in ("--pretty", "--count", "--color=auto"):
            primary, secondary = os.openpty()
            proc = subprocess.run(
                [sys.executable, "-m", "tracelog.cli", "grep", mode, corpus.trace_id, str(path)],
                stdout=secondary,
                stderr=subprocess.PIPE,
                check=False,
                timeout=60,
                env=env,
            )
            os.close(secondary)
            out[mode] = read_all(primary).replace(b"\r\n", b"\n")  # the tty's newlines
            assert (0, b"") == (proc.returncode, proc.stderr)
        assert ANSI.search(out["--pretty"])
        assert b"2\n" == out["--count"]
        assert b"".join(corpus.trace_lines(path)) == out["--color=auto"]


def read_all(fd: int) -> bytes:
    """Everything left in a pty whose other end is closed."""
    data = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other side is gone and the buffer is empty
            break
        if not chunk:  # pragma: no cover - some kernels signal the end this way
            break
        data += chunk
    os.close(fd)
    return data


class TestInputs:
    def test_gzip_and_stdin(self, corpus: Corpus, tmp_path: Path) -> None:
        """.gz files, stdin, '-' and gzip on stdin give the same lines as the plain file."""
        path = corpus.files["ecs-structlog"]
        data = path.read_bytes()
        gz = tmp_path / "ecs.log.gz"
        gz.write_bytes(gzip.compress(data))
        expected = b"".join(corpus.trace_lines(path))
        assert expected == run_cli("grep", corpus.trace_id, gz).stdout
        assert expected == run_cli("grep", corpus.trace_id, stdin=data).stdout
        assert expected == run_cli("grep", corpus.trace_id, "-", stdin=data).stdout
        assert expected == run_cli("grep", corpus.trace_id, stdin=gzip.compress(data)).stdout

    def test_multi_member_gzip(self, corpus: Corpus, tmp_path: Path) -> None:
        """Concatenated gzip members (cat a.gz b.gz > c.gz) are all read, padding skipped;
        a member that inflates to many buffers is read whole."""
        a, b = corpus.files["default-stdlib"], corpus.files["xray-stdlib"]
        big = a.read_bytes() * 5000  # a few MiB from a few KiB of gzip
        gz = tmp_path / "both.gz"
        gz.write_bytes(gzip.compress(big) + gzip.compress(b.read_bytes()) + b"\0\0")
        proc = run_cli("grep", corpus.trace_id, gz)
        assert (0, b"") == (proc.returncode, proc.stderr)
        assert b"".join(corpus.trace_lines(a) * 5000 + corpus.trace_lines(b)) == proc.stdout

    def test_recursive_directories(self, corpus: Corpus, tmp_path: Path) -> None:
        """-r reads a directory's files (sorted), then its subdirectories; none: '.'.

        Without -r a directory is an error."""
        (tmp_path / "a" / "b").mkdir(parents=True)
        first = tmp_path / "a" / "one.log"
        second = tmp_path / "a" / "b" / "two.log.gz"
        first.write_bytes(corpus.files["otel-structlog"].read_bytes())
        second.write_bytes(gzip.compress(corpus.files["gcp-stdlib"].read_bytes()))
        (tmp_path / "a" / "dangling.log").symlink_to(tmp_path / "gone")
        proc = run_cli("grep", "-r", "-c", corpus.trace_id, tmp_path / "a")
        assert [f"{first}:2", f"{second}:2"] == proc.stdout.decode().splitlines()
        proc = run_cli("grep", "-r", "-c", corpus.trace_id, cwd=tmp_path / "a")
        assert ["./one.log:2", "./b/two.log.gz:2"] == proc.stdout.decode().splitlines()
        proc = run_cli("grep", corpus.trace_id, tmp_path / "a", first)
        assert 2 == proc.returncode
        assert f"tracelog: {tmp_path / 'a'}: is a directory (use -r to search it)\n".encode() == (
            proc.stderr
        )
        assert b"".join(corpus.trace_lines(first)) == proc.stdout

    def test_named_pipe_and_closed_stdin(self, corpus: Corpus, tmp_path: Path) -> None:
        """A FIFO is read as a stream (gzip too); a closed stdin is one error line, exit 2."""
        path = corpus.files["ecs-stdlib"]
        fifo = tmp_path / "pipe"
        expected = b"".join(corpus.trace_lines(path))
        for data in (path.read_bytes(), gzip.compress(path.read_bytes())):
            os.mkfifo(fifo)
            writer = subprocess.Popen(["bash", "-c", f"cat > {fifo}"], stdin=subprocess.PIPE)
            assert writer.stdin is not None
            writer.stdin.write(data)
            writer.stdin.close()
            assert expected == run_cli("grep", corpus.trace_id, fifo).stdout
            assert 0 == writer.wait(timeout=60)
            fifo.unlink()
        cmd = f"{sys.executable} -m tracelog.cli grep {corpus.trace_id} <&-"
        proc = subprocess.run(["bash", "-c", cmd], capture_output=True, check=False, timeout=60)
        assert (2, b"tracelog: -: standard input is closed\n") == (proc.returncode, proc.stderr)

    def test_last_line_without_newline_and_crlf(self, corpus: Corpus, tmp_path: Path) -> None:
        """A final line without a newline still matches (and gets one); CRLF lines match."""
        lines = corpus.trace_lines(corpus.files["default-stdlib"])
        path = tmp_path / "odd.log"
        path.write_bytes(lines[0].replace(b"\n", b"\r\n") + lines[1].rstrip(b"\n"))
        proc = run_cli("grep", corpus.trace_id, path)
        assert lines[0].replace(b"\n", b"\r\n") + lines[1] == proc.stdout

    def test_split_between_processes_keeps_file_order(self, corpus: Corpus, tmp_path: Path) -> None:
        """--jobs splits a plain file between processes; output and counts are unchanged."""
        lines = [line for p in corpus.paths() for line in p.read_bytes().splitlines(keepends=True)]
        big = tmp_path / "big.log"
        big.write_bytes(b"".join(lines * 20) + b'{"traceId": "' + corpus.trace_id.encode() + b'"\n')
        expected = run_cli("grep", "-j", "1", corpus.trace_id, big)
        for jobs in ("2", "3"):
            proc = run_cli("grep", "-j", jobs, corpus.trace_id, big)
            assert (expected.returncode, expected.stdout, expected.stderr) == (
                proc.returncode,
                proc.stdout,
                proc.stderr,
            )
        assert b"skipped 1 malformed (not JSON) line(s)" in expected.stderr
        assert (20 * 2 * len(corpus.files)) == len(expected.stdout.splitlines())
        proc = run_cli("grep", "-j", "2", "-c", "--strict", corpus.trace_id, big)
        assert (2, f"{20 * 2 * len(corpus.files)}\n".encode()) == (proc.returncode, proc.stdout)

    def test_files_with_matches_stops_early_when_split(
        self, corpus: Corpus, tmp_path: Path
    ) -> None:
        """-l with --jobs: a match only in a later part still names the file, once."""
        noise = (
            corpus.files["default-stdlib"].read_bytes().replace(corpus.trace_id.encode(), b"f" * 32)
        )
        late = tmp_path / "late.log"
        late.write_bytes(noise * 3000 + corpus.files["otel-stdlib"].read_bytes() * 3000)
        early = tmp_path / "early.log"
        early.write_bytes(corpus.files["otel-stdlib"].read_bytes() * 3000 + noise * 3000)
        proc = run_cli("grep", "-l", "-j", "3", corpus.trace_id, late, early)
        assert (0, f"{late}\n{early}\n".encode()) == (proc.returncode, proc.stdout)


class TestBadInput:
    def test_missing_file_is_one_line_and_exit_2(self, corpus: Corpus, tmp_path: Path) -> None:
        """A missing file: one stderr line, exit 2, and the other file's lines still print."""
        path = corpus.files["default-stdlib"]
        missing = tmp_path / "nope.log"
        proc = run_cli("grep", corpus.trace_id, missing, path)
        assert 2 == proc.returncode
        assert f"tracelog: {missing}: No such file or directory\n".encode() == proc.stderr
        assert b"".join(corpus.trace_lines(path)) == proc.stdout
        quiet = run_cli("grep", "-s", corpus.trace_id, missing, path)
        assert (2, b"") == (quiet.returncode, quiet.stderr)

    def test_unreadable_file(self, corpus: Corpus, tmp_path: Path) -> None:
        """A file that fails to read is one stderr line and exit 2; other files still print."""
        path = corpus.files["default-stdlib"]
        if os.geteuid() == 0:  # root reads anything; reading unmapped memory fails instead
            unreadable, reason = Path("/proc/self/mem"), "Input/output error"
        else:  # pragma: no cover - the CI runs as root
            unreadable, reason = tmp_path / "secret.log", "Permission denied"
            unreadable.write_text("{}\n")
            unreadable.chmod(0)
        proc = run_cli("grep", corpus.trace_id, unreadable, path)
        assert 2 == proc.returncode
        assert f"tracelog: {unreadable}: {reason}\n".encode() == proc.stderr
        assert b"".join(corpus.trace_lines(path)) == proc.stdout

    def test_malformed_and_binary_lines_are_skipped_and_counted(
        self, corpus: Corpus, tmp_path: Path
    ) -> None:
        """Lines that hold the id but are no JSON object are skipped, counted, reported once."""
        good = corpus.trace_lines(corpus.files["default-stdlib"])
        tid = corpus.trace_id.encode()
        path = tmp_path / "junk.log"
        path.write_bytes(
            good[0]
            + b'{"traceId": "' + tid + b'", broken\n'
            + b"\x00\x01\xfe" + tid + b"\xff\x00\n"
            + b'["' + tid + b'"]\n'
            + b"\x89PNG\x00 no id here\n"
            + b"plain text without the id\n"
            + good[1]
        )  # fmt: skip
        proc = run_cli("grep", corpus.trace_id, path)
        assert (0, b"".join(good)) == (proc.returncode, proc.stdout)
        assert (
            b"tracelog: skipped 2 malformed (not JSON), 1 binary line(s) that held the id "
            b"(--strict to fail, -s to hide)\n"
        ) == proc.stderr
        quiet = run_cli("grep", "-s", tid.decode(), path)
        assert (0, b"") == (quiet.returncode, quiet.stderr)
        strict = run_cli("grep", "--strict", tid.decode(), path)
        assert (2, b"".join(good)) == (strict.returncode, strict.stdout)
        assert (
            b"tracelog: 2 malformed (not JSON), 1 binary line(s) held the id but could not be "
            b"read (--strict)\n"
        ) == strict.stderr

    @pytest.mark.slow
    def test_overlong_line_is_skipped(self, corpus: Corpus, tmp_path: Path) -> None:
        """A line over 8 MiB is skipped and counted; the lines around it still match."""
        good = corpus.trace_lines(corpus.files["otel-stdlib"])
        path = tmp_path / "long.log"
        path.write_bytes(good[0] + b"x" * (9 << 20) + b"\n" + good[1])
        proc = run_cli("grep", corpus.trace_id, path)
        assert (0, b"".join(good)) == (proc.returncode, proc.stdout)
        assert b"1 too long (over 8 MiB)" in proc.stderr

    def test_truncated_gzip_prints_what_was_read(self, corpus: Corpus, tmp_path: Path) -> None:
        """A cut-off .gz: the lines read before the cut, one stderr line, exit 2 (like zgrep)."""
        lines = corpus.trace_lines(corpus.files["default-structlog"])
        data = b"".join(lines[:1] * 2000 + lines[1:] * 2000)
        packed = gzip.compress(data)
        path = tmp_path / "cut.log.gz"
        path.write_bytes(packed[: len(packed) * 3 // 4])
        proc = run_cli("grep", corpus.trace_id, path)
        assert 2 == proc.returncode
        assert f"tracelog: {path}: unexpected end of gzip data (truncated file?)\n".encode() == (
            proc.stderr
        )
        out = proc.stdout.splitlines(keepends=True)
        assert 2000 < len(out) < 4000
        assert data.splitlines(keepends=True)[: len(out)] == out

    def test_corrupt_gzip(self, corpus: Corpus, tmp_path: Path) -> None:
        """Gzip data that fails to decode is an unreadable file: exit 2, one line."""
        path = tmp_path / "bad.gz"
        path.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 6 + b"this is not deflate" * 10)
        proc = run_cli("grep", corpus.trace_id, path)
        assert 2 == proc.returncode
        assert proc.stderr.startswith(f"tracelog: {path}: invalid gzip data (".encode())
        assert 1 == len(proc.stderr.splitlines())

    def test_no_match_is_exit_1(self, corpus: Corpus) -> None:
        """A trace that is not there: no output, exit 1."""
        proc = run_cli("grep", "1" * 32, corpus.files["default-stdlib"])
        assert (1, b"", b"") == (proc.returncode, proc.stdout, proc.stderr)

    @pytest.mark.parametrize(
        "bad", ["xyz", "0" * 32, "4bf92f35", "00-" + "a" * 32 + "-" + "0" * 16 + "-01", "1-abc-def"]
    )
    def test_bad_id_is_a_usage_error(self, bad: str) -> None:
        """A bad id: exit 2 and one line naming every accepted form."""
        proc = run_cli("grep", bad, "/dev/null")
        assert 2 == proc.returncode
        expected = (
            f"tracelog grep: not a trace id: {bad!r}; expected a 32-hex trace id; a traceparent "
            "(00-<32 hex>-<16 hex>-<2 hex>); a Datadog decimal id (low 64 bits); a GCP path "
            "(projects/<P>/traces/<32 hex>); an X-Ray id (1-<8 hex>-<24 hex>, or "
            "Root=1-...;Parent=...)"
        )
        assert [expected] == proc.stderr.decode().splitlines()

    def test_bad_span_and_jobs_are_usage_errors(self) -> None:
        """--span with a non-id and --jobs 0 exit 2 with one line."""
        tid = "4bf92f3577b34da6a3ce929d0e0e4736"
        proc = run_cli("grep", "--span", "zz", tid, "/dev/null")
        assert (
            2,
            b"tracelog grep: not a span id: 'zz'; expected 16 hex digits or a decimal\n",
        ) == (
            proc.returncode,
            proc.stderr,
        )
        proc = run_cli("grep", "--jobs", "0", tid, "/dev/null")
        assert (2, b"tracelog grep: --jobs must be at least 1, not 0\n") == (
            proc.returncode,
            proc.stderr,
        )
        proc = run_cli("grep", "--pretty", "-c", tid)
        assert 2 == proc.returncode
        assert 1 == len(proc.stderr.splitlines())


class TestTerminalSafety:
    HOSTILE = "pay\x1b[2J\x1b]0;pwned\x07 \u202eevil\u202c\r\nforged line\x00"

    def test_pretty_escapes_what_plain_keeps(self, corpus: Corpus, tmp_path: Path) -> None:
        """ANSI, control and bidi characters are escaped in --pretty; plain stays byte-exact."""
        line = corpus.trace_lines(corpus.files["default-stdlib"])[0]
        obj = render.loads(line)
        obj["message"] = self.HOSTILE
        obj[self.HOSTILE] = self.HOSTILE
        raw = render.dumps(obj)
        path = tmp_path / "hostile.log"
        path.write_bytes(raw)
        plain = run_cli("grep", corpus.trace_id, path)
        assert raw == plain.stdout
        for color in ("never", "always"):
            pretty = run_cli("grep", "--pretty", f"--color={color}", corpus.trace_id, path).stdout
            text = ANSI.sub(b"", pretty).decode()
            assert not set(text) & {"\x1b", "\x07", "\x00", "\r", "\u202e", "\u202c"}
            assert 1 == text.count("\n")
            assert "pay\\x1b[2J\\x1b]0;pwned\\x07 \\u202eevil\\u202c\\r\\nforged line\\x00" in text


class TestPipes:
    def test_live_stdin_stream_and_ctrl_c(self, corpus: Corpus) -> None:
        """From a pipe that stays open, each match is printed at once; Ctrl-C exits 130."""
        line = corpus.trace_lines(corpus.files["default-stdlib"])[0]
        for mode in ([], ["--pretty"]):
            proc = subprocess.Popen(
                [sys.executable, "-m", "tracelog.cli", "grep", *mode, corpus.trace_id],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            assert proc.stdin is not None
            assert proc.stdout is not None
            proc.stdin.write(line)
            proc.stdin.flush()
            shown = proc.stdout.readline()  # arrives while the pipe is still open
            proc.send_signal(signal.SIGINT)
            assert 130 == proc.wait(timeout=60)
            assert (line if not mode else b"in-trace order placed") in shown
            proc.stdin.close()
            proc.stdout.close()
            assert proc.stderr is not None
            assert b"" == proc.stderr.read()
            proc.stderr.close()

    def test_closed_pipe_ends_quietly(self, corpus: Corpus, tmp_path: Path) -> None:
        """`tracelog grep ... | head -1`: exit 0, no traceback, no message."""
        lines = corpus.trace_lines(corpus.files["default-stdlib"])
        path = tmp_path / "many.log"
        path.write_bytes(b"".join(lines * 20000))
        for mode in ([], ["--pretty"]):
            proc = subprocess.Popen(
                [sys.executable, "-m", "tracelog.cli", "grep", *mode, corpus.trace_id, str(path)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            assert proc.stdout is not None
            assert proc.stderr is not None
            first = proc.stdout.readline()
            proc.stdout.close()
            err = proc.stderr.read()
            proc.stderr.close()
            assert (0, b"") == (proc.wait(timeout=60), err)
            assert first

    def test_shell_pipeline_into_head(self, corpus: Corpus, tmp_path: Path) -> None:
        """In a real shell pipeline (stdin to head -1) tracelog exits 0 with no stderr."""
        path = corpus.files["default-stdlib"]
        many = tmp_path / "many.log"
        many.write_bytes(path.read_bytes() * 20000)
        cmd = (
            f"set -o pipefail; {sys.executable} -m tracelog.cli grep {corpus.trace_id} "
            f"< {many} | head -1"
        )
        proc = subprocess.run(["bash", "-c", cmd], capture_output=True, check=False, timeout=120)
        assert (0, b"") == (proc.returncode, proc.stderr)
        assert corpus.trace_lines(path)[0] == proc.stdout


class TestUnbufferedStdout:
    def test_output_is_identical_under_pythonunbuffered(
        self, corpus: Corpus, tmp_path: Path
    ) -> None:
        """With PYTHONUNBUFFERED=1 (stdout unbuffered) the output is still the input's lines."""
        path = corpus.files["default-stdlib"]
        many = tmp_path / "many.log"
        many.write_bytes(path.read_bytes() * 5000)
        proc = run_cli(
            "grep",
            "-j",
            "1",
            corpus.trace_id,
            many,
            env={"PYTHONUNBUFFERED": "1"},
            in_process=False,
        )
        assert (0, b"".join(corpus.trace_lines(path) * 5000)) == (proc.returncode, proc.stdout)

    def test_lines_are_gathered_into_few_writes(self) -> None:
        """Plain output makes one write per 64 KiB or so, not one per line; flush sends the rest."""
        from tracelog.cli.grep import _PlainWriter

        class Recorder(io.BytesIO):
            writes = 0

            def write(self, data: Any) -> int:
                self.writes += 1
                return super().write(data)

        out = Recorder()
        writer = _PlainWriter(out, b"f:", follow=False)
        line = b'{"traceId": "' + b"a" * 32 + b'", "pad": "' + b"x" * 950 + b'"}'
        for _ in range(1000):
            writer(memoryview(line), {}, DEFAULT)
        writer.flush()
        assert b"".join([b"f:" + line + b"\n"] * 1000) == out.getvalue()
        assert len(out.getvalue()) // (1 << 16) + 1 >= out.writes


class TestUpperCaseIds:
    def test_found_only_with_ignore_case(self, tmp_path: Path) -> None:
        """A line another tool wrote with an upper-case id is found with -i, not without
        (W3C and tracelog write lowercase, and the default saves a pass over the bytes)."""
        tid = "4bf92f3577b34da6a3ce929d0e0e4736"
        path = tmp_path / "foreign.log"
        path.write_bytes(
            b'{"message":"upper","traceId":"' + tid.upper().encode() + b'"}\n'
            b'{"message":"lower","traceId":"' + tid.encode() + b'"}\n'
        )
        plain = run_cli("grep", tid, str(path))
        wide = run_cli("grep", "-i", tid, str(path))
        assert [b"lower"] == [
            render.loads(x)["message"].encode() for x in plain.stdout.splitlines()
        ]
        assert [b"upper", b"lower"] == [
            render.loads(x)["message"].encode() for x in wide.stdout.splitlines()
        ]


class TestPrettyMerge:
    TID = "4bf92f3577b34da6a3ce929d0e0e4736"

    def line(self, message: str, stamp: str | None, service: str) -> bytes:
        fields: dict[str, object] = {"level": "info", "message": message, "service": service}
        if stamp is not None:
            fields["timestamp"] = stamp
        return render.dumps({**fields, "traceId": self.TID, "spanId": "00f067aa0ba902b7"})

    def test_several_files_are_merged_by_time(self, tmp_path: Path) -> None:
        """--pretty over two files prints one story in time order; a timeless line stays
        after the line before it in its file."""
        first, second = tmp_path / "a.log", tmp_path / "b.log"
        first.write_bytes(
            self.line("a1", "2026-11-24T08:05:02.100000Z", "checkout")
            + self.line("a2", "2026-11-24T08:05:02.300000Z", "checkout")
            + self.line("a3", None, "checkout")
        )
        second.write_bytes(
            self.line("b1", "2026-11-24T08:05:02.200000Z", "payments")
            + self.line("b2", "2026-11-24T08:05:02.400000Z", "payments")
        )
        proc = run_cli("grep", "--pretty", self.TID, first, second)
        assert 0 == proc.returncode
        messages = [row.split()[-1] for row in proc.stdout.decode().splitlines()]
        assert ["a1", "b1", "a2", "a3", "b2"] == messages

    def test_one_file_keeps_its_order(self, tmp_path: Path) -> None:
        """--pretty over one input prints its lines as they come, out of time order too."""
        path = tmp_path / "a.log"
        path.write_bytes(
            self.line("late", "2026-11-24T08:05:03Z", "checkout")
            + self.line("early", "2026-11-24T08:05:01Z", "checkout")
        )
        proc = run_cli("grep", "--pretty", self.TID, path)
        assert ["late", "early"] == [row.split()[-1] for row in proc.stdout.decode().splitlines()]
