"""JSON in and out, through orjson, with a fallback that never raises.

The fast path hands the line to orjson as it is. Whatever orjson rejects (non-str keys,
lone surrogates, ints past 64 bits, cycles, a ``default`` that raised) sends the line
through :func:`coerce`, which rebuilds it from JSON-safe values. Values orjson would
accept but that break strict JSON are caught before it sees them: NaN/Infinity (orjson
writes ``null``), oversized strings, and U+2028/U+2029, which orjson leaves raw.

Limits, documented in the README: strings over :data:`MAX_STRING` characters are cut
with a marker saying how much was cut, containers nested deeper than :data:`MAX_DEPTH`
are replaced by a placeholder, one value expands into at most :data:`MAX_NODES`
values (the rest is cut with a marker), and ints too long for ``str()`` (Python's 4,300-digit
limit) become ``"<int with N digits>"``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import itertools
import math
import re
import threading
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_STRING",
    "ascii_only",
    "coerce",
    "dumps",
    "format_percent",
    "json_text",
    "loads",
    "safe_repr",
    "safe_str",
    "truncate_head",
]

MAX_STRING = 64 * 1024
MAX_DEPTH = 32
MAX_NODES = 10_000

# Bytes a strict reader or a line splitter trips over although JSON allows them raw: DEL,
# the C1 controls U+0080-U+009F (U+0085 NEL ends a line for str.splitlines(), U+009B is
# a terminal's CSI) and U+2028/U+2029 (line ends for JavaScript). orjson writes them as
# they are; dumps() escapes them.
_DEL = b"\x7f"
_UNSAFE = re.compile(b"\x7f|\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]")
# Dataclasses go through _default (the walk with its node budget), not orjson's own
# unbounded expansion.
_OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_PASSTHROUGH_DATACLASS
_PLAIN = frozenset({str, int, bool, type(None)})

# Set while tracelog is rendering on this thread: an object whose __repr__ logs again
# then gets a placeholder instead of a second, recursive render.
_rendering = threading.local()


def _truncate(text: str) -> str:
    # The marker counts toward the limit, so truncating twice changes nothing.
    keep = MAX_STRING - 32
    return f"{text[:keep]}...[truncated {len(text) - keep} chars]"


def truncate_head(text: str) -> str:
    """Cut *text* to :data:`MAX_STRING`, keeping its end (a stack trace's useful part)."""
    if len(text) <= MAX_STRING:
        return text
    keep = MAX_STRING - 32
    return f"[truncated {len(text) - keep} chars]...{text[-keep:]}"


def _clean_str(text: str) -> str:
    # Lone surrogates cannot be UTF-8 encoded; a UTF-16 round trip pairs the valid
    # halves and replaces the rest with U+FFFD. An ASCII text (a flag CPython keeps on
    # the string: no scan) has none.
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _truncate(text) if len(text) > MAX_STRING else text


def _int_text(value: int) -> str:
    # str() refuses ints past sys.get_int_max_str_digits() (4,300 by default) with a
    # ValueError; the line keeps the size instead of losing the whole line.
    try:
        return str(int(value))
    except ValueError:
        digits = int(math.log10(abs(value))) + 1
        return f"<int with {digits} digits>"


def safe_repr(obj: object) -> str:
    """``repr(obj)``, or a placeholder naming the type if repr raises or recurses."""
    if type(obj) is int:
        return _int_text(obj)
    name = type(obj).__name__
    if getattr(_rendering, "active", False):
        return f"<{name} object>"
    _rendering.active = True
    try:
        text = repr(obj)
    except BaseException:
        return f"<unrepresentable {name} object>"
    finally:
        _rendering.active = False
    return _clean_str(text) if isinstance(text, str) else f"<{name} object>"


def safe_str(obj: object) -> str:
    """``str(obj)`` that never raises (falls back to :func:`safe_repr`)."""
    if type(obj) is str:
        return _clean_str(obj)
    if type(obj) is int:
        return _int_text(obj)
    if getattr(_rendering, "active", False):
        return f"<{type(obj).__name__} object>"
    _rendering.active = True
    try:
        text = str(obj)
    except BaseException:
        text = None
    finally:
        _rendering.active = False
    return _clean_str(text) if isinstance(text, str) else safe_repr(obj)


class _SafeArg:
    """A %-format argument whose ``str()`` and ``repr()`` never raise (``%s`` and ``%r``)."""

    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value

    def __str__(self) -> str:
        return safe_str(self.value)

    def __repr__(self) -> str:
        return safe_repr(self.value)


def _safe_arg(arg: object) -> object:
    # Numbers stay numbers so that %d and %.2f still work; anything else stands behind
    # safe_str()/safe_repr(), so a raising __str__ or __repr__ costs that argument, not
    # the line.
    t = type(arg)
    if t is int:
        text = _int_text(arg)  # type: ignore[arg-type]
        return text if text.startswith("<") else arg
    if t is float or t is str or t is bool or arg is None:
        return arg
    return _SafeArg(arg)


def format_percent(template: object, args: object) -> str:
    """``template % args`` as logging's ``getMessage()`` does it, but never raises.

    An argument whose ``__str__`` and ``__repr__`` raise, or an int past Python's
    4,300-digit ``str()`` limit, becomes a placeholder; a template that does not match
    its arguments gives ``'<template>' % (<arg reprs>,) (format failed: <Error>)``.

    .. versionadded:: 0.2.0
    """
    # The usual template, a short ASCII str, is clean as it is.
    if type(template) is str and template.isascii() and len(template) <= MAX_STRING:
        text = template
    else:
        text = safe_str(template)
    if not args:
        return text
    try:
        message = text % args
    except Exception:  # retried below with arguments that cannot raise
        pass
    else:
        if type(message) is str:
            return _clean_str(message)
    if isinstance(args, tuple):
        safe: object = tuple(_safe_arg(a) for a in args)
    elif isinstance(args, Mapping):
        safe = {k: _safe_arg(v) for k, v in list(args.items())}
    else:
        safe = _safe_arg(args)
    try:
        return _clean_str(text % safe)
    except Exception as exc:  # the template does not fit its arguments: say so
        items = args if isinstance(args, tuple) else (args,)
        shown = ", ".join(safe_repr(a) for a in items) + ("," if len(items) == 1 else "")
        return _clean_str(f"{safe_repr(text)} % ({shown}) (format failed: {type(exc).__name__})")


def _float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def _key(key: object) -> str:
    if type(key) is str:
        return _clean_str(key)
    if isinstance(key, enum.Enum):
        return safe_str(key.value)
    return safe_str(key)


def _scalar(value: Any) -> Any:
    """A JSON-safe form of a non-container value; the orjson ``default`` too."""
    if isinstance(value, str):
        return _clean_str(str(value))
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value) if -(2**63) <= value < 2**64 else _int_text(value)
    if isinstance(value, float):
        return _float(float(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _clean_str(bytes(value).decode("utf-8", "backslashreplace"))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return _scalar(value.value)
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {safe_str(value)}"
    return safe_repr(value)


_PLAIN_OBJECT = object()


def _fields(value: Any) -> Any:
    """What an object is expanded into (its fields), or ``_PLAIN_OBJECT``."""
    t = type(value)
    if dataclasses.is_dataclass(t):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(t)}
    dump = getattr(t, "model_dump", None)  # pydantic v2 models
    if not callable(dump):
        return _PLAIN_OBJECT
    model_fields = getattr(t, "model_fields", None)
    if isinstance(model_fields, Mapping):
        # Field by field rather than model_dump(): a model graph then costs what the
        # node budget allows, and a repeat on the path is found here. Fields declared
        # with exclude=True (often secrets) stay out, as model_dump() leaves them out.
        return {
            name: getattr(value, name)
            for name, info in model_fields.items()
            if getattr(info, "exclude", None) is not True
        }
    return dump(value)


def _walk(value: Any, depth: int, path: set[int], budget: list[int]) -> Any:
    # *path* holds the ids of the containers and objects being expanded above this
    # value (a repeat is a cycle); *budget* the values this coerce() may still visit, so
    # a graph that shares nodes (a DAG) costs at most MAX_NODES visits, not 2**depth.
    if isinstance(value, str | int | float | bool) or value is None:
        return _scalar(value)
    inner: Any
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        # urlparse()/urlsplit() results are URLs: written as one, the URL rule redacts
        # their password. Other named tuples keep their field names, so redaction sees
        # the keys.
        if type(value).__module__ == "urllib.parse" and hasattr(value, "geturl"):
            return _walk(value.geturl(), depth, path, budget)
        inner = dict(zip(value._fields, value, strict=False))
    elif isinstance(value, Mapping | list | tuple | set | frozenset):
        inner = value
    else:
        try:
            inner = _fields(value)
        except Exception:  # a raising property or model_dump
            return safe_repr(value)
        if inner is _PLAIN_OBJECT:
            return _scalar(value)
    if id(value) in path:
        return "[circular]"
    if depth >= MAX_DEPTH:
        return f"[depth limit {MAX_DEPTH}]"
    path.add(id(value))
    try:
        if isinstance(inner, Mapping):
            out: dict[str, Any] = {}
            # One more than the budget: enough to know whether anything was cut.
            for k, v in list(itertools.islice(inner.items(), budget[0] + 1)):
                budget[0] -= 1
                if budget[0] < 0:
                    out[_CUT] = _cut_marker()
                    break
                key = _key(k)
                while key in out:  # "1" and 1 must not become duplicate keys
                    key = f"{key}_"
                out[key] = _walk(v, depth + 1, path, budget)
            return out
        if isinstance(inner, list | tuple | set | frozenset):
            items: list[Any] = []
            for v in list(itertools.islice(inner, budget[0] + 1)):
                budget[0] -= 1
                if budget[0] < 0:
                    items.append(_cut_marker())
                    break
                items.append(_walk(v, depth + 1, path, budget))
            return items
        return _walk(inner, depth, path, budget)  # a model_dump() result
    finally:
        path.discard(id(value))


_CUT = "[size limit]"


def _cut_marker() -> str:
    return f"[size limit: more than {MAX_NODES} values]"


def coerce(value: Any) -> Any:
    """Return a strict-JSON-safe version of *value*; never raises.

    Scalars are checked in a few type tests; containers are rebuilt.
    """
    t = type(value)
    if t is str:
        return value if len(value) <= MAX_STRING else _truncate(value)
    if t is int:
        return value if -(2**63) <= value < 2**64 else _int_text(value)
    if t is bool or value is None:
        return value
    if t is float:
        return _float(value)
    try:
        return _walk(value, 0, set(), [MAX_NODES])
    except BaseException:  # a mapping whose items() raises, and the like
        return safe_repr(value)


def _default(obj: Any) -> Any:
    return _walk(obj, 0, set(), [MAX_NODES])


def dumps(line: Mapping[str, Any]) -> bytes:
    """Encode one log line as strict JSON plus ``\\n``; never raises.

    Plain dicts and lists go to orjson as they are: values from user code should pass
    through :func:`coerce` first (the line builder does), which bounds shared and
    circular graphs.
    """
    try:
        out = orjson.dumps(line, default=_default, option=_OPTIONS)
    except Exception:
        try:
            out = orjson.dumps(coerce(dict(line)), option=_OPTIONS)
        except Exception as exc:  # last resort: still one valid line
            out = orjson.dumps(
                {"message": "tracelog could not encode a log line", "error": safe_repr(exc)},
                option=_OPTIONS,
            )
    # isascii() and the DEL search are two memchr-speed passes; the regex costs ten
    # times more, and most lines are plain ASCII.
    if out.isascii():
        # `127 in` is a memchr; `_DEL in` (a bytes needle) costs four times as much.
        return out.replace(_DEL, b"\\u007f") if 127 in out else out
    return _UNSAFE.sub(_escape, out)


def _escape(match: re.Match[bytes]) -> bytes:
    return b"\\u%04x" % ord(match.group().decode())


_NON_ASCII = re.compile("[^\x00-\x7f]")


def _u_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON spells a character past the BMP as a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def ascii_only(line: str) -> str:
    """The same JSON line with every non-ASCII character written as ``\\uXXXX``.

    For streams whose encoding cannot hold all of Unicode (``ascii``, ``latin-1``).
    """
    return _NON_ASCII.sub(_u_escape, line)


def json_text(value: Any) -> str:
    """*value* as compact strict JSON text (no newline); never raises."""
    return dumps({"": coerce(value)})[4:-2].decode("utf-8")


def loads(data: bytes | str) -> Any:
    """Decode JSON (raises ``orjson.JSONDecodeError``, a ``ValueError``, on bad input)."""
    return orjson.loads(data)
