"""Issue 20: stdlib logging and structlog behave as one logging system."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import structlog

import tracelog
from tests.conftest import Output, emit
from tests.test_config import run_python
from tracelog.schemas import SCHEMA_NAMES, get_schema
from tracelog.stdlib import JsonFormatter, TraceContextFilter
from tracelog.testing import SpanRecorder

NAMES = ("noisy", "noisy.child", "app", "text")
PROJECT = "shop-prod"


@pytest.fixture(autouse=True)
def _restore_levels() -> Iterator[None]:
    """Levels set on named loggers or by logging.disable do not outlive the test."""
    yield
    logging.disable(logging.NOTSET)
    structlog.contextvars.clear_contextvars()
    for name in NAMES:
        logger = logging.getLogger(name)
        logger.setLevel(logging.NOTSET)
        logger.disabled = False
        logger.handlers.clear()
        logger.propagate = True


def log_both(name: str, method: str, message: str) -> None:
    """The same call through stdlib and through a tracelog structlog logger."""
    getattr(logging.getLogger(name), method)(message, extra={"via": "stdlib"})
    getattr(tracelog.get_logger(name), method)(message, via="structlog")


def written(out: Output) -> list[tuple[str, str]]:
    """(message, framework) of each line written."""
    return [(line["message"], line["via"]) for line in out.lines()]


class TestLevels:
    def test_set_level_quiets_both_frameworks(self, output: Callable[..., Output]) -> None:
        """setLevel(WARNING) on a logger filters INFO calls of that name in both frameworks."""
        out = output(level="DEBUG")
        logging.getLogger("noisy").setLevel(logging.WARNING)
        log_both("noisy", "info", "dropped")
        log_both("noisy", "warning", "kept")
        log_both("app", "info", "other")
        expected = [
            ("kept", "stdlib"),
            ("kept", "structlog"),
            ("other", "stdlib"),
            ("other", "structlog"),
        ]
        assert expected == written(out)

    @pytest.mark.parametrize("method", ["debug", "info", "warning", "error", "critical"])
    def test_each_method_follows_the_stdlib_level(
        self, output: Callable[..., Output], method: str
    ) -> None:
        """Every level method of a structlog logger is quiet below the stdlib logger's level."""
        out = output(level="DEBUG")
        logging.getLogger("noisy").setLevel(logging.CRITICAL + 1)
        getattr(tracelog.get_logger("noisy"), method)("dropped")
        tracelog.get_logger("noisy").log(logging.ERROR, "dropped too")
        assert [] == out.lines()

    def test_logger_taken_before_configure_follows_later_set_level(
        self, output: Callable[..., Output]
    ) -> None:
        """A logger taken before configure() and setLevel() follows both."""
        early = tracelog.get_logger("noisy")
        out = output()
        early.info("before", via="structlog")
        logging.getLogger("noisy").setLevel(logging.ERROR)
        early.info("after", via="structlog")
        early.bind(k=1).warning("bound", via="structlog")
        logging.getLogger("noisy").setLevel(logging.NOTSET)
        early.info("again", via="structlog")
        assert [("before", "structlog"), ("again", "structlog")] == written(out)

    def test_parent_level_is_inherited(self, output: Callable[..., Output]) -> None:
        """A child logger's effective level comes from its parent, as in stdlib."""
        out = output()
        logging.getLogger("noisy").setLevel(logging.WARNING)
        log_both("noisy.child", "info", "dropped")
        log_both("noisy.child", "error", "kept")
        assert [("kept", "stdlib"), ("kept", "structlog")] == written(out)

    def test_logging_disable_applies(self, output: Callable[..., Output]) -> None:
        """logging.disable(INFO) quiets INFO in both frameworks, and lifting it restores them."""
        out = output()
        log_both("app", "info", "first")
        logging.disable(logging.INFO)
        log_both("app", "info", "dropped")
        log_both("app", "warning", "kept")
        logging.disable(logging.NOTSET)
        log_both("app", "info", "last")
        expected = [(m, via) for m in ("first", "kept", "last") for via in ("stdlib", "structlog")]
        assert expected == written(out)

    def test_disabled_logger_is_quiet(self, output: Callable[..., Output]) -> None:
        """A stdlib logger disabled (as dictConfig does to existing loggers) quiets both."""
        out = output()
        log_both("app", "warning", "first")
        logging.getLogger("app").disabled = True
        log_both("app", "warning", "dropped")
        assert [("first", "stdlib"), ("first", "structlog")] == written(out)

    def test_lower_logger_level_does_not_beat_configure(
        self, output: Callable[..., Output]
    ) -> None:
        """A logger at DEBUG still writes nothing below configure()'s level, in both."""
        out = output(level="INFO")
        logging.getLogger("app").setLevel(logging.DEBUG)
        log_both("app", "debug", "dropped")
        assert [] == out.lines()

    def test_is_enabled_for(self, output: Callable[..., Output]) -> None:
        """is_enabled_for() answers with both levels."""
        output(level="DEBUG")
        logging.getLogger("noisy").setLevel(logging.WARNING)
        log = tracelog.get_logger("noisy")
        assert (False, True) == (log.is_enabled_for(20), log.is_enabled_for(30))

    def test_unnamed_logger_follows_root(self, output: Callable[..., Output]) -> None:
        """A logger without a name has the root logger's level."""
        out = output(level="INFO")
        logging.getLogger().setLevel(logging.ERROR)
        tracelog.get_logger().warning("dropped")
        tracelog.get_logger().error("kept")
        assert ["kept"] == [line["message"] for line in out.lines()]

    def test_before_configure_the_root_default_applies(self) -> None:
        """Unconfigured, a structlog logger writes WARNING and drops INFO, like stdlib."""
        done = run_python(
            """
            import tracelog
            tracelog.get_logger("x").warning("kept")
            tracelog.get_logger("x").info("dropped")
            """
        )
        assert ["kept"] == [orjson.loads(x)["message"] for x in done.stderr.splitlines()]

    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_parity_with_emit(self, output: Callable[..., Output], framework: str) -> None:
        """The shared emit helper's logger 'app' obeys setLevel in each framework."""
        out = output()
        logging.getLogger("app").setLevel(logging.ERROR)
        emit(framework, "warning", "dropped")
        emit(framework, "error", "kept")
        assert ["kept"] == [line["message"] for line in out.lines()]


