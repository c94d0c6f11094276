"""stdlib plumbing: QueueHandler capture, failing streams, dictConfig, the filter."""

from __future__ import annotations

import functools
import io
import logging
import logging.config
import logging.handlers
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import orjson
import pytest

import tracelog
from tracelog.stdlib import JsonFormatter, JsonStreamHandler, TraceContextFilter
from tracelog.testing import SpanRecorder


def span_ids(span) -> tuple[str, str]:
    sc = span.get_span_context()
    return format(sc.trace_id, "032x"), format(sc.span_id, "016x")


class TestQueueHandler:
    def test_ids_are_captured_at_the_call(self, recorder) -> None:
        """With the filter on the QueueHandler, the listener thread writes the caller's ids."""
        buffer = io.StringIO()
        q: queue.Queue[logging.LogRecord] = queue.Queue()
        target = JsonStreamHandler(buffer)
        target.setFormatter(JsonFormatter())
        qh = logging.handlers.QueueHandler(q)
        qh.addFilter(TraceContextFilter())
        listener = logging.handlers.QueueListener(q, target)
        logger = logging.getLogger("queued")
        logger.propagate = False
        logger.addHandler(qh)
        logger.setLevel(logging.INFO)
        listener.start()
        try:
            with recorder.tracer.start_as_current_span("op") as span:
                logger.info("queued line", extra={"n": 1})
        finally:
            listener.stop()
            logger.removeHandler(qh)
        line = orjson.loads(buffer.getvalue())
        assert span_ids(span) == (line["traceId"], line["spanId"])
        assert ("checkout", 1) == (line["service"], line["n"])

    def test_without_filter_ids_are_lost_in_listener(self, recorder) -> None:
        """The trap the filter exists for: formatting in the listener sees no span."""
        buffer = io.StringIO()
        q: queue.Queue[logging.LogRecord] = queue.Queue()
        target = JsonStreamHandler(buffer)
        listener = logging.handlers.QueueListener(q, target)
        logger = logging.getLogger("queued2")
        logger.propagate = False
        qh = logging.handlers.QueueHandler(q)
        logger.addHandler(qh)
        listener.start()
        try:
            with recorder.tracer.start_as_current_span("op"):
                logger.warning("lost ids")
        finally:
            listener.stop()
            logger.removeHandler(qh)
        assert "traceId" not in orjson.loads(buffer.getvalue())


class FlakyStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.broken = True

    def write(self, s: str) -> int:
        if self.broken:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(s)


