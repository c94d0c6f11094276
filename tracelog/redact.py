"""Secrets out of log lines, on by default.

Rules are compiled once, in :class:`Redactor`'s constructor; the per-line work is a dict
lookup per key and, per string, cheap gates (one-character searches first) that let
through only the rules that could match, so a long clean value is never run through a
regex. Redaction is a pure mapping -> mapping step and never raises: a value it cannot
inspect becomes a placeholder.

A key is secret when one of its *words* is a listed word. Keys are split into words on
``-``, ``_``, ``.``, spaces and camelCase (``X-Api-Key`` -> x, api, key); a listed entry
is compared with runs of consecutive words joined together, so the listed ``api_key``
matches ``X-Api-Key``, ``apiKey`` and ``APIKEY`` alike, and compounds such as
``sessionid`` count as one word. Words are never matched inside other words:
``prompt_tokens``, ``tokenizer`` and ``secretary`` are not secrets. A short allow-list
(:data:`DEFAULT_ALLOW`, extended with ``allow=``) lets through whole keys that contain a
listed word but hold no secret (``session_count``). ``key=value`` and ``key: value``
pairs in free text are judged by the same rule.
"""

from __future__ import annotations

import binascii
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from tracelog._render import MAX_DEPTH, coerce

__all__ = ["DEFAULT_ALLOW", "DEFAULT_KEYS", "REDACTED", "Redactor"]

REDACTED = "[REDACTED]"

DEFAULT_KEYS: tuple[str, ...] = (
    "password", "passwd", "pwd", "passphrase", "secret", "token", "access_token",
    "refresh_token", "auth_token", "api_key", "apikey", "authorization", "cookie",
    "set-cookie", "session", "sessionid", "private_key", "client_secret", "credit_card",
    "card_number", "cvv", "ssn",
)  # fmt: skip

# Whole keys that contain a listed word but name a count, a duration or a kind.
DEFAULT_ALLOW: tuple[str, ...] = (
    "session_count", "session_duration", "session_timeout", "token_count", "token_type",
)  # fmt: skip

_WORDS_OF_KEY = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# "key=value" / "key: value" in text: a key starts where a run of key characters starts
# (each run is tried once, which keeps the scan linear), optionally closed by a quote.
_PAIR = re.compile(
    r"(?<![\w.-])([A-Za-z][\w.-]*)([\"']?[ \t]*[=:]\s*)"
    r"(\"[^\"]*\"|'[^']*'|(?i:(?:bearer|basic|digest)[ \t]+)?[^\s,;&\"']+)"
)
_CREDENTIAL_HINT = re.compile(r"(?i)b(?:earer|asic)\s")
_KEY_CACHE_LIMIT = 10_000
_CLEAN_LIMIT = 4096
_CLEAN_MAX_LEN = 256
_DIGIT_RUN = re.compile(r"\d{4}[ -]?\d{4}")

# The per-string gates below only ever answer "no rule can match here" for ASCII text,
# where each regex class is a plain byte set; other text takes every rule (as before).
# str.find / ``in`` with one character is memchr, the only per-character work Python
# does at memory speed; anything that looks at each character (regex, translate,
# lower) costs 30-100x more. So each gate starts from single characters and only
# counts, translates or runs a regex once those say a rule might match.
_DIGITS = "0123456789"
# Digits found one at a time with find() before one pass over the whole text is cheaper.
_SPARSE = 16
_DENSE_BELOW = 2048
_ASCII_DIGIT_CLASS = bytes(
    48 if 48 <= c <= 57 else c if c in b" -" else 120 for c in range(256)
)  # digits -> "0", " " and "-" kept, anything else -> "x"
# The fold: one translate pass over ASCII text that serves every gate needing more than
# one-character searches. Letters are lowercased and digits become "0"; " ", "-", "_"
# and "." are dropped. A secret key's words, joined, then stand together (keys are runs
# of letters, digits, "_", "." and "-"), and so do a card's 13 digits (spaced by " " or
# "-"): each gate is a substring search in the fold.
_FOLD = bytes(
    c + 32 if 65 <= c <= 90 else 48 if 48 <= c <= 57 else c for c in range(256)
)  # fmt: skip
_FOLD_DROP = b" -_."
_FOLD_CARD = b"0" * 13
# Listed words are found through shared stretches this long ("pass" for password,
# passwd and passphrase): one search rules out the whole group. Shorter stretches
# ("ion", "key") stand in common words too often to rule much out.
_SHARED = 4
_GROUPS_MAX = 8
_GROUPS_AMONG = 64
# The last text _digit_shape judged, with its answer and whether the digit run was
# looked for: the scan asks about the same text twice (does it need a scan, could a
# card rule match). Held, the text cannot be freed, so its id cannot be reused by
# another string while it is here.
_SHAPE_MEMO: list[tuple[str, tuple[bool, bool], bool]] = [("", (False, False), True)]
_LETTERS_BY_RARITY = "zqxjkvbpygfwmucldrhsnioate"


