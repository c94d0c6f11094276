"""The README's snippets, type-checked by mypy --strict (never run)."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import structlog

import tracelog
from tracelog.redact import Redactor
from tracelog.stdlib import JsonFormatter, JsonStreamHandler, TraceContextFilter
from tracelog.structlog import BoundLogger, JsonRenderer, add_trace_context
from tracelog.testing import SpanRecorder, capture_lines


def readme() -> None:
    tracelog.configure()
    tracelog.configure(
        service="payments", schema="ecs", level="INFO", redact=Redactor(keys=["pin"])
    )
    log: BoundLogger = tracelog.get_logger(__name__)
    log.info("order placed", order_id="A-1001")
    logging.getLogger("payments").warning("card declined", extra={"order_id": "A-1001"})
    ctx = tracelog.current_trace_context()
    if ctx is not None:
        trace_id: str = ctx.trace_id
        sampled: bool = ctx.sampled
        del trace_id, sampled
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, add_trace_context, JsonRenderer()],
        logger_factory=structlog.BytesLoggerFactory(),
    )
    handler = JsonStreamHandler()
    handler.setFormatter(JsonFormatter(schema="default"))
    handler.addFilter(TraceContextFilter())
    rec = SpanRecorder(service="checkout")
    with capture_lines() as lines, rec.tracer.start_as_current_span("op"):
        log.info("hi")
    first: dict[str, object] = lines[0]
    del first
    tracelog.shutdown()


def charge_card(order: str) -> bool:
    return bool(order)


def propagation() -> None:
    with tracelog.ContextThreadPoolExecutor(max_workers=8) as pool:
        charged: Future[bool] = pool.submit(charge_card, "A-1001")
        results: list[bool] = list(pool.map(charge_card, ["A-1", "A-2"]))
        del charged, results
    wrapped = tracelog.wrap(charge_card)
    ok: bool = wrapped("A-1001")
    del ok
    threading.Thread(target=tracelog.wrap(charge_card), args=("A-1001",)).start()
    tracelog.ContextThread(target=charge_card, args=("A-1001",)).start()

    async def handler(pool: ThreadPoolExecutor) -> bool:
        return await tracelog.run_in_executor(pool, charge_card, "A-1001")

    asyncio.run(handler(ThreadPoolExecutor()))
