"""Type-checked uses of issue 20's API, as the README shows them (mypy --strict)."""

from __future__ import annotations

import logging
from pathlib import Path

import structlog

import tracelog
from tracelog._term import Colors
from tracelog.console import ConsoleEncoder, format_line
from tracelog.stdlib import JsonFormatter, TraceContextFilter


def two_frameworks(path: Path) -> None:
    tracelog.configure(
        schema="console",
        callsite=True,
        version="1.4.2",
        environment="staging",
        stream=path,
    )
    tracelog.configure(stream="/var/log/app.log")
    logging.getLogger("noisy").setLevel(logging.WARNING)
    enabled: bool = tracelog.get_logger("noisy").is_enabled_for(logging.INFO)
    del enabled
    structlog.contextvars.bind_contextvars(request_id="R-1")
    handler = logging.StreamHandler()
    handler.addFilter(TraceContextFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s [%(traceId)s %(spanId)s] %(message)s")
    )
    formatter = JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(module)s %(funcName)s %(lineno)d %(message)s",
        schema="ecs",
        defaults={"env": "dev"},
        rename_fields={"funcName": "function"},
        json_default=str,
        callsite=True,
    )
    del formatter
    encoder = ConsoleEncoder(color=False)
    text: str = format_line({"message": "m"}, Colors(enabled=False))
    del encoder, text