def _joined(key: str) -> str:
    """*key*'s words, lowercased and joined: the form listed and allowed keys compare in."""
    return "".join(_WORDS_OF_KEY.findall(key)).lower()


def _digit_shape(text: str, *, run: bool = True) -> tuple[bool, bool]:
    """For ASCII *text*: whether ``_DIGIT_RUN`` matches (looked for only if *run*, else
    False), and whether 13 digits stand close enough together to be a card number."""
    last = _SHAPE_MEMO[0]
    if last[0] is text and (last[2] or not run):
        return last[1]
    # Short text: one pass costs less than a find() per digit.
    if len(text) < _DENSE_BELOW:
        shape = _dense_digit_shape(text, run=run)
    else:
        shape = _sparse_digit_shape(text, run=run)
    _SHAPE_MEMO[0] = (text, shape, run)
    return shape


def _sparse_digit_shape(text: str, *, run: bool = True) -> tuple[bool, bool]:
    find = text.find
    positions: list[int] = []
    for digit in _DIGITS:
        at = find(digit)
        while at >= 0:
            if len(positions) == _SPARSE:
                return _dense_digit_shape(text, run=run)
            positions.append(at)
            at = find(digit, at + 1)
    # A digit run needs 8 digits, a card 13.
    if len(positions) < (8 if run else 13):
        return False, False
    positions.sort()
    found = card = False
    start = prev = positions[0]
    count = 0
    # Both patterns allow at most one character between two digits, so neither spans
    # a gap of two: each cluster of digits is judged on its own, the run by its regex
    # on just that stretch (the pattern has no lookaround, so the bounds change nothing).
    for at in [*positions, len(text) + 3]:
        if at - prev > 2:
            if count >= 8 and not found:
                found = _DIGIT_RUN.search(text, start, prev + 1) is not None
            card = card or count >= 13
            start, count = at, 0
        count += 1
        prev = at
    return found, card


def _dense_digit_shape(text: str, *, run: bool = True) -> tuple[bool, bool]:
    # One pass instead of a find() per digit: in the fold a card is 13 zeros in a row.
    # Eight zeros are what a digit run needs at least; only then is the exact test
    # (spaces and dashes kept, other characters apart) paid for.
    folded = _fold(text)
    card = _FOLD_CARD in folded
    if not run or b"00000000" not in folded:
        return False, card
    classes = text.encode().translate(_ASCII_DIGIT_CLASS)
    found = b"00000000" in classes or b"0000 0000" in classes or b"0000-0000" in classes
    return found, card


def _could_be_card(text: str) -> bool:
    return _digit_shape(text, run=False)[1]


