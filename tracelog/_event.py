"""The one event path: a log call's message, fields and exception as safe, redacted data.

Every output of a log call goes through :class:`Scrubber`: the JSON line
(:class:`tracelog._line.LineEncoder`), the span event and the OTel log record
(:class:`tracelog.bridge.Bridge`), and the server span's exception in the WSGI/ASGI
middleware. Each uses the configured :class:`~tracelog.redact.Redactor`, so one value
gives the same redacted text on all of them, and nothing here raises on user data.

Order, for every value: first make it JSON-safe and cut to size (objects, dataclasses
and bytes become dicts, lists and strings), then redact what it turned into. A secret
inside an object's repr is found that way, and no pattern ever scans more than
:data:`tracelog._render.MAX_STRING` characters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracelog import _render as render
from tracelog.schemas import describe_exception

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tracelog.redact import Redactor
    from tracelog.schemas import ExcInfo

__all__ = ["USER_PREFIX", "Scrubber", "resolve_redactor"]

#: The prefix a user field takes when its name is one of the output's own keys.
USER_PREFIX = "user."
_MAX_STRING = render.MAX_STRING
# The ints a JSON line holds as numbers (orjson's range); others are written as text.
_INT_MIN, _INT_LIMIT = -(2**63), 2**64


def resolve_redactor(redact: object) -> Redactor | None:
    """``True`` -> the default Redactor, ``False``/None -> None, a Redactor -> itself.

    Raises:
        TypeError: for anything else.
    """
    from tracelog.redact import Redactor  # noqa: PLC0415 - keeps the regexes lazy

    if redact is True:
        return Redactor()
    if redact is False or redact is None:
        return None
    if isinstance(redact, Redactor):
        return redact
    raise TypeError(f"redact must be True, False or a tracelog Redactor, not {redact!r}")


class Scrubber:
    """Turns a log call's parts into JSON-safe, redacted data; never raises on user data.

    Args:
        redactor: the configured :class:`~tracelog.redact.Redactor`, or None for none.
    """

    __slots__ = ("_memo", "clean", "memo_max", "redactor")

    def __init__(self, redactor: Redactor | None) -> None:
        self.redactor = redactor
        #: The redactor's memo of short texts known clean (None without redaction), and
        #: the longest text it holds: a text found there needs nothing more. Only the
        #: scrubbed form of a text is ever remembered.
        self.clean: set[str] | None = None
        self.memo_max = 0
        # The redactor's memos and methods, read once here: a field whose key and text
        # were seen before costs two lookups, not calls.
        self._memo = None
        if redactor is not None:
            clean, memo_max = redactor._clean, redactor.MEMO_MAX_LEN
            self.clean, self.memo_max = clean, memo_max
            self._memo = (
                redactor._key_cache,
                clean,
                memo_max,
                redactor.is_secret_key,
                redactor.text,
            )

    def message(self, message: str) -> str:
        """The message, cleaned (lone surrogates, size) and redacted."""
        if not message.isascii() or len(message) > _MAX_STRING:
            message = render.safe_str(message)
        clean = self.clean
        # The memo of clean texts holds short ones only: a long text is not hashed to ask.
        if clean is not None and (len(message) > self.memo_max or message not in clean):
            message = self.redactor.text(message)  # type: ignore[union-attr]  # set with clean
        return message

    def fields_into(
        self, out: dict[str, Any], fields: Mapping[Any, Any], reserved: frozenset[str]
    ) -> dict[str, Any]:
        """Add *fields* to *out*, JSON-safe and redacted; returns *out*.

        A field whose name is in *reserved* or already in *out* keeps its value under
        ``user.<name>`` (never overwriting, never a duplicate key), unless it holds the
        very value already there (a trace field added earlier in a structlog chain).
        """
        # Written out inline on purpose: this runs once per field of every log call, and
        # on these machines every avoided function call is ~0.1 us.
        coerce = render.coerce
        redactor = self.redactor
        if redactor is not None:
            known_keys, clean, memo_max, secret, scan = self._memo  # type: ignore[misc]
        for key, value in fields.items():
            if type(key) is not str:
                key = render.safe_str(key)  # noqa: PLW2901
            t = type(value)
            if redactor is None:
                # JSON-safe only: long texts cut, ints past 64 bits as text, objects walked.
                if t is str or t is int or t is bool or value is None:
                    if (t is str and len(value) > _MAX_STRING) or (
                        t is int and not _INT_MIN <= value < _INT_LIMIT
                    ):
                        value = coerce(value)  # noqa: PLW2901
                else:
                    value = coerce(value)  # noqa: PLW2901
            else:
                try:  # a key seen before: one subscript (cheaper than .get())
                    is_secret = known_keys[key]
                except KeyError:
                    is_secret = secret(key)
                if is_secret:
                    value = redactor.replacement  # noqa: PLW2901
                elif t is str:
                    # The usual field: a short text seen before is one set lookup.
                    if len(value) > memo_max or value not in clean:
                        value = scan(value if len(value) <= _MAX_STRING else coerce(value))  # noqa: PLW2901
                elif t is int:
                    if not _INT_MIN <= value < _INT_LIMIT:  # past 64 bits: as text
                        value = scan(coerce(value))  # noqa: PLW2901
                elif t is not bool and value is not None:
                    value = coerce(value)  # noqa: PLW2901
                    t = type(value)
                    if t is str:
                        value = scan(value)  # noqa: PLW2901
                    elif t is dict or t is list:
                        value = redactor.value(value)  # noqa: PLW2901
            if key in reserved or key in out:
                key = self._free_key(out, key, value)  # noqa: PLW2901
                if key is None:
                    continue
            out[key] = value
        return out

    @staticmethod
    def _free_key(out: dict[str, Any], key: str, value: Any) -> str | None:
        """The key a colliding field takes (``user.<name>``), or None to leave it out."""
        if out.get(key) == value:
            return None
        key = USER_PREFIX + key
        while key in out:
            key = "_" + key
        return key

    def exception(self, exc_info: ExcInfo) -> tuple[str, str, str]:
        """(type, message, stack trace) of an exception, cut to size and redacted."""
        type_, text, stack = describe_exception(exc_info)
        # The stack is cut keeping its end (where the error is), then cleaned.
        text, stack = render.safe_str(text), render.safe_str(render.truncate_head(stack))
        redactor = self.redactor
        if redactor is not None:
            text, stack = redactor.text(text), redactor.text(stack)
        return type_, text, stack
