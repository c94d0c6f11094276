"""A small OTLP/HTTP receiver on 127.0.0.1: what a Collector on port 4318 would see.

It accepts the official exporters' protobuf requests (``POST /v1/traces``,
``/v1/logs``; ``/v1/metrics`` is accepted and ignored), decodes them with
``opentelemetry-proto`` and keeps the spans and log records as plain dicts with hex ids,
so tests and the demo can compare them with JSON lines. It lives with the tests, not in
the ``tracelog`` package: the wheel never ships it. It needs ``opentelemetry-proto`` (the
``tests`` dependency group).

    with OtlpReceiver() as receiver:
        exporter = OTLPSpanExporter(endpoint=receiver.url + "/v1/traces")
        ...
        receiver.spans[0]["trace_id"]

Standalone, from the repository root::

    python -m tests.support.receiver --port 4318 --summary summary.json --dump received.jsonl

OTLP/JSON bodies are refused with 415: the official exporters send protobuf.

It also accepts Zipkin v2 JSON (``POST /api/v2/spans``, what
``opentelemetry-exporter-zipkin-json`` and Zipkin's own clients send) and stores those
spans in the same shape, so one receiver serves either wire.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
import zlib
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tracelog import _render as render

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource
    from opentelemetry.proto.trace.v1.trace_pb2 import Span

__all__ = ["OtlpReceiver", "main"]

_PROTOBUF = "application/x-protobuf"
_JSON = "application/json"
ZIPKIN_PATH = "/api/v2/spans"
WIRES = {"/v1/traces": "OTLP/HTTP protobuf", "/v1/logs": "OTLP/HTTP protobuf",
         ZIPKIN_PATH: "Zipkin v2 JSON"}  # fmt: skip
_STATUS_CODES = {0: "UNSET", 1: "OK", 2: "ERROR"}
_MAX_BODY = 64 * 1024 * 1024


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in pairs}


def _service(resource: Resource) -> str | None:
    service = _attributes(resource.attributes).get("service.name")
    return service if isinstance(service, str) else None


def _hex(raw: bytes) -> str | None:
    return raw.hex() if raw and any(raw) else None


def _span(span: Span, service: str | None, scope: str) -> dict[str, Any]:
    return {
        "trace_id": _hex(span.trace_id),
        "span_id": _hex(span.span_id),
        "parent_span_id": _hex(span.parent_span_id),
        "name": span.name,
        "service": service,
        "scope": scope,
        "start_time_unix_nano": span.start_time_unix_nano,
        "end_time_unix_nano": span.end_time_unix_nano,
        "status": {
            "code": _STATUS_CODES.get(span.status.code, str(span.status.code)),
            "message": span.status.message,
        },
        "attributes": _attributes(span.attributes),
        "events": [
            {
                "name": event.name,
                "time_unix_nano": event.time_unix_nano,
                "attributes": _attributes(event.attributes),
            }
            for event in span.events
        ],
        "dropped_events_count": span.dropped_events_count,
    }


def _log(record: LogRecord, service: str | None, scope: str) -> dict[str, Any]:
    return {
        "trace_id": _hex(record.trace_id),
        "span_id": _hex(record.span_id),
        "trace_flags": format(record.flags & 0xFF, "02x"),
        "time_unix_nano": record.time_unix_nano,
        "observed_time_unix_nano": record.observed_time_unix_nano,
        "severity_number": record.severity_number,
        "severity_text": record.severity_text,
        "body": _value(record.body),
        "attributes": _attributes(record.attributes),
        "scope": scope,
        "service": service,
    }


def _zipkin_id(value: object, length: int) -> str | None:
    if not isinstance(value, str) or not value or len(value) > length:
        return None
    value = value.lower().zfill(length)  # 64-bit trace ids are the low half of a W3C id
    return value if value.strip("0") and all(c in "0123456789abcdef" for c in value) else None


def _zipkin_event(annotation: dict[str, Any]) -> dict[str, Any]:
    # OpenTelemetry's Zipkin exporter writes an event as the annotation value
    # '{"<name>": {<attributes>}}'; other clients write a plain string.
    value = str(annotation.get("value", ""))
    name: str = value
    attributes: Any = {}
    if value.startswith("{"):
        try:
            decoded = render.loads(value)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict) and len(decoded) == 1:
            ((name, attributes),) = decoded.items()
            attributes = attributes if isinstance(attributes, dict) else {"value": attributes}
    return {
        "name": name,
        "time_unix_nano": int(annotation.get("timestamp") or 0) * 1000,
        "attributes": attributes,
    }


def decode_zipkin(spans: object) -> list[dict[str, Any]]:
    """Zipkin v2 JSON spans, in the same dict shape as OTLP spans.

    Raises:
        ValueError: if the body is not a list of span objects.
    """
    if not isinstance(spans, list) or not all(isinstance(s, dict) for s in spans):
        raise ValueError("a Zipkin v2 body is a JSON list of spans")
    try:
        return [_zipkin_span(span) for span in spans]
    except (TypeError, AttributeError, OverflowError) as exc:
        raise ValueError(f"malformed Zipkin span: {exc}") from None


def _zipkin_span(span: dict[str, Any]) -> dict[str, Any]:
    annotations = span.get("annotations") or []
    if not isinstance(annotations, list):
        raise TypeError("annotations must be a list")
    raw_tags, raw_endpoint = span.get("tags"), span.get("localEndpoint")
    tags: dict[str, Any] = raw_tags if isinstance(raw_tags, dict) else {}
    start = int(span.get("timestamp") or 0) * 1000
    error = tags.get("error")
    status = tags.get("otel.status_code") or ("ERROR" if error is not None else "UNSET")
    endpoint: dict[str, Any] = raw_endpoint if isinstance(raw_endpoint, dict) else {}
    return {
        "trace_id": _zipkin_id(span.get("traceId"), 32),
        "span_id": _zipkin_id(span.get("id"), 16),
        "parent_span_id": _zipkin_id(span.get("parentId"), 16),
        "name": span.get("name") or "",
        "kind": span.get("kind"),
        "service": endpoint.get("serviceName"),
        "scope": tags.get("otel.scope.name", ""),
        "start_time_unix_nano": start,
        "end_time_unix_nano": start + int(span.get("duration") or 0) * 1000,
        "status": {
            "code": status,
            "message": tags.get("otel.status_description") or error or "",
        },
        "attributes": dict(tags),
        "events": [_zipkin_event(a) for a in annotations if isinstance(a, dict)],
        "dropped_events_count": 0,
    }


def decode_traces(request: ExportTraceServiceRequest) -> list[dict[str, Any]]:
    """The spans of one export request, as plain dicts with hex ids."""
    return [
        _span(span, _service(resource_spans.resource), scope_spans.scope.name)
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]


def decode_logs(request: ExportLogsServiceRequest) -> list[dict[str, Any]]:
    """The log records of one export request, as plain dicts with hex ids."""
    return [
        _log(record, _service(resource_logs.resource), scope_logs.scope.name)
        for resource_logs in request.resource_logs
        for scope_logs in resource_logs.scope_logs
        for record in scope_logs.log_records
    ]


class _BodyTooLargeError(Exception):
    """The body, sent or decompressed, is over the receiver's limit."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        receiver = self.server.receiver
        found = receiver.routes.get(self.path.split("?", 1)[0])
        try:
            body = self._body(receiver.max_body)
        except _BodyTooLargeError:
            # The rest of the body is never read: the connection cannot be reused.
            self.close_connection = True
            self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"body too large", "text/plain")
            return
        except ValueError:
            self.close_connection = True
            self._reply(HTTPStatus.BAD_REQUEST, b"bad body framing", "text/plain")
            return
        if found is None:
            self._reply(HTTPStatus.NOT_FOUND, b"", "text/plain")
            return
        media, route = found
        if self.headers.get("Content-Type", media).split(";")[0].strip() != media:
            self._reply(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, media.encode(), "text/plain")
            return
        try:
            body = _decompress(body, self.headers.get("Content-Encoding", ""), receiver.max_body)
            response = route(body)
        except _BodyTooLargeError:
            self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"body too large", "text/plain")
            return
        except (DecodeError, OSError, EOFError, zlib.error, ValueError):
            self._reply(HTTPStatus.BAD_REQUEST, b"undecodable request", "text/plain")
            return
        if media == _JSON:  # Zipkin answers 202 with no body
            self._reply(HTTPStatus.ACCEPTED, b"", "text/plain")
        else:
            self._reply(HTTPStatus.OK, response, _PROTOBUF)

    def _body(self, limit: int) -> bytes:
        """The request body, fixed-length or chunked, refused past *limit* bytes."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._chunked(limit)
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not raw.isdigit():
            raise ValueError(f"bad Content-Length {raw!r}")
        length = int(raw)
        if length > limit:
            raise _BodyTooLargeError
        return self.rfile.read(length)

    def _chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                raise ValueError("truncated chunk size line")
            try:
                chunk = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise ValueError(f"bad chunk size line {line!r}") from None
            if chunk < 0:
                raise ValueError("negative chunk size")
            if chunk == 0:
                break
            size += chunk
            if size > limit:
                raise _BodyTooLargeError
            data = self.rfile.read(chunk)
            if len(data) != chunk or self.rfile.readline(1024) not in (b"\r\n", b"\n"):
                raise ValueError("truncated chunk")
            parts.append(data)
        # Trailer fields, if any, end with an empty line.
        while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
            pass
        return b"".join(parts)

    def _reply(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: a request line per export would drown the output under test."""


