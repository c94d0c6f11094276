"""Secrets out of log lines, on by default.

Rules are compiled once, in :class:`Redactor`'s constructor; the per-line work is a dict
lookup per key and one regex scan per string. Redaction is a pure mapping -> mapping
step and never raises: a value it cannot inspect becomes a placeholder.

Keys are compared in a normalised form (lowercase, ``-``, ``_`` and ``.`` removed) and
are secret when that form *contains* a listed word, so ``X-Api-Key``, ``db_password``
and ``sessionid`` are all caught. Words of three letters or fewer (``pwd``, ``cvv``,
``ssn``) must be a whole word of the key instead: a containment rule would redact
``class_name`` for containing "ssn".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from tracelog._render import MAX_DEPTH

__all__ = ["DEFAULT_KEYS", "REDACTED", "Redactor"]

REDACTED = "[REDACTED]"

DEFAULT_KEYS: tuple[str, ...] = (
    "password", "passwd", "pwd", "secret", "token", "access_token", "refresh_token",
    "api_key", "apikey", "authorization", "cookie", "set-cookie", "session",
    "private_key", "client_secret", "credit_card", "card_number", "cvv", "ssn",
)  # fmt: skip

_SEPARATORS = str.maketrans("", "", "-_.")
_WORDS_OF_KEY = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_KEY_CACHE_LIMIT = 10_000
_CLEAN_LIMIT = 4096
_CLEAN_MAX_LEN = 256
_DIGIT_RUN = re.compile(r"\d{4}[ -]?\d{4}")


def _normalise(key: str) -> str:
    return key.lower().translate(_SEPARATORS)


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


class Redactor:
    """Replace secret values in event fields and text.

    Args:
        keys: extra key words, matched like the defaults.
        patterns: extra regular expressions; every match in a string is replaced.
        defaults: include :data:`DEFAULT_KEYS` and the built-in value patterns.
        replacement: what a secret becomes.

    Raises:
        TypeError: if *keys* or *patterns* hold something other than strings/patterns.
        ValueError: if a pattern does not compile.

    .. versionadded:: 0.1.0
    """

    __slots__ = (
        "_clean",
        "_custom",
        "_key_cache",
        "_long_words",
        "_pair_re",
        "_short_words",
        "_value_rules",
        "replacement",
    )

    def __init__(
        self,
        keys: Iterable[str] = (),
        patterns: Iterable[str | re.Pattern[str]] = (),
        *,
        defaults: bool = True,
        replacement: str = REDACTED,
    ) -> None:
        if isinstance(keys, str) or isinstance(patterns, str):
            raise TypeError("keys and patterns must be lists of strings, not one string")
        words = [*DEFAULT_KEYS] if defaults else []
        for key in keys:
            if not isinstance(key, str) or not key.strip():
                raise TypeError(f"redaction keys must be non-empty strings, got {key!r}")
            words.append(key)
        if not isinstance(replacement, str):
            raise TypeError("replacement must be a string")
        self.replacement = replacement
        normalised = sorted({_normalise(w) for w in words})
        self._short_words = frozenset(w for w in normalised if len(w) <= 3)
        self._long_words = tuple(w for w in normalised if len(w) > 3)
        self._key_cache: dict[str, bool] = {}

        rules: list[tuple[re.Pattern[str], Any]] = []
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
            rules.append((compiled, replacement))
            self._custom = True
        # "word=value" / "word: value" for every key word, in any text.
        if normalised:
            spellings = {w for w in words if w} | set(normalised)
            long_words = sorted(re.escape(w) for w in spellings if len(_normalise(w)) > 3)
            short_words = sorted(re.escape(w) for w in spellings if len(_normalise(w)) <= 3)
            # As for keys: a long word may sit inside a longer name (db_password=...), a
            # short one must stand alone (pwd=..., but not classname=...).
            alternation = "|".join(
                [*long_words]
                + (
                    [rf"(?<![A-Za-z0-9])(?:{'|'.join(short_words)})(?![A-Za-z0-9])"]
                    if short_words
                    else []
                )
            )
            self._pair_re: re.Pattern[str] | None = re.compile(
                rf"(?i)((?:{alternation})[\w.-]*[\"']?\s*[=:]\s*)"
                r"(\"[^\"]*\"|'[^']*'|(?:bearer\s+)?[^\s,;&\"']+)"
            )
        else:
            self._pair_re = None
        self._value_rules = tuple(rules)

    def _default_rules(self) -> list[tuple[re.Pattern[str], Any]]:
        r = self.replacement

        def card(match: re.Match[str]) -> str:
            digits = re.sub(r"\D", "", match.group(0))
            return r if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group(0)

        return [
            (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*"), rf"\g<1>{r}"),
            (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), r),
            (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), r),
            # Bounded by non-word characters: a run of digits inside a hex id or a
            # token is not a card number.
            (re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])"), card),
            (
                # The scheme starts where a run of scheme characters starts and is at most
                # 32 long: each run is tried once, not once per letter (which is
                # quadratic in the length of the text).
                re.compile(
                    r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,31}://[^/\s:@]+:)[^/\s@]+(@)"
                ),
                rf"\g<1>{r}\g<2>",
            ),
        ]

    def _pair_value(self, match: re.Match[str]) -> str:
        # Keep the key, the separator and any quotes: 'api_key': '[REDACTED]'.
        value = match.group(2)
        quote = value[0] if value[:1] in {'"', "'"} and len(value) > 1 else ""
        return f"{match.group(1)}{quote}{self.replacement}{quote}"

    def is_secret_key(self, key: str) -> bool:
        """Whether a field named *key* holds a secret."""
        cached = self._key_cache.get(key)
        if cached is not None:
            return cached
        norm = _normalise(key)
        secret = any(w in norm for w in self._long_words) or (
            bool(self._short_words)
            and any(w.lower() in self._short_words for w in _WORDS_OF_KEY.findall(key))
        )
        if len(self._key_cache) >= _KEY_CACHE_LIMIT:
            self._key_cache.clear()
        self._key_cache[key] = secret
        return secret

    def text(self, text: str) -> str:
        """Redact secret-looking values inside free text, keeping the text around them."""
        clean = self._clean
        if text in clean:
            return text
        if self._needs_scan(text):
            out = text
            for pattern, repl in self._value_rules:
                out = pattern.sub(repl, out)
            if self._pair_re is not None:
                out = self._pair_re.sub(self._pair_value, out)
            if out != text:
                return out
        if len(text) <= _CLEAN_MAX_LEN:
            # Messages are mostly a few templates: remember the ones with nothing to hide.
            if len(clean) >= _CLEAN_LIMIT:
                clean.clear()
            clean.add(text)
        return text

    def _needs_scan(self, text: str) -> bool:
        # Substring tests are ~10x cheaper than any regex here, and every built-in rule
        # needs one of these: a "=" or ":" (pairs, URLs), "eyJ" (JWT), the AWS prefixes,
        # "bearer", or a run of digits (cards).
        if self._custom:
            return True
        return (
            "=" in text
            or ":" in text
            or "eyJ" in text
            or "AKIA" in text
            or "ASIA" in text
            or "earer" in text
            or "EARER" in text
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
        if not isinstance(value, Mapping | list | tuple):
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
