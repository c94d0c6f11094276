"""Every ``configure()`` option in one table: its ``TRACELOG_*`` variable, default and parser.

Each option resolves in one order: the argument, then its variable, then the default.
One parser per type reads both the argument and the variable's text, so ``"true"``,
``"1"``, ``"yes"`` and ``"on"`` mean the same for every boolean, and a bad value names
the option (or the variable it came from) and the valid choices.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tracelog._levels import parse_level

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "ENV_BUFFER_DEBUG",
    "ENV_CALLSITE",
    "ENV_CONFIGURE",
    "ENV_FRAMEWORKS",
    "ENV_LEVEL",
    "ENV_OTEL_LOGS",
    "ENV_QUEUE",
    "ENV_REDACT",
    "ENV_SAMPLE",
    "ENV_SCHEMA",
    "ENV_SPAN_EVENTS",
    "ENV_STREAM",
    "ENV_TRACE_URL",
    "OPTIONS",
    "Option",
    "env_bool",
    "env_text",
    "parse_bool",
    "positive_int",
    "resolve",
]

# Every TRACELOG_* variable tracelog reads, here and nowhere else.
ENV_SCHEMA = "TRACELOG_SCHEMA"
ENV_LEVEL = "TRACELOG_LEVEL"
ENV_STREAM = "TRACELOG_STREAM"
ENV_SPAN_EVENTS = "TRACELOG_SPAN_EVENTS"
ENV_OTEL_LOGS = "TRACELOG_OTEL_LOGS"
ENV_REDACT = "TRACELOG_REDACT"
ENV_QUEUE = "TRACELOG_QUEUE"
ENV_SAMPLE = "TRACELOG_SAMPLE"
ENV_BUFFER_DEBUG = "TRACELOG_BUFFER_DEBUG"
ENV_FRAMEWORKS = "TRACELOG_FRAMEWORKS"
ENV_CALLSITE = "TRACELOG_CALLSITE"
ENV_CONFIGURE = "TRACELOG_CONFIGURE"
ENV_TRACE_URL = "TRACELOG_TRACE_URL"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def parse_bool(value: object, name: str) -> bool:
    """A bool, or its text: ``true``/``false``, ``1``/``0``, ``yes``/``no``, ``on``/``off``.

    Raises:
        ValueError: for any other text, naming the option and the valid spellings.
        TypeError: for any other type.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"{name} must be true or false (1/0, yes/no, on/off), not {value!r}")
    raise TypeError(f"{name} must be a bool, not {type(value).__name__}")


def positive_int(value: object, name: str) -> int:
    """*value* if it is an int >= 1.

    Raises:
        TypeError: for another type.
        ValueError: for a number below 1.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, not {value}")
    return value


def _passthrough(value: object, name: str) -> object:
    # Options whose value is an object as well as a name (schema=, stream=, redact=,
    # sample=): their own constructors check them, with the option's name.
    return value


def _redact(value: object, name: str) -> object:
    # True/False or their text, or a Redactor (checked where it is used).
    return parse_bool(value, name) if isinstance(value, str) else value


def _level(value: object, name: str) -> int:
    return parse_level(value, name)


@dataclass(frozen=True, slots=True)
class Option:
    """One ``configure()`` option.

    Attributes:
        name: the argument's name.
        env: its ``TRACELOG_*`` variable, or None.
        default: the value when neither is given.
        parse: reads an argument or the variable's text; raises naming the option.
    """

    name: str
    env: str | None
    default: Any
    parse: Callable[[object, str], Any]


OPTIONS: dict[str, Option] = {
    option.name: option
    for option in (
        Option("schema", ENV_SCHEMA, default="default", parse=_passthrough),
        Option("level", ENV_LEVEL, default="INFO", parse=_level),
        Option("stream", ENV_STREAM, default="stderr", parse=_passthrough),
        Option("span_events", ENV_SPAN_EVENTS, default=False, parse=parse_bool),
        Option("otel_logs", ENV_OTEL_LOGS, default=False, parse=parse_bool),
        Option("redact", ENV_REDACT, default=True, parse=_redact),
        Option("queue", ENV_QUEUE, default=False, parse=parse_bool),
        Option("sample", ENV_SAMPLE, default=None, parse=_passthrough),
        Option("buffer_debug", ENV_BUFFER_DEBUG, default=False, parse=parse_bool),
        Option("frameworks", ENV_FRAMEWORKS, default=True, parse=parse_bool),
        Option("callsite", ENV_CALLSITE, default=False, parse=parse_bool),
        Option("bridge_level", None, default="INFO", parse=_level),
        Option("datadog_full_trace_id", None, default=False, parse=parse_bool),
        Option("queue_size", None, default=10_000, parse=positive_int),
        Option("buffer_lines", None, default=100, parse=positive_int),
        Option("buffer_bytes", None, default=64 * 1024, parse=positive_int),
        Option("buffer_traces", None, default=1000, parse=positive_int),
    )
}


def resolve(name: str, value: object) -> Any:
    """The option's value: *value* if given, else its variable (if set), else the default.

    Variables are read as text and parsed like an argument.

    Raises:
        ValueError, TypeError: from the option's parser, naming the argument or variable.
    """
    option = OPTIONS[name]
    label = name
    if value is None and option.env is not None:
        text = os.environ.get(option.env)
        if text is not None and text.strip():
            value, label = text.strip(), option.env
    if value is None:
        value = option.default
    return None if value is None else option.parse(value, label)


def env_bool(variable: str) -> bool:
    """A boolean variable outside configure() (``TRACELOG_CONFIGURE``): unset is false."""
    text = os.environ.get(variable)
    return False if text is None or not text.strip() else parse_bool(text, variable)


def env_text(variable: str) -> str | None:
    """A text variable's stripped value, or None when unset or blank."""
    text = os.environ.get(variable)
    return text.strip() if text is not None and text.strip() else None