def _decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """*body* decoded, never expanding past *limit* bytes (a small gzip can hold gigabytes)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise ValueError(f"unsupported Content-Encoding {encoding!r}")
    # wbits: 31 reads the gzip wrapper, 15 the zlib one (HTTP's "deflate").
    inflater = zlib.decompressobj(31 if encoding == "gzip" else 15)
    out = inflater.decompress(body, limit + 1)
    if len(out) > limit or inflater.unconsumed_tail:
        raise _BodyTooLargeError
    if not inflater.eof:
        raise ValueError("truncated compressed body")
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: OtlpReceiver


class OtlpReceiver:
    """An OTLP/HTTP receiver in a background thread, storing what it decodes.

    Args:
        host: the address to bind; keep it on the loopback.
        port: the port; 0 picks a free one (read it back from :attr:`url`).
        max_body: the largest body accepted, in bytes, as sent and after decompression;
            larger ones get 413.

    Attributes:
        spans: decoded spans (dicts: ``trace_id``, ``span_id``, ``parent_span_id``,
            ``name``, ``service``, ``status``, ``attributes``, ``events``,
            ``dropped_events_count`` ...), in arrival order.
        logs: decoded log records (dicts: ``trace_id``, ``span_id``, ``trace_flags``,
            ``time_unix_nano``, ``severity_number``, ``severity_text``, ``body``,
            ``attributes``, ``scope``, ``service``).
        requests: how many export requests were accepted, per path.

    .. versionadded:: 0.1.0
    """

    paths: ClassVar[tuple[str, ...]] = ("/v1/traces", "/v1/logs", "/v1/metrics", ZIPKIN_PATH)

    def __init__(self, host: str = "127.0.0.1", port: int = 0, max_body: int = _MAX_BODY) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < 65536:
            raise ValueError(f"port must be an int from 0 to 65535, not {port!r}")
        if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1:
            raise ValueError(f"max_body must be a positive int, not {max_body!r}")
        self.max_body = max_body
        self.host = host
        self.port = port
        self.spans: list[dict[str, Any]] = []
        self.logs: list[dict[str, Any]] = []
        self.requests: dict[str, int] = dict.fromkeys(self.paths, 0)
        self.routes: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
            "/v1/traces": (_PROTOBUF, self._traces),
            "/v1/logs": (_PROTOBUF, self._logs),
            "/v1/metrics": (_PROTOBUF, self._metrics),
            ZIPKIN_PATH: (_JSON, self._zipkin),
        }
        self._changed = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://host:port``, the exporters' base endpoint (append ``/v1/traces``)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is None:
            server = _Server((self.host, self.port), _Handler)
            server.receiver = self
            self.port = server.server_address[1]
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever,
                args=(0.05,),  # the poll interval: how long stop() may wait
                name="tracelog-otlp-receiver",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _store(
        self, path: str, spans: Sequence[dict[str, Any]], logs: Sequence[dict[str, Any]]
    ) -> None:
        with self._changed:
            self.spans.extend(spans)
            self.logs.extend(logs)
            self.requests[path] += 1
            self._changed.notify_all()

    def _traces(self, body: bytes) -> bytes:
        request = ExportTraceServiceRequest.FromString(body)
        self._store("/v1/traces", decode_traces(request), ())
        return ExportTraceServiceResponse().SerializeToString()

    def _logs(self, body: bytes) -> bytes:
        request = ExportLogsServiceRequest.FromString(body)
        self._store("/v1/logs", (), decode_logs(request))
        return ExportLogsServiceResponse().SerializeToString()

    def _zipkin(self, body: bytes) -> bytes:
        self._store(ZIPKIN_PATH, decode_zipkin(render.loads(body)), ())
        return b""

    def _metrics(self, body: bytes) -> bytes:
        self._store("/v1/metrics", (), ())
        return b""

    def wait_for(self, condition: Callable[[OtlpReceiver], bool], timeout: float = 10.0) -> bool:
        """Block until ``condition(self)`` holds (True) or *timeout* seconds pass (False).

        For exporters that send in the background (batch processors).
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def summary(self) -> dict[str, Any]:
        """Counts per trace: spans, log records, span events and services seen."""
        with self._changed:
            spans, logs = list(self.spans), list(self.logs)
            requests = dict(self.requests)
        traces: dict[str, dict[str, Any]] = {}

        def entry(trace_id: str | None) -> dict[str, Any]:
            return traces.setdefault(
                trace_id or "none", {"spans": 0, "span_events": 0, "logs": 0, "services": []}
            )

        for span in spans:
            item = entry(span["trace_id"])
            item["spans"] += 1
            item["span_events"] += len(span["events"])
            if span["service"] and span["service"] not in item["services"]:
                item["services"].append(span["service"])
        for log in logs:
            entry(log["trace_id"])["logs"] += 1
        wires = sorted({WIRES[path] for path, n in requests.items() if n and path in WIRES})
        return {
            "wire": " + ".join(wires) or "nothing received",
            "url": self.url,
            "requests": requests,
            "spans": len(spans),
            "logs": len(logs),
            "spans_per_service": {
                service: sum(1 for s in spans if s["service"] == service)
                for service in sorted({s["service"] or "?" for s in spans})
            },
            "traces": traces,
        }


