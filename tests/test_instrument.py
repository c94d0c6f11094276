"""Zero-code: tracelog loaded by the real `opentelemetry-instrument` agent, and its instrumentor."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from functools import cache
from importlib.metadata import distribution, entry_points
from pathlib import Path
from typing import Any

import orjson
import pytest
from opentelemetry.instrumentation.dependencies import get_dist_dependency_conflicts

import tracelog
from tracelog.config import TracelogHandler
from tracelog.instrument import TracelogInstrumentor
from tracelog.schemas import FOREIGN_TRACE_ATTRS, SCHEMA_NAMES, get_schema

AGENT = str(Path(sys.executable).parent / "opentelemetry-instrument")

# A plain app: it imports neither tracelog nor the SDK. It prints the span's ids and the
# logging state on stdout; tracelog's lines go to stderr (its default stream).
IMPORTS = "import json, logging, sys\nimport structlog\nfrom opentelemetry import trace\n"
BODY = textwrap.dedent(
    """
    with trace.get_tracer("app").start_as_current_span("work") as span:
        ctx = span.get_span_context()
        print("SPAN", format(ctx.trace_id, "032x"), format(ctx.span_id, "016x"), flush=True)
        logging.getLogger("app.stdlib").warning("stdlib inside", extra={"order_id": "A-1"})
        structlog.get_logger("app.structlog").warning("structlog inside", order_id="A-1")
    logging.getLogger("app.stdlib").warning("stdlib outside")
    state = {
        "handlers": sorted(type(h).__name__ for h in logging.getLogger().handlers),
        "root_level": logging.getLogger().level,
        "structlog_configured": structlog.is_configured(),
        "record_factory": logging.getLogRecordFactory().__qualname__,
    }
    print("STATE", json.dumps(state), flush=True)
    print("LOADED", "tracelog.instrument" in sys.modules, flush=True)
    """
)
APP = IMPORTS + BODY
MESSAGES = ["stdlib inside", "structlog inside", "stdlib outside"]


@dataclass(frozen=True)
class Run:
    """What one run of the app printed, split into its parts."""

    span: tuple[str, str]
    state: dict[str, Any]
    loaded: bool
    json_lines: list[dict[str, Any]]
    other_stderr: list[str]
    stdout: list[str]


def _is_json(line: str) -> bool:
    return line.startswith("{")


def parse(proc: subprocess.CompletedProcess[str]) -> Run:
    out = proc.stdout.splitlines()
    tagged = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in out if " " in line}
    trace_id, span_id = tagged["SPAN"].split()
    err = proc.stderr.splitlines()
    return Run(
        span=(trace_id, span_id),
        state=orjson.loads(tagged["STATE"]),
        loaded=tagged["LOADED"] == "True",
        json_lines=[orjson.loads(line) for line in err + out if _is_json(line)],
        other_stderr=[line for line in err if not _is_json(line)],
        stdout=[line for line in out if line.split(" ", 1)[0] not in {"SPAN", "STATE", "LOADED"}],
    )


def clean_env(**env: str) -> dict[str, str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TRACELOG_"))}
    full.update(
        OTEL_TRACES_EXPORTER="none", OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none"
    )
    full.update(env)
    return full


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zero_code") / "app.py"
    path.write_text(APP)
    return path


@pytest.fixture(scope="module")
def agent(app: Path) -> Any:
    """Run the app under `opentelemetry-instrument` with extra env vars (runs are cached)."""

    @cache
    def run(**env: str) -> Run:
        proc = subprocess.run(
            [AGENT, sys.executable, str(app)],
            capture_output=True,
            text=True,
            env=clean_env(**env),
            timeout=120,
            check=True,
        )
        return parse(proc)

    return run


def without_time(lines: list[str]) -> list[str]:
    return [line.partition(" [")[2] for line in lines]


def assert_correlated(run: Run, schema_name: str, service: str) -> None:
    """Exactly one line per call, the span's ids inside it, none outside, the service."""
    schema = get_schema(schema_name)
    assert MESSAGES == [line[schema.message_key] for line in run.json_lines]
    ids = [(schema.read_trace_id(line), schema.read_span_id(line)) for line in run.json_lines]
    assert [run.span, run.span, (None, None)] == ids
    assert [service] * 3 == [line[schema.service_key] for line in run.json_lines]
    assert ["A-1", "A-1"] == [line["order_id"] for line in run.json_lines[:2]]


