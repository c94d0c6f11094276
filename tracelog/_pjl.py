"""python-json-logger's options on :class:`tracelog.stdlib.JsonFormatter`, checked once.

What a python-json-logger user passes keeps its meaning: the record fields named in the
format string are written (under the layout's names: ECS ``log.origin.function``, OTel
``code.function.name`` ...), ``defaults``, ``static_fields`` and ``reserved_attrs`` decide
the extra fields, ``rename_fields`` renames, ``json_default`` converts unknown objects.
Only what would rename or remove a trace or head field of the layout is refused, at
construction, with an error that says so; options that cannot be honoured on a JSON line
(``json_indent``, ``prefix`` ...) are refused with the reason.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from tracelog.schemas import Schema

__all__ = ["ACCEPTED", "RecordFieldOptions", "check_options"]

ACCEPTED = frozenset(
    {
        "fmt",
        "datefmt",
        "style",
        "validate",
        "defaults",
        "static_fields",
        "rename_fields",
        "rename_fields_keep_missing",
        "json_default",
        "reserved_attrs",
        "timestamp",
    }
)
_REFUSED = {
    "json_indent": "each record is one line",
    "prefix": "each line must be one JSON object",
    "json_encoder": "tracelog's encoder writes strict JSON (use json_default)",
    "json_serializer": "tracelog's encoder writes strict JSON (use json_default)",
    "json_ensure_ascii": "tracelog's encoder writes strict JSON",
    "exc_info_as_array": "the layout structures exceptions",
    "stack_info_as_array": "the layout structures exceptions",
}
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", logging.INFO, "", 0, "", (), None)))
# Record attributes every line already holds under the layout's head keys (or that
# make no field): a format string naming them adds nothing.
_HEAD_ATTRS = frozenset(
    {"asctime", "levelname", "name", "message", "msg", "args", "exc_info", "exc_text"}
) | {"stack_info"}
_NATIVE = (str, int, float, bool, type(None), dict, list, tuple)


def check_options(kwargs: Mapping[str, Any]) -> None:
    """Refuse the python-json-logger options a tracelog line cannot honour.

    Raises:
        TypeError: naming the option, why, and the supported ones.
    """
    for name in sorted(set(kwargs) - ACCEPTED):
        reason = _REFUSED.get(name, "it is no python-json-logger option")
        raise TypeError(
            # Quoted: dictConfig retries a "()" factory with fmt= when the TypeError
            # names 'format', which is how python-json-logger's dictConfig users spell it.
            f"JsonFormatter does not support {name!r}: {reason}; "
            f"supported options: {', '.join(sorted(ACCEPTED))}"
        )
    timestamp = kwargs.get("timestamp", False)
    if timestamp not in (True, False):
        raise ValueError(
            f"timestamp={timestamp!r} would rename the line's time, a head field of the "
            "layout; every tracelog line has its timestamp (timestamp=True is accepted)"
        )
    for name in ("static_fields", "defaults", "rename_fields"):
        value = kwargs.get(name) or {}
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise TypeError(f"{name} must be a dict with str keys")
    default = kwargs.get("json_default")
    if default is not None and not callable(default):
        raise TypeError(f"json_default must be callable, not {type(default).__name__}")


class RecordFieldOptions:
    """The per-record work python-json-logger's options ask for, precomputed.

    Args:
        schema: the formatter's layout.
        required: the fields python-json-logger parsed from the format string.
        callsite: also write module, function and line (``configure(callsite=True)``).
        defaults: fields on every line, below every other field.
        static: fields on every line, below the record's own.
        rename: field renames.
        json_default: converts a field value JSON cannot hold.
        reserved: record attributes that are never written as fields.

    Raises:
        ValueError: for a rename of (or to) a trace or head field of *schema*.
    """

    __slots__ = ("_attrs", "_base", "_default", "_rename", "_renamed", "_reserved", "_schema")

    def __init__(
        self,
        schema: Schema,
        *,
        required: Iterable[str] = (),
        callsite: bool = False,
        defaults: Mapping[str, Any] | None = None,
        static: Mapping[str, Any] | None = None,
        rename: Mapping[str, str] | None = None,
        json_default: Callable[[Any], Any] | None = None,
        reserved: Iterable[str] | None = None,
    ) -> None:
        rename = dict(rename or {})
        for old, new in rename.items():
            protected = old if old in _HEAD_ATTRS or old in schema.reserved else None
            if new in schema.reserved:
                protected = new
            if protected is not None:
                raise ValueError(
                    f"rename_fields cannot rename {old!r} to {new!r}: {protected!r} is a trace "
                    f"or head field of the {schema.name!r} layout, which names those itself"
                )
        attrs = [name for name in required if name in _RECORD_ATTRS and name not in _HEAD_ATTRS]
        if reserved is not None:
            # python-json-logger writes every record attribute left out of reserved_attrs.
            attrs += sorted(_RECORD_ATTRS - _HEAD_ATTRS - set(reserved))
        if callsite:
            attrs += schema.CALLSITE
        self._attrs = tuple(dict.fromkeys(attrs))
        self._renamed = {name: rename[name] for name in self._attrs if name in rename}
        self._rename = {k: v for k, v in rename.items() if k not in self._renamed}
        self._base = {
            **{k: v for k, v in (defaults or {}).items() if k not in _RECORD_ATTRS},
            **dict(static or {}),
        }
        self._default = json_default
        self._reserved = frozenset(reserved or ()) - _RECORD_ATTRS
        self._schema = schema

    @property
    def active(self) -> bool:
        """Whether any option changes a line (else the formatter skips :meth:`apply`)."""
        return bool(self._attrs or self._base or self._rename or self._reserved or self._default)

    def apply(
        self, record: logging.LogRecord, fields: dict[str, Any] | None
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """(user fields, layout-named record fields) for one record."""
        site: dict[str, Any] | None = None
        if self._attrs:
            attrs = record.__dict__
            values = {name: attrs[name] for name in self._attrs if name in attrs}
            renamed = self._renamed
            if renamed:
                site = {renamed[k]: v for k, v in values.items() if k in renamed}
                site.update(
                    self._schema.record_fields(
                        {k: v for k, v in values.items() if k not in renamed}
                    )
                )
            else:
                site = self._schema.record_fields(values)
        if self._base:
            fields = {**self._base, **fields} if fields else dict(self._base)
        if fields and (self._rename or self._reserved or self._default is not None):
            fields = self._convert(fields)
        return fields, site

    def _convert(self, fields: dict[str, Any]) -> dict[str, Any]:
        rename, reserved, default = self._rename, self._reserved, self._default
        out: dict[str, Any] = {}
        for key, value in fields.items():
            if key in reserved:
                continue
            if default is not None and not isinstance(value, _NATIVE):
                # On failure the encoder's own fallback (repr) takes over.
                with contextlib.suppress(Exception):
                    value = default(value)  # noqa: PLW2901
            out[rename.get(key, key)] = value
        return out
