"""uvicorn + FastAPI: ``uvicorn fastapi_app:app`` (run from this folder).

The whole tracelog set-up is the two marked lines.
"""

from __future__ import annotations

import logging

from _spans import export_spans_if_asked
from fastapi import BackgroundTasks, FastAPI

import tracelog
from tracelog.web import AsgiTraceContextMiddleware

export_spans_if_asked("orders-api")
tracelog.configure()  # tracelog set-up, 1 of 2

log = logging.getLogger("orders")
api = FastAPI()


def send_receipt(order_id: str) -> None:
    log.info("receipt sent", extra={"order_id": order_id})


@api.get("/orders/{order_id}")
async def get_order(order_id: str, tasks: BackgroundTasks) -> dict[str, str]:
    log.info("order looked up", extra={"order_id": order_id})
    tasks.add_task(send_receipt, order_id)
    return {"order_id": order_id}


@api.get("/stock/{sku}")
def get_stock(sku: str) -> dict[str, int]:  # sync: FastAPI runs it in a thread pool
    log.warning("stock is low", extra={"sku": sku})
    return {"left": 3}


@api.get("/boom/{order_id}")
async def boom(order_id: str) -> None:
    raise RuntimeError(f"payment service down for {order_id}")


app = AsgiTraceContextMiddleware(api)  # tracelog set-up, 2 of 2
