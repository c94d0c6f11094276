"""One event in the ECS, Google Cloud and Datadog layouts: ``python examples/layouts.py ecs``."""

from __future__ import annotations

import logging
import sys

from _common import announce, tracer

import tracelog

schema = sys.argv[1] if len(sys.argv) > 1 else "ecs"
tracelog.configure(stream=sys.stdout, schema=schema, gcp_project="shop-prod", service="checkout")

with tracer("checkout").start_as_current_span("POST /checkout") as span:
    tracelog.get_logger("checkout").info("order placed", order_id="A-1001")
    try:
        raise ValueError("card expired")  # noqa: TRY301
    except ValueError:
        logging.getLogger("payments").exception("payment failed")
    announce(span)
