"""Export each log as an OTel log record over OTLP/HTTP (to a local receiver here)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from _common import announce, tracer
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

import tracelog

# The receiver is the tests' helper, not part of the tracelog package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.support.receiver import OtlpReceiver

with OtlpReceiver() as receiver:  # stands in for a Collector on port 4318
    provider = LoggerProvider()
    provider.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{receiver.url}/v1/logs"))
    )
    tracelog.configure(stream=sys.stdout, otel_logs=True, logger_provider=provider)
    with tracer("checkout").start_as_current_span("POST /checkout") as span:
        tracelog.get_logger("checkout").warning("stock low", sku="SKU-42", left=2)
        announce(span)
    provider.shutdown()  # flushes the batch to the receiver
    for record in receiver.logs:
        sys.stderr.write(
            json.dumps(
                {
                    "otel_log": record["body"],
                    "trace_id": record["trace_id"],
                    "span_id": record["span_id"],
                }
            )
            + "\n"
        )
