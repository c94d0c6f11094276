"""The one event path (tracelog._event): every output of a call gets the same redacted data."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

import tracelog
from tests.conftest import emit
from tracelog import _render as render
from tracelog._event import Scrubber
from tracelog.redact import Redactor
from tracelog.web import TraceContextMiddleware


class SecretRepr:
    """An object whose only text is a repr holding a secret."""

    def __repr__(self) -> str:
        return "SecretRepr(password=hunter2)"


class SecretStr:
    """An object with a custom __str__ holding a password (and a harmless repr)."""

    def __str__(self) -> str:
        return "hunter2"

    def __repr__(self) -> str:
        return "SecretStr()"


@dataclass
class Login:
    user: str
    password: str


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


class NotAString:
    def __repr__(self) -> Any:
        return 42


def deep(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels):
        value = [value]
    return value


HOSTILE: dict[str, Any] = {
    "note": "call me: token=abc123 and Authorization: Bearer s3cr3t",
    "nested": {"api_key": "k-1", "ok": [1, "password=pw", {"secret": "x"}]},
    "obj": SecretRepr(),
    "custom_str": SecretStr(),
    "login": Login("bob", "hunter2"),
    "raw": b"password=bytes-secret",
    "big": 2**70,
    "broken": BadRepr(),
    "deep": deep(100),
}
EXC_TEXT = "charge failed for card 4111 1111 1111 1111 with password=hunter2"


def nesting(value: Any) -> tuple[int, Any]:
    """How many single-item lists wrap the innermost value, and that value."""
    levels = 0
    while isinstance(value, list) and value:
        value, levels = value[0], levels + 1
    return levels, value


def attribute_as_json(value: Any) -> Any:
    """An OTel attribute read back as the JSON value the line holds for it."""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, str) and value[:1] in "[{":
        return orjson.loads(value)
    return value


class TestOneEventPath:
    def test_hostile_values_are_the_same_on_all_four_outputs(
        self, framework, recorder, log_recorder, output
    ) -> None:
        """The JSON line, span event, OTel log record and server span agree on every value."""
        redactor = Redactor(keys=["tenant"])
        out = output(
            span_events=True,
            otel_logs=True,
            logger_provider=log_recorder.provider,
            redact=redactor,
        )
        try:
            raise ValueError(EXC_TEXT + " tenant=acme")  # noqa: TRY301
        except ValueError:
            with recorder.tracer.start_as_current_span("op"):
                emit(framework, "error", "hostile token=abc123", exc_info=True, **HOSTILE)

        def failing(environ: Any, start: Any) -> list[bytes]:
            raise ValueError(EXC_TEXT + " tenant=acme")

        app = TraceContextMiddleware(failing, tracer_provider=recorder.provider)
        with pytest.raises(ValueError, match="card"):
            app({"REQUEST_METHOD": "GET", "PATH_INFO": "/pay"}, lambda *a: None)

        (line,) = out.lines()
        op, server = recorder.finished()
        (record,) = log_recorder.records()
        (event,) = [e for e in op.events if e.name != "exception"]
        event_attrs, record_attrs = dict(event.attributes), dict(record.attributes)
        for key in HOSTILE:
            expected = line[key]
            assert expected == attribute_as_json(event_attrs[key]), key
            assert expected == attribute_as_json(record_attrs[key]), key
        assert "hostile token=[REDACTED]" == line["message"] == record.body == event.name
        # The same exception text everywhere: the line, the span's exception event, the
        # log record, and the middleware's server span (all with the configured Redactor).
        message = line["exception"]["message"]
        (op_exc,) = [e for e in op.events if e.name == "exception"]
        (server_exc,) = [e for e in server.events if e.name == "exception"]
        assert message == op_exc.attributes["exception.message"]
        assert message == record_attrs["exception.message"]
        assert message == server_exc.attributes["exception.message"]
        assert "tenant=[REDACTED]" in message
        assert "hunter2" not in orjson.dumps([line, event_attrs, record_attrs]).decode()
        assert "4111" not in message

    def test_hostile_values_become_safe_text(self, framework, output) -> None:
        """Objects that redact, raise or nest too deep still give a line with safe text."""
        out = output()
        emit(framework, "warning", "w", **HOSTILE)
        (line,) = out.lines()
        assert line["obj"].startswith("SecretRepr(password=[REDACTED]")
        assert "SecretStr()" == line["custom_str"]
        assert {"user": "bob", "password": "[REDACTED]"} == line["login"]
        assert "password=[REDACTED]" == line["raw"]
        assert str(2**70) == line["big"]
        assert "<unrepresentable BadRepr object>" == line["broken"]
        assert (32, "[depth limit 32]") == nesting(line["deep"])


class TestMessages:
    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            ((BadRepr(),), "<unrepresentable BadRepr object>"),
            ((NotAString(),), "<unrepresentable NotAString object>"),
            ((SecretStr(),), "hunter2"),
        ],
    )
    def test_bad_arguments_are_safe(self, framework, output, args, expected) -> None:
        """A %s argument whose str/repr raises or returns a non-string still gives a line."""
        out = output(redact=False)
        if framework == "stdlib":
            logging.getLogger("app").warning("value: %s", *args)
        else:
            tracelog.get_logger("app").warning("value: %s", *args)
        (line,) = out.lines()
        assert f"value: {expected}" == line["message"]

    def test_deep_argument_does_not_raise(self, framework, output) -> None:
        """A %r argument nested 100,000 deep gives a line with a placeholder, never raises."""
        out = output()
        value = deep(100_000)
        if framework == "stdlib":
            logging.getLogger("app").warning("value: %r", value)
        else:
            tracelog.get_logger("app").warning("value: %r", value)
        (line,) = out.lines()
        assert "value: <unrepresentable list object>" == line["message"]

    def test_both_frameworks_say_the_same_about_a_bad_format(self, output) -> None:
        """A %-format that fails reads the same from stdlib and structlog."""
        out = output()
        logging.getLogger("app").warning("bad %d", "x")
        tracelog.get_logger("app").warning("bad %d", "x")
        first, second = out.lines()
        assert "'bad %d' % ('x',) (format failed: TypeError)" == first["message"]
        assert first["message"] == second["message"]

    def test_format_percent_never_raises(self) -> None:
        """format_percent: no args is the template; a mapping argument formats by name."""
        assert "plain" == render.format_percent("plain", ())
        assert "a=1" == render.format_percent("a=%(a)s", {"a": 1})
        assert "<unrepresentable BadRepr object>" == render.format_percent(BadRepr(), None)

    def test_queue_mode_prints_no_traceback(self) -> None:
        """Queue mode: a hostile argument gives its line and no "--- Logging error ---"."""
        code = textwrap.dedent(
            """
            import logging, tracelog

            class Bad:
                def __repr__(self):
                    raise RuntimeError("no")
                __str__ = __repr__

            tracelog.configure(queue=True, stream="stdout")
            for _ in range(3):
                logging.getLogger("app").warning("v %s %r", Bad(), Bad())
            tracelog.shutdown()
            """
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
        lines = [orjson.loads(line) for line in done.stdout.splitlines()]
        expected = "v <unrepresentable Bad object> <unrepresentable Bad object>"
        assert [expected] * 3 == [line["message"] for line in lines]
        assert "Logging error" not in done.stderr


class TestScrubber:
    def test_reserved_and_repeated_keys_move_aside(self) -> None:
        """A field named like an output's own key keeps its value under user.<name>."""
        out = Scrubber(None).fields_into({"message": "m"}, {"message": "x", 1: "one"}, frozenset())
        assert {"message": "m", "user.message": "x", "1": "one"} == out

    def test_exception_is_described_once(self) -> None:
        """(type, message, stack) with the module-qualified type and redacted text."""
        try:
            raise KeyError("token=abc")  # noqa: TRY301
        except KeyError as exc:
            type_, text, stack = Scrubber(Redactor()).exception((KeyError, exc, exc.__traceback__))
        assert ("KeyError", "'token=[REDACTED]'") == (type_, text)
        assert stack.endswith("KeyError: 'token=[REDACTED]'")

    def test_json_text_matches_the_line(self) -> None:
        """render.json_text is the line's JSON for a value (used for span attributes)."""
        value = {"a": [1, "b"], "c": float("nan")}
        assert orjson.loads(render.json_text(value)) == {"a": [1, "b"], "c": "NaN"}