class TestFailingStreams:
    def test_broken_stream_never_raises_and_recovers(self, capfd) -> None:
        """Write errors are reported once, counted, and logging resumes afterwards."""
        stream = FlakyStream()
        tracelog.configure(stream=stream)
        for i in range(5):
            logging.getLogger("x").warning("lost %d", i)
            tracelog.get_logger("y").warning("lost")
        stream.broken = False
        logging.getLogger("x").warning("back")
        err = capfd.readouterr().err
        assert 1 == err.count("cannot write log lines")
        assert "10 line(s) were lost" in err
        assert "back" == orjson.loads(stream.getvalue())["message"]

    def test_closed_stream(self, capfd) -> None:
        """A closed file: no exception in the caller, one diagnostic."""
        stream = io.StringIO()
        tracelog.configure(stream=stream)
        stream.close()
        logging.getLogger("x").warning("into the void")
        logging.getLogger("x").warning("again")
        tracelog.shutdown()
        err = capfd.readouterr().err
        assert 1 == err.count("cannot write log lines")
        assert "2 log line(s)" in err

    def test_closed_real_file(self, tmp_path, capfd) -> None:
        """A closed file with a descriptor is never written through a stale fd."""
        stream = (tmp_path / "out.log").open("w")
        tracelog.configure(stream=stream)
        logging.getLogger("x").warning("written")
        stream.close()
        logging.getLogger("x").warning("not written")
        assert 1 == len((tmp_path / "out.log").read_text().splitlines())
        assert "cannot write log lines" in capfd.readouterr().err

    def test_real_pipe_whose_reader_exits(self) -> None:
        """`app | head -1`: the writer keeps running and exits 0 after EPIPE."""
        code = (
            "import logging, tracelog, sys\n"
            "tracelog.configure(stream='stdout')\n"
            "for i in range(20000): logging.getLogger('x').warning('line %d', i)\n"
            "print('survived', file=sys.stderr)\n"
        )
        proc = subprocess.run(
            f'{sys.executable} -c "{code}" | head -1',
            shell=True,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert "line 0" == orjson.loads(proc.stdout)["message"]
        assert "survived" in proc.stderr
        assert 1 == proc.stderr.count("cannot write log lines")

    def test_dev_full(self, capfd) -> None:
        """ENOSPC on /dev/full is reported once and never raises."""
        if not os.path.exists("/dev/full"):
            pytest.skip("no /dev/full on this system")
        with open("/dev/full", "w") as full:
            tracelog.configure(stream=full)
            for _ in range(3):
                tracelog.get_logger("x").warning("no space")
            tracelog.shutdown()
        err = capfd.readouterr().err
        assert 1 == err.count("No space left on device")
        assert "3 log line(s)" in err


class TestConcurrency:
    def test_threads_never_tear_lines(self, tmp_path, recorder) -> None:
        """8 threads x 500 lines to one file: every line parses, none lost, ids right."""
        path = tmp_path / "out.log"
        with path.open("a") as stream:
            # redact=False: a random 16-hex span id can be all digits and Luhn-valid, which
            # redaction rightly takes for a card number; this test is about ids, not redaction.
            tracelog.configure(stream=stream, redact=False)
            log = tracelog.get_logger("t")

            def work(n: int) -> None:
                with recorder.tracer.start_as_current_span(f"w{n}") as span:
                    _tid, sid = span_ids(span)
                    for i in range(500):
                        if i % 2:
                            log.info("s", worker=n, i=i, expect=sid, pad="p" * 300)
                        else:
                            logging.getLogger("t").info(
                                "l", extra={"worker": n, "i": i, "expect": sid}
                            )

            threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        lines = [orjson.loads(x) for x in path.read_text().splitlines()]
        assert 4000 == len(lines)
        assert all(line["spanId"] == line["expect"] for line in lines)
        assert 4000 == len({(line["worker"], line["i"]) for line in lines})


class TestDictConfig:
    def test_readme_dictconfig_example(self, recorder, capsys) -> None:
        """The docs' dictConfig snippet (frameworks/stdlib.md) works as written."""
        readme = (Path(__file__).parent.parent / "docs/frameworks/stdlib.md").read_text()
        snippet = readme.split("<!-- dictconfig -->")[1].split("```python")[1].split("```")[0]
        namespace: dict[str, object] = {}
        exec(snippet, namespace)  # noqa: S102 - the README's own example
        with recorder.tracer.start_as_current_span("op") as span:
            logging.getLogger("payments").warning("card declined", extra={"order_id": "A-1"})
        line = orjson.loads(capsys.readouterr().out)
        assert span_ids(span) == (line["traceId"], line["spanId"])
        assert ("card declined", "A-1") == (line["message"], line["order_id"])
        logging.getLogger("payments").handlers.clear()
        logging.getLogger("payments").propagate = True  # the snippet turned it off
        logging.getLogger().handlers[:] = [
            h for h in logging.getLogger().handlers if not isinstance(h, JsonStreamHandler)
        ]

    def test_formatter_options(self) -> None:
        """JsonFormatter takes schema options and rejects bad ones at construction."""
        fmt = JsonFormatter(schema="gcp", gcp_project="shop")
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "m", (), None)
        line = orjson.loads(fmt.format(record))
        assert ("ERROR", "m") == (line["severity"], line["message"])
        with pytest.raises(ValueError, match="valid schemas"):
            JsonFormatter(schema="nope")

    def test_non_json_formatter_on_handler(self) -> None:
        """JsonStreamHandler also writes what a plain Formatter makes, one line each."""
        buffer = io.StringIO()
        handler = JsonStreamHandler(buffer)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        handler.handle(logging.LogRecord("x", logging.INFO, __file__, 1, "plain", (), None))
        handler.flush()
        assert "INFO plain\n" == buffer.getvalue()

    def test_set_stream(self) -> None:
        """setStream() moves the sink too."""
        first, second = io.StringIO(), io.StringIO()
        handler = JsonStreamHandler(first)
        handler.setStream(second)
        handler.handle(logging.LogRecord("x", logging.INFO, __file__, 1, "moved", (), None))
        assert ("", "moved") == (first.getvalue(), orjson.loads(second.getvalue())["message"])


