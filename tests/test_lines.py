"""The line both frameworks write: ids, fields, hostile values, exceptions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
import logging.handlers
import math
import re
import sys
import uuid
from decimal import Decimal
from typing import Any

import orjson
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

import tracelog
from tests.conftest import FRAMEWORKS, emit, strict
from tracelog._line import LineEncoder, resolve_redactor
from tracelog.redact import Redactor
from tracelog.testing import SpanRecorder

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def ids(span: Any) -> tuple[str, str]:
    sc = span.get_span_context()
    return format(sc.trace_id, "032x"), format(sc.span_id, "016x")


class TestInsideSpan:
    def test_ids_and_head_fields(self, framework, recorder, output) -> None:
        """Inside a span a line carries the span's ids in W3C hex and the head fields."""
        out = output()
        with recorder.tracer.start_as_current_span("op") as span:
            emit(framework, "info", "order placed", order_id="A-1001")
        (line,) = out.lines()
        trace_id, span_id = ids(span)
        assert (trace_id, span_id) == (line["traceId"], line["spanId"])
        assert HEX32.match(line["traceId"])
        assert HEX16.match(line["spanId"])
        assert format(span.get_span_context().trace_flags, "02x") == line["traceFlags"]
        assert TIMESTAMP.match(line["timestamp"])
        assert ["timestamp", "level", "logger", "message", "service"] == list(line)[:5]
        expected = {
            "level": "info",
            "logger": "app",
            "message": "order placed",
            "service": "checkout",
            "order_id": "A-1001",
        }
        assert expected == {k: line[k] for k in expected}

    def test_child_span_gives_child_id(self, framework, recorder, output) -> None:
        """A child span's lines carry the child's span id and the shared trace id."""
        out = output()
        with recorder.tracer.start_as_current_span("parent") as parent:
            with recorder.tracer.start_as_current_span("child") as child:
                emit(framework, "info", "in child")
            emit(framework, "info", "in parent")
        in_child, in_parent = out.lines()
        assert ids(child) == (in_child["traceId"], in_child["spanId"])
        assert ids(parent) == (in_parent["traceId"], in_parent["spanId"])
        assert in_child["traceId"] == in_parent["traceId"]

    def test_unsampled_span_keeps_ids(self, framework, output) -> None:
        """A span that is not sampled still has valid ids, so its lines keep them."""
        rec = SpanRecorder(sampler=ALWAYS_OFF)
        out = output()
        with rec.tracer.start_as_current_span("quiet") as span:
            assert not span.is_recording()
            emit(framework, "info", "unsampled")
        (line,) = out.lines()
        assert ids(span) == (line["traceId"], line["spanId"])
        assert 0 == int(line["traceFlags"], 16) & 1

    def test_remote_parent(self, framework, output) -> None:
        """A context extracted from a traceparent header gives the remote ids."""
        header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ctx = TraceContextTextMapPropagator().extract({"traceparent": header})
        out = output()
        from opentelemetry import context

        token = context.attach(ctx)
        try:
            emit(framework, "info", "remote")
            current = tracelog.current_trace_context()
        finally:
            context.detach(token)
        (line,) = out.lines()
        assert ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "01") == (
            line["traceId"],
            line["spanId"],
            line["traceFlags"],
        )
        assert current is not None
        assert current.is_remote
        assert header == current.traceparent

    def test_outside_span_leaves_keys_out(self, framework, output) -> None:
        """Outside a span the id keys are absent, never zero, none or null."""
        out = output()
        emit(framework, "info", "no span")
        (line,) = out.lines()
        assert set() == {"traceId", "spanId", "traceFlags"} & set(line)
        assert tracelog.current_trace_context() is None

    def test_invalid_span_context_counts_as_none(self, framework, output) -> None:
        """An explicitly invalid span (all-zero ids) is treated as no span."""
        out = output()
        with trace.use_span(trace.INVALID_SPAN):
            emit(framework, "info", "invalid")
        assert "traceId" not in out.lines()[0]


class TestParity:
    @pytest.mark.parametrize("schema", ["default", "otel", "ecs", "datadog", "xray"])
    def test_frameworks_write_identical_lines(self, recorder, output, schema) -> None:
        """stdlib and structlog give the same line for the same event (timestamp aside)."""
        out = output(schema=schema)
        with recorder.tracer.start_as_current_span("op"):
            for framework in FRAMEWORKS:
                emit(framework, "warning", "same event", order_id="A-1", n=3)
        stdlib_line, structlog_line = out.lines()
        time_key = "@timestamp" if schema == "ecs" else "timestamp"
        stdlib_line.pop(time_key)
        structlog_line.pop(time_key)
        assert stdlib_line == structlog_line
        assert list(stdlib_line) == list(structlog_line)


RESERVED = [
    "traceId",
    "spanId",
    "traceFlags",
    "trace_id",
    "span_id",
    "trace.id",
    "dd.trace_id",
    "AWS-XRAY-TRACE-ID",
    "logging.googleapis.com/trace",
]


