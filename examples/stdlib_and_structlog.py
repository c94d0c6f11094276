"""Both frameworks in one service: the same line shape, one stream, one trace."""

from __future__ import annotations

import logging
import sys

from _common import announce, tracer

import tracelog

tracelog.configure(stream=sys.stdout, service="checkout")
log = tracelog.get_logger("checkout")

with tracer("checkout").start_as_current_span("POST /checkout") as span:
    log.info("order received", order_id="A-1001")  # structlog
    logging.getLogger("checkout.db").info("order stored", extra={"order_id": "A-1001"})
    announce(span)