class TestStdlibEdges:
    def test_filter_keeps_first_capture(self) -> None:
        """A second filter pass does not overwrite the ids captured at the call."""
        rec = SpanRecorder()
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
        with rec.tracer.start_as_current_span("op"):
            TraceContextFilter().filter(record)
        TraceContextFilter().filter(record)
        line = orjson.loads(JsonFormatter().format(record))
        assert "spanId" in line

    def test_stack_info_and_odd_exc_info(self) -> None:
        """stack_info becomes a field; an exc_info of (None, None, None) is ignored."""
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), (None, None, None))
        record.stack_info = "Stack (most recent call last):\n  here"
        line = orjson.loads(JsonFormatter().format(record))
        assert "exception" not in line
        assert line["stack_info"].startswith("Stack")

    def test_default_formatter_and_format_error(self, capfd) -> None:
        """A handler without formatter writes JSON; a formatter that raises is counted once."""
        buffer = io.StringIO()
        handler = JsonStreamHandler(buffer)
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
        handler.handle(record)
        assert "m" == orjson.loads(buffer.getvalue())["message"]

        class Broken(logging.Formatter):
            def format(self, record: logging.LogRecord) -> str:
                raise RuntimeError("formatter bug")

        handler.setFormatter(Broken())
        handler.handle(record)
        handler.handle(record)
        assert 2 == handler.sink.failed
        assert 1 == capfd.readouterr().err.count("formatter bug")

    def test_rejecting_filter(self) -> None:
        """A filter that rejects keeps the record out."""
        buffer = io.StringIO()
        handler = JsonStreamHandler(buffer)
        handler.addFilter(lambda r: False)
        assert not handler.handle(logging.LogRecord("x", 20, __file__, 1, "m", (), None))
        assert "" == buffer.getvalue()

    def test_flush_failure_is_counted(self) -> None:
        """A text stream whose flush raises goes to the error path."""

        class BadFlush(io.StringIO):
            def flush(self) -> None:
                raise OSError("flush")

        handler = JsonStreamHandler(BadFlush())
        handler.flush()
        assert 1 == handler.sink.failed

    def test_filter_returning_record(self) -> None:
        """A filter may return a replacement record (Python 3.12 protocol)."""
        buffer = io.StringIO()
        handler = JsonStreamHandler(buffer)

        def replace(record: logging.LogRecord) -> logging.LogRecord:
            return logging.LogRecord("other", 20, __file__, 1, "replaced", (), None)

        handler.addFilter(replace)  # type: ignore[arg-type]
        handler.handle(logging.LogRecord("x", 20, __file__, 1, "m", (), None))
        expected = "replaced" if sys.version_info >= (3, 12) else "m"
        assert expected == orjson.loads(buffer.getvalue())["message"]


class TestFormatterOptions:
    def test_static_fields(self) -> None:
        """python-json-logger's static_fields are on every line."""
        fmt = JsonFormatter(static_fields={"env": "prod"})
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
        assert "prod" == orjson.loads(fmt.format(record))["env"]

    @pytest.mark.parametrize(
        "option",
        [
            {"json_indent": 2},
            {"prefix": "x"},
        ],
    )
    def test_layout_changing_options_fail_at_once(self, option) -> None:
        """Options that would change the layout raise TypeError instead of being dropped."""
        with pytest.raises(TypeError, match="does not support"):
            JsonFormatter(**option)

    def test_bad_static_fields(self) -> None:
        """static_fields must be a str-keyed dict."""
        with pytest.raises(TypeError, match="static_fields"):
            JsonFormatter(static_fields=["env"])

    def test_fmt_is_accepted(self) -> None:
        """A dictConfig 'format' string is accepted (tracelog's layout decides the keys)."""
        fmt = JsonFormatter("%(message)s %(levelname)s")
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
        assert "m" == orjson.loads(fmt.format(record))["message"]


