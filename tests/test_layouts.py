"""Every layout x both frameworks: the foundation's behaviours, each backend's rules, goldens."""

from __future__ import annotations

import logging
import math
import os
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

import tracelog
from tests.conftest import emit
from tests.test_lines import HOSTILE, strict_loads
from tracelog.schemas import RESERVED_TRACE_KEYS, SCHEMA_NAMES, DatadogSchema, Schema, get_schema
from tracelog.testing import SpanRecorder

RESOURCES = Path(__file__).parent / "resources"
ECS_RULES = orjson.loads((RESOURCES / "ecs_rules.json").read_bytes())
PROJECT = "shop-prod"
GCP_SEVERITIES = {
    "DEFAULT",
    "DEBUG",
    "INFO",
    "NOTICE",
    "WARNING",
    "ERROR",
    "CRITICAL",
    "ALERT",
    "EMERGENCY",
}


@pytest.fixture(params=SCHEMA_NAMES)
def schema(request: pytest.FixtureRequest) -> Schema:
    return get_schema(request.param, gcp_project=PROJECT)


def expected_ids(schema: Schema, span: Any) -> tuple[str, str]:
    """What schema.read_trace_id / read_span_id must give for *span*."""
    sc = span.get_span_context()
    trace_id = format(sc.trace_id, "032x")
    if isinstance(schema, DatadogSchema) and not schema.full_trace_id:
        trace_id = trace_id[16:]
    return trace_id, format(sc.span_id, "016x")


def check_rules(schema: Schema, line: dict[str, Any]) -> None:
    """Each backend's own rules for one parsed line."""
    check = {"ecs": check_ecs, "gcp": check_gcp, "datadog": check_datadog, "xray": check_xray}
    check.get(schema.name, check_default)(line)
    if schema.read_trace_id(line) is None:
        assert set() == set(line) & RESERVED_TRACE_KEYS - {"dd.service"}


def check_default(line: dict[str, Any]) -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", line["timestamp"])
    assert line["level"] == line["level"].lower()


def check_ecs(line: dict[str, Any]) -> None:
    fields = ECS_RULES["fields"]
    by_index = sorted((rule["index"], name) for name, rule in fields.items() if "index" in rule)
    assert [name for _, name in by_index] == list(line)[: len(by_index)]
    for name, rule in fields.items():
        if rule["required"]:
            assert name in line, name
        if name in line:
            if rule["type"] == "string":
                assert isinstance(line[name], str), name
            if rule["type"] == "datetime":
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line[name])
        if rule.get("nesting_allowed") is False:
            head = name.split(".")[0]
            assert not isinstance(line.get(head), dict), name
    assert line["ecs.version"].split(".")[0] == ECS_RULES["ecs_version_major"]
    if "service.name" in line:
        assert f"{line['service.name']}.log" == line["event.dataset"]
    # No key both dotted and as a nested object.
    objects = {k for k, v in line.items() if isinstance(v, dict)}
    assert set() == {k.split(".")[0] for k in line if "." in k} & objects


def check_gcp(line: dict[str, Any]) -> None:
    assert line["severity"] in GCP_SEVERITIES
    assert isinstance(line["message"], str)
    if "logging.googleapis.com/trace" in line:
        assert re.fullmatch(
            rf"projects/{PROJECT}/traces/[0-9a-f]{{32}}", line["logging.googleapis.com/trace"]
        )
        assert re.fullmatch(r"[0-9a-f]{16}", line["logging.googleapis.com/spanId"])
        assert isinstance(line["logging.googleapis.com/trace_sampled"], bool)


def check_datadog(line: dict[str, Any]) -> None:
    assert line["status"] == line["status"].lower()
    if "dd.trace_id" in line:
        assert re.fullmatch(r"[1-9][0-9]{0,19}", line["dd.trace_id"])
        assert int(line["dd.trace_id"]) < 2**64
        assert re.fullmatch(r"[1-9][0-9]{0,19}", line["dd.span_id"])
        assert line["dd.service"] == line["service"]
    else:
        assert not [k for k in line if k.startswith("dd.")]