@pytest.mark.slow
class TestUnderTheAgent:
    @pytest.mark.parametrize(
        ("env", "schema", "service"),
        [
            ({"OTEL_SERVICE_NAME": "shop"}, "default", "shop"),
            (
                {
                    "OTEL_RESOURCE_ATTRIBUTES": "service.name=billing,deployment.environment=ci",
                    "TRACELOG_SCHEMA": "otel",
                },
                "otel",
                "billing",
            ),
        ],
        ids=["service-name", "resource-attributes"],
    )
    def test_configure_variable_wires_both_frameworks(self, agent, env, schema, service) -> None:
        """TRACELOG_CONFIGURE=true: stdlib and structlog lines with the span's ids and the
        agent Resource's service, in the TRACELOG_SCHEMA layout."""
        run = agent(TRACELOG_CONFIGURE="true", **env)
        assert_correlated(run, schema, service)
        assert [] == run.other_stderr
        assert [] == run.stdout
        assert run.state["structlog_configured"]
        assert 1 == run.state["handlers"].count("TracelogHandler")

    @pytest.mark.parametrize("value", [None, "false"], ids=["unset", "false"])
    def test_without_the_variable_nothing_changes(self, agent, value) -> None:
        """Loaded but not asked to configure: the same state and output as when the agent
        skips tracelog altogether."""
        run = agent() if value is None else agent(TRACELOG_CONFIGURE=value)
        skipped = agent(OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="tracelog")
        assert run.loaded
        assert skipped.state == run.state
        assert not run.state["structlog_configured"]
        assert [] == run.json_lines
        assert skipped.other_stderr == run.other_stderr
        # structlog's own default renderer prints the event, as without tracelog
        # (compared after its leading timestamp).
        assert 1 == sum("structlog inside" in line for line in run.stdout)
        assert without_time(skipped.stdout) == without_time(run.stdout)

    def test_disabled_instrumentations_turns_it_off(self, agent) -> None:
        """OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=tracelog wins over TRACELOG_CONFIGURE=true."""
        run = agent(OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="tracelog", TRACELOG_CONFIGURE="true")
        assert not run.loaded
        assert [] == run.json_lines
        assert "TracelogHandler" not in run.state["handlers"]

    @pytest.mark.parametrize(
        ("env", "reason"),
        [
            (
                {"TRACELOG_CONFIGURE": "maybe"},
                "TRACELOG_CONFIGURE must be true or false (1/0, yes/no, on/off), not 'maybe'",
            ),
            (
                {"TRACELOG_CONFIGURE": "true", "TRACELOG_SCHEMA": "nope"},
                "unknown schema 'nope'",
            ),
        ],
        ids=["bad-switch", "bad-schema"],
    )
    def test_bad_value_is_one_line_and_leaves_logging_alone(self, agent, env, reason) -> None:
        """A bad value never breaks the agent's start-up: one stderr line, app unchanged."""
        run = agent(**env)
        skipped = agent(OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="tracelog")
        (line,) = run.other_stderr
        assert line.startswith("tracelog: not configured under opentelemetry-instrument: ")
        assert reason in line
        assert skipped.state == run.state
        assert [] == run.json_lines

    def test_log_correlation_coexists(self, agent) -> None:
        """With OTEL_PYTHON_LOG_CORRELATION=true: still one JSON line per call, and the
        otel* record attributes are not repeated in it."""
        run = agent(
            TRACELOG_CONFIGURE="true", OTEL_PYTHON_LOG_CORRELATION="true", OTEL_SERVICE_NAME="shop"
        )
        assert_correlated(run, "default", "shop")
        assert set() == {key for line in run.json_lines for key in line} & FOREIGN_TRACE_ATTRS
        # Whether basicConfig's text handler got installed depends on which of the two
        # instrumentors the agent loaded first (see the next test); any text is OTel's.
        assert all("resource.service.name=shop" in line for line in run.other_stderr)


# Both instrumentors called in a fixed order, as the agent would in either order.
ORDERED = (
    IMPORTS
    + textwrap.dedent(
        """
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.instrumentation.logging import LoggingInstrumentor
        from tracelog.instrument import TracelogInstrumentor

        trace.set_tracer_provider(TracerProvider(resource=Resource({"service.name": "shop"})))
        first, second = (
            (LoggingInstrumentor, TracelogInstrumentor)
            if sys.argv[1] == "logging-first"
            else (TracelogInstrumentor, LoggingInstrumentor)
        )
        first().instrument()
        second().instrument()
        """
    )
    + BODY
)


