"""stdlib logging configured with dictConfig: filter, formatter and handler from tracelog."""

from __future__ import annotations

import logging
import logging.config

from _common import announce, tracer

logging.config.dictConfig(
    {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"trace": {"()": "tracelog.stdlib.TraceContextFilter"}},
        "formatters": {"json": {"()": "tracelog.stdlib.JsonFormatter", "service": "payments"}},
        "handlers": {
            "out": {
                "class": "tracelog.stdlib.JsonStreamHandler",
                "formatter": "json",
                "filters": ["trace"],
                "stream": "ext://sys.stdout",
            }
        },
        "root": {"handlers": ["out"], "level": "INFO"},
    }
)

log = logging.getLogger("payments")
with tracer("payments").start_as_current_span("charge card") as span:
    log.info("charging card", extra={"order_id": "A-1001", "amount": 42.5})
    log.warning("card declined", extra={"order_id": "A-1001", "reason": "insufficient_funds"})
    announce(span)