def _credential_hint(text: str) -> bool:
    """For ASCII *text*: whether ``_CREDENTIAL_HINT`` matches ("bearer"/"basic" and a space)."""
    if "b" not in text and "B" not in text:
        return False
    find, seen = text.find, 0
    for letter in "bB":
        at = find(letter)
        while at >= 0:
            seen += 1
            if seen > _SPARSE:
                return _CREDENTIAL_HINT.search(text) is not None
            word = text[at + 1 : at + 6].lower()
            if (word == "earer" and text[at + 6 : at + 7].isspace()) or (
                word[:4] == "asic" and text[at + 5 : at + 6].isspace()
            ):
                return True
            at = find(letter, at + 1)
    return False


def _has_jwt(text: str) -> bool:
    return "J" in text and "eyJ" in text


def _has_cloud_key(text: str) -> bool:
    return "A" in text and ("AKIA" in text or "ASIA" in text)


def _has_url_credential(text: str) -> bool:
    return "@" in text and "://" in text


def _fold(text: str) -> bytes:
    """ASCII *text* folded for the gates (see ``_FOLD``)."""
    return text.encode().translate(_FOLD, _FOLD_DROP)


def _rarity(char: int) -> int:
    """Rank of *char* from least to most common in English text; "0" (every digit,
    folded) ranks as common."""
    at = _LETTERS_BY_RARITY.find(chr(char))
    return len(_LETTERS_BY_RARITY) if at < 0 else at


_Search = Callable[[bytes], "re.Match[bytes] | None"]
# (rarest character, second rarest, needle, its search, the searches of its group).
# The characters are ints: ``int in bytes`` goes straight to memchr, where a one-byte
# bytes needle pays ~250 ns of argument handling first.
_Needle = tuple[int, int, bytes, _Search, tuple[_Search, ...]]


def _search(needle: bytes) -> _Search:
    # The regex engine finds a literal by scanning for its first byte in a tight loop,
    # at about a byte a cycle; bytes.find's skip loop spends more on mispredicted
    # branches wherever the text is made of the needle's letters (short needles the
    # most: "pwd", "ssn").
    return re.compile(re.escape(needle)).search