def span_ids(span: Any) -> tuple[str, str, str]:
    """A span's ids as tracelog writes them."""
    sc = span.get_span_context()
    return format(sc.trace_id, "032x"), format(sc.span_id, "016x"), format(sc.trace_flags, "02x")


class TestContextvars:
    @pytest.mark.parametrize("schema", SCHEMA_NAMES)
    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_bound_values_on_every_line(
        self,
        output: Callable[..., Output],
        recorder: SpanRecorder,
        schema: str,
        framework: str,
    ) -> None:
        """structlog.contextvars values appear on both frameworks' lines in every layout."""
        out = output(schema=schema, gcp_project=PROJECT)
        structlog.contextvars.bind_contextvars(request_id="R-1", user_id=7)
        with recorder.tracer.start_as_current_span("req") as span:
            emit(framework, "info", "hello", order_id="A-1")
        (line,) = out.lines()
        layout = get_schema(schema, gcp_project=PROJECT)
        expected = ("R-1", 7, "A-1", span_ids(span)[1])
        actual = (
            line.get("request_id"),
            line.get("user_id"),
            line.get("order_id"),
            layout.read_span_id(line),
        )
        assert expected == actual

    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_call_fields_win(self, output: Callable[..., Output], framework: str) -> None:
        """A field given at the call wins over a bound value of the same name."""
        out = output()
        structlog.contextvars.bind_contextvars(order_id="bound")
        emit(framework, "info", "hello", order_id="call")
        assert "call" == out.lines()[0]["order_id"]

    @pytest.mark.parametrize("schema", SCHEMA_NAMES)
    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_reserved_names_move_aside(
        self, output: Callable[..., Output], schema: str, framework: str
    ) -> None:
        """A bound value named like a trace or head field moves to user.<name> in both."""
        out = output(schema=schema, gcp_project=PROJECT)
        layout = get_schema(schema, gcp_project=PROJECT)
        structlog.contextvars.bind_contextvars(traceId="fake", **{layout.message_key: "m"})
        emit(framework, "info", "hello")
        (line,) = out.lines()
        expected = ("fake", "m", "hello")
        actual = (
            line.get("user.traceId"),
            line.get("user." + layout.message_key),
            line[layout.message_key],
        )
        assert expected == actual

    def test_same_fields_in_both_frameworks(self, output: Callable[..., Output]) -> None:
        """The user fields of a stdlib line and a structlog line are the same, in order."""
        out = output()
        structlog.contextvars.bind_contextvars(request_id="R-1", tenant="t")
        emit("stdlib", "info", "x", a=1)
        emit("structlog", "info", "x", a=1)
        first, second = (
            {k: v for k, v in line.items() if k != "timestamp"} for line in out.lines()
        )
        assert list(first.items()) == list(second.items())

    def test_cleared_values_are_gone(self, output: Callable[..., Output]) -> None:
        """After clear_contextvars() stdlib lines carry no bound value."""
        out = output()
        structlog.contextvars.bind_contextvars(request_id="R-1")
        structlog.contextvars.clear_contextvars()
        emit("stdlib", "info", "x")
        assert "request_id" not in out.lines()[0]

    def test_queue_mode_captures_at_the_call(self, output: Callable[..., Output]) -> None:
        """In queue mode a stdlib line carries the caller's values, not the listener's."""
        out = output(queue=True)
        structlog.contextvars.bind_contextvars(request_id="R-1")
        emit("stdlib", "info", "queued")
        structlog.contextvars.clear_contextvars()
        tracelog.shutdown()
        assert ["R-1"] == [line.get("request_id") for line in out.lines()]

    def test_threads_keep_their_own_values(self, output: Callable[..., Output]) -> None:
        """Values bound in one thread never appear on another thread's stdlib lines."""
        out = output()
        barrier = threading.Barrier(4)

        def work(n: int) -> None:
            structlog.contextvars.bind_contextvars(request_id=f"R-{n}")
            barrier.wait()
            for _ in range(50):
                logging.getLogger("app").info("t%d", n)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        lines = out.lines()
        expected = [f"R-{line['message'][1:]}" for line in lines]
        assert (200, expected) == (len(lines), [line["request_id"] for line in lines])


