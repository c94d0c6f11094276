"""Call-site fields (configure(callsite=True)) and python-json-logger's options on JsonFormatter."""

from __future__ import annotations

import asyncio
import inspect
import io
import logging
import logging.config
from collections.abc import Callable
from typing import Any

import orjson
import pytest

import tracelog
from tests.conftest import Output
from tracelog.schemas import SCHEMA_NAMES, Schema, get_schema
from tracelog.stdlib import JsonFormatter

PROJECT = "shop-prod"
ISSUE_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s %(module)s %(funcName)s %(lineno)d %(process)d %(message)s"
)


def layout(name: str) -> Schema:
    """The layout called *name*."""
    return get_schema(name, gcp_project=PROJECT)


def site_of(line_no: int, function: str) -> dict[str, Any]:
    """What a LogRecord would say about a call in this file."""
    return {
        "module": "test_record_fields",
        "funcName": function,
        "lineno": line_no,
        "filename": "test_record_fields.py",
        "pathname": __file__,
    }


def expected_site(schema: Schema, line_no: int, function: str) -> dict[str, Any]:
    """The call-site fields *schema* writes for a call at *line_no* in *function*."""
    values = site_of(line_no, function)
    return schema.record_fields({name: values[name] for name in schema.CALLSITE})


def log_from_here(framework: str) -> int:
    """Log one line from this function; return the line number of the call."""
    if framework == "stdlib":
        logging.getLogger("app").info("here", extra={"k": 1})
    else:
        tracelog.get_logger("app").info("here", k=1)
    return inspect.currentframe().f_lineno - (3 if framework == "stdlib" else 1)  # type: ignore[union-attr]


def subset(expected: dict[str, Any], line: dict[str, Any]) -> dict[str, Any]:
    """The entries of *line* under *expected*'s keys."""
    return {key: line.get(key) for key in expected}


class TestCallsite:
    @pytest.mark.parametrize("schema", SCHEMA_NAMES)
    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_fields_per_layout(
        self, output: Callable[..., Output], schema: str, framework: str
    ) -> None:
        """callsite=True writes module, function and line under each layout's names."""
        out = output(schema=schema, gcp_project=PROJECT, callsite=True)
        line_no = log_from_here(framework)
        (line,) = out.lines()
        expected = expected_site(layout(schema), line_no, "log_from_here")
        assert expected == subset(expected, line)

    def test_both_frameworks_name_the_same_fields(self, output: Callable[..., Output]) -> None:
        """stdlib and structlog lines carry the same call-site keys, in the same place."""
        out = output(schema="ecs", callsite=True)
        log_from_here("stdlib")
        log_from_here("structlog")
        first, second = ([k for k in line if k.startswith("log.origin")] for line in out.lines())
        assert ["log.origin.file.name", "log.origin.function", "log.origin.file.line"] == first
        assert first == second

    def test_off_by_default(self, output: Callable[..., Output]) -> None:
        """Without callsite=True no call-site field is written."""
        out = output()
        log_from_here("stdlib")
        log_from_here("structlog")
        assert [set(), set()] == [{"module", "funcName", "lineno"} & set(x) for x in out.lines()]

    def test_env_var(self, output: Callable[..., Output], monkeypatch: pytest.MonkeyPatch) -> None:
        """TRACELOG_CALLSITE=true turns it on."""
        monkeypatch.setenv("TRACELOG_CALLSITE", "true")
        out = output()
        line_no = log_from_here("structlog")
        assert line_no == out.lines()[0]["lineno"]

    def test_bad_value_fails_at_configure(self) -> None:
        """A bad callsite value raises at configure()."""
        with pytest.raises(ValueError, match="callsite must be true or false"):
            tracelog.configure(callsite="sometimes", stream=io.StringIO())

    def test_other_methods_point_at_the_caller(self, output: Callable[..., Output]) -> None:
        """warning(), log(), a bound logger and ainfo() all report the calling function."""
        out = output(callsite=True)
        log = tracelog.get_logger("app").bind(user="u")
        log.warning("w")
        log.log(logging.ERROR, "e")

        async def handler() -> None:
            await log.ainfo("a")

        asyncio.run(handler())
        expected = [*(2 * ["test_other_methods_point_at_the_caller"]), "handler"]
        assert expected == [line["funcName"] for line in out.lines()]

    def test_queue_mode(self, output: Callable[..., Output]) -> None:
        """In queue mode the call site is read at the call."""
        out = output(callsite=True, queue=True)
        line_no = log_from_here("structlog")
        tracelog.shutdown()
        assert (line_no, "log_from_here") == (
            out.lines()[0]["lineno"],
            out.lines()[0]["funcName"],
        )

    def test_user_field_of_the_same_name(self, output: Callable[..., Output]) -> None:
        """A user field named like a call-site field moves to user.<name>."""
        out = output(callsite=True)
        tracelog.get_logger("app").info("x", lineno="mine")
        line = out.lines()[0]
        assert ("mine", int) == (line["user.lineno"], type(line["lineno"]))

    def test_console_shows_the_call_site(self, output: Callable[..., Output]) -> None:
        """The console layout shows them as key=value fields."""
        out = output(schema="console", callsite=True)
        line_no = log_from_here("stdlib")
        assert (
            f"module=test_record_fields  funcName=log_from_here  lineno={line_no}" in (out.raw()[0])
        )


