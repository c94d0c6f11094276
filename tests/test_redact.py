"""Redaction: secret keys at any depth, secret-looking values in any text."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import emit
from tracelog.redact import REDACTED, Redactor
from tracelog.schemas import SCHEMA_NAMES

R = Redactor()


class TestKeys:
    @pytest.mark.parametrize(
        "key",
        [
            "password",
            "X-Api-Key",
            "db_password",
            "sessionid",
            "Authorization",
            "set-cookie",
            "refresh_token",
            "client.secret",
            "CREDIT_CARD",
            "user_ssn",
            "cvv",
            "PWD",
        ],
    )
    def test_secret_keys(self, key: str) -> None:
        """Listed words match case-insensitively with -, _ and . ignored, by containment."""
        assert R.is_secret_key(key)

    @pytest.mark.parametrize("key", ["order_id", "class_name", "user", "cvvv_total", "tokens2"])
    def test_plain_keys(self, key: str) -> None:
        """Short words (ssn, cvv, pwd) must be a whole word of the key."""
        expected = key == "tokens2"  # contains "token": long words match by containment
        assert expected == R.is_secret_key(key)

    def test_nested(self) -> None:
        """Secret keys are found at any depth in dicts and lists; the key stays."""
        value = {"a": [{"password": "p1"}, {"b": {"api_key": "k1", "ok": "fine"}}]}
        assert {"a": [{"password": REDACTED}, {"b": {"api_key": REDACTED, "ok": "fine"}}]} == (
            R.value(value)
        )


class TestValues:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("auth Bearer abc.def-ghi", f"auth Bearer {REDACTED}"),
            ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-abc ok", f"jwt {REDACTED} ok"),
            ("key AKIAIOSFODNN7EXAMPLE used", f"key {REDACTED} used"),
            ("card 4111 1111 1111 1111 charged", f"card {REDACTED} charged"),
            ("card 4111-1111-1111-1111", f"card {REDACTED}"),
            ("order 4111111111111112 (not luhn)", "order 4111111111111112 (not luhn)"),
            ("db postgres://app:s3cr3t@db:5432/x", f"db postgres://app:{REDACTED}@db:5432/x"),
            ("login password=hunter2 ok", f"login password={REDACTED} ok"),
            ("token: abc123", f"token: {REDACTED}"),
            ("plain text, nothing here", "plain text, nothing here"),
            ("trace 656500170000000e36fbefaa70d46b4a", "trace 656500170000000e36fbefaa70d46b4a"),
        ],
    )
    def test_patterns(self, text: str, expected: str) -> None:
        """Each pattern is replaced in place, keeping the text around it."""
        assert expected == R.text(text)
        assert expected == R.text(text)  # the clean-string memo gives the same answer

    def test_custom_keys_and_patterns(self) -> None:
        """Extra keys and patterns apply on top of the defaults."""
        r = Redactor(keys=["order_secret_ref", "pin"], patterns=[r"ORD-\d+"])
        assert r.is_secret_key("PIN")
        assert f"id {REDACTED}" == r.text("id ORD-991")

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"keys": "password"}, TypeError),
            ({"keys": [3]}, TypeError),
            ({"patterns": ["("]}, ValueError),
            ({"patterns": [3]}, TypeError),
            ({"replacement": 1}, TypeError),
        ],
    )
    def test_bad_config(self, kwargs: dict[str, Any], error: type[Exception]) -> None:
        """Bad rules fail at construction."""
        with pytest.raises(error):
            Redactor(**kwargs)

    def test_defaults_off(self) -> None:
        """defaults=False keeps only what was given."""
        r = Redactor(defaults=False, keys=["pin"])
        assert not r.is_secret_key("password")
        assert "Bearer abc" == r.text("Bearer abc")

    def test_circular_and_deep(self) -> None:
        """A self-referencing or very deep value never raises."""
        d: dict[str, Any] = {}
        d["d"] = d
        assert {"d": "[circular]"} == R.value(d)
        deep: Any = "x"
        for _ in range(100):
            deep = [deep]
        assert R.value(deep) is not None


SECRET = "Zq9sEcReTvAlUe"
KEY_WORDS = ["password", "api_key", "token", "secret", "authorization", "session", "cookie"]


def spelled(word: str, style: int) -> str:
    parts = word.split("_")
    if style == 0:
        return word.upper()
    if style == 1:
        return "-".join(p.capitalize() for p in parts)
    if style == 2:
        return "db." + word
    return "x_" + word.replace("_", "") + "_value"


@st.composite
def planted(draw: st.DrawFn) -> dict[str, Any]:
    key = spelled(draw(st.sampled_from(KEY_WORDS)), draw(st.integers(0, 3)))
    value: Any = {key: SECRET}
    for _ in range(draw(st.integers(0, 6))):
        wrap = draw(st.integers(0, 1))
        value = [value] if wrap else {draw(st.sampled_from(["a", "b", "data"])): value}
    return {"payload": value}


class TestNeverLeaks:
    @settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(
        fields=planted(),
        schema=st.sampled_from(SCHEMA_NAMES),
        framework=st.sampled_from(["stdlib", "structlog"]),
    )
    def test_planted_secret_never_in_output(self, output, fields, schema, framework) -> None:
        """A secret under a secret key at any depth appears in no layout's output."""
        out = output(schema=schema, gcp_project="p")
        emit(framework, "warning", "event", **fields)
        emit(framework, "warning", f"password={SECRET}")
        raw = out.buffer.getvalue()
        assert 2 == len(out.raw())
        assert SECRET not in raw
        assert re.search(r"\[REDACTED\]", raw)