def main(argv: Sequence[str] | None = None) -> int:
    """Run a receiver until SIGINT/SIGTERM or ``--duration``; then write the summary."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.receiver",
        description="A local OTLP/HTTP receiver that decodes traces and logs.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4318)
    parser.add_argument("--duration", type=float, default=None, help="seconds, then exit")
    parser.add_argument(
        "--summary", type=Path, default=None, help="JSON summary file (else stdout)"
    )
    parser.add_argument("--dump", type=Path, default=None, help="every span and log, as JSON lines")
    args = parser.parse_args(argv)
    try:
        receiver = OtlpReceiver(args.host, args.port).start()
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"receiver: cannot listen on {args.host}:{args.port}: {exc}\n")
        return 2
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    sys.stdout.write(f"listening on {receiver.url}\n")
    sys.stdout.flush()
    stop.wait(args.duration)
    receiver.stop()
    summary = render.dumps(receiver.summary())
    if args.summary is None:
        sys.stdout.buffer.write(summary)
        sys.stdout.flush()
    else:
        args.summary.write_bytes(summary)
    if args.dump is not None:
        with args.dump.open("wb") as out:
            for span in receiver.spans:
                out.write(render.dumps({"signal": "span", **span}))
            for log in receiver.logs:
                out.write(render.dumps({"signal": "log", **log}))
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess
    sys.exit(main())