def record(**attrs: Any) -> logging.LogRecord:
    """A record made as Logger.makeRecord does, at /app/shop.py:42 in checkout()."""
    rec = logging.LogRecord("shop", logging.INFO, "/app/shop.py", 42, "m", (), None, "checkout")
    rec.__dict__.update(attrs)
    return rec


def line_of(formatter: logging.Formatter, rec: logging.LogRecord) -> dict[str, Any]:
    """The parsed line *formatter* writes for *rec*."""
    result: dict[str, Any] = orjson.loads(formatter.format(rec))
    return result


class TestPythonJsonLoggerFormat:
    @pytest.mark.parametrize("schema", SCHEMA_NAMES)
    def test_format_string_fields(self, schema: str) -> None:
        """The record fields a format string names are written, named per layout."""
        rec = record()
        line = line_of(JsonFormatter(ISSUE_FORMAT, schema=schema, gcp_project=PROJECT), rec)
        values = {"module": "shop", "funcName": "checkout", "lineno": 42, "process": rec.process}
        expected = layout(schema).record_fields(values)
        assert (expected, "m") == (subset(expected, line), line[layout(schema).message_key])

    def test_ecs_and_otel_names(self) -> None:
        """ECS and OTel use their own conventions for origin and process."""
        rec = record()
        ecs = line_of(JsonFormatter(ISSUE_FORMAT, schema="ecs"), rec)
        otel = line_of(JsonFormatter(ISSUE_FORMAT, schema="otel"), rec)
        assert ("checkout", 42, rec.process) == (
            ecs["log.origin.function"],
            ecs["log.origin.file.line"],
            ecs["process.pid"],
        )
        assert ("checkout", 42, rec.process) == (
            otel["code.function.name"],
            otel["code.line.number"],
            otel["process.pid"],
        )

    def test_head_fields_are_not_repeated(self) -> None:
        """asctime, levelname, name and message stay the layout's own head keys."""
        line = line_of(JsonFormatter(ISSUE_FORMAT), record())
        assert set() == {"asctime", "levelname", "name", "user.message"} & set(line)

    @pytest.mark.parametrize("style", ["{", "$"])
    def test_other_styles(self, style: str) -> None:
        """str.format and string.Template formats name fields too."""
        fmt = "{funcName} {message}" if style == "{" else "${funcName} ${message}"
        assert "checkout" == line_of(JsonFormatter(fmt, style=style), record())["funcName"]


