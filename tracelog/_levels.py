"""The one level table: names, numbers and each spelling tracelog writes.

A leaf module (it imports nothing of tracelog's): configuration, both framework adapters,
the layouts, the bridge and the CLI all read levels from here, so a level is spelled the
same way everywhere.

Numbers are stdlib's (``logging.DEBUG`` is 10 ... ``logging.CRITICAL`` is 50); a custom
level keeps its own number and name.
"""

from __future__ import annotations

__all__ = [
    "CRITICAL",
    "DEBUG",
    "ERROR",
    "INFO",
    "LEVEL_NAMES",
    "LOWER_NAMES",
    "METHOD_LEVELS",
    "WARNING",
    "gcp_severity",
    "level_name",
    "lower_name",
    "parse_level",
]

DEBUG = 10
INFO = 20
WARNING = 30
ERROR = 40
CRITICAL = 50

#: Level names accepted by ``configure(level=...)`` and the adapters (any case).
LEVEL_NAMES: dict[str, int] = {
    "DEBUG": DEBUG,
    "INFO": INFO,
    "WARNING": WARNING,
    "WARN": WARNING,
    "ERROR": ERROR,
    "CRITICAL": CRITICAL,
    "FATAL": CRITICAL,
}

#: stdlib's canonical name of each standard level number.
_NAMES: dict[int, str] = {
    DEBUG: "DEBUG",
    INFO: "INFO",
    WARNING: "WARNING",
    ERROR: "ERROR",
    CRITICAL: "CRITICAL",
}
#: The ``default``/``otel`` layouts write levels in lowercase (DESIGN.md).
LOWER_NAMES: dict[int, str] = {number: name.lower() for number, name in _NAMES.items()}

#: structlog's method names and the level each one logs at.
METHOD_LEVELS: dict[str, int] = {
    "debug": DEBUG,
    "info": INFO,
    "msg": INFO,
    "log": INFO,
    "warn": WARNING,
    "warning": WARNING,
    "error": ERROR,
    "err": ERROR,
    "exception": ERROR,
    "critical": CRITICAL,
    "fatal": CRITICAL,
}

# Cloud Logging's LogSeverity names below each bound, for custom levels in between.
_GCP_BOUNDS = ((DEBUG, "DEFAULT"), (INFO, "DEBUG"), (WARNING, "INFO"), (ERROR, "WARNING"))


def level_name(levelno: int) -> str:
    """stdlib's name of a standard level; ``INFO`` for any other number."""
    return _NAMES.get(levelno, "INFO")


def lower_name(levelno: int, levelname: str) -> str:
    """The lowercase spelling of a level (a custom level keeps its own name)."""
    return LOWER_NAMES.get(levelno) or levelname.lower()


def gcp_severity(levelno: int) -> str:
    """Cloud Logging's ``severity`` for a level number."""
    name = _NAMES.get(levelno)
    if name is not None:
        return name
    for bound, severity in _GCP_BOUNDS:
        if levelno < bound:
            return severity
    return "ERROR" if levelno < CRITICAL else "CRITICAL"


def parse_level(level: object, option: str = "level") -> int:
    """A level name (any case) or a stdlib level number.

    Args:
        level: the value to read.
        option: the option's name, for the error message.

    Raises:
        ValueError: for an unknown name (naming the valid ones) or a negative number.
        TypeError: for another type.
    """
    if isinstance(level, bool):
        raise TypeError(f"{option} must be a level name or number, not a bool")
    if isinstance(level, int):
        if level < 0:
            raise ValueError(f"{option} must be >= 0, not {level}")
        return level
    if isinstance(level, str):
        found = LEVEL_NAMES.get(level.strip().upper())
        if found is None:
            raise ValueError(
                f"unknown {option} {level!r}; valid levels: DEBUG, INFO, WARNING, ERROR, CRITICAL"
            )
        return found
    raise TypeError(f"{option} must be a level name or number, not {type(level).__name__}")