def _needles(words: Iterable[bytes]) -> tuple[_Needle, ...]:
    """The searches that find any of the folded *words* in a fold, groups first.

    A stretch of ``_SHARED`` characters that several words share is one
    search for all of them (each word is then searched only where it was found); a
    few such groups are looked for among a short list (a long one costs too much to
    compare at construction). Each search comes with its needle's two rarest
    characters: a one-byte search (memchr) for each rules many needles out before the
    substring search.
    """
    left = sorted(set(words))
    groups: list[tuple[bytes, tuple[bytes, ...]]] = []
    while len(groups) < _GROUPS_MAX and len(left) <= _GROUPS_AMONG:
        counts = Counter(
            stretch
            for w in left
            for stretch in {w[i : i + _SHARED] for i in range(len(w) - _SHARED + 1)}
        )
        best = max(sorted(counts), key=counts.__getitem__, default=b"")
        if counts[best] < 2:
            break
        groups.append((best, tuple(w for w in left if best in w)))
        left = [w for w in left if best not in w]
    groups.extend((w, ()) for w in left)
    needles: list[_Needle] = []
    for needle, group in groups:
        rare = sorted(set(needle), key=_rarity)
        first, second = rare[0], rare[min(1, len(rare) - 1)]
        needles.append((first, second, needle, _search(needle), tuple(map(_search, group))))
    return tuple(needles)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _is_basic_credential(token: str) -> bool:
    # HTTP Basic credentials are base64 of "user:password"; plain words after "basic"
    # ("basic usage") are not valid base64 of anything with a colon.
    try:
        decoded = binascii.a2b_base64(token + "=" * (-len(token) % 4), strict_mode=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded


class Redactor:
    """Replace secret values in event fields and text.

    Args:
        keys: extra key words, matched like the defaults (``"pin"``, ``"order_secret_ref"``).
        patterns: extra regular expressions; every match in a string is replaced.
        allow: extra whole keys that are never secret, compared like listed keys
            (``"session_id_hash"`` also lets ``sessionIdHash`` through).
        defaults: include :data:`DEFAULT_KEYS`, :data:`DEFAULT_ALLOW` and the built-in
            value patterns.
        replacement: what a secret becomes.

    Raises:
        TypeError: if *keys*, *allow* or *patterns* hold something other than
            strings/patterns.
        ValueError: if a pattern does not compile.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0
       Keys match by word, not by substring; ``allow=``.
    """

    #: The longest text remembered as clean; longer texts are scanned each time (and a
    #: caller need not hash them to ask the memo).
    MEMO_MAX_LEN: ClassVar[int] = _CLEAN_MAX_LEN

    __slots__ = (
        "_allow",
        "_clean",
        "_custom",
        "_key_cache",
        "_listed",
        "_needles",
        "_run",
        "_value_rules",
        "replacement",
    )

    def __init__(
        self,
        keys: Iterable[str] = (),
        patterns: Iterable[str | re.Pattern[str]] = (),
        *,
        allow: Iterable[str] = (),
        defaults: bool = True,
        replacement: str = REDACTED,
    ) -> None:
        if isinstance(keys, str) or isinstance(patterns, str) or isinstance(allow, str):
            raise TypeError("keys, allow and patterns must be lists of strings, not one string")
        words = [*DEFAULT_KEYS] if defaults else []
        allowed = [*DEFAULT_ALLOW] if defaults else []
        for given, into, what in ((keys, words, "keys"), (allow, allowed, "allow")):
            for key in given:
                if not isinstance(key, str) or not _joined(key):
                    raise TypeError(
                        f"redaction {what} must be strings holding a letter or digit, got {key!r}"
                    )
                into.append(key)
        if not isinstance(replacement, str):
            raise TypeError("replacement must be a string")
        self.replacement = replacement
        self._listed = frozenset(_joined(w) for w in words)
        self._allow = frozenset(_joined(w) for w in allowed)
        # The most words a listed entry spans: "order_secret_ref" is three.
        self._run = max((len(_WORDS_OF_KEY.findall(w)) for w in words), default=0)
        self._key_cache: dict[str, bool] = {}
        # A secret key's words, joined, are a stretch of the text's fold holding a
        # listed entry (folded too: its digits are "0"); an entry that contains another
        # one is found by the shorter one.
        self._needles = _needles(
            w.encode().translate(_FOLD)
            for w in self._listed
            if not any(o != w and o in w for o in self._listed)
        )

        rules: list[tuple[re.Pattern[str], Any, Callable[[str], bool] | None]] = []
        self._clean: set[str] = set()
        self._custom = False
        if defaults:
            rules.extend(self._default_rules())
        for pattern in patterns:
            if isinstance(pattern, re.Pattern):
                compiled = pattern
            elif isinstance(pattern, str):
                try:
                    compiled = re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"bad redaction pattern {pattern!r}: {exc}") from None
            else:
                raise TypeError(f"redaction patterns must be str or re.Pattern, got {pattern!r}")
            rules.append((compiled, replacement, None))
            self._custom = True
        self._value_rules = tuple(rules)

    def _default_rules(self) -> list[tuple[re.Pattern[str], Any, Callable[[str], bool] | None]]:
        r = self.replacement

        def card(match: re.Match[str]) -> str:
            digits = re.sub(r"\D", "", match.group(0))
            return r if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group(0)

        def basic(match: re.Match[str]) -> str:
            return match[1] + r if _is_basic_credential(match[2]) else match[0]

        # Each rule with its gate: for ASCII text, a cheap test that is true wherever
        # the rule could match.
        return [
            (
                re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*"),
                rf"\g<1>{r}",
                _credential_hint,
            ),
            (
                re.compile(r"(?i)\b(basic\s+)([A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])"),
                basic,
                _credential_hint,
            ),
            (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), r, _has_jwt),
            (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), r, _has_cloud_key),
            # Bounded by non-word characters: a run of digits inside a hex id or a
            # token is not a card number.
            (re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])"), card, _could_be_card),
            (
                # The scheme starts where a run of scheme characters starts and is at most
                # 32 long: each run is tried once, not once per letter (which is
                # quadratic in the length of the text). The user may be empty
                # (redis://:password@host).
                re.compile(
                    r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,31}://[^/\s:@]*:)[^/\s@]+(@)"
                ),
                rf"\g<1>{r}\g<2>",
                _has_url_credential,
            ),
        ]

    def is_secret_key(self, key: str) -> bool:
        """Whether a field named *key* holds a secret: one of its words is a listed word."""
        cached = self._key_cache.get(key)
        if cached is not None:
            return cached
        return self._judge_key(key)

    def _judge_key(self, key: str) -> bool:
        # Apart from is_secret_key so that a cached answer creates none of the closure
        # cells the generator below needs (they cost ~50 ns a call).
        words = [w.lower() for w in _WORDS_OF_KEY.findall(key)]
        listed, run, count = self._listed, self._run, len(words)
        secret = "".join(words) not in self._allow and any(
            "".join(words[start:end]) in listed
            for start in range(count)
            for end in range(start + 1, min(count, start + run) + 1)
        )
        if len(self._key_cache) >= _KEY_CACHE_LIMIT:
            self._key_cache.clear()
        self._key_cache[key] = secret
        return secret

    def text(self, text: str) -> str:
        """Redact secret-looking values inside free text, keeping the text around them."""
        clean = self._clean
        if len(text) > _CLEAN_MAX_LEN:
            # Long text is never remembered (hashing all of it would cost more than the
            # gates), and its scan test is asked from the gates' answers.
            if text.isascii():
                return self._scan_ascii(text)
            return self._scan(text, {}) if self._needs_scan(text) else text
        if text in clean:
            return text
        if self._needs_scan(text):
            # Short text: the scan test's few regex steps cost less than asking every
            # gate first; the rules' gates are still asked, one by one.
            out = self._scan(text, {})
            if out != text:
                return out
        # Messages are mostly a few templates: remember the ones with nothing to hide.
        if len(clean) >= _CLEAN_LIMIT:
            clean.clear()
        clean.add(text)
        return text

    def _scan_ascii(self, text: str) -> str:
        """What :meth:`_needs_scan` and :meth:`_scan` give, asking each gate once.

        When no gate opens, no rule can match and the answer is *text*; the scan test
        is asked only after that, from the same answers.
        """
        seps = "=" in text or ":" in text
        answers: dict[Callable[[str], bool], bool] = {
            _credential_hint: _credential_hint(text),
            _has_jwt: _has_jwt(text),
            _has_cloud_key: _has_cloud_key(text),
            _has_url_credential: seps and _has_url_credential(text),
        }
        if seps:
            # A separator already answers the scan test; the card and pair-key gates
            # share one pass over the text.
            folded = _fold(text)
            answers[_could_be_card] = _FOLD_CARD in folded
            names = bool(self._needles) and self._names_in(folded)
            if not (self._custom or names or any(answers.values())):
                return text
            answers[self._may_name_secret] = names
            return self._scan(text, answers)
        known = any(answers.values())
        card = answers[_could_be_card] = len(text) >= 13 and _could_be_card(text)
        if not (self._custom or known or card):
            return text
        # Only a possible card is left: the scan test asks for a digit run (a card's
        # digits may stand apart, "4 1 1 1 ..."), known only now.
        if not (self._custom or known or _digit_shape(text)[0]):
            return text
        # No separator: the pair rule is not asked.
        answers[self._may_name_secret] = False
        return self._scan(text, answers)

    def _scan(self, text: str, answers: dict[Callable[[str], bool], bool]) -> str:
        # *answers* are the gates' answers about *text*, as far as they were asked.
        out = text
        for pattern, repl, gate in self._value_rules:
            # A gate is asked about the text as the rules before it left it; a
            # replacement may have made it non-ASCII, and then every rule runs.
            if (
                gate is None
                or not out.isascii()
                or (answers[gate] if out is text and gate in answers else gate(out))
            ):
                out = pattern.sub(repl, out)
        if self._listed and ("=" in out or ":" in out):
            name = self._may_name_secret
            if answers[name] if out is text and name in answers else name(out):
                out = self._pairs(out)
        return out

    def _may_name_secret(self, text: str) -> bool:
        """False only when no key in *text* can be secret (ASCII text; others: True)."""
        return not text.isascii() or self._names_in(_fold(text))

    def _names_in(self, folded: bytes) -> bool:
        """Whether a listed word stands in *folded* (the fold of ASCII text)."""
        for rare, second, _needle, search, group in self._needles:
            if (
                rare in folded
                and second in folded
                and search(folded)
                and (not group or any(word(folded) for word in group))
            ):
                return True
        return False

    def _pairs(self, text: str) -> str:
        # A loop rather than re.sub: after a pair whose key is not secret the scan goes
        # on right after its "=", so "a=password=x" still finds "password=x".
        search, secret = _PAIR.search, self.is_secret_key
        parts: list[str] = []
        done = 0
        match = search(text)
        while match is not None:
            if secret(match[1]):
                # Keep the key, the separator and any quotes: 'api_key': '[REDACTED]'.
                value = match[3]
                quote = value[0] if value[:1] in {'"', "'"} and len(value) > 1 else ""
                parts.append(f"{text[done : match.end(2)]}{quote}{self.replacement}{quote}")
                done = match.end()
                match = search(text, done)
            else:
                match = search(text, match.end(2))
        if not parts:
            return text
        parts.append(text[done:])
        return "".join(parts)

    def _needs_scan(self, text: str) -> bool:
        # Substring tests are ~10x cheaper than any regex here, and every built-in rule
        # needs one of these: a "=" or ":" (pairs, URLs), "eyJ" (JWT), the AWS prefixes,
        # "bearer"/"basic" in any case (only strings with a "b" pay for that regex), or
        # a run of digits (cards).
        if self._custom:
            return True
        return (
            "=" in text
            or ":" in text
            or "eyJ" in text
            or "AKIA" in text
            or "ASIA" in text
            or (("b" in text or "B" in text) and _CREDENTIAL_HINT.search(text) is not None)
            or (len(text) >= 13 and _DIGIT_RUN.search(text) is not None)
        )

    def value(self, value: Any, depth: int = 0) -> Any:
        """Redact a field value: strings are scanned, containers walked (never raises)."""
        t = type(value)
        if t is str:
            return self.text(value)
        if t is int or t is float or t is bool or value is None:
            return value
        try:
            return self._walk(value, depth, set())
        except Exception:
            return self.replacement

    def _walk(self, value: Any, depth: int, path: set[int]) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, int | float) or value is None:
            return value
        if isinstance(value, tuple | set | frozenset):
            # Their JSON form: a named tuple keeps its field names, so its secret fields
            # are found by key. Other objects are left to the caller, which scans the
            # text they become.
            value = coerce(value)
            if isinstance(value, str):
                return self.text(value)
        if not isinstance(value, Mapping | list):
            return value
        if depth >= MAX_DEPTH:
            # Past the render depth limit the value is a placeholder anyway.
            return f"[depth limit {MAX_DEPTH}]"
        if id(value) in path:
            return "[circular]"
        path.add(id(value))
        try:
            if isinstance(value, Mapping):
                return {
                    k: (
                        self.replacement
                        if isinstance(k, str) and self.is_secret_key(k)
                        else self._walk(v, depth + 1, path)
                    )
                    for k, v in list(value.items())
                }
            return [self._walk(v, depth + 1, path) for v in value]
        finally:
            path.discard(id(value))

    def fields(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Redact a flat mapping of user fields."""
        return {
            k: self.replacement if self.is_secret_key(k) else self.value(v)
            for k, v in fields.items()
        }
