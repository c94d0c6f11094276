"""JSON in and out, through orjson, with a fallback that never raises.

The fast path hands the line to orjson as it is. Whatever orjson rejects (non-str keys,
lone surrogates, ints past 64 bits, cycles, a ``default`` that raised) sends the line
through :func:`coerce`, which rebuilds it from JSON-safe values. Values orjson would
accept but that break strict JSON are caught before it sees them: NaN/Infinity (orjson
writes ``null``), oversized strings, and U+2028/U+2029, which orjson leaves raw.

Limits, documented in the README: strings over :data:`MAX_STRING` characters are cut
with a marker saying how much was cut, and containers nested deeper than
:data:`MAX_DEPTH` are replaced by a placeholder.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
import threading
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import orjson

__all__ = [
    "MAX_DEPTH",
    "MAX_STRING",
    "coerce",
    "dumps",
    "json_text",
    "loads",
    "safe_repr",
    "safe_str",
    "truncate_head",
]

MAX_STRING = 64 * 1024
MAX_DEPTH = 32

_LS = "\u2028".encode()
_PS = "\u2029".encode()
_OPTIONS = orjson.OPT_APPEND_NEWLINE
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
    # halves and replaces the rest with U+FFFD.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _truncate(text) if len(text) > MAX_STRING else text


def safe_repr(obj: object) -> str:
    """``repr(obj)``, or a placeholder naming the type if repr raises or recurses."""
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
        return int(value) if -(2**63) <= value < 2**64 else str(value)
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


def _walk(value: Any, depth: int, path: set[int]) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return _scalar(value)
    if depth >= MAX_DEPTH and isinstance(value, Mapping | list | tuple | set | frozenset):
        return f"[depth limit {MAX_DEPTH}]"
    if isinstance(value, Mapping):
        if id(value) in path:
            return "[circular]"
        path.add(id(value))
        try:
            out: dict[str, Any] = {}
            for k, v in list(value.items()):
                key = _key(k)
                while key in out:  # "1" and 1 must not become duplicate keys
                    key = f"{key}_"
                out[key] = _walk(v, depth + 1, path)
            return out
        finally:
            path.discard(id(value))
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return _named_tuple(value, depth, path)
    if isinstance(value, list | tuple | set | frozenset):
        if id(value) in path:
            return "[circular]"
        path.add(id(value))
        try:
            return [_walk(v, depth + 1, path) for v in list(value)]
        finally:
            path.discard(id(value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        try:
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        except Exception:
            return safe_repr(value)
        return _walk(fields, depth, path)
    dump = getattr(type(value), "model_dump", None)  # pydantic v2 models
    if callable(dump):
        try:
            return _walk(dump(value), depth, path)
        except Exception:
            return safe_repr(value)
    return _scalar(value)


def _named_tuple(value: Any, depth: int, path: set[int]) -> Any:
    # urlparse()/urlsplit() results are URLs: written as one, the URL rule redacts their
    # password. Other named tuples keep their field names, so redaction sees the keys.
    if type(value).__module__ == "urllib.parse" and hasattr(value, "geturl"):
        return _walk(value.geturl(), depth, path)
    return _walk(dict(zip(value._fields, value, strict=False)), depth, path)


def coerce(value: Any) -> Any:
    """Return a strict-JSON-safe version of *value*; never raises.

    Scalars are checked in a few type tests; containers are rebuilt.
    """
    t = type(value)
    if t is str:
        return value if len(value) <= MAX_STRING else _truncate(value)
    if t is int:
        return value if -(2**63) <= value < 2**64 else str(value)
    if t is bool or value is None:
        return value
    if t is float:
        return _float(value)
    try:
        return _walk(value, 0, set())
    except BaseException:
        return safe_repr(value)


def _default(obj: Any) -> Any:
    return _walk(obj, 0, set())


def dumps(line: Mapping[str, Any]) -> bytes:
    """Encode one log line as strict JSON plus ``\\n``; never raises."""
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
    # isascii() is one fast pass; the two substring searches cost ten times more, and
    # most lines are plain ASCII.
    if not out.isascii() and (_LS in out or _PS in out):
        # JSON allows them raw, JavaScript and many line splitters do not.
        out = out.replace(_LS, b"\\u2028").replace(_PS, b"\\u2029")
    return out


def json_text(value: Any) -> str:
    """*value* as compact strict JSON text (no newline); never raises."""
    return dumps({"": coerce(value)})[4:-2].decode("utf-8")


def loads(data: bytes | str) -> Any:
    """Decode JSON (raises ``orjson.JSONDecodeError``, a ``ValueError``, on bad input)."""
    return orjson.loads(data)
