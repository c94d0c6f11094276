"""Every ```python and ```bash block of README.md and docs/ runs, and shown output is real.

Marker syntax: an HTML comment on the line right before a fenced block.

- ``<!-- snippet: skip reason=... -->``: the block is not run (the reason is required).
- ``<!-- snippet: output -->``: the block is the output of the last block run before it in
  the same file (stdout and stderr together), compared with times and ids masked.
- ``<!-- snippet: golden=NAME -->``: the block equals ``tests/resources/golden/NAME``.
- ``<!-- snippet: demo -->``: the block is ``tracelog show`` of the demo's failed order;
  ``tests/test_demo.py`` compares it with a run of the demo.

Python blocks run in a subprocess of the project's Python, in a temporary directory;
shell blocks run under ``bash -e`` there, with the interpreter's ``bin`` first on PATH and
a copy of ``examples/``. The ```console blocks of a page are one terminal session: each
``$ command`` runs in turn (``cd`` carries over), and what follows it is its output. The
trace id a session shows is the one its first command printed in the recorded run; it is
replaced by the id of this run (also in its Datadog and X-Ray spellings).
"""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import tracelog

ROOT = Path(__file__).parent.parent
GOLDEN = ROOT / "tests/resources/golden"
RUNNABLE = {"python": "python", "bash": "shell", "shell": "shell", "sh": "shell"}
MARKER = re.compile(r"<!-- snippet: (?P<kind>skip|output|golden|demo)(?:[ =](?P<arg>.*?))? -->")
# What differs from run to run: times, ids (hex and Datadog decimal), ports, durations.
VOLATILE = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}"), "<time>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<trace-id>"),
    (re.compile(r"\b[0-9a-f]{16}\b"), "<span-id>"),
    (re.compile(r"\b1-[0-9a-f]{8}-[0-9a-f]{24}\b"), "<xray-id>"),
    (re.compile(r'"dd\.(trace|span)_id":"\d+"'), r'"dd.\1_id":"<dd-id>"'),
    (re.compile(r"\b\d{15,20}\b"), "<dd-id>"),
    (re.compile(r'"durationMs":[\d.]+'), '"durationMs":<ms>'),
    (re.compile(r"\+?\b\d+(\.\d+)? m?s\b"), "<ms>"),
    # tracelog show's time track: its bars and dots move with the run's timing.
    (re.compile(r"(?m)^[ \u2588\u2591\u00b7\u2022]+"), ""),
    (re.compile(r"[ \t]+"), " "),
]


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    marker: str | None  # "skip", "output", "golden" or None
    arg: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks_of(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, each with the marker right above it."""
    lines = path.read_text().splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        fence = re.match(r"^(`{3,})(\S*)\s*$", lines[i])
        if fence is None:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == fence[1])
        above = lines[i - 1].strip() if i else ""
        marker = MARKER.fullmatch(above)
        if above.startswith("<!-- snippet") and marker is None:
            raise ValueError(f"{path}:{i}: unknown snippet marker {above!r}")
        found.append(
            Block(
                path,
                i + 1,
                fence[2],
                "\n".join(lines[i + 1 : end]) + "\n",
                marker["kind"] if marker else None,
                (marker["arg"] or "").strip() if marker else "",
            )
        )
        i = end + 1
    return found


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def all_blocks() -> list[Block]:
    return [block for page in pages() for block in blocks_of(page)]


def runnable() -> list[tuple[Block, list[Block]]]:
    """Each block to run (a block repeated word for word runs once), with its outputs."""
    found: dict[str, tuple[Block, list[Block]]] = {}
    for page in pages():
        last: Block | None = None
        for block in blocks_of(page):
            if block.marker == "output":
                assert last is not None, f"{block.id}: an output block with no block before it"
                found[last.code][1].append(block)
            elif block.lang in RUNNABLE and block.marker != "skip":
                last = block
                found.setdefault(block.code, (block, []))
    return list(found.values())


def skipped() -> list[Block]:
    return [b for b in all_blocks() if b.marker == "skip"]


def run(block: Block, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # A clean environment: no OTEL_/TRACELOG_ settings of the caller, no coverage hooks.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OTEL_", "TRACELOG_", "COV", "PYTEST"))
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TRACELOG_ROOT"] = str(ROOT)
    env["NO_COLOR"] = "1"
    if RUNNABLE.get(block.lang) == "python":
        script = tmp_path / "snippet.py"
        command = [sys.executable, str(script)]
    else:
        script = tmp_path / "snippet.sh"
        command = ["bash", "-e", "-o", "pipefail", str(script)]
    script.write_text(block.code)
    if RUNNABLE.get(block.lang) == "shell" and not (tmp_path / "examples").exists():
        shutil.copytree(ROOT / "examples", tmp_path / "examples")
    return subprocess.run(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
        check=False,
    )


def session_of(page: Path) -> list[tuple[Block, list[tuple[str, str]]]]:
    """The page's ```console blocks, each as (command, shown output) pairs."""
    session = []
    for block in blocks_of(page):
        if block.lang != "console" or block.marker == "skip":
            continue
        steps: list[tuple[str, str]] = []
        for line in block.code.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], ""))
            elif steps:
                steps[-1] = (steps[-1][0], steps[-1][1] + line + "\n")
        session.append((block, steps))
    return session


