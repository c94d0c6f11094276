"""configure(): settings, env vars, errors at once, idempotency, service resolution."""

from __future__ import annotations

import io
import logging
import logging.handlers
import subprocess
import sys
import textwrap

import orjson
import pytest

import tracelog
from tests.conftest import emit
from tracelog.config import TracelogHandler
from tracelog.testing import SpanRecorder


def tracelog_handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if isinstance(h, TracelogHandler)]


class TestSettings:
    def test_repeat_call_replaces(self, output) -> None:
        """A second configure() replaces the first: one handler, the new stream wins."""
        first = output()
        second = output(schema="otel")
        assert 1 == len(tracelog_handlers())
        logging.getLogger("x").info("hello")
        tracelog.get_logger("y").info("hello")
        assert [] == first.lines()
        assert 2 == len(second.lines())

    def test_configure_after_shutdown_installs_again(self, output) -> None:
        """After shutdown(), configure() installs a fresh handler."""
        output()
        tracelog.shutdown()
        assert [] == tracelog_handlers()
        out = output()
        logging.getLogger("x").warning("back")
        assert "back" == out.lines()[0]["message"]

    def test_env_schema_and_level(self, output, monkeypatch) -> None:
        """TRACELOG_SCHEMA and TRACELOG_LEVEL apply when no argument is given."""
        monkeypatch.setenv("TRACELOG_SCHEMA", "otel")
        monkeypatch.setenv("TRACELOG_LEVEL", "warning")
        out = output()
        logging.getLogger("x").info("dropped")
        tracelog.get_logger("x").info("dropped")
        logging.getLogger("x").warning("kept")
        (line,) = out.lines()
        assert ("kept", "warning") == (line["message"], line["level"])
        assert logging.WARNING == logging.getLogger().level

    def test_argument_beats_env(self, output, monkeypatch) -> None:
        """An argument wins over its environment variable."""
        monkeypatch.setenv("TRACELOG_LEVEL", "ERROR")
        out = output(level="DEBUG")
        tracelog.get_logger("x").debug("shown")
        assert "shown" == out.lines()[0]["message"]

    def test_logger_taken_before_configure_follows(self) -> None:
        """A logger made at import time follows every later configure()."""
        log = tracelog.get_logger("early")
        first, second = io.StringIO(), io.StringIO()
        tracelog.configure(stream=first, level="INFO")
        log.info("one")
        tracelog.configure(stream=second, level="ERROR", schema="ecs")
        log.info("hidden")
        log.error("two")
        assert ["one"] == [orjson.loads(x)["message"] for x in first.getvalue().splitlines()]
        (line,) = [orjson.loads(x) for x in second.getvalue().splitlines()]
        assert ("two", "error") == (line["message"], line["log.level"])

    def test_structlog_get_logger_is_wired(self, output) -> None:
        """After configure(), plain structlog.get_logger() writes tracelog lines too."""
        import structlog

        out = output()
        structlog.get_logger("plain").info("via structlog", k=1)
        line = out.lines()[0]
        assert ("plain", "via structlog", 1) == (line["logger"], line["message"], line["k"])

    def test_stream_names(self, capsys) -> None:
        """stream='stdout' writes to stdout; the default is stderr."""
        tracelog.configure(stream="stdout")
        logging.getLogger("x").warning("to stdout")
        tracelog.configure()
        logging.getLogger("x").warning("to stderr")
        captured = capsys.readouterr()
        assert "to stdout" == orjson.loads(captured.out)["message"]
        assert "to stderr" == orjson.loads(captured.err)["message"]

    def test_async_methods_log(self, output) -> None:
        """ainfo() writes the line in the awaiting task."""
        import asyncio

        out = output()
        asyncio.run(tracelog.get_logger("a").ainfo("async %s", "call"))
        assert "async call" == out.lines()[0]["message"]

    def test_positional_args_and_log_method(self, output) -> None:
        """structlog-style %-args and log(level, ...) work; is_enabled_for follows level."""
        out = output(level="WARNING")
        log = tracelog.get_logger("a")
        log.log(logging.ERROR, "n=%d", 5)
        log.warning("bad %d", "x")
        assert not log.is_enabled_for(logging.INFO)
        first, second = out.lines()
        assert ("n=5", "error") == (first["message"], first["level"])
        assert "'bad %d' % ('x',) (format failed: TypeError)" == second["message"]