def text_logger(fmt: logging.Formatter) -> tuple[logging.Logger, io.StringIO]:
    """Logger 'text' writing through *fmt* with a TraceContextFilter, into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(fmt)
    handler.addFilter(TraceContextFilter())
    logger = logging.getLogger("text")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, buffer


class TestTextIds:
    FORMAT = "%(traceId)s|%(spanId)s|%(traceFlags)s|%(message)s"

    def test_ids_in_a_text_format(self, recorder: SpanRecorder) -> None:
        """%(traceId)s, %(spanId)s, %(traceFlags)s give the span's ids in a plain Formatter."""
        logger, buffer = text_logger(logging.Formatter(self.FORMAT))
        with recorder.tracer.start_as_current_span("req") as span:
            logger.info("inside")
        assert "|".join([*span_ids(span), "inside"]) == buffer.getvalue().strip()

    def test_empty_outside_a_span(self) -> None:
        """Outside a span the three attributes are empty strings, never a logging error."""
        logger, buffer = text_logger(logging.Formatter(self.FORMAT))
        logger.info("outside")
        assert "|||outside" == buffer.getvalue().strip()

    def test_a_user_extra_is_kept(self, recorder: SpanRecorder) -> None:
        """A user's own extra traceId is left alone in text and kept as user.traceId in JSON."""
        logger, buffer = text_logger(JsonFormatter())
        with recorder.tracer.start_as_current_span("req") as span:
            logger.info("mine", extra={"traceId": "custom"})
        line = orjson.loads(buffer.getvalue())
        assert ("custom", span_ids(span)[0]) == (line["user.traceId"], line["traceId"])

    @pytest.mark.parametrize("schema", SCHEMA_NAMES)
    def test_never_written_twice_into_json(self, recorder: SpanRecorder, schema: str) -> None:
        """With the filter, each layout's JSON line has the same keys as without it."""
        with_filter, buffer = text_logger(JsonFormatter(schema=schema, gcp_project=PROJECT))
        plain = logging.getLogger("noisy")
        plain_buffer = io.StringIO()
        handler = logging.StreamHandler(plain_buffer)
        handler.setFormatter(JsonFormatter(schema=schema, gcp_project=PROJECT))
        plain.handlers[:] = [handler]
        plain.propagate = False
        plain.setLevel(logging.INFO)
        with recorder.tracer.start_as_current_span("req"):
            with_filter.info("x")
            plain.info("x")
        logger_key = get_schema(schema, gcp_project=PROJECT).logger_key
        first, second = (
            {k: v for k, v in orjson.loads(b.getvalue()).items() if k != logger_key}
            for b in (buffer, plain_buffer)
        )
        assert sorted(second) == sorted(first)

    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_queue_mode_lines_hold_each_id_once(
        self, output: Callable[..., Output], recorder: SpanRecorder, framework: str
    ) -> None:
        """configure(queue=True) runs the filter; its lines carry no user.traceId."""
        out = output(queue=True, schema="otel")
        with recorder.tracer.start_as_current_span("req") as span:
            emit(framework, "info", "x")
        tracelog.shutdown()
        (line,) = out.lines()
        expected = (span_ids(span)[0], set())
        assert expected == (line["trace_id"], {"traceId", "user.traceId"} & set(line))