def check_xray(line: dict[str, Any]) -> None:
    check_default(line)
    if "AWS-XRAY-TRACE-ID" in line:
        assert re.fullmatch(r"1-[0-9a-f]{8}-[0-9a-f]{24}", line["AWS-XRAY-TRACE-ID"])


def lines_of(out: Any, schema: Schema) -> list[dict[str, Any]]:
    lines = out.lines()
    for line in lines:
        check_rules(schema, line)
    return lines


def message_of(schema: Schema, line: dict[str, Any]) -> Any:
    return line[schema.message_key]


class TestBehaviourInEveryLayout:
    def test_ids_inside_span(self, schema, framework, recorder, output) -> None:
        """Inside a span every layout carries the span's ids, read back by its own Schema."""
        out = output(schema=schema)
        with recorder.tracer.start_as_current_span("op") as span:
            emit(framework, "info", "order placed", order_id="A-1001")
        (line,) = lines_of(out, schema)
        assert expected_ids(schema, span) == (schema.read_trace_id(line), schema.read_span_id(line))
        assert ("order placed", "A-1001", "checkout") == (
            message_of(schema, line),
            line["order_id"],
            line[schema.service_key],
        )

    def test_child_span(self, schema, framework, recorder, output) -> None:
        """A child span's lines carry the child's span id."""
        out = output(schema=schema)
        with (
            recorder.tracer.start_as_current_span("p"),
            recorder.tracer.start_as_current_span("c") as child,
        ):
            emit(framework, "warning", "in child")
        (line,) = lines_of(out, schema)
        assert expected_ids(schema, child)[1] == schema.read_span_id(line)

    def test_outside_span(self, schema, framework, output) -> None:
        """Outside a span no trace key of any layout appears."""
        out = output(schema=schema)
        emit(framework, "info", "no span")
        (line,) = lines_of(out, schema)
        assert schema.read_trace_id(line) is None

    def test_unsampled_and_remote(self, schema, framework, output) -> None:
        """Unsampled spans and remote parents keep their ids."""
        out = output(schema=schema)
        with SpanRecorder(sampler=ALWAYS_OFF).tracer.start_as_current_span("q") as quiet:
            emit(framework, "info", "unsampled")
        header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        token = otel_context.attach(
            TraceContextTextMapPropagator().extract({"traceparent": header})
        )
        try:
            emit(framework, "info", "remote")
        finally:
            otel_context.detach(token)
        unsampled, remote = lines_of(out, schema)
        assert expected_ids(schema, quiet)[0] == schema.read_trace_id(unsampled)
        want = "4bf92f3577b34da6a3ce929d0e0e4736"
        assert (want[16:] if schema.name == "datadog" else want) == schema.read_trace_id(remote)
        assert "00f067aa0ba902b7" == schema.read_span_id(remote)

    @pytest.mark.parametrize("name", sorted(RESERVED_TRACE_KEYS))
    def test_user_field_named_like_trace_field(self, schema, name, recorder, output) -> None:
        """Any layout's trace key given as a user field moves to user.<name>."""
        out = output(schema=schema)
        with recorder.tracer.start_as_current_span("op") as span:
            for framework in ("stdlib", "structlog"):
                emit(framework, "info", "collide", **{name: "forged"})
        for line in lines_of(out, schema):
            assert "forged" == line[f"user.{name}"]
            assert expected_ids(schema, span)[0] == schema.read_trace_id(line)

    @pytest.mark.parametrize("name", list(HOSTILE))
    def test_hostile_values(self, schema, framework, name, recorder, output) -> None:
        """Hostile values give one strict-JSON line in every layout."""
        out = output(schema=schema)
        with recorder.tracer.start_as_current_span("op"):
            emit(framework, "info", "hostile", value=HOSTILE[name])
        raw = out.raw()
        assert 1 == len(raw)
        check_rules(schema, strict_loads(raw[0]))

    def test_exception(self, schema, framework, recorder, output) -> None:
        """Exceptions are structured; ECS spells them error.type/message/stack_trace."""
        out = output(schema=schema)
        with recorder.tracer.start_as_current_span("op"):
            try:
                raise KeyError("sku-1")  # noqa: TRY301
            except KeyError:
                if framework == "stdlib":
                    logging.getLogger("app").exception("lookup failed")
                else:
                    tracelog.get_logger("app").exception("lookup failed")
        (line,) = lines_of(out, schema)
        if schema.name == "ecs":
            got = (line["error.type"], line["error.message"], line["error.stack_trace"])
        else:
            exc = line["exception"]
            got = (exc["type"], exc["message"], exc["stacktrace"])
        assert ("KeyError", "'sku-1'") == got[:2]
        assert got[2].endswith("KeyError: 'sku-1'")

    def test_levels(self, schema, framework, output) -> None:
        """Every level is spelled the layout's way (GCP uppercase, others lowercase)."""
        out = output(schema=schema, level="DEBUG")
        for method in ("debug", "info", "warning", "error", "critical"):
            emit(framework, method, method)
        got = [
            line[schema.level_key]
            for line in lines_of(out, schema)
            if message_of(schema, line) in {"debug", "info", "warning", "error", "critical"}
        ]
        names = ["debug", "info", "warning", "error", "critical"]
        assert [n.upper() if schema.name == "gcp" else n for n in names] == got


