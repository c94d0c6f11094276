"""The ``tracelog`` argument parser (argparse), for every command line the quick path in
:mod:`tracelog.cli` does not take: help, usage errors, ``show``, ``pretty`` and the rarer
``grep`` options.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from tracelog.cli.ids import ID_FORMS

__all__ = ["build_parser"]

_ID_HELP = "; ".join(f"{name}: {text}" for name, text in ID_FORMS.items())

_MAIN_EPILOG = """\
examples:
  tracelog grep 4bf92f3577b34da6a3ce929d0e0e4736 app.log
  tracelog grep --pretty 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 logs/*.gz
  kubectl logs deploy/checkout | tracelog grep 11803532876627986230
  tracelog show 1-4bf92f35-77b34da6a3ce929d0e0e4736 -r /var/log/shop
  tracelog show --html trace.html 4bf92f3577b34da6a3ce929d0e0e4736 app.log

Run 'tracelog grep --help' or 'tracelog show --help' for the options.
"""

_GREP_EPILOG = """\
The ID may be written as a 32-hex trace id, a traceparent header, a Datadog decimal
trace id (matches the low 64 bits), a GCP trace path or an X-Ray trace id; a 32-hex id
also finds Datadog lines by their low 64 bits. Only lines that hold one of the id's
spellings are parsed; such a line that is no JSON object is skipped and counted.

Exit status: 0 if a line matched, 1 if none did, 2 on a usage error, an unreadable or
truncated file, or (with --strict) a skipped line.

examples:
  tracelog grep 4bf92f3577b34da6a3ce929d0e0e4736 app.log
  tracelog grep --pretty 11803532876627986230 -r logs/
  tracelog grep -c projects/shop/traces/4bf92f3577b34da6a3ce929d0e0e4736 a.log b.log.gz
  tracelog grep 4bf92f3577b34da6a3ce929d0e0e4736 --span 00f067aa0ba902b7 app.log | jq .
"""

_SHOW_EPILOG = """\
Span records written by tracelog.export.JsonLinesSpanExporter give the span tree, names,
durations and statuses; without them each span is drawn from its log lines alone.

The trace URL template (--trace-url, or TRACELOG_TRACE_URL) may use {trace_id},
{span_id}, {trace_id_dd}, {xray_trace_id} and {service}; {{ and }} are literal braces.

examples:
  tracelog show 4bf92f3577b34da6a3ce929d0e0e4736 app.log spans.log
  tracelog show --html trace.html 4bf92f3577b34da6a3ce929d0e0e4736 -r logs/
  tracelog show --trace-url 'http://localhost:16686/trace/{trace_id}' 4bf92f35...
"""


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr, exit status 2."""

    commands: dict[str, argparse.ArgumentParser]

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: {message} (see '{self.prog} --help')\n")
        sys.exit(2)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", metavar="ID", help="the trace id, in any accepted form")
    parser.add_argument(
        "files",
        metavar="FILE",
        nargs="*",
        default=[],
        help="plain or gzip files; '-' or none: stdin",
    )
    parser.add_argument(
        "--id-format",
        choices=["auto", *ID_FORMS],
        default="auto",
        help=f"how ID is written (default: auto). {_ID_HELP}",
    )
    parser.add_argument(
        "-r", "--recursive", action="store_true", help="read the files under directories"
    )
    parser.add_argument(
        "-i",
        "--ignore-case",
        action="store_true",
        help="also find ids written in upper-case hex (W3C and tracelog write lowercase)",
    )
    parser.add_argument(
        "--color",
        "--colour",
        choices=["auto", "always", "never"],
        default="auto",
        help="colour the readable views: always, never, or auto (a terminal; NO_COLOR off)",
    )
    parser.add_argument(
        "-s",
        "--no-messages",
        action="store_true",
        help="no messages about unreadable files and skipped lines (the exit status stays)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="a line that holds the id but is not JSON (or is binary) is an error: exit 2",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="processes a plain file is split between (default: the idle CPUs, at most 4, "
        "for a file of 128 MiB or more)",
    )


def _command(
    commands: argparse._SubParsersAction[_Parser],
    name: str,
    summary: str,
    description: str,
    epilog: str,
) -> _Parser:
    parser = commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(parser)
    return parser


def build_parser() -> _Parser:
    """The ``tracelog`` argument parser."""
    parser = _Parser(
        prog="tracelog",
        description="Find one request's log lines, in any tracelog layout, with no backend.",
        epilog=_MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    grep = _command(
        commands,
        "grep",
        "print the log lines of one trace",
        "Print the log lines of one trace, byte for byte as they are in the input.",
        _GREP_EPILOG,
    )
    grep.add_argument("--span", metavar="SPAN", help="only this span (16 hex or Datadog decimal)")
    grep.add_argument(
        "-H", "--with-filename", action="store_true", help="prefix each line with its file name"
    )
    mode = grep.add_mutually_exclusive_group()
    mode.add_argument(
        "--pretty",
        action="store_true",
        help="aligned, readable lines: time, service, level, span, message, fields",
    )
    mode.add_argument("-c", "--count", action="store_true", help="print the number of lines")
    mode.add_argument(
        "-l", "--files-with-matches", action="store_true", help="print only names of files"
    )
    show = _command(
        commands,
        "show",
        "draw the trace's waterfall from its logs (terminal or HTML)",
        "Draw one trace as a waterfall: its spans, and each span's log lines.",
        _SHOW_EPILOG,
    )
    show.add_argument("--html", metavar="OUT", help="write a self-contained HTML page to OUT")
    show.add_argument(
        "--trace-url",
        metavar="TEMPLATE",
        default=None,
        help="link to the trace in a tracing UI (default: $TRACELOG_TRACE_URL)",
    )
    pretty = commands.add_parser(
        "pretty",
        help="print JSON log lines of any layout as readable console lines",
        description=(
            "Print JSON log lines (any tracelog layout) as readable lines: time, level, "
            "logger, message, key=value fields, short trace and span ids, tracebacks. "
            "A line that is not JSON is printed as it is."
        ),
        epilog="examples:\n  python app.py 2>&1 | tracelog pretty\n  tracelog pretty -f app.log",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pretty.add_argument(
        "files", metavar="FILE", nargs="*", default=[], help="plain or gzip files; none: stdin"
    )
    pretty.add_argument(
        "-f", "--follow", action="store_true", help="keep reading files as they grow (tail -f)"
    )
    pretty.add_argument(
        "--color",
        "--colour",
        choices=["auto", "always", "never"],
        default="auto",
        help="colour: always, never, or auto (a terminal; NO_COLOR off, FORCE_COLOR on)",
    )
    parser.commands = {"grep": grep, "show": show, "pretty": pretty}
    return parser
