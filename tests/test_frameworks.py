"""configure() routes the servers' own loggers through tracelog, before or after their set-up."""

from __future__ import annotations

import io
import logging
import logging.config
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import tracelog
from tracelog import _frameworks
from tracelog._context import TraceContext, escaped_context, remember_escape

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


@pytest.fixture(autouse=True)
def _restore_framework_loggers() -> Iterator[None]:
    """Each test leaves the server loggers as it found them."""
    names = [
        name
        for name in logging.Logger.manager.loggerDict
        if name.split(".", 1)[0] in _frameworks._PREFIXES
    ]
    saved = {
        name: (logger.handlers[:], logger.propagate, logger.filters[:], logger.level)
        for name in names
        if isinstance(logger := logging.getLogger(name), logging.Logger)
    }
    yield
    _frameworks.unroute()
    for name in list(logging.Logger.manager.loggerDict):
        if name.split(".", 1)[0] in _frameworks._PREFIXES:
            logger = logging.getLogger(name)
            handlers, propagate, filters, level = saved.get(name, ([], True, [], 0))
            logger.handlers[:], logger.propagate, logger.filters[:] = handlers, propagate, filters
            logger.setLevel(level)


def console_config(**loggers: dict[str, Any]) -> dict[str, Any]:
    """A dictConfig with one text console handler on stderr, as servers ship."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"text": {"format": "%(levelname)s: %(message)s"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "text",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": loggers,
    }


def parsed(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in buffer.getvalue().splitlines()]


class TestBefore:
    def test_server_configured_first(self, capsys) -> None:
        """uvicorn's order: its dictConfig, then configure(); its lines become JSON only."""
        logging.config.dictConfig(
            console_config(
                uvicorn={"handlers": ["console"], "level": "INFO", "propagate": False},
                **{"uvicorn.access": {"handlers": ["console"], "propagate": False}},
            )
        )
        buffer = io.StringIO()
        tracelog.configure(stream=buffer)
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 7)
        logging.getLogger("uvicorn.access").info("127.0.0.1 - GET / 200")
        assert ["Started server process [7]", "127.0.0.1 - GET / 200"] == [
            x["message"] for x in parsed(buffer)
        ]
        assert "" == capsys.readouterr().err

    def test_file_handlers_stay(self, tmp_path: Path) -> None:
        """A server logger's file handler keeps its copy; only console handlers go."""
        path = tmp_path / "error.log"
        logger = logging.getLogger("gunicorn.error")
        logger.addHandler(logging.FileHandler(path))
        logger.propagate = False
        buffer = io.StringIO()
        tracelog.configure(stream=buffer)
        logger.error("worker timeout")
        logger.handlers[0].close()
        assert ["worker timeout"] == [x["message"] for x in parsed(buffer)]
        assert "worker timeout\n" == path.read_text()


class TestAfter:
    def test_server_configured_later(self, capsys) -> None:
        """Django's order: configure() in settings, then LOGGING at django.setup()."""
        buffer = io.StringIO()
        tracelog.configure(stream=buffer)
        logging.config.dictConfig(
            console_config(
                django={"handlers": ["console"], "level": "INFO"},
                **{"django.server": {"handlers": ["console"], "propagate": False}},
            )
        )
        logging.getLogger("django.request").error("Internal Server Error: /boom")
        logging.getLogger("django.server").info('"GET /boom HTTP/1.1" 500 145')
        assert ["Internal Server Error: /boom", '"GET /boom HTTP/1.1" 500 145'] == [
            x["message"] for x in parsed(buffer)
        ]
        assert "" == capsys.readouterr().err

    def test_child_logger_created_before_configure(self, capsys) -> None:
        """A server logger that existed at configure() time is routed on its first record."""
        child = logging.getLogger("django.db.backends.schema")
        buffer = io.StringIO()
        tracelog.configure(stream=buffer)
        logging.config.dictConfig(console_config(django={"handlers": ["console"]}))
        child.warning("slow migration")
        assert ["slow migration"] == [x["message"] for x in parsed(buffer)]
        assert "" == capsys.readouterr().err


