"""The middleware with Starlette, FastAPI and Flask in-process, and the Celery receivers."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from flask import Flask
from opentelemetry.context import attach, detach
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import tracelog
from tracelog import _celery
from tracelog._context import escaped_context
from tracelog.web import AsgiTraceContextMiddleware, TraceContextMiddleware, extract_context

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE}-{SPAN}-01"


async def order(request: Request) -> JSONResponse:
    logging.getLogger("orders").info("looked up")
    return JSONResponse({"id": request.path_params["order_id"]})


async def boom(request: Request) -> JSONResponse:
    raise RuntimeError("down")


def starlette_app() -> Starlette:
    return Starlette(
        routes=[Route("/orders/{order_id:int}", order), Route("/boom/{order_id}", boom)]
    )


def call(app: Any, path: str, headers: dict[str, str] | None = None) -> int:
    async def go() -> int:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get(path, headers=headers or {})
            return response.status_code

    return asyncio.run(go())


class TestAsgiRouteNames:
    def test_starlette_route_template(self, recorder, output) -> None:
        """The span is named after Starlette's route template, converters left out."""
        out = output()
        app = AsgiTraceContextMiddleware(starlette_app(), tracer_provider=recorder.provider)
        assert 200 == call(app, "/orders/42", {"traceparent": TRACEPARENT})
        (span,) = recorder.finished()
        (line,) = [x for x in out.lines() if x["logger"] == "orders"]
        assert ("GET /orders/{order_id}", "/orders/{order_id}", TRACE) == (
            span.name,
            span.attributes["http.route"],
            line["traceId"],
        )

    def test_no_route_means_method_only(self, recorder, output) -> None:
        """A path no route matches never names the span: the method alone does."""
        output()
        app = AsgiTraceContextMiddleware(starlette_app(), tracer_provider=recorder.provider)
        assert 404 == call(app, "/nothing/here")
        assert ["GET"] == [s.name for s in recorder.finished()]

    def test_escaping_exception_remembers_the_span(self, recorder, output) -> None:
        """The exception leaving the app carries the SERVER span's ids; the span records it once."""
        output()
        seen: list[BaseException] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            try:
                await starlette_app()(scope, receive, send)
            except RuntimeError as exc:
                seen.append(exc)
                raise

        wrapped = AsgiTraceContextMiddleware(app, tracer_provider=recorder.provider)

        async def outer(scope: Any, receive: Any, send: Any) -> None:
            try:
                await wrapped(scope, receive, send)
            except RuntimeError as exc:
                seen.append(exc)

        assert 500 == call(outer, "/boom/1", {"traceparent": TRACEPARENT})
        (span,) = recorder.finished()
        ctx = escaped_context((RuntimeError, seen[-1], None))
        assert (TRACE, format(span.context.span_id, "016x")) == (
            ctx.trace_id if ctx else None,
            ctx.span_id if ctx else None,
        )
        assert ["exception"] == [e.name for e in span.events]


class TestFastApiTracing:
    def test_fastapi_span_is_the_only_one(self, recorder, output) -> None:
        """FastAPI tracing itself: the middleware starts no span; lines carry FastAPI's trace."""
        out = output()
        api = FastAPI(telemetry={"tracer_provider": recorder.provider})

        @api.get("/orders/{order_id}")
        async def get_order(order_id: str) -> dict[str, str]:
            logging.getLogger("orders").info("looked up")
            return {"id": order_id}

        app = AsgiTraceContextMiddleware(api, tracer_provider=recorder.provider)
        assert 200 == call(app, "/orders/A-1", {"traceparent": TRACEPARENT})
        servers = [s for s in recorder.finished() if s.kind == SpanKind.SERVER]
        (line,) = [x for x in out.lines() if x["logger"] == "orders"]
        assert (["fastapi"], ["GET /orders/{order_id}"], TRACE) == (
            [s.instrumentation_scope.name for s in servers],
            [s.name for s in servers],
            line["traceId"],
        )

    def test_fastapi_error_remembers_its_span(self, recorder, output) -> None:
        """Under FastAPI's span, the escaping exception keeps that span's trace."""
        output()
        api = FastAPI(telemetry={"tracer_provider": recorder.provider})
        caught: list[BaseException] = []

        @api.get("/boom")
        async def fail() -> None:
            raise RuntimeError("down")

        wrapped = AsgiTraceContextMiddleware(api)

        async def outer(scope: Any, receive: Any, send: Any) -> None:
            try:
                await wrapped(scope, receive, send)
            except RuntimeError as exc:
                caught.append(exc)

        assert 500 == call(outer, "/boom", {"traceparent": TRACEPARENT})
        ctx = escaped_context((RuntimeError, caught[0], None))
        assert TRACE == (ctx.trace_id if ctx else None)

    def test_fastapi_under_other_middleware(self, recorder, output) -> None:
        """A FastAPI app wrapped in another ASGI middleware is still found: one SERVER span."""
        output()
        api = FastAPI(telemetry={"tracer_provider": recorder.provider})

        @api.get("/ping")
        async def ping() -> dict[str, str]:
            return {"ok": "yes"}

        app = AsgiTraceContextMiddleware(GZipMiddleware(api), tracer_provider=recorder.provider)
        assert 200 == call(app, "/ping")
        assert ["fastapi"] == [
            s.instrumentation_scope.name for s in recorder.finished() if s.kind == SpanKind.SERVER
        ]

    def test_fastapi_excluded_request_gets_ours(self, recorder, output) -> None:
        """A request FastAPI's telemetry excludes gets tracelog's span (its lines keep ids)."""
        output()
        api = FastAPI(
            telemetry={
                "tracer_provider": recorder.provider,
                "exclude": lambda scope: scope["path"] == "/health",
            }
        )

        @api.get("/health")
        async def health() -> dict[str, str]:
            return {"ok": "yes"}

        app = AsgiTraceContextMiddleware(api, tracer_provider=recorder.provider)
        assert 200 == call(app, "/health")
        assert [("tracelog.web", "GET /health")] == [
            (s.instrumentation_scope.name, s.name) for s in recorder.finished()
        ]

    def test_fastapi_without_tracing_gets_ours(self, recorder, output) -> None:
        """FastAPI with its tracing off: tracelog's span, named after the route."""
        output()
        api = FastAPI(telemetry={"tracing": False})

        @api.get("/items/{item_id}")
        async def item(item_id: str) -> dict[str, str]:
            return {"id": item_id}

        app = AsgiTraceContextMiddleware(api, tracer_provider=recorder.provider)
        assert 200 == call(app, "/items/x")
        assert [("tracelog.web", "GET /items/{item_id}")] == [
            (s.instrumentation_scope.name, s.name) for s in recorder.finished()
        ]