class _EarlyRecord(logging.LogRecord):
    """A record class that sets an attribute of its own before LogRecord's."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.tenant = "acme"
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


def user_fields_of(rec: logging.LogRecord) -> dict[str, object]:
    line = orjson.loads(JsonFormatter().format(rec))
    own = {"timestamp", "level", "logger", "message", "service"}
    return {k: v for k, v in line.items() if k not in own}


class TestUserFields:
    def test_extras_in_the_order_given(self) -> None:
        """makeRecord's extra= fields come out in order, and a filter's attribute too."""
        logger = logging.getLogger("fields.order")
        rec = logger.makeRecord(
            "fields.order", logging.INFO, __file__, 1, "m", (), None, extra={"b": 1, "a": 2}
        )
        rec.added_by_filter = "yes"
        assert {"b": 1, "a": 2, "added_by_filter": "yes"} == user_fields_of(rec)
        assert ["b", "a", "added_by_filter"] == list(user_fields_of(rec))

    def test_a_moved_standard_attribute_loses_no_field(self) -> None:
        """A standard attribute deleted and set again (now last) hides no extra field."""
        logger = logging.getLogger("fields.moved")
        rec = logger.makeRecord(
            "fields.moved", logging.INFO, __file__, 1, "m", (), None, extra={"order_id": "A-1"}
        )
        del rec.funcName
        rec.funcName = "handler"
        assert {"order_id": "A-1"} == user_fields_of(rec)

    def test_the_last_standard_attribute_moved_or_gone_loses_no_field(self) -> None:
        """LogRecord's last own attribute set again after the extras, or deleted: no extra
        field is missed and none of its own becomes one."""
        logger = logging.getLogger("fields.last")
        make = functools.partial(
            logger.makeRecord, "fields.last", logging.INFO, __file__, 1, "m", (), None
        )
        last = list(vars(logging.LogRecord("x", logging.INFO, "", 0, "", (), None)))[-1]
        moved = make(extra={"order_id": "A-1", "tenant": "acme"})
        value = getattr(moved, last)
        delattr(moved, last)
        setattr(moved, last, value)
        gone = make(extra={"order_id": "A-2", "tenant": "acme"})
        delattr(gone, last)
        assert ["order_id", "tenant"] == list(user_fields_of(moved))
        assert {"order_id": "A-2", "tenant": "acme"} == user_fields_of(gone)

    def test_attribute_set_before_logrecord_init_is_a_field(self) -> None:
        """A LogRecord subclass's own early attribute is a user field, not skipped."""
        rec = _EarlyRecord("fields.early", logging.INFO, __file__, 1, "m", (), None)
        assert {"tenant": "acme"} == user_fields_of(rec)


class TestFormatterBridgeAttribute:
    def test_bridge_set_after_construction_is_used(self, recorder) -> None:
        """A bridge assigned to formatter.bridge later gets the records, as one given at once."""
        from tracelog.bridge import Bridge

        buffer = io.StringIO()
        handler = JsonStreamHandler(buffer)
        formatter = JsonFormatter()
        handler.setFormatter(formatter)
        logger = logging.getLogger("late.bridge")
        logger.handlers[:] = [handler]
        logger.propagate = False
        logger.setLevel(logging.INFO)
        with recorder.tracer.start_as_current_span("op"):
            logger.info("before")
            formatter.bridge = Bridge()
            logger.info("after", extra={"order_id": "A-1"})
        (span,) = recorder.finished()
        assert ["after"] == [event.name for event in span.events]
        assert "A-1" == span.events[0].attributes["order_id"]
        assert ["before", "after"] == [
            orjson.loads(x)["message"] for x in buffer.getvalue().splitlines()
        ]
