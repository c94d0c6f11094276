"""`python -m tracelog`, and an ImportError that names the missing extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

BLOCKER = textwrap.dedent(
    """
    import sys

    class Missing:
        def find_spec(self, name, path=None, target=None):
            if name == {blocked!r} or name.startswith({blocked!r} + "."):
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, Missing())
    try:
        import {module}
    except ImportError as exc:
        print(exc)
        print(exc.name)
    """
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the test interpreter with *args*, capturing text output."""
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=60, check=False
    )


class TestMainModule:
    def test_python_m_tracelog_is_the_cli(self) -> None:
        """`python -m tracelog --help` prints the CLI's help and exits 0."""
        done = run("-m", "tracelog", "--help")
        assert (0, True, True) == (
            done.returncode,
            "grep" in done.stdout,
            "show" in done.stdout,
        )

    def test_python_m_tracelog_usage_error(self) -> None:
        """An unknown subcommand exits 2 like the `tracelog` script."""
        assert 2 == run("-m", "tracelog", "no-such-command").returncode


class TestMissingExtra:
    @pytest.mark.parametrize(
        ("module", "blocked", "extra"),
        [
            ("tracelog.export", "opentelemetry.sdk", "sdk"),
            ("tracelog.testing", "opentelemetry.sdk", "sdk"),
            ("tracelog.instrument", "opentelemetry.instrumentation", "instrument"),
        ],
    )
    def test_error_names_the_extra(self, module: str, blocked: str, extra: str) -> None:
        """Importing a module without its extra says which extra to pip install."""
        done = run("-c", BLOCKER.format(blocked=blocked, module=module))
        message, name = done.stdout.splitlines()
        expected = (True, True, True)
        actual = (
            f"pip install 'tracelog-otel[{extra}]'" in message,
            message.startswith(f"{module} needs the '{extra}' extra"),
            name.startswith(blocked),
        )
        assert expected == actual
