"""The fold gate: one pass that lets the card and pair-key rules run only where they could match."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_redact_gates import every_rule

from tracelog import redact
from tracelog.redact import REDACTED, Redactor

# Plain pairs, times and URLs: a separator on every few words, as in rows.py's values.
PLAIN = "request handled at 10:32:07 status=200 https://shop.example/cart?id=7 took=12ms "


class TestFold:
    def test_fold_spelling(self) -> None:
        """Letters are lowercased, digits become 0, spaces and key gaps go, the rest stays."""
        assert b"apikey=0000:x/y" == redact._fold("Api_Key = 12.3-4: X/y")

    @pytest.mark.parametrize(
        "key",
        ["pass_word", "Api.Key", "PRIVATE-KEY", "CARD_Number", "X-Auth-Token", "sessionId"],
    )
    def test_split_and_cased_keys_in_long_text(self, key: str) -> None:
        """A secret key spelt with gaps or in any case is found among many plain pairs."""
        text = PLAIN * 40 + f"{key}=hunter2 " + PLAIN
        expected = PLAIN * 40 + f"{key}={REDACTED} " + PLAIN
        assert expected == Redactor().text(text)

    @pytest.mark.parametrize("key", ["password", "passwd", "passphrase", "creditcard"])
    def test_each_word_of_a_shared_stretch(self, key: str) -> None:
        """Every listed word behind one shared search ("pass", "card") is still found."""
        text = PLAIN * 10 + f"{key}: s3cret"
        assert PLAIN * 10 + f"{key}: {REDACTED}" == Redactor().text(text)

    def test_shared_stretch_alone_is_not_a_secret(self) -> None:
        """A text holding "pass" and "card" but no listed word keeps its pairs."""
        text = PLAIN * 10 + "passes=3 cardinal=red"
        assert text == Redactor().text(text)

    def test_custom_key_with_digits(self) -> None:
        """A listed word with digits is searched in the fold's spelling (digits as 0)."""
        r = Redactor(keys=["pin2"])
        text = PLAIN * 10 + "PIN_2=1234 pin3=5678"
        assert PLAIN * 10 + f"PIN_2={REDACTED} pin3=5678" == r.text(text)

    @pytest.mark.parametrize(
        ("card", "redacted"),
        [
            ("5555-5555-5555-4444", True),
            ("5555 5555 5555 4444", True),
            ("5555.5555.5555.4444", False),
        ],
    )
    def test_card_among_separators(self, card: str, redacted: bool) -> None:
        """A card number in a text with separators is found; dots do not make one."""
        text = PLAIN * 10 + f"card {card} end"
        expected = PLAIN * 10 + f"card {REDACTED if redacted else card} end"
        assert expected == Redactor().text(text)

    @pytest.mark.parametrize("card", ["5555 5555 5555 4444", "5555 5555 5555 4445"])
    def test_long_digits_without_separators(self, card: str) -> None:
        """A long text of many digits and no separator finds a card as every rule does."""
        text = "order 12 34 56 78 " * 200 + f"card {card} end"
        r = Redactor()
        assert every_rule(r, text) == r.text(text)
        assert (REDACTED in r.text(text)) == card.endswith("4444")

    def test_needles_group_shared_stretches(self) -> None:
        """Listed words sharing four letters are searched once; the others one by one."""
        needles = {
            needle: tuple(search.__self__.pattern for search in group)  # type: ignore[attr-defined]
            for _rare, _second, needle, _search, group in Redactor()._needles
        }
        assert (b"passphrase", b"passwd", b"password") == needles[b"pass"]
        assert (b"cardnumber", b"creditcard") == needles[b"card"]
        assert () == needles[b"token"]

    @pytest.mark.parametrize("count", [8, 100], ids=["grouped", "past the grouping"])
    def test_many_custom_keys(self, count: int) -> None:
        """Each of many custom keys sharing a stretch is found, however many there are."""
        keys = [f"vault{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(count)]
        r = Redactor(keys=keys, defaults=False)
        for key in (keys[0], keys[-1]):
            text = PLAIN * 10 + f"{key.upper()}=v4lue vaultzz=plain"
            assert PLAIN * 10 + f"{key.upper()}={REDACTED} vaultzz=plain" == r.text(text)

    def test_no_listed_words(self) -> None:
        """With no listed words, pairs are never judged, however many separators."""
        text = PLAIN * 10 + "password=x"
        assert text == Redactor(defaults=False).text(text)

    @settings(max_examples=300, deadline=None)
    @given(
        word=st.sampled_from([*redact.DEFAULT_KEYS, "pin2"]),
        data=st.data(),
        sep=st.sampled_from(["=", ":", ": ", "'='", '" : ']),
        repeat=st.integers(1, 30),
    )
    def test_same_answer_as_every_rule(
        self, word: str, data: st.DataObject, sep: str, repeat: int
    ) -> None:
        """A listed word in any case, with gaps anywhere, redacts as with every rule run."""
        spelt = "".join(
            data.draw(st.sampled_from([c.lower(), c.upper()]))
            + data.draw(st.sampled_from(["", "", "_", ".", "-"]))
            for c in word
        )
        r = Redactor(keys=["pin2"])
        text = PLAIN * repeat + f"{spelt}{sep}v4lue " + PLAIN
        assert every_rule(r, text) == r.text(text)