class TestErrors:
    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"schema": "splunk"}, "valid schemas: default, otel, ecs, gcp, datadog, xray"),
            ({"level": "LOUD"}, "valid levels: DEBUG, INFO"),
            ({"stream": "stdlog"}, "valid streams: stderr, stdout"),
            ({"schema": "gcp"}, "GOOGLE_CLOUD_PROJECT"),
            ({"span_events": "maybe"}, "true or false"),
            ({"service": ""}, "non-empty string"),
            ({"level": -1}, ">= 0"),
        ],
    )
    def test_value_errors(self, kwargs, match) -> None:
        """Bad values raise ValueError at configure() naming the valid choices."""
        with pytest.raises(ValueError, match=match):
            tracelog.configure(**kwargs)
        assert [] == tracelog_handlers()

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"schema": 3},
            {"level": 2.5},
            {"level": True},
            {"stream": 42},
            {"redact": 3},
            {"span_events": 1},
        ],
    )
    def test_type_errors(self, kwargs) -> None:
        """Wrongly typed arguments raise TypeError at once."""
        with pytest.raises(TypeError):
            tracelog.configure(**kwargs)

    def test_env_errors(self, monkeypatch) -> None:
        """A bad TRACELOG_* value fails at configure() too."""
        monkeypatch.setenv("TRACELOG_SCHEMA", "nope")
        with pytest.raises(ValueError, match="unknown schema 'nope'"):
            tracelog.configure()
        monkeypatch.setenv("TRACELOG_SCHEMA", "default")
        monkeypatch.setenv("TRACELOG_REDACT", "perhaps")
        with pytest.raises(ValueError, match="TRACELOG_REDACT"):
            tracelog.configure()


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TRACELOG_"))}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=True,
    )


class TestService:
    def test_explicit_service_wins(self, recorder, output) -> None:
        """configure(service=...) beats the Resource."""
        out = output(service="billing")
        with recorder.tracer.start_as_current_span("op"):
            logging.getLogger("x").info("hi")
        assert "billing" == out.lines()[0]["service"]

    def test_sdk_set_up_after_configure(self) -> None:
        """The global provider's Resource is read at call time, not at configure()."""
        proc = run_python(
            """
            import logging, tracelog
            tracelog.configure(stream="stdout")
            logging.getLogger("x").warning("before")
            from opentelemetry import trace
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.resources import Resource
            trace.set_tracer_provider(TracerProvider(
                resource=Resource.create({"service.name": "inventory"})))
            logging.getLogger("x").warning("after, no span")
            with trace.get_tracer("t").start_as_current_span("s"):
                tracelog.get_logger("y").warning("after, in span")
            """,
            OTEL_SERVICE_NAME="from-env",
        )
        services = [orjson.loads(x)["service"] for x in proc.stdout.splitlines()]
        assert ["from-env", "inventory", "inventory"] == services

    def test_program_name_fallback(self, tmp_path) -> None:
        """Without Resource or OTEL_SERVICE_NAME the program name is the service."""
        script = tmp_path / "orders_worker.py"
        script.write_text(
            "import logging, tracelog\n"
            "tracelog.configure(stream='stdout')\n"
            "logging.getLogger('x').warning('hi')\n"
        )
        import os

        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        proc = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=True,
        )
        assert "orders_worker" == orjson.loads(proc.stdout)["service"]

    def test_unknown_service_resource_counts_as_unset(self, output) -> None:
        """A Resource service.name of unknown_service:... falls through to the env var."""
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider

        provider = TracerProvider(resource=Resource({"service.name": "unknown_service:python"}))
        import os

        os.environ["OTEL_SERVICE_NAME"] = "named"
        try:
            out = output()
            with provider.get_tracer("t").start_as_current_span("op"):
                logging.getLogger("x").info("hi")
        finally:
            del os.environ["OTEL_SERVICE_NAME"]
        assert "named" == out.lines()[0]["service"]


