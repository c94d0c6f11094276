"""One service of the checkout demo: ``python service.py NAME --log-dir DIR ...``.

checkout (structlog) calls inventory (stdlib logging) and then payment (both); payment
declines cards of orders ending in 3. It prints ``READY <port>``, then reads one JSON
line on stdin: ``{"collector": URL, "peers": {"inventory": URL, "payment": URL}}``.
Every service is its own process with its own tracer provider and ``service.name``;
W3C ``traceparent`` crosses the HTTP calls through ``tracelog.web.TraceContextMiddleware``
(in) and ``tracelog.inject_headers`` (out).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.trace import SpanKind

import tracelog
from tracelog.web import TraceContextMiddleware

sys.path.insert(0, str(Path(__file__).parent))
import settings

log = tracelog.get_logger("demo")  # structlog; renamed after the service in main()
std = logging.getLogger("demo")


class CardDeclinedError(Exception):
    """The payment provider said no."""


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """wsgiref's access log would go to stderr as text; the app logs JSON instead."""


def _call(url: str, order: str) -> tuple[int, dict[str, Any]]:
    """POST to another service inside a CLIENT span, with traceparent injected."""
    tracer = trace.get_tracer("demo")
    with tracer.start_as_current_span(f"POST {url.rsplit('/', 1)[-1]}", kind=SpanKind.CLIENT):
        request = urllib.request.Request(
            f"{url}?order={order}", data=b"", method="POST", headers=tracelog.inject_headers()
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")


def make_app(name: str, peers: dict[str, str]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        order = parse_qs(environ.get("QUERY_STRING", "")).get("order", ["?"])[0]
        status, body = ROUTES[name](order, peers)
        ctx = tracelog.current_trace_context()
        body["trace_id"] = ctx.trace_id if ctx else None
        payload = json.dumps(body).encode()
        start_response(
            f"{status} {'OK' if status < 400 else 'ERROR'}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    return TraceContextMiddleware(app)


def checkout(order: str, peers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    log.info("order received", order_id=order)
    status, stock = _call(peers["inventory"], order)
    if status != 200:
        log.error("stock reservation failed", order_id=order, status=status)
        return 502, {"order": order, "status": "no stock"}
    log.info("stock reserved", order_id=order, warehouse=stock.get("warehouse"))
    status, payment = _call(peers["payment"], order)
    if status != 200:
        log.error("payment failed", order_id=order, status=status, reason=payment.get("reason"))
        return 502, {"order": order, "status": "payment failed"}
    log.info("order placed", order_id=order, charge_id=payment.get("charge_id"))
    return 200, {"order": order, "status": "placed"}


def inventory(order: str, peers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    std.info("reserving stock", extra={"order_id": order, "sku": "SKU-42"})
    std.info("stock reserved", extra={"order_id": order, "warehouse": "eu-1"})
    return 200, {"warehouse": "eu-1"}


def charge(order: str) -> None:
    """The card provider: declines orders ending in 3."""
    if order.endswith("3"):
        raise CardDeclinedError(f"card declined for order {order}: insufficient funds")


def payment(order: str, peers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    std.info("charging card", extra={"order_id": order, "card": "4111 1111 1111 1111"})
    try:
        charge(order)
    except CardDeclinedError:
        # An ERROR log with exc_info: the bridge records the exception on the server span
        # and sets its status to ERROR (the seed's recordException + setStatus).
        log.exception("card declined", order_id=order)
        return 402, {"reason": "card declined"}
    log.info("card charged", order_id=order, amount=42.5)
    return 200, {"charge_id": f"ch_{order}"}


ROUTES = {"checkout": checkout, "inventory": inventory, "payment": payment}


def setup_tracing(name: str, collector: str, exporter: str, log_file: Any) -> TracerProvider:
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    if exporter == "zipkin":
        from opentelemetry.exporter.zipkin.json import ZipkinExporter

        span_exporter: Any = ZipkinExporter(endpoint=f"{collector}{settings.ZIPKIN_PATH}")
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        span_exporter = OTLPSpanExporter(endpoint=f"{collector}{settings.OTLP_TRACES_PATH}")
    provider.add_span_processor(BatchSpanProcessor(span_exporter, schedule_delay_millis=200))
    try:  # span records in the log file: `tracelog show` draws the whole tree from it
        from tracelog.export import JsonLinesSpanExporter

        provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(log_file)))
    except ImportError:  # pragma: no cover - an older tracelog without the exporter
        pass
    trace.set_tracer_provider(provider)
    return provider


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("name", choices=settings.SERVICES)
    parser.add_argument("--exporter", choices=settings.EXPORTERS, default="otlp")
    parser.add_argument("--log-dir", type=Path, required=True)
    args = parser.parse_args()

    global log, std
    log, std = tracelog.get_logger(f"{args.name}.app"), logging.getLogger(f"{args.name}.app")
    args.log_dir.mkdir(parents=True, exist_ok=True)
    log_file = (args.log_dir / f"{args.name}.log").open("a", buffering=1)
    peers: dict[str, str] = {}
    server = make_server(
        "127.0.0.1",
        0,
        make_app(args.name, peers),
        server_class=_Server,
        handler_class=_QuietHandler,
    )
    stopping = threading.Event()

    def stop(*_: object) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write(f"READY {server.server_port}\n")
    sys.stdout.flush()
    # The services start side by side, so the collector's and the peers' URLs come on stdin
    # once every one is listening; requests wait in the socket's backlog until then.
    wiring = json.loads(sys.stdin.readline() or "{}")
    peers.update(wiring.get("peers", {}))
    provider = setup_tracing(args.name, wiring.get("collector", ""), args.exporter, log_file)
    tracelog.configure(stream=log_file, service=args.name, span_events=True)
    std.info("service started", extra={"port": server.server_port})
    server.serve_forever(poll_interval=0.05)
    std.info("service stopping")
    provider.shutdown()  # flushes the batch processor: every span reaches the collector
    tracelog.shutdown()
    log_file.close()
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Spans, log lines and streams are flushed and closed above; the interpreter's own
    # teardown of the SDK's and protobuf's modules took most of a second per service.
    os._exit(status)
