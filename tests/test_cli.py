"""The tracelog command."""

from __future__ import annotations

import subprocess
import sys


class TestStub:
    def test_no_arguments_is_usage_error(self) -> None:
        """Without a command, usage goes to stderr and the exit code is 2."""
        proc = subprocess.run(
            [sys.executable, "-m", "tracelog.cli"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert 2 == proc.returncode
        assert proc.stderr.startswith("usage: tracelog")

    def test_help(self) -> None:
        """--help prints usage and exits 0."""
        from tracelog.cli import main

        assert 0 == main(["--help"])