class TestPythonJsonLoggerOptions:
    def test_defaults(self) -> None:
        """defaults are on every line, below the record's own fields."""
        formatter = JsonFormatter(defaults={"env": "dev", "region": "eu"})
        line = line_of(formatter, record(region="us"))
        assert ("dev", "us") == (line["env"], line["region"])

    def test_static_fields_and_defaults(self) -> None:
        """static_fields win over defaults; the record's fields win over both."""
        formatter = JsonFormatter(defaults={"a": 1, "b": 1}, static_fields={"b": 2, "c": 2})
        line = line_of(formatter, record(c=3))
        assert (1, 2, 3) == (line["a"], line["b"], line["c"])

    def test_rename_fields(self) -> None:
        """rename_fields renames format-string fields and extra fields."""
        formatter = JsonFormatter(
            "%(funcName)s %(message)s", rename_fields={"funcName": "function", "order_id": "order"}
        )
        line = line_of(formatter, record(order_id="A-1"))
        assert ("checkout", "A-1", set()) == (
            line["function"],
            line["order"],
            {"funcName", "order_id"} & set(line),
        )

    @pytest.mark.parametrize("schema", SCHEMA_NAMES)
    def test_rename_of_a_head_or_trace_field_is_refused(self, schema: str) -> None:
        """Renaming a head field, or onto a trace field, fails and says why."""
        target = layout(schema).trace_id_key
        with pytest.raises(ValueError, match="'levelname' is a trace or head field"):
            JsonFormatter(schema=schema, gcp_project=PROJECT, rename_fields={"levelname": "lvl"})
        with pytest.raises(ValueError, match=f"'{target}' is a trace or head field"):
            JsonFormatter(schema=schema, gcp_project=PROJECT, rename_fields={"x": target})

    def test_json_default(self) -> None:
        """json_default converts objects JSON cannot hold; if it fails, repr stands in."""

        class Money:
            def __repr__(self) -> str:
                return "Money()"

        def convert(value: object) -> object:
            if isinstance(value, Money):
                return "12.50 EUR"
            raise TypeError

        line = line_of(JsonFormatter(json_default=convert), record(price=Money(), other={1}))
        assert ("12.50 EUR", [1]) == (line["price"], line["other"])

    def test_reserved_attrs(self) -> None:
        """reserved_attrs decides which record attributes and extras are written."""
        reserved = [*sorted(set(vars(record())) - {"lineno"}), "secret_extra"]
        line = line_of(JsonFormatter(reserved_attrs=reserved), record(secret_extra=1, kept=2))
        assert (42, 2, False) == (line["lineno"], line["kept"], "secret_extra" in line)

    def test_timestamp_true_is_accepted(self) -> None:
        """timestamp=True is what every line does already; a key name would rename it."""
        assert "m" == line_of(JsonFormatter(timestamp=True), record())["message"]
        with pytest.raises(ValueError, match="head field"):
            JsonFormatter(timestamp="ts")

    @pytest.mark.parametrize(
        ("option", "reason"),
        [
            ({"json_indent": 2}, "each record is one line"),
            ({"prefix": "x"}, "one JSON object"),
            ({"json_encoder": object}, "strict JSON"),
            ({"no_such_option": 1}, "no python-json-logger option"),
        ],
    )
    def test_options_a_line_cannot_honour(self, option: dict[str, Any], reason: str) -> None:
        """Options a JSON line cannot honour raise TypeError with the reason."""
        with pytest.raises(TypeError, match=reason):
            JsonFormatter(**option)

    def test_dictconfig(self) -> None:
        """dictConfig passes format and the options through, as for python-json-logger."""
        buffer = io.StringIO()
        logging.config.dictConfig(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "formatters": {
                    "json": {
                        "()": "tracelog.stdlib.JsonFormatter",
                        "format": "%(funcName)s %(lineno)d %(message)s",
                        "schema": "ecs",
                        "rename_fields": {"lineno": "line"},
                        "static_fields": {"team": "shop"},
                    }
                },
                "handlers": {
                    "out": {
                        "class": "logging.StreamHandler",
                        "formatter": "json",
                        "stream": buffer,
                    }
                },
                "loggers": {"pjl": {"handlers": ["out"], "level": "INFO", "propagate": False}},
            }
        )
        logger = logging.getLogger("pjl")
        try:
            logger.info("hello")
            line = orjson.loads(buffer.getvalue())
        finally:
            logger.handlers.clear()
            logger.propagate = True
        assert ("test_dictconfig", int, "shop") == (
            line["log.origin.function"],
            type(line["line"]),
            line["team"],
        )
