"""Log files for ``tracelog grep`` and ``tracelog show``: one request through two services.

    python examples/trace_file.py /tmp/shop     # writes checkout.log and payments.log

``checkout`` writes the default layout and ``payments`` Datadog's, each to its own file,
with :class:`tracelog.export.JsonLinesSpanExporter` adding one line per finished span.
(Both services run in this one process, taking turns, so the example needs no network.)
The trace id is printed last; pass it to ``tracelog grep`` or ``tracelog show``.
"""

from __future__ import annotations

import logging
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

import tracelog
from tracelog.export import JsonLinesSpanExporter

if TYPE_CHECKING:
    from collections.abc import Iterator

log = tracelog.get_logger("shop")


def provider(service: str, path: Path) -> TracerProvider:
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": service}))
    tracer_provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(path)))
    return tracer_provider


@contextmanager
def service(name: str, path: Path, schema: str) -> Iterator[None]:
    """Log as *name*: its layout, into its file."""
    with path.open("a") as stream:
        tracelog.configure(service=name, schema=schema, stream=stream)
        yield
        tracelog.shutdown()


def main(directory: Path) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    checkout_log, payments_log = directory / "checkout.log", directory / "payments.log"
    for path in (checkout_log, payments_log):
        path.unlink(missing_ok=True)
    providers = [provider("checkout", checkout_log), provider("payments", payments_log)]
    checkout, payments = (p.get_tracer("example") for p in providers)

    with checkout.start_as_current_span("POST /checkout", kind=SpanKind.SERVER) as root:
        with service("checkout", checkout_log, "default"):
            log.info("order placed", order_id="A-1001", items=3)
            with checkout.start_as_current_span("reserve inventory"):
                time.sleep(0.004)
                logging.getLogger("inventory").info("stock reserved", extra={"sku": "B-7"})
        with (
            payments.start_as_current_span("POST /charge", kind=SpanKind.SERVER) as charge,
            service("payments", payments_log, "datadog"),
        ):
            time.sleep(0.006)
            logging.getLogger("payments").warning("card declined", extra={"attempt": 1})
            charge.set_status(Status(StatusCode.ERROR, "card declined"))
        with service("checkout", checkout_log, "default"):
            log.error("order failed", order_id="A-1001", reason="payment")
    for tracer_provider in providers:
        tracer_provider.shutdown()
    print(format(root.get_span_context().trace_id, "032x"))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "out")))
