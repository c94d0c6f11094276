"""A plain WSGI app behind tracelog's middleware: the caller's traceparent reaches the logs.

(The same middleware wraps a Flask app: ``app.wsgi_app = TraceContextMiddleware(app.wsgi_app)``.)
"""

from __future__ import annotations

import logging
import sys
import threading
import urllib.request
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import tracelog
from tracelog.web import TraceContextMiddleware

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    logging.getLogger("inventory").info("reserving stock", extra={"sku": "SKU-42"})
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"reserved"]


class Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


tracelog.configure(stream=sys.stdout, service="inventory")
server = make_server("127.0.0.1", 0, TraceContextMiddleware(app), handler_class=Quiet)
threading.Thread(target=server.serve_forever, daemon=True).start()
request = urllib.request.Request(
    f"http://127.0.0.1:{server.server_port}/reserve", headers={"traceparent": TRACEPARENT}
)
with urllib.request.urlopen(request, timeout=5) as response:
    response.read()
server.shutdown()
sys.stderr.write(f"expect trace_id={TRACEPARENT[3:35]} span_id={TRACEPARENT[36:52]}\n")
