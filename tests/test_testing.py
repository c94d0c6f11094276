"""tracelog.testing helps tests; test the helpers too."""

from __future__ import annotations

import logging

import tracelog
from tracelog.testing import SpanRecorder, capture_lines


class TestCaptureLines:
    def test_captures_and_restores(self) -> None:
        """capture_lines parses what was logged and puts logging back as it was."""
        root = logging.getLogger()
        before = root.handlers[:]
        rec = SpanRecorder(service="svc")
        with capture_lines(level="DEBUG") as lines:
            with rec.tracer.start_as_current_span("op"):
                tracelog.get_logger("t").debug("inside", n=1)
            assert 1 == len(lines.refresh())
        (span,) = rec.finished()
        assert format(span.context.span_id, "016x") == lines[0]["spanId"]
        assert ("svc", 1) == (lines[0]["service"], lines[0]["n"])
        assert before == root.handlers
        assert lines.text.endswith("\n")
        rec.shutdown()
