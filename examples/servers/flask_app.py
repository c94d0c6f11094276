"""gunicorn + Flask: ``gunicorn -w 2 flask_app:app`` (run from this folder).

The whole tracelog set-up is the two marked lines.
"""

from __future__ import annotations

import logging

from _spans import export_spans_if_asked
from flask import Flask

import tracelog
from tracelog.web import TraceContextMiddleware

export_spans_if_asked("orders-web")
tracelog.configure()  # tracelog set-up, 1 of 2

log = logging.getLogger("orders")
app = Flask(__name__)
app.wsgi_app = TraceContextMiddleware(app.wsgi_app)  # type: ignore[method-assign]  # 2 of 2


@app.get("/orders/<order_id>")
def get_order(order_id: str) -> dict[str, str]:
    log.info("order looked up", extra={"order_id": order_id})
    return {"order_id": order_id}


@app.get("/stock/<sku>")
def get_stock(sku: str) -> dict[str, int]:
    log.warning("stock is low", extra={"sku": sku})
    return {"left": 3}


@app.get("/boom/<order_id>")
def boom(order_id: str) -> None:
    raise RuntimeError(f"payment service down for {order_id}")
