"""A Celery worker: ``celery -A celery_app worker`` (run from this folder).

The whole tracelog set-up is the marked line. The broker is Redis
(``CELERY_BROKER_URL``, default ``redis://127.0.0.1:6379/0``).
"""

from __future__ import annotations

import logging
import os

from celery import Celery

import tracelog

tracelog.configure()  # tracelog set-up: after importing Celery

log = logging.getLogger("payments")
app = Celery("payments", broker=os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"))


@app.task
def charge(order_id: str) -> str:
    log.info("card charged", extra={"order_id": order_id})
    return order_id


@app.task
def refund(order_id: str) -> None:
    raise RuntimeError(f"refund refused for {order_id}")
