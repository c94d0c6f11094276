"""structlog alone: tracelog.configure() and a bound logger with context."""

from __future__ import annotations

import sys

import structlog
from _common import announce, tracer

import tracelog

tracelog.configure(stream=sys.stdout)
log = tracelog.get_logger("inventory").bind(warehouse="eu-1")

with tracer("inventory").start_as_current_span("reserve stock") as span:
    structlog.contextvars.bind_contextvars(request_id="req-7")
    log.info("stock reserved", sku="SKU-42", quantity=2)
    log.debug("not shown at INFO")
    announce(span)
