"""structlog pieces in users' own chains."""

from __future__ import annotations

import io
import logging
from typing import Any

import orjson
import structlog

import tracelog
from tracelog import _state
from tracelog.structlog import (
    JsonRenderer,
    SinkLoggerFactory,
    add_trace_context,
    capture_trace_context,
)


def ids(span: Any) -> tuple[str, str]:
    sc = span.get_span_context()
    return format(sc.trace_id, "032x"), format(sc.span_id, "016x")


class TestOwnChain:
    def test_add_trace_context_for_other_renderers(self, recorder) -> None:
        """add_trace_context feeds structlog's own JSONRenderer the default fields."""
        out = io.StringIO()
        log = structlog.wrap_logger(
            structlog.PrintLogger(out),
            processors=[add_trace_context, structlog.processors.JSONRenderer()],
        )
        with recorder.tracer.start_as_current_span("op") as span:
            log.info("hi")
        log.info("outside")
        inside, outside = (orjson.loads(x) for x in out.getvalue().splitlines())
        assert ids(span) == (inside["traceId"], inside["spanId"])
        assert "traceId" not in outside

    def test_add_trace_context_then_tracelog_renderer(self, recorder) -> None:
        """Our renderer recognises its own trace fields instead of prefixing them."""
        out = io.BytesIO()
        log = structlog.wrap_logger(
            structlog.BytesLogger(out),
            processors=[add_trace_context, JsonRenderer(schema="default", redact=False)],
        )
        with recorder.tracer.start_as_current_span("op") as span:
            log.info("hi", password="visible")
        line = orjson.loads(out.getvalue())
        assert ids(span) == (line["traceId"], line["spanId"])
        assert "user.traceId" not in line
        assert "visible" == line["password"]

    def test_capture_then_render_in_another_thread(self, recorder) -> None:
        """capture_trace_context pins the caller's ids for a renderer that runs later."""
        import threading

        events: list[dict[str, Any]] = []
        with recorder.tracer.start_as_current_span("op") as span:
            event: dict[str, Any] = {"event": "later", "n": 1}
            events.append(capture_trace_context(None, "info", event))
        renderer = JsonRenderer()
        result: list[bytes] = []
        thread = threading.Thread(target=lambda: result.append(renderer(None, "info", events[0])))
        thread.start()
        thread.join()
        line = orjson.loads(result[0])
        assert ids(span) == (line["traceId"], line["spanId"])
        assert "_tracelog_trace" not in line

    def test_other_processors_take_structlogs_path(self, recorder) -> None:
        """tracelog's BoundLogger on a user chain runs every processor in it."""
        out = io.BytesIO()

        def tag(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
            event_dict["tagged"] = True
            return event_dict

        structlog.configure(
            processors=[tag, JsonRenderer(schema="otel")],
            wrapper_class=tracelog.structlog.BoundLogger,
            logger_factory=structlog.BytesLoggerFactory(out),
        )
        tracelog.configure(stream=io.StringIO())  # sets the level, then restore the chain
        structlog.configure(
            processors=[tag, JsonRenderer(schema="otel")],
            logger_factory=structlog.BytesLoggerFactory(out),
            cache_logger_on_first_use=False,
        )
        with recorder.tracer.start_as_current_span("op") as span:
            structlog.get_logger("mine").warning("hello %s", "you", k=2)
        line = orjson.loads(out.getvalue())
        assert (True, "hello you", 2) == (line["tagged"], line["message"], line["k"])
        assert ids(span)[0] == line["trace_id"]

    def test_sink_logger_factory(self) -> None:
        """SinkLoggerFactory names loggers from structlog.get_logger's argument."""
        assert "x" == SinkLoggerFactory()("x").name
        assert SinkLoggerFactory()().name is None

    def test_bound_and_contextvars(self, output) -> None:
        """Values bound on the logger and in structlog contextvars reach the line."""
        out = output()
        structlog.contextvars.bind_contextvars(request_id="r-1")
        try:
            tracelog.get_logger("b", tenant="t-1").bind(user="u").info("hi", k=1)
        finally:
            structlog.contextvars.clear_contextvars()
        line = out.lines()[0]
        assert ("t-1", "u", "r-1", 1) == (
            line["tenant"],
            line["user"],
            line["request_id"],
            line["k"],
        )

    def test_every_method(self, output) -> None:
        """Each level method writes its level; critical/fatal map to critical."""
        out = output(level="DEBUG")
        log = tracelog.get_logger("m")
        log.debug("d")
        log.info("i")
        log.warning("w")
        log.error("e")
        log.critical("c")
        log.fatal("f")
        log.msg("m")
        assert ["debug", "info", "warning", "error", "critical", "critical", "info"] == [
            x["level"] for x in out.lines()
        ]

    def test_async_methods(self, output) -> None:
        """Every async method writes its line."""
        import asyncio

        out = output(level="DEBUG")
        log = tracelog.get_logger("a")

        async def main() -> None:
            await log.adebug("d")
            await log.awarning("w")
            await log.aerror("e")
            await log.acritical("c")
            try:
                raise KeyError("k")  # noqa: TRY301
            except KeyError:
                await log.aexception("x")

        asyncio.run(main())
        mine = [x for x in out.lines() if x["logger"] == "a"]  # asyncio logs at DEBUG too
        assert ["debug", "warning", "error", "critical", "error"] == [x["level"] for x in mine]
        assert "KeyError" == mine[-1]["exception"]["type"]

    def test_non_str_event_and_logger(self, output) -> None:
        """A non-string event or logger name is rendered safely."""
        out = output()
        tracelog.get_logger("x").info({"an": "event"}, logger=5)
        line = out.lines()[0]
        assert ("{'an': 'event'}", "5") == (line["message"], line["logger"])

    def test_stdlib_and_structlog_share_one_sink(self, output) -> None:
        """Lines from both frameworks land in the configured stream in call order."""
        out = output()
        tracelog.get_logger("a").info("one")
        logging.getLogger("b").info("two")
        tracelog.get_logger("a").info("three")
        assert ["one", "two", "three"] == [x["message"] for x in out.lines()]


class TestStructlogEdges:
    def test_render_active_processor(self, output) -> None:
        """The configured chain's last processor renders with the active settings."""
        import structlog

        from tracelog.structlog import render_active

        out = output()
        log = structlog.wrap_logger(tracelog.structlog.SinkLogger("w"), processors=[render_active])
        log.info("through render_active")
        assert "through render_active" == out.lines()[0]["message"]

    def test_sink_before_configure(self, capfd) -> None:
        """Before configure(), the structlog logger writes JSON to stderr."""

        _state.swap(_state.UNCONFIGURED)
        tracelog.get_logger("early").warning("unconfigured")
        assert "unconfigured" == orjson.loads(capfd.readouterr().err)["message"]

    def test_exc_info_forms(self) -> None:
        """exc_info may be True, a tuple, an exception, or falsy."""
        from tracelog.structlog import _exc_info

        assert _exc_info(False) is None
        assert _exc_info(True) is None  # no exception being handled
        err = ValueError("x")
        assert err is _exc_info((ValueError, err, None))[1]  # type: ignore[index]


class TestCapturedKeysBound:
    def test_bound_capture_is_used_and_never_a_field(self, queue_mode: bool) -> None:
        """Bound captured ids, service and time win in both modes and are not written as fields."""
        from tracelog.structlog import CONTEXT_KEY, SERVICE_KEY, TIME_KEY

        buffer = io.StringIO()
        tracelog.configure(stream=buffer, queue=queue_mode)
        bound = {CONTEXT_KEY: None, SERVICE_KEY: "svc-bound", TIME_KEY: 1.0}
        tracelog.get_logger("bound").bind(**bound).info("hello", order_id="A-1")
        tracelog.shutdown()
        (line,) = [orjson.loads(x) for x in buffer.getvalue().splitlines()]
        expected = {
            "timestamp": "1970-01-01T00:00:01.000000Z",
            "level": "info",
            "logger": "bound",
            "message": "hello",
            "service": "svc-bound",
            "order_id": "A-1",
        }
        assert expected == line