SHUTDOWN_APP = textwrap.dedent(
    """
    import atexit, logging, sys, tracelog
    tracelog.configure(stream="stdout", queue=sys.argv[1] == "queue")

    class Leaky:
        def __del__(self):
            logging.getLogger("del").warning("from __del__")
            tracelog.get_logger("del").warning("structlog from __del__")

    keep = Leaky()  # collected at interpreter shutdown
    atexit.register(lambda: logging.getLogger("atexit").warning("from atexit"))
    atexit.register(lambda: tracelog.get_logger("atexit").warning("structlog from atexit"))
    logging.getLogger("main").warning("last line of main")
    """
)


class TestShutdown:
    @pytest.mark.parametrize("mode", ["direct", "queue"])
    def test_logs_at_exit_and_in_del(self, mode) -> None:
        """Lines from atexit and __del__ at shutdown are written, and nothing raises."""
        proc = subprocess.run(
            [sys.executable, "-c", SHUTDOWN_APP, mode],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert 0 == proc.returncode
        assert "Traceback" not in proc.stderr
        messages = {orjson.loads(x)["message"] for x in proc.stdout.splitlines()}
        assert {
            "last line of main",
            "from atexit",
            "structlog from atexit",
            "from __del__",
            "structlog from __del__",
        } <= messages


class TestConfigErrors:
    @pytest.mark.parametrize(
        ("factory", "error"),
        [
            (lambda: tracelog.stdlib.JsonFormatter(schema="nope"), ValueError),
            (lambda: tracelog.stdlib.JsonFormatter(schema=5), TypeError),
            (lambda: tracelog.stdlib.JsonFormatter(redact="on"), TypeError),
            (lambda: tracelog.stdlib.JsonFormatter(service=""), ValueError),
            (lambda: tracelog.stdlib.JsonFormatter(schema="gcp"), ValueError),
            (lambda: tracelog.structlog.JsonRenderer(schema="nope"), ValueError),
            (lambda: tracelog.structlog.JsonRenderer(redact=1), TypeError),
            (lambda: tracelog.stdlib.JsonStreamHandler(stream=object()), TypeError),
            (lambda: tracelog.Redactor(patterns=["["]), ValueError),
            (lambda: tracelog.configure(queue="sometimes"), ValueError),
            (lambda: tracelog.configure(buffer_debug="x"), ValueError),
            (lambda: tracelog.configure(sample="half"), ValueError),
            (lambda: tracelog.configure(stream=b"x"), TypeError),
        ],
    )
    def test_setup_fails_at_once(self, factory, error) -> None:
        """Every wrong argument fails at setup with one clear error, never at a log call."""
        with pytest.raises(error):
            factory()


class TestEveryArgumentChecked:
    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"bridge_level": "LOUD"}, ValueError),
            ({"sample_orphans": 5}, ValueError),
            ({"buffer_lines": -1}, ValueError),
            ({"buffer_bytes": "1k"}, TypeError),
            ({"queue_size": -3}, ValueError),
            ({"logger_provider": "nope"}, TypeError),
            ({"gcp_project": "shop/prod"}, ValueError),
            ({"datadog_full_trace_id": "maybe"}, ValueError),
        ],
    )
    def test_checked_even_when_the_feature_is_off(self, kwargs, error) -> None:
        """A bad setting fails at configure() even if its feature is not turned on."""
        with pytest.raises(error):
            tracelog.configure(**kwargs)

    def test_datadog_flag_string(self, output) -> None:
        """datadog_full_trace_id='false' means false (not bool('false'))."""
        out = output(schema="datadog", datadog_full_trace_id="false")
        with SpanRecorder().tracer.start_as_current_span("op"):
            emit("stdlib", "info", "x")
        assert out.lines()[0]["dd.trace_id"].isdigit()