def file_lines(*paths: Path) -> list[dict[str, Any]]:
    """The parsed lines of each file, in order."""
    return [orjson.loads(line) for path in paths for line in path.read_bytes().splitlines()]


class TestStreamPath:
    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_appends_to_the_file(self, tmp_path: Path, framework: str) -> None:
        """configure(stream=PATH) appends both frameworks' lines after what was there."""
        log = tmp_path / "app.log"
        log.write_bytes(b'{"message":"old"}\n')
        tracelog.configure(stream=str(log))
        emit(framework, "info", "new")
        tracelog.shutdown()
        assert ["old", "new"] == [line["message"] for line in file_lines(log)]

    def test_env_var_and_path_object(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """TRACELOG_STREAM=PATH and a pathlib.Path both name a file."""
        monkeypatch.setenv("TRACELOG_STREAM", str(tmp_path / "env.log"))
        tracelog.configure()
        emit("stdlib", "info", "via env")
        tracelog.configure(stream=tmp_path / "obj.log")
        emit("structlog", "info", "via path")
        tracelog.shutdown()
        expected = (["via env"], ["via path"])
        actual = tuple(
            [line["message"] for line in file_lines(tmp_path / name)]
            for name in ("env.log", "obj.log")
        )
        assert expected == actual

    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_reopens_after_rotation(self, tmp_path: Path, framework: str) -> None:
        """After the file is moved (logrotate), lines go to a new file at the path."""
        log = tmp_path / "app.log"
        tracelog.configure(stream=str(log))
        emit(framework, "info", "before")
        log.rename(tmp_path / "app.log.1")
        emit(framework, "info", "after")
        log.unlink()
        emit(framework, "info", "after removal")
        tracelog.shutdown()
        expected = (["before"], ["after removal"])
        actual = (
            [line["message"] for line in file_lines(tmp_path / "app.log.1")],
            [line["message"] for line in file_lines(log)],
        )
        # "after" went to the fresh file the first rotation opened, which was then removed.
        assert expected == actual

    def test_moved_file_is_replaced_at_once(self, tmp_path: Path) -> None:
        """The first line after a move makes a new file at the path, as WatchedFileHandler."""
        log = tmp_path / "app.log"
        tracelog.configure(stream=str(log))
        emit("stdlib", "info", "one")
        log.rename(tmp_path / "moved.log")
        emit("structlog", "info", "two")
        emit("stdlib", "info", "three")
        tracelog.shutdown()
        expected = (["one"], ["two", "three"])
        actual = (
            [line["message"] for line in file_lines(tmp_path / "moved.log")],
            [line["message"] for line in file_lines(log)],
        )
        assert expected == actual

    def test_threads_across_rotations_lose_nothing(self, tmp_path: Path) -> None:
        """4 threads x 500 lines while the file is rotated 5 times: every line, whole."""
        log = tmp_path / "app.log"
        tracelog.configure(stream=str(log))
        rotated: list[Path] = []

        def work(n: int) -> None:
            for i in range(500):
                if n % 2:
                    logging.getLogger("app").info("line", extra={"n": n, "i": i})
                else:
                    tracelog.get_logger("app").info("line", n=n, i=i)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for k in range(5):
            if log.exists():
                target = tmp_path / f"app.log.{k}"
                log.rename(target)
                rotated.append(target)
        for thread in threads:
            thread.join()
        tracelog.shutdown()
        files = [*rotated, log] if log.exists() else rotated
        seen = sorted((line["n"], line["i"]) for line in file_lines(*files))
        assert sorted((n, i) for n in range(4) for i in range(500)) == seen

    def test_unopenable_path_fails_at_configure(self, tmp_path: Path) -> None:
        """A path in a missing directory raises ValueError at configure()."""
        with pytest.raises(ValueError, match="cannot open log file"):
            tracelog.configure(stream=str(tmp_path / "no" / "app.log"))

    def test_bare_word_is_no_path(self) -> None:
        """A typo of stderr fails instead of creating a file named after it."""
        with pytest.raises(ValueError, match="valid streams: stderr, stdout"):
            tracelog.configure(stream="stdrr")

    def test_reconfigure_closes_the_file(self, tmp_path: Path) -> None:
        """A later configure() closes the file the earlier one opened."""
        tracelog.configure(stream=str(tmp_path / "a.log"))
        handler = next(
            h for h in logging.getLogger().handlers if type(h).__name__ == "TracelogHandler"
        )
        tracelog.configure(stream=io.StringIO())
        assert handler.sink.stream.closed


DEPLOYMENT_KEYS = {
    "default": ("service.version", "deployment.environment.name"),
    "otel": ("service.version", "deployment.environment.name"),
    "gcp": ("service.version", "deployment.environment.name"),
    "xray": ("service.version", "deployment.environment.name"),
    "ecs": ("service.version", "service.environment"),
    "datadog": ("dd.version", "dd.env"),
}


class TestDeployment:
    @pytest.mark.parametrize("schema", SCHEMA_NAMES)
    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_arguments_per_layout(
        self,
        output: Callable[..., Output],
        recorder: SpanRecorder,
        schema: str,
        framework: str,
    ) -> None:
        """configure(version=, environment=) go into each layout's fields for them."""
        out = output(schema=schema, gcp_project=PROJECT, version="1.4.2", environment="staging")
        with recorder.tracer.start_as_current_span("req"):
            emit(framework, "info", "x")
        (line,) = out.lines()
        version_key, env_key = DEPLOYMENT_KEYS[schema]
        assert ("1.4.2", "staging") == (line.get(version_key), line.get(env_key))

    @pytest.mark.parametrize("schema", SCHEMA_NAMES)
    def test_left_out_when_unset(
        self, output: Callable[..., Output], schema: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without a version or environment anywhere, no key for them is written."""
        monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
        out = output(schema=schema, gcp_project=PROJECT)
        emit("structlog", "info", "x")
        assert set() == set(DEPLOYMENT_KEYS[schema]) & set(out.lines()[0])

    def test_datadog_only_inside_a_trace(self, output: Callable[..., Output]) -> None:
        """Like the other dd.* keys, dd.version and dd.env are written only inside a span."""
        out = output(schema="datadog", version="1.4.2", environment="staging")
        emit("stdlib", "info", "x")
        assert set() == {"dd.version", "dd.env"} & set(out.lines()[0])

    def test_otel_resource_attributes(
        self, output: Callable[..., Output], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """OTEL_RESOURCE_ATTRIBUTES gives both, the older deployment.environment too."""
        monkeypatch.setenv(
            "OTEL_RESOURCE_ATTRIBUTES",
            "service.name=shop,service.version=2.0%2Bbuild.7,deployment.environment=prod",
        )
        out = output(schema="ecs")
        emit("stdlib", "info", "x")
        emit("structlog", "info", "y")
        expected = 2 * [("2.0+build.7", "prod")]
        assert expected == [
            (line["service.version"], line["service.environment"]) for line in out.lines()
        ]

    def test_argument_wins(
        self, output: Callable[..., Output], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An argument wins over OTEL_RESOURCE_ATTRIBUTES, per fact."""
        monkeypatch.setenv(
            "OTEL_RESOURCE_ATTRIBUTES", "service.version=2.0,deployment.environment.name=prod"
        )
        out = output(version="3.0")
        emit("structlog", "info", "x")
        line = out.lines()[0]
        assert ("3.0", "prod") == (line["service.version"], line["deployment.environment.name"])

    def test_bad_value_fails_at_configure(self) -> None:
        """An empty or non-string version raises ValueError at configure()."""
        with pytest.raises(ValueError, match="version must be a non-empty string"):
            tracelog.configure(version=" ", stream=io.StringIO())

    def test_resource_read_at_each_line(self) -> None:
        """The global provider's Resource, set up after configure(), is read at each line."""
        code = """
import logging, tracelog
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
tracelog.configure(stream="stdout", schema="otel")
logging.getLogger("x").warning("before")
trace.set_tracer_provider(TracerProvider(resource=Resource.create(
    {"service.name": "shop", "service.version": "5.1", "deployment.environment.name": "prod"})))
logging.getLogger("x").warning("stdlib")
with trace.get_tracer("t").start_as_current_span("s"):
    tracelog.get_logger("y").warning("structlog")
"""
        done = run_python(code)
        lines = [orjson.loads(x) for x in done.stdout.splitlines()]
        expected = [(None, None), ("5.1", "prod"), ("5.1", "prod")]
        assert expected == [
            (line.get("service.version"), line.get("deployment.environment.name")) for line in lines
        ]