class TestDatadogOptions:
    def test_full_trace_id(self, recorder, output) -> None:
        """datadog_full_trace_id writes the 128-bit id as 32 hex."""
        out = output(schema="datadog", datadog_full_trace_id=True)
        with recorder.tracer.start_as_current_span("op") as span:
            emit("stdlib", "info", "x")
        line = out.lines()[0]
        assert format(span.get_span_context().trace_id, "032x") == line["dd.trace_id"]


GOLDEN_TS = 1764000000.123456
GOLDEN_HEADER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def golden_line(schema_name: str, framework: str) -> str:
    """One line with fixed time, ids and fields, through the framework's own entry point."""
    from tracelog.stdlib import JsonFormatter
    from tracelog.structlog import TIME_KEY, JsonRenderer, SinkLogger, capture_trace_context

    token = otel_context.attach(
        TraceContextTextMapPropagator().extract({"traceparent": GOLDEN_HEADER})
    )
    try:
        kwargs = {"schema": schema_name, "service": "checkout", "gcp_project": PROJECT}
        fields = {"order_id": "A-1001", "amount": 12.5, "api_key": "k-123"}
        if framework == "stdlib":
            record = logging.LogRecord(
                "payments", logging.WARNING, __file__, 1, "card declined for %s", ("A-1001",), None
            )
            record.__dict__.update(fields)
            record.created = GOLDEN_TS
            return JsonFormatter(**kwargs).format(record)
        event: dict[str, Any] = {"event": "card declined for A-1001", **fields}
        capture_trace_context(None, "warning", event)
        event[TIME_KEY] = GOLDEN_TS
        return JsonRenderer(**kwargs)(SinkLogger("payments"), "warning", event).decode()
    finally:
        otel_context.detach(token)


class TestGolden:
    @pytest.mark.parametrize("schema_name", SCHEMA_NAMES)
    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_golden_line(self, schema_name, framework) -> None:
        """Each layout x framework matches its golden line byte for byte."""
        path = RESOURCES / "golden" / f"{schema_name}.{framework}.json"
        actual = golden_line(schema_name, framework)
        if os.environ.get("TRACELOG_REGEN_GOLDEN"):
            path.parent.mkdir(exist_ok=True)
            path.write_text(actual + "\n")
        assert path.read_text() == actual + "\n"

    @pytest.mark.parametrize("schema_name", SCHEMA_NAMES)
    def test_frameworks_agree(self, schema_name) -> None:
        """The stdlib and structlog golden lines are identical."""
        assert golden_line(schema_name, "stdlib") == golden_line(schema_name, "structlog")


def test_nan_in_every_layout(output) -> None:
    """NaN is a string in every layout."""
    for name in SCHEMA_NAMES:
        out = output(schema=name, gcp_project=PROJECT)
        emit("structlog", "info", "n", v=math.nan)
        assert "NaN" == out.lines()[0]["v"]
