"""The ``tracelog`` command: find one request's log lines in any layout, with no backend.

``tracelog grep`` prints a trace's lines (byte for byte, or ``--pretty``); ``tracelog
show`` draws its waterfall in the terminal or as one HTML file. Both read plain or
gzip files, directories with ``-r``, and stdin, and both match through the layouts in
:mod:`tracelog.schemas`: a line matches when a layout reads the trace id from it, never
because the id appears somewhere in its text.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, cast

from tracelog.cli.ids import IdError, parse_span_id, parse_trace_id

if TYPE_CHECKING:
    import argparse

__all__ = ["main"]

# The quick path: `tracelog grep [flags] ID [FILE...]` with only these options, all
# before ID, is parsed without argparse (whose import and parser cost a few ms of each
# start). Anything else, help and usage errors included, goes to the full parser; a
# test holds both to the same result.
_GREP_FLAGS = {
    "-c": "count",
    "--count": "count",
    "-l": "files_with_matches",
    "--files-with-matches": "files_with_matches",
    "-H": "with_filename",
    "--with-filename": "with_filename",
    "-r": "recursive",
    "--recursive": "recursive",
    "-i": "ignore_case",
    "--ignore-case": "ignore_case",
    "-s": "no_messages",
    "--no-messages": "no_messages",
    "--strict": "strict",
}
_GREP_DEFAULTS: dict[str, object] = {
    "version": False,
    "command": "grep",
    "id_format": "auto",
    "color": "auto",
    "span": None,
    "pretty": False,
    "jobs": None,
    **dict.fromkeys(_GREP_FLAGS.values(), False),
}


def _quick_grep_args(argv: list[str]) -> argparse.Namespace | None:
    """The parsed arguments of a plain ``grep`` command line, or None for the full parser."""
    if argv[:1] != ["grep"]:
        return None
    values = dict(_GREP_DEFAULTS)
    positional: list[str] = []
    rest = iter(argv[1:])
    for arg in rest:
        if positional and arg == "-":
            positional.append(arg)  # stdin, after the id
        elif arg[:1] != "-":
            positional.append(arg)
        elif positional:
            return None  # an option after the id: argparse's rules, not ours
        elif arg in _GREP_FLAGS:
            values[_GREP_FLAGS[arg]] = True
        elif arg in {"-j", "--jobs"}:
            jobs = next(rest, "")
            if not (jobs.isascii() and jobs.isdigit()):
                return None
            values["jobs"] = int(jobs)
        else:
            return None
    if not positional or (values["count"] and values["files_with_matches"]):
        return None
    values["id"], *files = positional
    values["files"] = files
    from types import SimpleNamespace  # noqa: PLC0415 - loaded by the interpreter already

    return cast("argparse.Namespace", SimpleNamespace(**values))


def _run(argv: list[str]) -> int:
    args = _quick_grep_args(argv)
    if args is None:
        from tracelog.cli._parser import build_parser  # noqa: PLC0415 - see _quick_grep_args

        parser = build_parser()
        args, unknown = parser.parse_known_args(argv)
        if unknown:
            # Blame the subcommand, whose --help lists the options.
            parser.commands.get(args.command, parser).error(
                f"unrecognized arguments: {' '.join(unknown)}"
            )
        if args.version:
            import tracelog  # noqa: PLC0415

            sys.stdout.write(f"tracelog {tracelog.__version__}\n")
            return 0
        if args.command is None:
            parser.print_usage(sys.stderr)
            return 2
    if args.command == "pretty":
        from tracelog.cli import pretty  # noqa: PLC0415

        return pretty.run(args)
    command = f"tracelog {args.command}"
    try:
        query = parse_trace_id(args.id, args.id_format)
    except IdError as exc:
        return _usage(command, str(exc))
    span_id = None
    if getattr(args, "span", None) is not None:
        span_id = parse_span_id(args.span)
        if span_id is None:
            return _usage(
                command, f"not a span id: {args.span!r}; expected 16 hex digits or a decimal"
            )
    if args.jobs is not None and args.jobs < 1:
        return _usage(command, f"--jobs must be at least 1, not {args.jobs}")

    from tracelog.cli.inputs import Session  # noqa: PLC0415
    from tracelog.cli.scan import Matcher  # noqa: PLC0415

    session = Session(
        Matcher(query, span_id, ignore_case=args.ignore_case),
        quiet=args.no_messages,
        strict=args.strict,
        jobs=args.jobs,
    )
    if args.command == "grep":
        from tracelog.cli import grep  # noqa: PLC0415

        return grep.run(args, session)
    from tracelog.cli import show  # noqa: PLC0415
    from tracelog.cli.links import TemplateError, TraceUrl  # noqa: PLC0415

    template = args.trace_url
    source = "--trace-url"
    if template is None:
        template = os.environ.get("TRACELOG_TRACE_URL", "").strip() or None
        source = "TRACELOG_TRACE_URL"
    url = None
    if template is not None:
        try:
            url = TraceUrl(template)
        except TemplateError as exc:
            return _usage(command, f"bad {source} template: {exc}")
    return show.run(args, session, query, url)


def _usage(command: str, message: str) -> int:
    from tracelog._term import escape  # noqa: PLC0415

    sys.stderr.write(f"{command}: {escape(message)}\n")
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``tracelog`` console script; returns the exit status.

    Never a traceback: a closed pipe (``tracelog grep ... | head -1``) ends the run
    quietly, Ctrl-C exits 130, and anything unexpected is one line on stderr.
    """
    args = sys.argv[1:] if argv is None else argv
    try:
        status = _run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away: nothing more to say. Point stdout at /dev/null so the
        # interpreter's own flush at exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0
    except KeyboardInterrupt:
        return 130
    except SystemExit as exc:  # argparse's --help and usage errors
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None) * 2
    except Exception as exc:  # pragma: no cover - a bug; still one line, not a traceback
        sys.stderr.write(f"tracelog: internal error: {type(exc).__name__}: {exc}\n")
        return 2
    return status