class TestCollisions:
    @pytest.mark.parametrize("name", RESERVED)
    def test_user_field_never_overwrites_trace_fields(
        self, framework, recorder, output, name
    ) -> None:
        """A user field named like any layout's trace field moves to user.<name>."""
        out = output()
        with recorder.tracer.start_as_current_span("op") as span:
            emit(framework, "info", "collide", **{name: "forged"})
        raw = out.raw()[0]
        line = orjson.loads(raw)
        assert ids(span) == (line["traceId"], line["spanId"])
        assert "forged" == line[f"user.{name}"]
        assert name not in line or line[name] != "forged"
        assert len(re.findall(r'"traceId":', raw)) == 1

    def test_head_field_collision(self, framework, output) -> None:
        """A user field named 'message' or 'level' does not replace the line's own."""
        out = output()
        emit(framework, "info", "real", level="fake", service="fake")
        line = out.lines()[0]
        assert ("info", "real", "fake", "fake") == (
            line["level"],
            line["message"],
            line["user.level"],
            line["user.service"],
        )


class Boom:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


def _self_ref() -> dict[str, Any]:
    d: dict[str, Any] = {"a": 1}
    d["self"] = d
    return d


HOSTILE: dict[str, Any] = {
    "nan": math.nan,
    "inf": math.inf,
    "ninf": -math.inf,
    "bytes": b"\xff\x00raw",
    "surrogate": "a\ud800b",
    "nonstr_keys": {1: "one", (2, 3): "tuple", None: "none", "1": "str-one"},
    "bad_repr": Boom(),
    "self_ref": _self_ref(),
    "big": "x" * 1_000_000,
    "newline": "line1\nline2\r\n",
    "separators": "a\u2028b\u2029c",
    "huge_int": 2**200,
    "escape": "\x1b[31mred\x00",
}


def strict_loads(raw: str) -> Any:
    """json.loads that rejects NaN/Infinity, which orjson's loads accepts silently."""
    import json

    def bad(value: str) -> None:
        raise ValueError(value)

    return json.loads(raw, parse_constant=bad)


class TestHostileValues:
    @pytest.mark.parametrize("name", list(HOSTILE))
    def test_one_strict_json_line(self, framework, recorder, output, name) -> None:
        """A hostile value gives exactly one strict-JSON line, with the ids intact."""
        out = output()
        with recorder.tracer.start_as_current_span("op") as span:
            emit(framework, "info", "hostile", value=HOSTILE[name])
        raw = out.raw()
        assert 1 == len(raw)
        line = strict_loads(raw[0])
        assert ids(span) == (line["traceId"], line["spanId"])
        assert "\u2028" not in raw[0]
        assert "\u2029" not in raw[0]
        assert not any(ord(c) < 0x20 for c in raw[0])

    def test_encodings(self, framework, output) -> None:
        """NaN/inf become strings, non-str keys strings, big strings are cut with a marker."""
        out = output()
        emit(
            framework,
            "info",
            "values",
            nan=math.nan,
            inf=math.inf,
            keys={1: "a"},
            big="y" * 100_000,
            n=2**200,
        )
        line = out.lines()[0]
        assert ("NaN", "Infinity", {"1": "a"}, str(2**200)) == (
            line["nan"],
            line["inf"],
            line["keys"],
            line["n"],
        )
        assert line["big"].endswith(f"...[truncated {100_000 - 65536 + 32} chars]")
        assert len(line["big"]) <= 65536

    def test_bad_format_args_keep_line(self, output) -> None:
        """A stdlib call whose %-args do not match still writes a line."""
        out = output()
        logging.getLogger("app").info("%s and %s", "only one")
        assert "'%s and %s'" in out.lines()[0]["message"]


class TestExceptions:
    def test_structured_exception(self, framework, recorder, output) -> None:
        """log.exception gives exception.type/message/stacktrace."""
        out = output()
        with recorder.tracer.start_as_current_span("op"):
            try:
                raise ValueError("bad order")  # noqa: TRY301
            except ValueError:
                if framework == "stdlib":
                    logging.getLogger("app").exception("failed")
                else:
                    tracelog.get_logger("app").exception("failed")
        line = out.lines()[0]
        assert "error" == line["level"]
        exc = line["exception"]
        assert ("ValueError", "bad order") == (exc["type"], exc["message"])
        assert exc["stacktrace"].startswith("Traceback (most recent call last):")
        assert exc["stacktrace"].endswith("ValueError: bad order")

    def test_exception_instance_as_exc_info(self, output) -> None:
        """structlog's exc_info=<exception> works outside an except block."""
        out = output()
        tracelog.get_logger("app").error("failed", exc_info=KeyError("k"))
        assert "KeyError" == out.lines()[0]["exception"]["type"]