@pytest.mark.slow
class TestLoadOrderWithLogCorrelation:
    @pytest.mark.parametrize(
        ("order", "text_lines"),
        [("tracelog-first", 0), ("logging-first", 2)],
    )
    def test_text_handler_depends_on_order(self, tmp_path, order, text_lines) -> None:
        """basicConfig adds OTel's text handler only when tracelog's handler is not on the
        root logger yet; the JSON lines are the same either way."""
        app = tmp_path / "ordered.py"
        app.write_text(ORDERED)
        proc = subprocess.run(
            [sys.executable, str(app), order],
            capture_output=True,
            text=True,
            env=clean_env(TRACELOG_CONFIGURE="true", OTEL_PYTHON_LOG_CORRELATION="true"),
            timeout=120,
            check=True,
        )
        run = parse(proc)
        assert_correlated(run, "default", "shop")
        assert set() == {key for line in run.json_lines for key in line} & FOREIGN_TRACE_ATTRS
        assert text_lines == len(run.other_stderr)


@pytest.fixture
def instrumentor(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("TRACELOG_CONFIGURE", raising=False)
    monkeypatch.setenv("TRACELOG_STREAM", "stdout")
    inst = TracelogInstrumentor()
    yield inst
    if inst.is_instrumented_by_opentelemetry:
        inst.uninstrument()


def tracelog_handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if isinstance(h, TracelogHandler)]


class TestInstrumentor:
    def test_entry_point(self) -> None:
        """The agent finds TracelogInstrumentor under the entry point name `tracelog`."""
        (found,) = entry_points(group="opentelemetry_instrumentor", name="tracelog")
        assert TracelogInstrumentor is found.load()

    def test_agent_sees_no_dependency_conflict(self) -> None:
        """The agent's dependency check (our distribution's `instruments` extra) passes."""
        assert get_dist_dependency_conflicts(distribution("tracelog-otel")) is None

    def test_instrument_and_uninstrument(self, instrumentor, monkeypatch, capsys) -> None:
        """instrument() with the variable configures (dependency check included);
        uninstrument() removes tracelog's handler."""
        monkeypatch.setenv("TRACELOG_CONFIGURE", "yes")
        instrumentor.instrument()
        assert 1 == len(tracelog_handlers())
        logging.getLogger("x").warning("configured")
        assert "configured" == orjson.loads(capsys.readouterr().out)["message"]
        instrumentor.uninstrument()
        assert [] == tracelog_handlers()

    def test_uninstrument_keeps_the_apps_own_configure(self, instrumentor) -> None:
        """Without the variable, uninstrument() leaves a configure() the app made itself."""
        instrumentor.instrument()
        assert [] == tracelog_handlers()
        tracelog.configure()
        instrumentor.uninstrument()
        assert 1 == len(tracelog_handlers())

    def test_bad_value_does_not_raise(self, instrumentor, monkeypatch, capfd) -> None:
        """A bad TRACELOG_LEVEL is reported on stderr in one line, never raised."""
        monkeypatch.setenv("TRACELOG_CONFIGURE", "1")
        monkeypatch.setenv("TRACELOG_LEVEL", "loud")
        instrumentor.instrument()
        (line,) = capfd.readouterr().err.splitlines()
        assert line.startswith("tracelog: not configured under opentelemetry-instrument: ")
        assert "unknown TRACELOG_LEVEL 'loud'" in line
        assert [] == tracelog_handlers()


@pytest.fixture
def otel_record_factory() -> Any:
    """A record factory that adds the otel* attributes, as OTel's logging instrumentation."""
    old = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = old(*args, **kwargs)
        for name in FOREIGN_TRACE_ATTRS:
            setattr(record, name, "0")
        return record

    logging.setLogRecordFactory(factory)
    yield
    logging.setLogRecordFactory(old)


class TestForeignTraceAttributes:
    @pytest.mark.parametrize("schema", SCHEMA_NAMES)
    def test_not_copied_as_user_fields(self, output, recorder, otel_record_factory, schema):
        """otel* record attributes never reach a line; the user's own fields still do."""
        out = output(schema=schema, gcp_project="p")
        with recorder.tracer.start_as_current_span("op") as span:
            logging.getLogger("x").warning("hi", extra={"order_id": "A-1"})
        (line,) = out.lines()
        assert set() == set(line) & FOREIGN_TRACE_ATTRS
        assert "A-1" == line["order_id"]
        expected = format(span.get_span_context().span_id, "016x")
        assert expected == get_schema(schema, gcp_project="p").read_span_id(line)
