"""Redaction: secret keys at any depth, secret-looking values in any text."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlparse, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracelog
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
            "userPassword",
            "APIKey",
            "sessionID",
            "x_apikey_value",
        ],
    )
    def test_secret_keys(self, key: str) -> None:
        """A key is secret when one of its words (split on -, _, ., camelCase) is listed."""
        assert R.is_secret_key(key)

    @pytest.mark.parametrize(
        "key",
        [
            "order_id",
            "class_name",
            "user",
            "cvvv_total",
            "tokens2",
            "prompt_tokens",
            "completion_tokens",
            "max_tokens",
            "tokenizer",
            "session_count",
            "secretary",
            "cookies_enabled",
            "dbpassword",
        ],
    )
    def test_plain_keys(self, key: str) -> None:
        """Listed words are never matched inside other words; allowed keys pass."""
        assert not R.is_secret_key(key)

    @pytest.mark.parametrize("key", ["session_count", "sessionCount", "SESSION-COUNT"])
    def test_allow_list_is_spelled_like_keys(self, key: str) -> None:
        """An allowed key passes in any spelling; defaults=False drops the allow-list."""
        assert not R.is_secret_key(key)
        assert Redactor(defaults=False, keys=["session"]).is_secret_key(key)

    def test_allow_argument(self) -> None:
        """Redactor(allow=[...]) lets a key through, in fields and in text."""
        r = Redactor(allow=["session_id_hash"])
        assert not r.is_secret_key("sessionIdHash")
        assert r.is_secret_key("session_id")
        assert {"session_id_hash": "ab12", "session_id": REDACTED} == r.fields(
            {"session_id_hash": "ab12", "session_id": "s-1"}
        )
        assert f"session_id_hash=ab12 session_id={REDACTED}" == r.text(
            "session_id_hash=ab12 session_id=s-1"
        )

    @pytest.mark.parametrize("allow", ["session_count", ["-"], [3]])
    def test_bad_allow(self, allow: Any) -> None:
        """allow= must be a list of strings with a letter or digit."""
        with pytest.raises(TypeError, match="allow"):
            Redactor(allow=allow)

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
            ("Authorization: Basic dXNlcjpodW50ZXIy", f"Authorization: {REDACTED}"),
            ("sent basic dXNlcjpodW50ZXIy ok", f"sent basic {REDACTED} ok"),
            ("basic usage of basic auth", "basic usage of basic auth"),
            ("auth BeArEr tok-1", f"auth BeArEr {REDACTED}"),
            ("cache redis://:pw@cache/0", f"cache redis://:{REDACTED}@cache/0"),
            ("mq amqp://:pw@mq/", f"mq amqp://:{REDACTED}@mq/"),
            ("x-api-key: k", f"x-api-key: {REDACTED}"),
            ("X-API-KEY=k", f"X-API-KEY={REDACTED}"),
            ("private-key: k", f"private-key: {REDACTED}"),
            ("api.key=k", f"api.key={REDACTED}"),
            ("userPassword: p1", f"userPassword: {REDACTED}"),
            ('{"api_key": "k1", "ok": "v"}', f'{{"api_key": "{REDACTED}", "ok": "v"}}'),
            ("a=password=x", f"a=password={REDACTED}"),
            ("password:\n  hunter2\nnext: 1", f"password:\n  {REDACTED}\nnext: 1"),
            ("cb?access_token=abc&x=1", f"cb?access_token={REDACTED}&x=1"),
            (
                "prompt_tokens=5 max_tokens: 7 session_count=3 tokenizer=bpe secretary: bob",
                "prompt_tokens=5 max_tokens: 7 session_count=3 tokenizer=bpe secretary: bob",
            ),
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


class Login(NamedTuple):
    user: str
    password: str


class TestIssue17Secrets:
    @pytest.mark.parametrize("queue", [False, True], ids=["direct", "queue"])
    def test_named_tuples_keep_field_names(self, framework, output, queue) -> None:
        """A NamedTuple is an object redacted by its field names; urlparse() results are URLs."""
        out = output(queue=queue)
        emit(
            framework,
            "warning",
            "login",
            creds=Login("bob", "hunter2"),
            db=urlparse("postgresql://app:pw@db/x"),
            cache=urlsplit(b"redis://:pw@cache/0"),
        )
        tracelog.shutdown()  # queue mode: the listener has written the line
        (line,) = out.lines()
        assert {"user": "bob", "password": REDACTED} == line["creds"]
        assert f"postgresql://app:{REDACTED}@db/x" == line["db"]
        assert f"redis://:{REDACTED}@cache/0" == line["cache"]

    @pytest.mark.parametrize("queue", [False, True], ids=["direct", "queue"])
    def test_messages_and_exceptions(self, framework, output, queue) -> None:
        """The free-text rules apply to the message and the exception text."""
        out = output(queue=queue)
        text = "Authorization: Basic dXNlcjpodW50ZXIy x-api-key: k1 url amqp://:pw2@mq/"
        try:
            raise ValueError(text)  # noqa: TRY301
        except ValueError:
            emit(framework, "error", text, exc_info=True)
        tracelog.shutdown()
        (line,) = out.lines()
        expected = f"Authorization: {REDACTED} x-api-key: {REDACTED} url amqp://:{REDACTED}@mq/"
        assert (expected, expected) == (line["message"], line["exception"]["message"])
        assert not {"dXNlcjpodW50ZXIy", "k1", "pw2"} & set(re.split(r"[\s:@/]", str(line)))

    def test_ordinary_fields_survive(self, framework, output) -> None:
        """Counts and flags whose keys merely resemble secrets are written as they are."""
        out = output()
        fields = {
            "prompt_tokens": 12,
            "completion_tokens": 30,
            "max_tokens": 512,
            "tokenizer": "bpe",
            "session_count": 3,
            "secretary": "Ann",
            "cookies_enabled": True,
        }
        emit(framework, "info", "usage", **fields)
        (line,) = out.lines()
        assert fields == {k: line[k] for k in fields}

    @settings(max_examples=60, deadline=None)
    @given(
        word=st.sampled_from([*KEY_WORDS, "private_key", "client_secret", "passwd"]),
        style=st.integers(0, 4),
        sep=st.sampled_from(["=", ": ", ":", " = ", "\t:\t"]),
        before=st.text(alphabet=" ,;&?(", min_size=1, max_size=3),
        value=st.from_regex(r"[A-Za-z0-9_./+-]{1,24}", fullmatch=True),
    )
    def test_pairs_in_text_never_leak(self, word, style, sep, before, value) -> None:
        """A listed key in any spelling, with = or :, loses its value in free text."""
        parts = word.split("_")
        key = (
            parts[0] + "".join(p.capitalize() for p in parts[1:])
            if style == 4
            else spelled(word, style)
        )
        text = f"msg{before}{key}{sep}{value} tail"
        assert f"msg{before}{key}{sep}{REDACTED} tail" == R.text(text)

    def test_tuple_that_cannot_be_walked(self) -> None:
        """A tuple whose iteration fails is redacted as its repr."""

        class Odd(tuple[str, ...]):
            __slots__ = ()

            def __iter__(self) -> Any:
                raise RuntimeError

            def __repr__(self) -> str:
                return "Odd password=hunter2"

        assert f"Odd password={REDACTED}" == R.value([Odd()])[0]

    def test_named_tuple_in_span_event(self, framework, recorder, output) -> None:
        """The span event's attribute is redacted by field name too."""
        output(span_events=True)
        with recorder.tracer.start_as_current_span("op"):
            emit(framework, "info", "login", creds=Login("bob", "hunter2"))
        (span,) = recorder.finished()
        (event,) = span.events
        assert "hunter2" not in str(event.attributes["creds"])
        assert "bob" in str(event.attributes["creds"])