class TestLineEdges:
    def test_redact_argument(self) -> None:
        """redact accepts True, False, None and a Redactor, nothing else."""
        custom = Redactor()
        assert custom is resolve_redactor(custom)
        assert resolve_redactor(None) is None
        with pytest.raises(TypeError, match="redact must be"):
            resolve_redactor("yes")

    def test_non_str_key_and_prefixed_collision(self) -> None:
        """Non-str field keys are stringified; user.<name> collisions get another prefix."""
        enc = LineEncoder(redact=False)
        line = orjson.loads(
            enc.encode(
                0.0,
                20,
                "INFO",
                "l",
                "m",
                None,
                None,
                {1: "one", "user.level": "first", "level": "second"},  # type: ignore[dict-item]
            )
        )
        assert ("one", "first", "second") == (line["1"], line["user.level"], line["_user.level"])

    def test_exception_text_is_redacted(self) -> None:
        """An exception message holding a secret is redacted."""
        enc = LineEncoder()
        try:
            raise ValueError("login failed password=hunter2")  # noqa: TRY301
        except ValueError:
            line = enc.encode(0.0, 40, "ERROR", "l", "m", None, None, None, sys.exc_info())  # type: ignore[arg-type]
        assert b"hunter2" not in line

    def test_bad_service(self) -> None:
        """An empty service name is refused."""
        with pytest.raises(ValueError, match="service"):
            LineEncoder(service=" ")


class Color(enum.Enum):
    RED = 1


@dataclasses.dataclass
class Order:
    id: str
    total: Decimal


class PydanticLike:
    def model_dump(self) -> dict[str, Any]:
        return {"sku": "x", "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}


class LogsInRepr:
    def __repr__(self) -> str:
        logging.getLogger("inner").warning("logged from __repr__")
        tracelog.get_logger("inner").warning("structlog from __repr__")
        return "LogsInRepr()"


class RaisesInStr:
    def __str__(self) -> str:
        raise RuntimeError("str")

    def __repr__(self) -> str:
        raise RuntimeError("repr")


def _deep(n: int) -> Any:
    value: Any = "bottom"
    for _ in range(n):
        value = {"d": value}
    return value


def _cycle() -> Any:
    items: list[Any] = []
    items.append({"list": items})
    return items


VALUES: dict[str, Any] = {
    "nan": float("nan"),
    "inf": float("inf"),
    "bytes": b"\x00\xff\xfe",
    "bytearray": bytearray(b"abc\x80"),
    "invalid_utf8_text": b"\xc3\x28".decode("utf-8", "surrogateescape"),
    "lone_surrogate": "\udfff",
    "nonstr_keys": {1.5: "f", None: "n", (1,): "t", Color.RED: "e"},
    "deep_10000": _deep(10_000),
    "cycle": _cycle(),
    "raises": RaisesInStr(),
    "logs_itself": LogsInRepr(),
    "ten_mb": "z" * 10_000_000,
    "crlf": "a\r\nb",
    "ansi": "\x1b[31mred\x1b[0m",
    "u2028": "x\u2028y",
    "nul": "a\x00b",
    "huge_int": 2**200,
    "datetime": dt.datetime(2026, 11, 24, 8, 5, 2, 142305, tzinfo=dt.UTC),
    "decimal": Decimal("10.10"),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "enum": Color.RED,
    "dataclass": Order("A-1", Decimal("9.99")),
    "pydantic_like": PydanticLike(),
}
EXPECTED: dict[str, Any] = {
    "nan": "NaN",
    "inf": "Infinity",
    "datetime": "2026-11-24T08:05:02.142305+00:00",
    "decimal": "10.10",
    "uuid": "12345678-1234-5678-1234-567812345678",
    "enum": 1,
    "dataclass": {"id": "A-1", "total": "9.99"},
    "pydantic_like": {"sku": "x", "at": "2026-01-01T00:00:00+00:00"},
    "huge_int": str(2**200),
    "crlf": "a\r\nb",
    "ansi": "\x1b[31mred\x1b[0m",
    "u2028": "x\u2028y",
    "nul": "a\x00b",
}


class TestValues:
    @pytest.mark.parametrize("name", list(VALUES))
    def test_one_strict_line(self, framework, name, output) -> None:
        """Each hostile value: one valid strict-JSON line with a sensible encoding."""
        out = output()
        emit(framework, "warning", "value", v=VALUES[name])
        raw = [x for x in out.raw() if '"logger":"app"' in x]
        assert 1 == len(raw)
        line = strict(raw[0])
        assert "\u2028" not in raw[0]
        assert not any(ord(c) < 0x20 for c in raw[0])
        if name in EXPECTED:
            assert EXPECTED[name] == line["v"]
        if name == "logs_itself":
            inner = [strict(x)["message"] for x in out.raw() if '"logger":"inner"' in x]
            assert sorted(inner) == ["logged from __repr__", "structlog from __repr__"]
        if name == "ten_mb":
            assert len(line["v"]) <= 65536
