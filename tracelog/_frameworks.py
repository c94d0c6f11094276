"""Route the servers' own loggers (uvicorn, gunicorn, Django, Celery, werkzeug) to tracelog.

Servers give their loggers console handlers of their own (text, on stderr or stdout)
and often ``propagate = False``, so their startup, access and error lines never reach
the root logger's tracelog handler, or reach it *and* their own handler: one line as
text and again as JSON. :func:`route` makes each of them drop the handlers that write to
the process's stdout/stderr and propagate to the root instead. File, mail and syslog
handlers stay.

The server may set up its logging before ``configure()`` (uvicorn applies its
``LOGGING_CONFIG`` before importing the app) or after it (Django's ``LOGGING`` at
``django.setup()``, Celery's worker start). For the second case a
:class:`FrameworkRoutingFilter` stays on each server logger: ``dictConfig`` replaces a
logger's handlers but keeps its filters, so the first record after a reconfiguration
routes the logger again, before any handler sees it. Celery, which replaces the *root*
logger's handlers when its worker starts, is told through its documented
``setup_logging`` signal that logging is configured already, and its task signals
carry the caller's trace context to the task (``tracelog._celery``).

Nothing here patches ``logging`` or runs at import.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

__all__ = ["FRAMEWORK_LOGGERS", "FrameworkRoutingFilter", "route", "unroute"]

#: The server loggers routed to tracelog, and (by prefix) every logger below them.
FRAMEWORK_LOGGERS: tuple[str, ...] = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "gunicorn",
    "gunicorn.error",
    "gunicorn.access",
    "django",
    "django.server",
    "django.request",
    "django.security",
    "django.db.backends",
    "django.utils.autoreload",
    "celery",
    "celery.task",
    "celery.app.trace",
    "celery.worker",
    "celery.redirected",
    "kombu",
    "werkzeug",
)
_PREFIXES = tuple(sorted({name.split(".", 1)[0] for name in FRAMEWORK_LOGGERS}))


def _is_console(handler: logging.Handler) -> bool:
    """Whether *handler* writes to this process's stdout or stderr (by stream or fd)."""
    if type(handler).__module__.startswith("tracelog."):
        return False
    stream = getattr(handler, "stream", None)
    if stream is None or isinstance(handler, logging.FileHandler):
        return False
    if stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        return True
    try:
        return int(stream.fileno()) in (1, 2)
    except Exception:  # StringIO, a closed or exotic stream: not the console
        return False


def _route_logger(logger: logging.Logger) -> None:
    for handler in [h for h in logger.handlers if _is_console(h)]:
        logger.removeHandler(handler)
    logger.propagate = True


def _framework_loggers(*, named: bool = True) -> list[logging.Logger]:
    """The server loggers that exist now (created by the server's imports), and the named
    ones (created here, so that a server configuring them later finds the filter)."""
    names = set(FRAMEWORK_LOGGERS) if named else set()
    for name in list(logging.Logger.manager.loggerDict):
        if name.split(".", 1)[0] in _PREFIXES:
            names.add(name)
    return [logging.getLogger(name) for name in sorted(names)]


class FrameworkRoutingFilter(logging.Filter):
    """Routes its logger and its server ancestors again when a record passes.

    A logger filter runs before the logger calls any handler, so handlers that a later
    ``dictConfig`` (Django, gunicorn's ``logconfig_dict``) put back are gone before this
    record would reach them. It never rejects a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn's copy of the message with ANSI colour codes, for its own formatter.
        record.__dict__.pop("color_message", None)
        # The manager's dict, not getLogger(): no lock taken on the logging path.
        logger: Any = logging.Logger.manager.loggerDict.get(record.name)
        while isinstance(logger, logging.Logger) and logger.name.split(".", 1)[0] in _PREFIXES:
            if not logger.propagate or any(_is_console(h) for h in logger.handlers):
                _route_logger(logger)
            logger = logger.parent
        return True


_FILTER = FrameworkRoutingFilter()


def _celery_configured(**_: Any) -> None:
    """Celery's ``setup_logging`` receiver: its presence keeps the worker off the root logger."""


def route() -> None:
    """Send the server loggers' console output through the root logger (tracelog's handler)."""
    for logger in _framework_loggers():
        _route_logger(logger)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    signals = sys.modules.get("celery.signals")
    if signals is not None:
        # Celery's documented hook: with a receiver connected, the worker leaves logging
        # as configured (no root hijack, no handlers of its own). weak=False: the
        # receiver is a module function, but Celery would otherwise hold it weakly.
        signals.setup_logging.connect(_celery_configured, weak=False)
        from tracelog import _celery  # noqa: PLC0415 - only in a process that uses Celery

        _celery.connect(signals)


def unroute() -> None:
    """Stop re-routing server loggers reconfigured later (``configure(frameworks=False)``)."""
    for logger in _framework_loggers(named=False):
        logger.removeFilter(_FILTER)
    signals = sys.modules.get("celery.signals")
    if signals is not None:
        signals.setup_logging.disconnect(_celery_configured)
        from tracelog import _celery  # noqa: PLC0415

        _celery.disconnect(signals)
