"""Redaction's cheap gates: skipping a rule never changes what a text becomes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracelog import redact
from tracelog.redact import REDACTED, Redactor

CARD = "5555 5555 5555 4444"


def every_rule(r: Redactor, text: str) -> str:
    """What Redactor.text gives with no gates: the scan test by regex, then every rule."""
    needs_scan = (
        "=" in text
        or ":" in text
        or "eyJ" in text
        or "AKIA" in text
        or "ASIA" in text
        or redact._CREDENTIAL_HINT.search(text) is not None
        or redact._DIGIT_RUN.search(text) is not None
    )
    if not needs_scan:
        return text
    out = text
    for pattern, repl, _gate in r._value_rules:
        out = pattern.sub(repl, out)
    if "=" in out or ":" in out:
        out = r._pairs(out)
    return out


PIECES = [
    *("password", "apiKey", "x_apikey_value", "session", "token", "secretary", "pwd", "ssn"),
    *("_", "-", ".", " ", "\t", "\n", "=", ":", ": ", "'", '"', "&", "?", ",", "@", "://"),
    *("bearer ", "BeArEr ", "basic ", "Basic dXNlcjpodW50ZXIy", "b", "B", "asic", "earer"),
    *("eyJ", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "AKIA", "AKIAIOSFODNN7EXAMPLE"),
    *("ASIA", CARD, "4111-1111", "0", "1", "7", "12345678", "redis://:pw@h/", "https://"),
    *("x", "abc", "é", "\u017f", "\u212a", "\u0661\u0662"),
]


class TestGates:
    @settings(max_examples=300, deadline=None)
    @given(
        parts=st.lists(st.sampled_from(PIECES), min_size=1, max_size=30),
        repeat=st.integers(1, 30),
        which=st.sampled_from(["default", "custom keys", "odd replacement", "non-ASCII"]),
    )
    def test_same_answer_as_every_rule(self, parts, repeat, which) -> None:
        """Any text, short or repeated past the sparse limits, redacts as with every rule run."""
        r = {
            "default": Redactor(),
            "custom keys": Redactor(keys=["pin", "key2"]),
            "odd replacement": Redactor(replacement="token=x ://@ eyJ"),
            "non-ASCII": Redactor(replacement="\u00e9"),
        }[which]
        text = "".join(parts) * repeat
        assert every_rule(r, text) == r.text(text)

    @pytest.mark.parametrize(
        "before",
        ["", "id 12 34 56 " * 20, "x" * 40_000, "n 1-2-3 " * 100],
        ids=["alone", "many digits", "long", "many dashes"],
    )
    def test_card_among_digits(self, before: str) -> None:
        """A card number is found however many other digits the text holds."""
        assert f"{before}card {REDACTED} end" == Redactor().text(f"{before}card {CARD} end")

    def test_credential_after_many_bs(self) -> None:
        """A Bearer credential after more b's than the gate checks one by one is found."""
        text = "bob babbles " * 10 + "auth BeArEr tok-1"
        assert "bob babbles " * 10 + f"auth BeArEr {REDACTED}" == Redactor().text(text)

    def test_secret_pair_among_many_pairs(self) -> None:
        """One secret pair among thousands of plain ones is redacted; the rest stay."""
        text = "status=200 at 10:32:07 " * 1000 + "userPassword: hunter2 end"
        expected = "status=200 at 10:32:07 " * 1000 + f"userPassword: {REDACTED} end"
        assert expected == Redactor().text(text)

    def test_plain_pairs_stay(self) -> None:
        """A long text of plain pairs, times and URLs comes back unchanged."""
        text = "status=200 took=12ms at 10:32:07 https://shop.example/cart?id=7 " * 500
        assert text == Redactor().text(text)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("auth ba\u017fic dXNlcjpodW50ZXIy", f"auth ba\u017fic {REDACTED}"),
            ("caf\u00e9 Bearer abc", f"caf\u00e9 Bearer {REDACTED}"),
        ],
    )
    def test_non_ascii_takes_every_rule(self, text: str, expected: str) -> None:
        """Text outside ASCII, where case folding is wider, skips no rule."""
        assert expected == Redactor().text(text)

    @pytest.mark.parametrize("before", ["", "x" * 300], ids=["short", "long"])
    def test_scan_test_still_decides(self, before: str) -> None:
        """Spaced digits with no 4-digit group are not scanned, as before the gates."""
        text = before + "n 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1"
        assert text == Redactor().text(text)

    def test_replacement_outside_ascii(self) -> None:
        """After a non-ASCII replacement the later rules still run."""
        r = Redactor(replacement="\u00e9")
        assert "Bearer \u00e9 \u00e9" == r.text("Bearer abc AKIAIOSFODNN7EXAMPLE")
