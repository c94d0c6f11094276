"""The quickstart: a real SDK tracer, a parent and a child span, both frameworks logging.

Run it with ``make demo`` (or ``python examples/quickstart.py``). Every line inside the
spans carries the same ``traceId``; the child's lines carry the child's ``spanId``; the
lines outside any span carry no ids at all.
"""

from __future__ import annotations

import logging
import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

import tracelog

log = tracelog.get_logger("checkout")  # fine at import time, before configure()


def main() -> int:
    trace.set_tracer_provider(
        TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    )
    tracelog.configure(stream=sys.stdout, level="INFO")
    tracer = trace.get_tracer("quickstart")

    log.info("service starting")  # outside any span: no ids
    with tracer.start_as_current_span("POST /checkout"):
        log.info("order placed", order_id="A-1001", items=3)
        with tracer.start_as_current_span("charge card"):
            logging.getLogger("payments").warning(
                "card declined", extra={"order_id": "A-1001", "card": "4111 1111 1111 1111"}
            )
            try:
                raise TimeoutError("payment gateway timed out")  # noqa: TRY301
            except TimeoutError:
                log.exception("charge failed", order_id="A-1001")
        log.info("order parked for retry", order_id="A-1001", password="hunter2")
    tracelog.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