class TestFlaskRule:
    def test_url_rule_names_the_span(self, recorder, output) -> None:
        """Flask's url_rule names tracelog's SERVER span; the view's line has its ids."""
        out = output()
        app = Flask("shop")
        app.wsgi_app = TraceContextMiddleware(  # type: ignore[method-assign]
            app.wsgi_app, tracer_provider=recorder.provider
        )

        @app.get("/orders/<int:order_id>")
        def get_order(order_id: int) -> dict[str, int]:
            logging.getLogger("orders").info("looked up")
            return {"id": order_id}

        response = app.test_client().get("/orders/7", headers={"traceparent": TRACEPARENT})
        response.close()  # as a WSGI server does: the span ends here
        (span,) = recorder.finished()
        (line,) = [x for x in out.lines() if x["logger"] == "orders"]
        assert (200, "GET /orders/<int:order_id>", TRACE) == (
            response.status_code,
            span.name,
            line["traceId"],
        )

    def test_view_exception_recorded_once(self, recorder, output) -> None:
        """A Flask view's exception (Flask answers 500) is on the span once, status ERROR."""
        out = output()
        app = Flask("shop")
        app.wsgi_app = TraceContextMiddleware(  # type: ignore[method-assign]
            app.wsgi_app, tracer_provider=recorder.provider
        )

        @app.get("/boom")
        def fail() -> None:
            raise RuntimeError("down")

        response = app.test_client().get("/boom", headers={"traceparent": TRACEPARENT})
        response.close()
        (span,) = recorder.finished()
        (error,) = [x for x in out.lines() if x["level"] == "error"]
        assert (500, ["exception"], "ERROR", format(span.context.span_id, "016x")) == (
            response.status_code,
            [e.name for e in span.events],
            span.status.status_code.name,
            error["spanId"],
        )


class TestCeleryReceivers:
    def test_publish_injects_and_prerun_attaches(self, output) -> None:
        """The caller's traceparent goes into the message headers and is current in the task."""
        token = attach(extract_context({"traceparent": TRACEPARENT}))
        headers: dict[str, Any] = {}
        try:
            _celery._publish(headers=headers)
        finally:
            detach(token)
        task = SimpleNamespace(request=SimpleNamespace(**headers))
        _celery._prerun(task_id="t-1", task=task)
        during = tracelog.current_trace_context()
        _celery._postrun(task_id="t-1")
        assert (TRACE, None) == (
            during.trace_id if during else None,
            tracelog.current_trace_context(),
        )

    def test_nothing_to_carry(self, output) -> None:
        """No caller span, no traceparent on the task: no headers, no context."""
        headers: dict[str, Any] = {}
        _celery._publish(headers=headers)
        _celery._prerun(task_id="t-2", task=SimpleNamespace(request=SimpleNamespace()))
        _celery._postrun(task_id="t-2")
        _celery._postrun(task_id=None)
        assert ({}, None) == (headers, tracelog.current_trace_context())

    def test_steps_aside_under_a_current_span(self, recorder, output) -> None:
        """A span already current in the task (OTel's Celery instrumentation) is left current."""
        task = SimpleNamespace(request=SimpleNamespace(traceparent=TRACEPARENT))
        with recorder.tracer.start_as_current_span("run/charge") as span:
            _celery._prerun(task_id="t-3", task=task)
            during = tracelog.current_trace_context()
            _celery._postrun(task_id="t-3")
        assert format(span.get_span_context().trace_id, "032x") == (
            during.trace_id if during else None
        )

    def test_routing_connects_and_disconnects(self) -> None:
        """configure() connects the receivers when Celery is loaded; frameworks=False drops them."""
        from celery import signals

        tracelog.configure()
        connected = signals.task_prerun.has_listeners()
        tracelog.configure(frameworks=False)
        assert (True, False) == (connected, signals.task_prerun.has_listeners())


@pytest.fixture(autouse=True)
def _unroute() -> Any:
    yield
    from tracelog import _frameworks

    _frameworks.unroute()