@dataclasses.dataclass
class Creds:
    user: str
    password: str


class Request:
    def __repr__(self) -> str:
        return "Req(headers={'Authorization': 'Bearer abc.def.ghi'})"


class TestReviewFindings:
    @pytest.mark.parametrize(
        ("value", "secret"),
        [
            (Creds("bob", "hunter2"), "hunter2"),
            (b"password=hunter2", "hunter2"),
            ({"token=s3cr3t"}, "s3cr3t"),
            (Request(), "abc.def.ghi"),
            (("x", {"api_key": "k-9"}), "k-9"),
        ],
    )
    def test_secrets_inside_any_value(self, framework, output, value, secret) -> None:
        """Dataclasses, bytes, sets and reprs are redacted after they become JSON."""
        out = output()
        emit(framework, "warning", "m", v=value)
        raw = out.buffer.getvalue()
        assert secret not in raw
        assert "[REDACTED]" in raw

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("classname=OrderService", "classname=OrderService"),
            ("pwd=x1", f"pwd={REDACTED}"),
            ("ssn_last4: 1234", f"ssn_last4: {REDACTED}"),
            ("pwdfile=/etc/x", "pwdfile=/etc/x"),
        ],
    )
    def test_short_words_stand_alone_in_text(self, text, expected) -> None:
        """pwd/cvv/ssn pairs are redacted only as whole words, as for keys."""
        assert expected == R.text(text)

    def test_long_text_is_linear(self) -> None:
        """A megabyte with a ':' and no URL finishes (the URL rule was quadratic)."""
        code = (
            "from tracelog.redact import Redactor\n"
            "r = Redactor()\n"
            "print(len(r.text('ValueError: ' + 'x' * 1_000_000)))\n"
            "print(len(r.text('a' * 500_000 + '://' + 'b' * 500_000)))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        ).stdout.split()
        assert ["1000012", "1000003"] == out

    def test_huge_exception_is_cut(self, framework, output) -> None:
        """A 10 MB exception message gives a line of bounded size, the stack's end kept."""
        out = output()
        try:
            raise ValueError("password=hunter2 " + "x" * 10_000_000)  # noqa: TRY301
        except ValueError:
            emit(framework, "error", "failed", exc_info=True)
        raw = out.buffer.getvalue()
        assert len(raw) < 3 * 65536
        exc = json.loads(raw)["exception"]
        assert exc["message"].endswith("chars]")
        assert exc["stacktrace"].startswith("[truncated ")
        assert "hunter2" not in raw


class Exploding(Mapping[str, Any]):
    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("cannot iterate")

    def __len__(self) -> int:
        return 1


class TestRedactorEdges:
    def test_unwalkable_value(self) -> None:
        """A mapping that raises while walked becomes the placeholder."""
        assert "[REDACTED]" == Redactor().value(Exploding())

    def test_compiled_pattern_and_non_str_keys(self) -> None:
        """Compiled patterns are accepted; non-str keys are walked, not matched."""
        import re

        r = Redactor(patterns=[re.compile(r"ORD-\d+")])
        assert {1: "[REDACTED]"} == r.value({1: "ORD-1"})

    def test_no_words_at_all(self) -> None:
        """With defaults off and no keys, only patterns apply."""
        r = Redactor(defaults=False, patterns=[r"x+"])
        assert "a [REDACTED] b" == r.text("a xxx b")
        assert not r.is_secret_key("password")

    def test_key_cache_is_bounded(self, monkeypatch) -> None:
        """The key cache is cleared when full rather than growing without bound."""
        from tracelog import redact

        monkeypatch.setattr(redact, "_KEY_CACHE_LIMIT", 3)
        monkeypatch.setattr(redact, "_CLEAN_LIMIT", 3)
        r = Redactor()
        for i in range(10):
            r.is_secret_key(f"k{i}")
            r.text(f"text {i}")
        assert len(r._key_cache) <= 3
        assert len(r._clean) <= 3