class TestOff:
    @pytest.mark.parametrize("how", ["argument", "env"])
    def test_frameworks_false_leaves_them_alone(self, how, monkeypatch, capsys) -> None:
        """frameworks=False / TRACELOG_FRAMEWORKS=false: the server keeps its own handlers."""
        logging.config.dictConfig(
            console_config(uvicorn={"handlers": ["console"], "propagate": False})
        )
        buffer = io.StringIO()
        if how == "env":
            monkeypatch.setenv("TRACELOG_FRAMEWORKS", "false")
            tracelog.configure(stream=buffer)
        else:
            tracelog.configure(stream=buffer, frameworks=False)
        logging.getLogger("uvicorn").warning("text as before")
        assert [] == parsed(buffer)
        assert "WARNING: text as before\n" == capsys.readouterr().err

    def test_turning_off_stops_later_routing(self, capsys) -> None:
        """A later configure(frameworks=False) leaves a later server set-up alone too."""
        tracelog.configure(stream=io.StringIO())
        buffer = io.StringIO()
        tracelog.configure(stream=buffer, frameworks=False)
        logging.config.dictConfig(
            console_config(django={"handlers": ["console"], "propagate": False})
        )
        logging.getLogger("django").warning("text")
        assert ([], "WARNING: text\n") == (parsed(buffer), capsys.readouterr().err)

    def test_bad_values_fail_at_configure(self, monkeypatch) -> None:
        """A typo in the argument or the variable raises at once, naming the choices."""
        with pytest.raises(TypeError, match="frameworks must be a bool"):
            tracelog.configure(frameworks=1)  # type: ignore[arg-type]
        monkeypatch.setenv("TRACELOG_FRAMEWORKS", "maybe")
        with pytest.raises(ValueError, match="true or false"):
            tracelog.configure()


class TestConsoleHandlers:
    def test_stdout_handler_counts(self) -> None:
        """A handler on stdout is a console handler; one on a StringIO is not."""
        assert (True, False) == (
            _frameworks._is_console(logging.StreamHandler(sys.stdout)),
            _frameworks._is_console(logging.StreamHandler(io.StringIO())),
        )

    def test_fd_2_counts(self, tmp_path: Path) -> None:
        """A stream opened on fd 2 by the server (gunicorn's '-') is the console too."""
        with open(2, "w", closefd=False) as stream:
            assert _frameworks._is_console(logging.StreamHandler(stream))


class TestEscapedException:
    def test_line_after_the_span_carries_its_ids(self, recorder, output, framework) -> None:
        """An exception marked inside a span gives a line logged after it that span's ids."""
        out = output()
        tracer = recorder.provider.get_tracer("t")
        try:
            with tracer.start_as_current_span("GET /boom") as span:
                try:
                    raise RuntimeError("boom")  # noqa: TRY301
                except RuntimeError as exc:
                    remember_escape(exc)
                    raise
        except RuntimeError as exc:
            if framework == "stdlib":
                logging.getLogger("uvicorn.error").error("Exception in ASGI app", exc_info=exc)  # noqa: TRY400
            else:
                tracelog.get_logger("server").error("Exception in ASGI app", exc_info=exc)
        sc = span.get_span_context()
        (line,) = out.lines()
        assert (format(sc.trace_id, "032x"), format(sc.span_id, "016x")) == (
            line["traceId"],
            line["spanId"],
        )
        assert "RuntimeError" == line["exception"]["type"]

    def test_current_span_wins(self, recorder, output) -> None:
        """Logged inside another span, the line carries that span, not the remembered one."""
        out = output()
        exc = ValueError("x")
        object.__setattr__(exc, "_tracelog_context", TraceContext(TRACE, SPAN, "01"))
        with recorder.provider.get_tracer("t").start_as_current_span("other") as span:
            logging.getLogger("app").error("handled", exc_info=exc)
        (line,) = out.lines()
        assert format(span.get_span_context().span_id, "016x") == line["spanId"]

    def test_innermost_context_is_kept(self) -> None:
        """A second mark (an outer middleware) does not replace the first."""
        exc = ValueError("x")
        inner, outer = TraceContext(TRACE, SPAN, "01"), TraceContext(TRACE, "1" * 16, "01")
        remember_escape(exc, inner)
        remember_escape(exc, outer)
        assert inner == escaped_context((ValueError, exc, None))

    def test_unmarkable_and_unmarked(self) -> None:
        """Outside a span nothing is kept; exceptions without a __dict__ are skipped quietly."""

        class Slotted(Exception):  # noqa: N818
            __slots__ = ()

            def __setattr__(self, name: str, value: Any) -> None:
                raise AttributeError(name)

        exc = ValueError("x")
        remember_escape(exc)
        slotted = Slotted()
        remember_escape(slotted, TraceContext(TRACE, SPAN, "01"))
        assert (None, None, None) == (
            escaped_context((ValueError, exc, None)),
            escaped_context((Slotted, slotted, None)),
            escaped_context(None),
        )
