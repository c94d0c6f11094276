"""An ASGI app (any framework: Starlette, FastAPI...) behind tracelog's ASGI middleware,
served by uvicorn; the caller's traceparent reaches the logs.

    app = AsgiTraceContextMiddleware(fastapi_app)   # or app.add_middleware(...)
"""

from __future__ import annotations

import sys
import threading
import time
import urllib.request
from typing import Any

import uvicorn

import tracelog
from tracelog.web import AsgiTraceContextMiddleware

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
log = tracelog.get_logger("checkout")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await log.ainfo("order received", path=scope["path"])
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


tracelog.configure(stream=sys.stdout, service="checkout")
config = uvicorn.Config(
    AsgiTraceContextMiddleware(app), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
)
server = uvicorn.Server(config)
thread = threading.Thread(target=server.run, daemon=True)
thread.start()
while not server.started:
    time.sleep(0.01)
port = server.servers[0].sockets[0].getsockname()[1]
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/checkout", headers={"traceparent": TRACEPARENT}
)
with urllib.request.urlopen(request, timeout=5) as response:
    response.read()
server.should_exit = True
thread.join(5)
sys.stderr.write(f"expect trace_id={TRACEPARENT[3:35]} span_id={TRACEPARENT[36:52]}\n")
