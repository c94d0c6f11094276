"""The ``tracelog`` command."""

from __future__ import annotations

import sys

USAGE = """usage: tracelog <command> [options]

commands:
  grep ID [FILE...]   print the log lines of one trace (coming soon)
  show ID [FILE...]   draw the trace's waterfall from its logs (coming soon)
"""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tracelog`` console script."""
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in {"-h", "--help"}:
        sys.stdout.write(USAGE)
        return 0
    sys.stderr.write(USAGE)
    return 2
