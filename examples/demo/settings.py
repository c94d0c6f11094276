"""The demo's fixed facts, shared by the demo, docker-compose.yml and their tests.

Change a port or path here and the test that checks docker-compose.yml and the Collector
config will tell you what to change there too.
"""

from __future__ import annotations

SERVICES = ("checkout", "inventory", "payment")

# Where each service's JSON lines go: <LOG_DIR>/<service>.log (relative to the repo).
LOG_DIR = "out/demo"
# `tracelog show --html` of the failed order, written beside the log directory (not in it,
# so `tracelog grep -r ID out/demo` reads only log lines): out/failed-order.html.
HTML_NAME = "failed-order.html"

# The collector's standard ports and paths (the embedded demo collector uses a free port;
# under docker compose the real Collector listens on these).
OTLP_HTTP_PORT = 4318
OTLP_TRACES_PATH = "/v1/traces"
OTLP_LOGS_PATH = "/v1/logs"
ZIPKIN_PORT = 9411
ZIPKIN_PATH = "/api/v2/spans"
JAEGER_UI_PORT = 16686

# `make demo EXPORTER=...`
EXPORTERS = ("otlp", "zipkin")

# The trace link template the demo prints (Jaeger's UI under docker compose).
TRACE_URL = f"http://localhost:{JAEGER_UI_PORT}/trace/{{trace_id}}"