def sessions() -> list[Path]:
    """The pages with a console session (a session repeated word for word runs once)."""
    found: dict[tuple[str, ...], Path] = {}
    for page in pages():
        session = session_of(page)
        if session:
            found.setdefault(tuple(block.code for block, _ in session), page)
    return list(found.values())


def replay(page: Path, tmp_path: Path) -> list[tuple[str, str, str]]:
    """Run a page's console session: (block id + command, shown output, this run's output)."""
    steps = [(block, *step) for block, found in session_of(page) for step in found]
    recorded = next(m[0] for m in (re.search(r"\b[0-9a-f]{32}\b", s[2]) for s in steps) if m)
    spellings = [
        (f"1-{recorded[:8]}-{recorded[8:]}", "1-${TRACE_ID:0:8}-${TRACE_ID:8}"),
        (recorded, "${TRACE_ID}"),
        (str(int(recorded[16:], 16)), "${DD_ID}"),
    ]
    outs = tmp_path / "outputs"
    outs.mkdir()
    script = ["TRACE_ID=", "DD_ID="]
    for i, (_, shown_command, _) in enumerate(steps):
        command = shown_command
        for text, variable in spellings:
            command = command.replace(text, variable)
        script += [
            f'{{ {command}; }} > "{outs}/{i}" 2>&1 || true',
            'if [ -z "$TRACE_ID" ]; then',
            f'  TRACE_ID=$(grep -oE "[0-9a-f]{{32}}" "{outs}/{i}" | head -1 || true)',
            '  [ -z "$TRACE_ID" ] || DD_ID=$(python -c "print(int(\'${TRACE_ID:16}\', 16))")',
            "fi",
        ]
    block = Block(page, 0, "bash", "\n".join(script) + "\n", None, "")
    proc = run(block, tmp_path)
    assert 0 == proc.returncode, proc.stdout
    return [
        (f"{b.id} $ {command}", shown, (outs / str(i)).read_text())
        for i, (b, command, shown) in enumerate(steps)
    ]


def masked(text: str) -> str:
    for pattern, placeholder in VOLATILE:
        text = pattern.sub(placeholder, text)
    return text.strip()


class TestMarkers:
    def test_every_skip_names_its_reason(self) -> None:
        """A skipped block says why it cannot run."""
        assert [] == [b.id for b in skipped() if not b.arg.startswith("reason=") or len(b.arg) < 12]

    def test_golden_blocks_name_a_golden_file(self) -> None:
        """Every golden marker names a file under tests/resources/golden."""
        names = [b.arg for b in all_blocks() if b.marker == "golden"]
        assert names
        assert [] == [n for n in names if not (GOLDEN / n).is_file()]

    def test_outputs_follow_a_block_that_runs(self) -> None:
        """Every output marker has a block to compare with (none is silently unchecked)."""
        checked = {o.id for _, shown in runnable() for o in shown}
        assert [] == [b.id for b in all_blocks() if b.marker == "output" and b.id not in checked]

    def test_the_pages_have_blocks_to_run(self) -> None:
        """The collector finds the README's and the docs' blocks (not vacuously green)."""
        files = {b.path.name for b, _ in runnable()}
        assert {"README.md", "getting-started.md", "configuration.md"} <= files


@pytest.mark.parametrize(("block", "shown"), runnable(), ids=[b.id for b, _ in runnable()])
class TestSnippetsRun:
    def test_runs_and_prints_what_is_shown(
        self, block: Block, shown: list[Block], tmp_path: Path
    ) -> None:
        """The block runs as written (exit 0) and prints each output shown under it."""
        proc = run(block, tmp_path)
        assert (0, block.id) == (proc.returncode, block.id), proc.stdout[-3000:]
        for output in shown:
            assert (output.id, masked(output.code)) == (output.id, masked(proc.stdout))


@pytest.mark.parametrize("page", sessions(), ids=lambda p: str(p.relative_to(ROOT)))
class TestConsoleSessions:
    def test_each_command_prints_what_is_shown(self, page: Path, tmp_path: Path) -> None:
        """Replayed, each ``$ command`` prints what the page shows (times and ids masked)."""
        for where, shown, actual in replay(page, tmp_path):
            assert (where, masked(shown)) == (where, masked(actual))


@pytest.mark.parametrize(
    "block", [b for b in all_blocks() if b.marker == "golden"], ids=lambda b: b.id
)
class TestGoldenLines:
    def test_matches_golden_file(self, block: Block) -> None:
        """A layout's example line is the golden line the layout tests write byte for byte."""
        assert (GOLDEN / block.arg).read_text().strip() == block.code.strip()


class TestConfigurationReference:
    def test_every_argument_is_documented(self) -> None:
        """docs/configuration.md has a table row for every configure() argument."""
        page = (ROOT / "docs/configuration.md").read_text()
        params = list(inspect.signature(tracelog.configure).parameters)
        assert [] == [p for p in params if f"| `{p}` |" not in page]

    def test_every_variable_is_documented(self) -> None:
        """Every TRACELOG_* variable the package reads is in docs/configuration.md."""
        page = (ROOT / "docs/configuration.md").read_text()
        code = "\n".join(p.read_text() for p in (ROOT / "tracelog").rglob("*.py"))
        names = set(re.findall(r"\bTRACELOG_[A-Z][A-Z_]*[A-Z]\b", code))
        assert names
        assert [] == sorted(n for n in names if f"`{n}`" not in page)
