"""The examples/servers apps under their real servers: every line JSON, every request's ids.

Each server starts once per module on 127.0.0.1, gets requests with and without a
``traceparent`` (one of them failing), and stops; the tests read what it wrote to
stdout and stderr, line by line, as JSON.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).parent.parent / "examples" / "servers"
BIN = Path(sys.executable).parent
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
FAILED_TRACE = "0af7651916cd43dd8448eb211c80319c"
STARTUP_SECONDS = 60


def traceparent(trace_id: str) -> dict[str, str]:
    return {"traceparent": f"00-{trace_id}-{SPAN}-01"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - http only
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.read()
        return int(exc.code)


@dataclass
class Run:
    """What one server process wrote, parsed."""

    stdout: str
    stderr: str
    spans: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[dict[str, Any]]:
        """Every line of stdout and stderr as JSON (a line that is not JSON fails here)."""
        text = self.stdout + self.stderr
        return [orjson.loads(line) for line in text.splitlines() if line.strip()]

    def records(self) -> list[dict[str, Any]]:
        """The JSON lines only (gunicorn's master writes text before any app is loaded)."""
        text = self.stdout + self.stderr
        return [orjson.loads(line) for line in text.splitlines() if line.startswith("{")]

    def by_message(self, part: str) -> list[dict[str, Any]]:
        return [x for x in self.records() if part in x.get("message", "")]

    def server_spans(self) -> list[dict[str, Any]]:
        return [x for x in self.spans if x["kind"] == "server"]


def serve(
    tmp: Path,
    command: list[str],
    port: int,
    requests: Callable[[str], dict[str, int]],
    env: dict[str, str] | None = None,
    cwd: Path = EXAMPLES,
    stop: signal.Signals = signal.SIGINT,
    until: str = "/boom/B-2",
) -> Run:
    """Start *command*, wait for *port*, run *requests*, wait for a line with *until*
    (the server may log a request after its response went out), stop it, return its output."""
    spans = tmp / "spans.jsonl"
    out, err = tmp / "stdout", tmp / "stderr"
    environ = {
        **os.environ,
        "EXAMPLE_SPANS": str(spans),
        "PYTHONPATH": str(EXAMPLES),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    for name in ("TRACELOG_FRAMEWORKS", "TRACELOG_STREAM", "TRACELOG_SCHEMA"):
        environ.pop(name, None)
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            command, cwd=cwd, env=environ, stdout=stdout, stderr=stderr, start_new_session=True
        )
        try:
            wait_for_port(port, proc)
            statuses = requests(f"http://127.0.0.1:{port}")
            wait_for_text(until, out, err)
            # A request's SERVER span may end after its access line (the middleware holds
            # the context until the response is closed): stop only once every request's
            # span record is written, or the stop races the last export.
            wait_for_spans(spans, len(statuses))
        finally:
            stop_process(proc, stop)
    span_lines = spans.read_text().splitlines() if spans.exists() else []
    return Run(out.read_text(), err.read_text(), [orjson.loads(x) for x in span_lines], statuses)


def stop_process(proc: subprocess.Popen[bytes], how: signal.Signals) -> None:
    """Stop the server as an operator would (its main process only), then its group."""
    proc.send_signal(how)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:  # pragma: no cover - a hung server
        proc.kill()
        proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # anything the server left behind


def wait_for_spans(path: Path, count: int) -> None:
    """Bounded wait until *path* holds *count* SERVER span records, or stops growing for 1 s
    (some runs export fewer: the tests then say what is missing)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    size, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        if text.count('"kind":"server"') >= count:
            return
        if len(text) != size:
            size, since = len(text), time.monotonic()
        elif time.monotonic() - since > 1.0:
            return
        time.sleep(0.05)


def wait_for_text(text: str, *paths: Path) -> None:
    """Bounded wait until one of *paths* holds *text* (the tests then say what is missing)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if any(text in path.read_text() for path in paths):
            return
        time.sleep(0.05)


def wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    """Bounded wait until the server accepts connections (or fails loudly)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"server did not listen on {port} within {STARTUP_SECONDS} s")


def assert_one_trace(lines: list[dict[str, Any]], trace_id: str | None = None) -> str:
    """All *lines* share one valid trace id (*trace_id* if given); returns it."""
    assert lines
    ids = {x.get("traceId") for x in lines}
    assert 1 == len(ids), lines
    (found,) = ids
    assert isinstance(found, str)
    assert 32 == len(found)
    if trace_id is not None:
        assert trace_id == found
    return found


def names(run: Run, *, parents: bool = False) -> list[Any]:
    """The SERVER spans' names (with parents), in request order: the requests' paths differ.

    Spans end when each server closes the response, possibly in another worker after the
    next request started, so the file's order is not the requests' order.
    """
    order = ["/orders/", "/stock/", "/boom/"]
    spans = sorted(
        run.server_spans(),
        key=lambda x: next(i for i, p in enumerate(order) if p in x["name"]),
    )
    return [(x["name"], x.get("parentSpanId")) if parents else x["name"] for x in spans]


def web_requests(base: str) -> dict[str, int]:
    """The same four requests for each web row."""
    return {
        "order": get(f"{base}/orders/A-1", traceparent(TRACE)),
        "stock": get(f"{base}/stock/S-9"),
        "boom": get(f"{base}/boom/B-2", traceparent(FAILED_TRACE)),
    }


@pytest.fixture(scope="module")
def uvicorn_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    port = free_port()
    return serve(
        tmp_path_factory.mktemp("uvicorn"),
        [str(BIN / "uvicorn"), "fastapi_app:app", "--port", str(port)],
        port,
        web_requests,
        until="Exception in ASGI application",
    )


class TestUvicorn:
    def test_every_line_is_json(self, uvicorn_run: Run) -> None:
        """stdout and stderr hold only tracelog lines, startup and shutdown included."""
        loggers = {x["logger"] for x in uvicorn_run.lines()}
        assert {"uvicorn.error", "uvicorn.access", "orders"} == loggers
        assert 1 == len(uvicorn_run.by_message("Started server process"))
        assert [] == [x for x in uvicorn_run.lines() if "color_message" in x]

    def test_request_lines_carry_the_incoming_trace(self, uvicorn_run: Run) -> None:
        """Endpoint, background task and access line carry the traceparent's trace id."""
        lines = (
            uvicorn_run.by_message("order looked up")
            + uvicorn_run.by_message("receipt sent")
            + uvicorn_run.by_message("GET /orders/A-1")
        )
        assert 3 == len(lines)
        assert_one_trace(lines, TRACE)

    def test_sync_endpoint_gets_a_new_trace(self, uvicorn_run: Run) -> None:
        """A thread-pool endpoint without traceparent: one new trace for it and its access line."""
        lines = uvicorn_run.by_message("stock is low") + uvicorn_run.by_message("GET /stock/S-9")
        assert 2 == len(lines)
        assert TRACE != assert_one_trace(lines)

    def test_error_line_carries_the_failed_request(self, uvicorn_run: Run) -> None:
        """uvicorn's error line, logged after the span ended, has its trace and span id, once."""
        (error,) = uvicorn_run.by_message("Exception in ASGI application")
        (span,) = [x for x in uvicorn_run.server_spans() if x["traceId"] == FAILED_TRACE]
        assert (500, "error", FAILED_TRACE, span["spanId"], "RuntimeError") == (
            uvicorn_run.statuses["boom"],
            span["status"],
            error["traceId"],
            error["spanId"],
            error["exception"]["type"],
        )

    def test_one_server_span_per_request_named_by_route(self, uvicorn_run: Run) -> None:
        """FastAPI's own SERVER span is the only one; its name is the route template."""
        assert [
            ("GET /orders/{order_id}", SPAN),
            ("GET /stock/{sku}", None),
            ("GET /boom/{order_id}", SPAN),
        ] == names(uvicorn_run, parents=True)

    def test_access_line_has_the_server_span(self, uvicorn_run: Run) -> None:
        """uvicorn writes the access line inside the request: it carries the SERVER span's id."""
        (access,) = uvicorn_run.by_message("GET /orders/A-1")
        (span,) = [x for x in uvicorn_run.server_spans() if x["traceId"] == TRACE]
        assert span["spanId"] == access["spanId"]


def gunicorn(tmp: Path, *flags: str) -> Run:
    port = free_port()
    return serve(
        tmp,
        [str(BIN / "gunicorn"), "-w", "2", *flags, "-b", f"127.0.0.1:{port}", "flask_app:app"],
        port,
        web_requests,
        # gunicorn 27 puts a control socket under $HOME: keep it in the temp dir.
        env={"HOME": str(tmp)},
        stop=signal.SIGTERM,
    )


@pytest.fixture(scope="module")
def gunicorn_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return gunicorn(tmp_path_factory.mktemp("gunicorn"))


@pytest.fixture(scope="module")
def gunicorn_preload_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return gunicorn(tmp_path_factory.mktemp("preload"), "--preload", "--access-logfile", "-")


# What gunicorn logs in a process before that process imports the app (the master
# never does, without --preload): its own text, as the README says.
BEFORE_THE_APP = (
    "Starting gunicorn",
    "Listening at:",
    "Using worker:",
    "Booting worker with pid:",
    "Control socket listening",
    "Handling signal:",
    "was sent SIGTERM",
    "Shutting down: Master",
)


class TestGunicorn:
    def test_every_line_after_the_app_loads_is_json(self, gunicorn_run: Run) -> None:
        """Only gunicorn's lines from before the app was imported are text; the rest is JSON."""
        text = [x for x in gunicorn_run.stderr.splitlines() if not x.startswith("{")]
        assert [] == [x for x in text if not any(part in x for part in BEFORE_THE_APP)]
        lines = [orjson.loads(x) for x in gunicorn_run.stderr.splitlines() if x.startswith("{")]
        assert {"gunicorn.error", "orders", "flask_app"} == {x["logger"] for x in lines}
        assert 2 == len([x for x in lines if x["message"].startswith("Worker exiting")])

    def test_preload_makes_every_line_json(self, gunicorn_preload_run: Run) -> None:
        """With --preload the master imports the app too: every line, its own included, is JSON."""
        messages = [x["message"] for x in gunicorn_preload_run.lines()]
        assert 2 == len([x for x in messages if x.startswith("Booting worker with pid")])
        assert 1 == len([x for x in messages if x.startswith("Starting gunicorn")])

    def test_access_lines_carry_the_request(self, gunicorn_preload_run: Run) -> None:
        """gunicorn's access line (--access-logfile -) is written before the body's close():
        it carries the request's trace and SERVER span id."""
        (access,) = gunicorn_preload_run.by_message("GET /orders/A-1 HTTP")
        (span,) = [x for x in gunicorn_preload_run.server_spans() if x["traceId"] == TRACE]
        assert ("gunicorn.access", TRACE, span["spanId"]) == (
            access["logger"],
            access["traceId"],
            access["spanId"],
        )

    def test_request_lines_carry_the_incoming_trace(self, gunicorn_run: Run) -> None:
        """The view's lines carry the traceparent's trace id."""
        assert_one_trace(gunicorn_run.by_message("order looked up"), TRACE)

    def test_new_trace_without_traceparent(self, gunicorn_run: Run) -> None:
        """Without traceparent the request's lines get a new trace id."""
        assert TRACE != assert_one_trace(gunicorn_run.by_message("stock is low"))

    def test_error_line_carries_the_failed_request(self, gunicorn_run: Run) -> None:
        """Flask's error line for the failure has the request's trace and SERVER span id."""
        (error,) = gunicorn_run.by_message("Exception on /boom/B-2")
        (span,) = [x for x in gunicorn_run.server_spans() if x["traceId"] == FAILED_TRACE]
        assert (500, "error", FAILED_TRACE, span["spanId"]) == (
            gunicorn_run.statuses["boom"],
            span["status"],
            error["traceId"],
            error["spanId"],
        )

    def test_one_server_span_per_request_named_by_rule(self, gunicorn_run: Run) -> None:
        """tracelog's SERVER span, named after Flask's url_rule, one per request."""
        assert [
            "GET /orders/<order_id>",
            "GET /stock/<sku>",
            "GET /boom/<order_id>",
        ] == names(gunicorn_run)


def test_examples_folder_has_one_app_per_row() -> None:
    """examples/servers holds the uvicorn, gunicorn, Django and Celery apps."""
    names = {p.name for p in EXAMPLES.iterdir()}
    assert {"fastapi_app.py", "flask_app.py", "django_site", "celery_app.py"} <= names


DJANGO = EXAMPLES / "django_site"


@pytest.fixture(scope="module")
def runserver_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    port = free_port()
    return serve(
        tmp_path_factory.mktemp("runserver"),
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        port,
        web_requests,
        cwd=DJANGO,
        until="GET /boom/B-2 HTTP",
    )


class TestDjangoRunserver:
    def test_every_stderr_line_is_json(self, runserver_run: Run) -> None:
        """Logging goes to stderr as JSON; stdout holds only the command's own banner."""
        text = runserver_run.stderr.splitlines()
        assert [] == [x for x in text if not x.startswith("{")]
        lines = [orjson.loads(x) for x in text]
        assert {"django.server", "django.request", "orders"} == {x["logger"] for x in lines}
        assert "Starting development server at" in runserver_run.stdout
        assert [] == [x for x in runserver_run.stdout.splitlines() if x.startswith("{")]

    def test_internal_server_error_written_once(self, runserver_run: Run) -> None:
        """With DEBUG=True Django's error line is one JSON line, not text and JSON."""
        assert 1 == len(runserver_run.by_message("Internal Server Error: /boom/B-2"))
        assert "Internal Server Error" not in runserver_run.stdout

    def test_request_and_access_lines_carry_the_trace(self, runserver_run: Run) -> None:
        """The view's line and runserver's access line carry the traceparent's trace id."""
        lines = runserver_run.by_message("order looked up") + runserver_run.by_message(
            "GET /orders/A-1 HTTP"
        )
        assert 2 == len(lines)
        assert_one_trace(lines, TRACE)

    def test_new_trace_without_traceparent(self, runserver_run: Run) -> None:
        """Without traceparent the view's and the access line share a new trace id."""
        lines = runserver_run.by_message("stock is low") + runserver_run.by_message(
            "GET /stock/S-9 HTTP"
        )
        assert TRACE != assert_one_trace(lines)

    def test_error_line_carries_the_failed_request(self, runserver_run: Run) -> None:
        """Django's error line has the failed request's trace and SERVER span id."""
        (error,) = runserver_run.by_message("Internal Server Error: /boom/B-2")
        (span,) = [x for x in runserver_run.server_spans() if x["traceId"] == FAILED_TRACE]
        assert (500, "error", FAILED_TRACE, span["spanId"], "RuntimeError") == (
            runserver_run.statuses["boom"],
            span["status"],
            error["traceId"],
            error["spanId"],
            error["exception"]["type"],
        )

    def test_one_server_span_per_request_named_by_pattern(self, runserver_run: Run) -> None:
        """One SERVER span per request, named after Django's URL pattern."""
        assert [
            "GET /orders/<str:order_id>",
            "GET /stock/<str:sku>",
            "GET /boom/<str:order_id>",
        ] == names(runserver_run)


@pytest.fixture(scope="module")
def django_gunicorn_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp("django-gunicorn")
    port = free_port()
    command = [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}"]
    return serve(
        tmp,
        [*command, "--access-logfile", "-", "shop.wsgi"],
        port,
        web_requests,
        env={"HOME": str(tmp)},
        cwd=DJANGO,
        until="GET /boom/B-2 HTTP",
        stop=signal.SIGTERM,
    )


class TestDjangoUnderGunicorn:
    def test_request_error_and_access_lines(self, django_gunicorn_run: Run) -> None:
        """Under a WSGI server: view, error and gunicorn access lines carry the request's ids."""
        run = django_gunicorn_run
        (span,) = [x for x in run.server_spans() if x["traceId"] == FAILED_TRACE]
        failed = run.by_message("Internal Server Error: /boom/B-2") + run.by_message(
            "GET /boom/B-2 HTTP"
        )
        assert [(FAILED_TRACE, span["spanId"])] * 2 == [(x["traceId"], x["spanId"]) for x in failed]
        ok = run.by_message("order looked up") + run.by_message("GET /orders/A-1 HTTP")
        assert 2 == len(ok)
        assert_one_trace(ok, TRACE)

    def test_one_span_per_request(self, django_gunicorn_run: Run) -> None:
        """Each of the three requests has exactly one SERVER span, named by URL pattern."""
        assert [
            "GET /orders/<str:order_id>",
            "GET /stock/<str:sku>",
            "GET /boom/<str:order_id>",
        ] == names(django_gunicorn_run)


CLIENT = f"""
import json
import django
from django.test import Client
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
django.setup()
client = Client(raise_request_exception=False)
client.get("/orders/A-1", headers={{"traceparent": "00-{TRACE}-{SPAN}-01"}})
client.get("/stock/S-9")
client.get("/boom/B-2", headers={{"traceparent": "00-{FAILED_TRACE}-{SPAN}-01"}})
print(json.dumps([
    [s.name, s.status.status_code.name, [e.name for e in s.events], f"{{s.context.span_id:016x}}"]
    for s in exporter.get_finished_spans()
]))
"""


class TestDjangoTestClient:
    def test_test_client_sees_ids(self) -> None:
        """django.test.Client skips WSGI; DjangoMiddleware still gives its lines the ids, and
        the failed request's span records the exception once, with status ERROR."""
        proc = subprocess.run(
            [sys.executable, "-c", CLIENT],
            cwd=DJANGO,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "shop.settings"},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        run = Run("", proc.stderr)
        assert_one_trace(run.by_message("order looked up"), TRACE)
        assert TRACE != assert_one_trace(run.by_message("stock is low"))
        (error,) = run.by_message("Internal Server Error: /boom/B-2")
        spans = orjson.loads(proc.stdout)
        assert [
            ["GET /orders/<str:order_id>", "UNSET", []],
            ["GET /stock/<str:sku>", "UNSET", []],
            ["GET /boom/<str:order_id>", "ERROR", ["exception"]],
        ] == [x[:3] for x in spans]
        assert (FAILED_TRACE, spans[2][3]) == (error["traceId"], error["spanId"])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private redis-server on a free 127.0.0.1 port, its files in a temp dir."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (.ci/run installs Debian's redis-server)")
    tmp = tmp_path_factory.mktemp("redis")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp)]
    with (tmp / "redis.log").open("w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
        try:
            wait_for_port(port, proc)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            stop_process(proc, signal.SIGTERM)


CALLER = f"""
from opentelemetry.context import attach
from tracelog.web import extract_context
import celery_app

attach(extract_context({{"traceparent": "00-{TRACE}-{SPAN}-01"}}))
celery_app.charge.delay("A-1")
celery_app.refund.delay("B-2")
"""

# Celery warns through the warnings module, before any logging is set up, when the
# worker runs as root (as CI does); a deployment runs it as another user.
ROOT_WARNING = (
    "SecurityWarning",
    "absolutely not recommended",
    "--uid option",
    "User information",
    "_warn_or_raise_security_error",
)


@pytest.fixture(scope="module")
def celery_run(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Run:
    tmp = tmp_path_factory.mktemp("celery")
    out, err = tmp / "stdout", tmp / "stderr"
    env = {
        **os.environ,
        "CELERY_BROKER_URL": redis_url,
        "PYTHONPATH": str(EXAMPLES),
        "HOME": str(tmp),
    }
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            [str(BIN / "celery"), "-A", "celery_app", "worker"],
            cwd=EXAMPLES,
            env=env,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        try:
            wait_for_text(" ready.", err)
            caller = subprocess.run(
                [sys.executable, "-c", CALLER],
                cwd=EXAMPLES,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            wait_for_text("raised unexpected", err)
        finally:
            stop_process(proc, signal.SIGTERM)
    return Run(out.read_text(), err.read_text() + caller.stderr)


class TestCelery:
    def test_every_stderr_line_is_json(self, celery_run: Run) -> None:
        """The worker's log lines are JSON; stdout holds only Celery's printed banner."""
        text = [x for x in celery_run.stderr.splitlines() if x.strip() and not x.startswith("{")]
        allowed = ROOT_WARNING if os.geteuid() == 0 else ()
        assert [] == [x for x in text if not any(part in x for part in allowed)]
        assert [] == [x for x in celery_run.stdout.splitlines() if x.startswith("{")]
        loggers = {x["logger"] for x in celery_run.records()}
        assert {"celery.apps.worker", "celery.worker.strategy", "celery.app.trace"} <= loggers

    def test_task_lines_carry_the_callers_trace(self, celery_run: Run) -> None:
        """The task's own line and Celery's success line carry the caller's trace id."""
        lines = celery_run.by_message("card charged") + celery_run.by_message("succeeded in")
        assert 2 == len(lines)
        assert_one_trace(lines, TRACE)

    def test_failure_line_carries_the_callers_trace(self, celery_run: Run) -> None:
        """Celery's error line for the failed task carries the caller's trace, once."""
        (error,) = celery_run.by_message("raised unexpected")
        assert ("error", TRACE) == (error["level"], error["traceId"])


AGENT = str(BIN / "opentelemetry-instrument")
ZERO_CODE = {
    "TRACELOG_CONFIGURE": "true",
    "OTEL_TRACES_EXPORTER": "none",
    "OTEL_METRICS_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
    "EXAMPLE_SPANS": "",  # the agent's SDK is the tracer provider here
}


@pytest.fixture(scope="module", params=["uvicorn", "gunicorn"])
def agent_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Run:
    tmp = tmp_path_factory.mktemp(f"agent-{request.param}")
    port = free_port()
    if request.param == "uvicorn":
        command = [str(BIN / "uvicorn"), "fastapi_app:app", "--port", str(port)]
        until = "Exception in ASGI application"
    else:
        command = [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "flask_app:app"]
        until = "Exception on /boom/B-2"
    return serve(
        tmp,
        [AGENT, *command],
        port,
        web_requests,
        env={**ZERO_CODE, "HOME": str(tmp)},
        until=until,
        stop=signal.SIGINT if request.param == "uvicorn" else signal.SIGTERM,
    )


class TestUnderOpentelemetryInstrument:
    def test_every_line_is_json(self, agent_run: Run) -> None:
        """Under the agent (TRACELOG_CONFIGURE=true) every line is JSON, gunicorn's master too."""
        messages = [x["message"] for x in agent_run.lines()]
        starts = ("Started server process", "Starting gunicorn")
        assert 1 == len([x for x in messages if x.startswith(starts)])

    def test_request_lines_carry_the_trace(self, agent_run: Run) -> None:
        """The request's lines carry the traceparent's trace id; without one, a new one."""
        assert_one_trace(agent_run.by_message("order looked up"), TRACE)
        assert TRACE != assert_one_trace(agent_run.by_message("stock is low"))

    def test_error_line_carries_the_failed_request(self, agent_run: Run) -> None:
        """The server's (or Flask's) error line carries the failed request's trace id."""
        errors = agent_run.by_message("Exception in ASGI application") + agent_run.by_message(
            "Exception on /boom/B-2"
        )
        assert (500, [FAILED_TRACE]) == (
            agent_run.statuses["boom"],
            [x["traceId"] for x in errors],
        )
