"""The real wire: official OTLP/HTTP exporters against tracelog's local receiver."""

from __future__ import annotations

import gzip
import http.client
import json
import logging
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

import tracelog
from tests.support.receiver import OtlpReceiver
from tracelog import _render as render
from tracelog.stdlib import OtelLogHandler
from tracelog.testing import capture_lines

ROOT = Path(__file__).parent.parent


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as rec:
        yield rec


class Pipeline:
    """Private SDK providers exporting over OTLP/HTTP to *url* (never the global ones)."""

    def __init__(self, url: str, service: str = "checkout", **exporter: Any) -> None:
        resource = Resource.create({"service.name": service})
        self.tracer_provider = TracerProvider(resource=resource)
        self.tracer_provider.add_span_processor(
            SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{url}/v1/traces", **exporter))
        )
        self.logger_provider = LoggerProvider(resource=resource)
        self.logger_provider.add_log_record_processor(
            SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{url}/v1/logs", **exporter))
        )
        self.tracer = self.tracer_provider.get_tracer("checkout")

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.logger_provider.shutdown()


def post(url: str, body: bytes, content_type: str = "application/x-protobuf") -> int:
    request = urllib.request.Request(  # noqa: S310 - a fixed http:// URL on 127.0.0.1
        url, data=body, headers={"Content-Type": content_type}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


class TestOtlpRoundTrip:
    def test_one_request_agrees_everywhere(self, receiver) -> None:
        """Lines, span events and exported log records of one request share ids; errors show."""
        pipe = Pipeline(receiver.url)
        with (
            capture_lines(
                span_events=True, otel_logs=True, logger_provider=pipe.logger_provider
            ) as lines,
            pipe.tracer.start_as_current_span("POST /checkout"),
        ):
            tracelog.get_logger("checkout").info("order placed", order_id="A-1001")
            with pipe.tracer.start_as_current_span("charge card"):
                logging.getLogger("payments").warning("card declined", extra={"retry": 1})
                try:
                    raise RuntimeError("gateway timeout")  # noqa: TRY301
                except RuntimeError:
                    tracelog.get_logger("payments").exception("charge failed")
        pipe.shutdown()

        lines.refresh()
        span_of_line = {line["message"]: line["spanId"] for line in lines}
        trace_ids = {line["traceId"] for line in lines}
        assert 1 == len(trace_ids)
        (trace_id,) = trace_ids

        spans = {span["name"]: span for span in receiver.spans}
        assert {"POST /checkout", "charge card"} == set(spans)
        assert {trace_id} == {span["trace_id"] for span in receiver.spans}
        assert {trace_id} == {log["trace_id"] for log in receiver.logs}
        assert {"checkout"} == {span["service"] for span in receiver.spans}

        event_span = {
            event["name"]: span["span_id"]
            for span in receiver.spans
            for event in span["events"]
            if event["name"] != "exception"
        }
        log_span = {log["body"]: log["span_id"] for log in receiver.logs}
        assert span_of_line == event_span == log_span
        assert spans["POST /checkout"]["span_id"] == span_of_line["order placed"]
        assert spans["charge card"]["span_id"] == span_of_line["card declined"]
        assert spans["charge card"]["parent_span_id"] == spans["POST /checkout"]["span_id"]

        child = spans["charge card"]
        exception = next(e for e in child["events"] if e["name"] == "exception")
        assert ("RuntimeError", "gateway timeout") == (
            exception["attributes"]["exception.type"],
            exception["attributes"]["exception.message"],
        )
        assert {"code": "ERROR", "message": "charge failed"} == child["status"]

        records = {log["body"]: log for log in receiver.logs}
        assert ("WARN", 13, {"retry": 1}) == (
            records["card declined"]["severity_text"],
            records["card declined"]["severity_number"],
            records["card declined"]["attributes"],
        )
        assert "gateway timeout" == records["charge failed"]["attributes"]["exception.message"]
        line_time = {line["message"]: line["timestamp"] for line in lines}
        event_time = {e["name"]: e["time_unix_nano"] for s in receiver.spans for e in s["events"]}
        assert event_time["order placed"] == records["order placed"]["time_unix_nano"]
        assert line_time["order placed"][20:26] == f"{event_time['order placed'] // 1000:d}"[-6:]

    def test_gzip_requests_decode(self, receiver) -> None:
        """The exporters' gzip compression is decoded like a Collector would."""
        pipe = Pipeline(receiver.url, compression=Compression.Gzip)
        with pipe.tracer.start_as_current_span("zipped") as span:
            span.add_event("inside", {"k": "v"})
        pipe.shutdown()
        ((name, events),) = [(s["name"], s["events"]) for s in receiver.spans]
        assert ("zipped", [{"inside": {"k": "v"}}]) == (
            name,
            [{e["name"]: e["attributes"]} for e in events],
        )


class TestReceiver:
    def test_rejects_what_is_not_otlp_protobuf(self, receiver) -> None:
        """Unknown paths get 404, JSON gets 415, garbage 400; nothing is stored."""
        assert 404 == post(f"{receiver.url}/v1/nope", b"")
        assert 415 == post(f"{receiver.url}/v1/traces", b"{}", "application/json")
        assert 400 == post(f"{receiver.url}/v1/logs", b"\xff\xff\xff")
        assert ([], []) == (receiver.spans, receiver.logs)

    def test_deflate_body(self, receiver) -> None:
        """A deflate-encoded body decodes too."""
        request = ExportTraceServiceRequest()
        request.resource_spans.add().scope_spans.add().spans.add(name="deflated")
        req = urllib.request.Request(  # noqa: S310
            f"{receiver.url}/v1/traces",
            data=zlib.compress(request.SerializeToString()),
            headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "deflate"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
            assert 200 == response.status
        assert ["deflated"] == [span["name"] for span in receiver.spans]
        assert {"none": {"spans": 1, "span_events": 0, "logs": 0, "services": []}} == (
            receiver.summary()["traces"]
        )

    def test_metrics_accepted_and_counted(self, receiver) -> None:
        """/v1/metrics is accepted (so a full SDK setup does not retry) and only counted."""
        assert 200 == post(f"{receiver.url}/v1/metrics", b"")
        assert 1 == receiver.summary()["requests"]["/v1/metrics"]

    def test_values_of_every_kind(self, receiver) -> None:
        """Attribute values of every OTLP kind decode to plain Python values."""
        request = ExportTraceServiceRequest()
        span = request.resource_spans.add().scope_spans.add().spans.add()
        span.trace_id, span.span_id, span.name = b"\x01" * 16, b"\x02" * 8, "kinds"
        attrs = span.attributes
        attrs.add(key="s").value.string_value = "x"
        attrs.add(key="b").value.bool_value = True
        attrs.add(key="i").value.int_value = 3
        attrs.add(key="d").value.double_value = 0.5
        attrs.add(key="raw").value.bytes_value = b"\x0a"
        arr = attrs.add(key="a").value.array_value
        arr.values.add().int_value = 1
        kv = attrs.add(key="kv").value.kvlist_value.values.add(key="inner")
        kv.value.string_value = "y"
        attrs.add(key="empty")
        body = gzip.compress(request.SerializeToString())
        req = urllib.request.Request(  # noqa: S310
            f"{receiver.url}/v1/traces",
            data=body,
            headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
            assert 200 == response.status
        (decoded,) = receiver.spans
        expected = {
            "s": "x",
            "b": True,
            "i": 3,
            "d": 0.5,
            "raw": "0a",
            "a": [1],
            "kv": {"inner": "y"},
            "empty": None,
        }
        assert expected == decoded["attributes"]
        assert (None, None) == (decoded["service"], decoded["parent_span_id"])

    def test_wait_for_and_summary(self, receiver) -> None:
        """wait_for reports whether the condition held; summary counts per trace."""
        pipe = Pipeline(receiver.url)
        handler = OtelLogHandler(logger_provider=pipe.logger_provider)
        logger = logging.getLogger("summary")
        logger.addHandler(handler)
        try:
            with pipe.tracer.start_as_current_span("one") as span:
                span.add_event("e")
                logger.warning("logged")
        finally:
            logger.removeHandler(handler)
        pipe.shutdown()
        assert receiver.wait_for(lambda r: len(r.spans) == 1)
        assert not receiver.wait_for(lambda r: len(r.spans) == 2, timeout=0.01)
        summary = receiver.summary()
        trace_id = receiver.spans[0]["trace_id"]
        assert {trace_id: {"spans": 1, "span_events": 1, "logs": 1, "services": ["checkout"]}} == (
            summary["traces"]
        )
        assert ("OTLP/HTTP protobuf", 1, 1) == (summary["wire"], summary["spans"], summary["logs"])

    def test_bad_port(self) -> None:
        """A port outside 0-65535 is refused at construction."""
        with pytest.raises(ValueError, match="0 to 65535"):
            OtlpReceiver(port=70000)

    def test_stop_twice_and_restart_free_port(self) -> None:
        """stop() is idempotent and start() after construction picks a free port."""
        rec = OtlpReceiver().start()
        assert rec is rec.start()
        assert rec.url.startswith("http://127.0.0.1:")
        assert rec.port > 0
        rec.stop()
        rec.stop()


@pytest.mark.slow
class TestStandalone:
    def test_runs_and_writes_summary(self, tmp_path) -> None:
        """`python -m tests.support.receiver` receives exports and writes a summary on SIGTERM."""
        summary, dump = tmp_path / "summary.json", tmp_path / "dump.jsonl"
        command = [sys.executable, "-m", "tests.support.receiver", "--port", "0"]
        command += ["--summary", str(summary), "--dump", str(dump)]
        with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT) as proc:
            try:
                assert proc.stdout is not None
                url = proc.stdout.readline().split()[-1]
                pipe = Pipeline(url, service="standalone")
                handler = OtelLogHandler(logger_provider=pipe.logger_provider)
                logging.getLogger("standalone").addHandler(handler)
                with pipe.tracer.start_as_current_span("standalone span"):
                    logging.getLogger("standalone").warning("dumped")
                logging.getLogger("standalone").removeHandler(handler)
                pipe.shutdown()
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
        assert 0 == proc.returncode
        data = render.loads(summary.read_bytes())
        assert (1, 1) == (data["spans"], data["logs"])
        span, log = [render.loads(line) for line in dump.read_bytes().splitlines()]
        assert ("span", "standalone span", "standalone") == (
            span["signal"],
            span["name"],
            span["service"],
        )
        assert ("log", "dumped", span["span_id"]) == (log["signal"], log["body"], log["span_id"])

    def test_summary_to_stdout_after_duration(self) -> None:
        """With --duration and no --summary the summary goes to stdout."""
        out = subprocess.run(
            [sys.executable, "-m", "tests.support.receiver", "--port", "0", "--duration", "0.2"],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            cwd=ROOT,
        ).stdout.splitlines()
        assert out[0].startswith("listening on http://127.0.0.1:")
        assert {"spans": 0, "logs": 0} == {k: render.loads(out[1])[k] for k in ("spans", "logs")}

    def test_busy_port_exits_2(self) -> None:
        """A port already in use is one stderr line and exit status 2."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            sock.listen()
            port = sock.getsockname()[1]
            proc = subprocess.run(
                [sys.executable, "-m", "tests.support.receiver", "--port", str(port)],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                cwd=ROOT,
            )
        assert 2 == proc.returncode
        assert [f"receiver: cannot listen on 127.0.0.1:{port}"] == [
            line.split(": [")[0] for line in proc.stderr.splitlines()
        ]


class TestZipkin:
    def test_official_zipkin_exporter(self, receiver) -> None:
        """Zipkin v2 JSON from the official exporter decodes with services and parent links."""
        from opentelemetry.exporter.zipkin.json import ZipkinExporter
        from opentelemetry.trace import SpanKind, Status, StatusCode

        ids = {}
        for service in ("checkout", "payment"):
            provider = TracerProvider(resource=Resource.create({"service.name": service}))
            provider.add_span_processor(
                SimpleSpanProcessor(ZipkinExporter(endpoint=f"{receiver.url}/api/v2/spans"))
            )
            ids[service] = provider
        tracer = ids["checkout"].get_tracer("t")
        payment_tracer = ids["payment"].get_tracer("t")
        with (
            tracer.start_as_current_span("POST /checkout", kind=SpanKind.SERVER) as root,
            payment_tracer.start_as_current_span("POST /charge", kind=SpanKind.SERVER) as child,
        ):
            child.set_status(Status(StatusCode.ERROR, "card declined"))
            child.add_event("declined")
        assert receiver.wait_for(lambda r: len(r.spans) == 2)
        by_name = {s["name"]: s for s in receiver.spans}
        root_sc, child_sc = root.get_span_context(), child.get_span_context()
        charge = by_name["POST /charge"]
        assert (
            format(child_sc.trace_id, "032x"),
            format(child_sc.span_id, "016x"),
            format(root_sc.span_id, "016x"),
            "payment",
        ) == (charge["trace_id"], charge["span_id"], charge["parent_span_id"], charge["service"])
        assert "ERROR" == charge["status"]["code"]
        assert by_name["POST /checkout"]["parent_span_id"] is None
        assert "SERVER" == charge["kind"]
        summary = receiver.summary()
        assert "Zipkin v2 JSON" == summary["wire"]
        assert {"checkout": 1, "payment": 1} == summary["spans_per_service"]
        for provider in ids.values():
            provider.shutdown()

    @pytest.mark.parametrize(
        ("body", "content_type", "status"),
        [
            (b"[]", "application/json", 202),
            (b"{}", "application/json", 400),
            (b"not json", "application/json", 400),
            (b"[]", "application/x-protobuf", 415),
            (b'[{"traceId": "zz", "id": 5}]', "application/json", 202),
        ],
    )
    def test_bad_zipkin_bodies(self, receiver, body, content_type, status) -> None:
        """Zipkin bodies that are not a list of spans are refused, never crash the receiver."""
        assert status == post(f"{receiver.url}/api/v2/spans", body, content_type)


class TestZipkinEvents:
    def test_annotation_forms(self, receiver) -> None:
        """OTel-style JSON annotations become named events; plain strings stay names."""
        body = json.dumps(
            [
                {
                    "traceId": "4bf92f3577b34da6",
                    "id": "00f067aa0ba902b7",
                    "name": "x",
                    "timestamp": 1,
                    "duration": 2,
                    "annotations": [
                        {"timestamp": 5, "value": '{"exception": {"exception.type": "E"}}'},
                        {"timestamp": 6, "value": "cache miss"},
                        {"timestamp": 7, "value": "{not json"},
                        {"timestamp": 8, "value": '{"a": 1}'},
                    ],
                }
            ]
        ).encode()
        assert 202 == post(f"{receiver.url}/api/v2/spans", body, "application/json")
        (span,) = receiver.spans
        assert "0000000000000000" + "4bf92f3577b34da6" == span["trace_id"]
        assert [
            ("exception", {"exception.type": "E"}),
            ("cache miss", {}),
            ("{not json", {}),
            ("a", {"value": 1}),
        ] == [(e["name"], e["attributes"]) for e in span["events"]]


class TestPackaging:
    def test_wheel_ships_no_test_receiver(self, tmp_path) -> None:
        """The built wheel holds the tracelog package only: no receiver, no tests."""
        import zipfile

        pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        subprocess.run(
            [*pip, "--wheel-dir", str(tmp_path), str(ROOT)],
            capture_output=True,
            check=True,
            timeout=120,
        )
        (wheel,) = tmp_path.glob("tracelog_otel-*.whl")
        names = zipfile.ZipFile(wheel).namelist()
        assert "tracelog/__init__.py" in names
        assert [] == [n for n in names if "receiver" in n or "collector" in n]
        assert set() == {n.split("/")[0] for n in names} - {
            "tracelog",
            wheel.name.removesuffix(".whl").replace("-py3-none-any", "") + ".dist-info",
        }


def exchange(port: int, request: bytes) -> tuple[int, bytes]:
    """Send raw HTTP bytes; return the status code and the response body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response.status, response.read()


def zipkin_request(body: bytes, *headers: str) -> bytes:
    head = ["POST /api/v2/spans HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    return "\r\n".join([*head, *headers, "", ""]).encode() + body


SPAN = b'[{"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "id": "00f067aa0ba902b7", "name": "s"}]'


class TestHostileBodies:
    @pytest.fixture
    def small(self) -> Iterator[OtlpReceiver]:
        with OtlpReceiver(max_body=4096) as rec:
            yield rec

    def test_oversize_body_is_413(self, small) -> None:
        """A Content-Length over the limit is refused with 413 before the body is read."""
        body = b"[" + b" " * 5000 + b"]"
        status, _ = exchange(small.port, zipkin_request(body, f"Content-Length: {len(body)}"))
        assert (413, 0) == (status, small.requests["/api/v2/spans"])

    @pytest.mark.parametrize("encoding", ["gzip", "deflate"])
    def test_compression_bomb_is_413(self, small, encoding) -> None:
        """A small compressed body that expands past the limit is refused, not inflated."""
        bomb = b"[" + b" " * 3_000_000 + b"]"
        body = gzip.compress(bomb) if encoding == "gzip" else zlib.compress(bomb)
        assert len(body) < 4096
        request = zipkin_request(
            body, f"Content-Length: {len(body)}", f"Content-Encoding: {encoding}"
        )
        assert 413 == exchange(small.port, request)[0]
        assert [] == small.spans

    def test_compressed_body_within_limit(self, small) -> None:
        """A gzip body under the limit once inflated is accepted."""
        body = gzip.compress(SPAN)
        request = zipkin_request(body, f"Content-Length: {len(body)}", "Content-Encoding: gzip")
        assert 202 == exchange(small.port, request)[0]
        assert ["s"] == [span["name"] for span in small.spans]

    def test_chunked_body_decodes(self, receiver) -> None:
        """A chunked body (with a chunk extension and a trailer) is decoded and stored."""
        chunks = b"".join(
            b"%x;ext=1\r\n%s\r\n" % (len(part), part) for part in (SPAN[:10], SPAN[10:])
        )
        request = zipkin_request(
            chunks + b"0\r\nX-Trailer: 1\r\n\r\n", "Transfer-Encoding: chunked"
        )
        assert 202 == exchange(receiver.port, request)[0]
        assert [("4bf92f3577b34da6a3ce929d0e0e4736", "s")] == [
            (span["trace_id"], span["name"]) for span in receiver.spans
        ]

    def test_chunked_oversize_is_413(self, small) -> None:
        """Chunks adding up past the limit are refused with 413."""
        chunk = b"%x\r\n%s\r\n" % (3000, b" " * 3000)
        request = zipkin_request(chunk * 2 + b"0\r\n\r\n", "Transfer-Encoding: chunked")
        assert 413 == exchange(small.port, request)[0]

    @pytest.mark.parametrize(
        "framing",
        [
            ("Transfer-Encoding: chunked", b"zz\r\n[]\r\n0\r\n\r\n"),
            ("Transfer-Encoding: chunked", b"-2\r\n[]\r\n0\r\n\r\n"),
            ("Content-Length: -1", b"[]"),
        ],
        ids=["bad-chunk-size", "negative-chunk", "bad-length"],
    )
    def test_bad_framing_is_400(self, receiver, framing) -> None:
        """Unparseable body framing is a 400, and the receiver keeps serving."""
        header, body = framing
        assert 400 == exchange(receiver.port, zipkin_request(body, header))[0]
        assert 202 == post(f"{receiver.url}/api/v2/spans", b"[]", "application/json")

    @pytest.mark.parametrize(
        "body",
        [
            b'[{"timestamp": [1]}]',
            b'[{"timestamp": "soon"}]',
            b'[{"duration": {"a": 1}}]',
            b'[{"annotations": 5}]',
            b'[{"annotations": [{"timestamp": [1]}]}]',
            b'[{"id": "00f067aa0ba902b7"}',
        ],
    )
    def test_malformed_zipkin_is_400(self, receiver, body) -> None:
        """Zipkin JSON with wrongly typed fields is a 400, never a dropped connection."""
        assert 400 == post(f"{receiver.url}/api/v2/spans", body, "application/json")
        assert [] == receiver.spans

    def test_unknown_encoding_is_400(self, receiver) -> None:
        """A Content-Encoding the receiver cannot decode is a 400."""
        request = zipkin_request(b"[]", "Content-Length: 2", "Content-Encoding: br")
        assert 400 == exchange(receiver.port, request)[0]

    def test_bad_max_body(self) -> None:
        """max_body must be a positive int."""
        with pytest.raises(ValueError, match="max_body"):
            OtlpReceiver(max_body=0)
