"""tracelog: trace-correlated JSON logs for stdlib logging and structlog.

``import tracelog`` has no side effects: it loads neither structlog nor the OpenTelemetry
SDK, and changes no global logging state until :func:`configure` is called. The public
names are imported on first use, so that ``import tracelog`` (and every start of the
``tracelog`` command, which needs none of the logging machinery) costs next to nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracelog._context import TraceContext, current_trace_context
    from tracelog._propagation import (
        ContextThread,
        ContextThreadPoolExecutor,
        run_in_executor,
        wrap,
    )
    from tracelog.config import configure, get_logger, shutdown, stats
    from tracelog.redact import Redactor
    from tracelog.schemas import SCHEMA_NAMES, Schema
    from tracelog.web import inject_headers

__all__ = [
    "SCHEMA_NAMES",
    "ContextThread",
    "ContextThreadPoolExecutor",
    "Redactor",
    "Schema",
    "TraceContext",
    "__version__",
    "configure",
    "current_trace_context",
    "get_logger",
    "inject_headers",
    "run_in_executor",
    "shutdown",
    "stats",
    "wrap",
]


# public name -> the module it lives in
_LAZY = {
    "configure": "config",
    "get_logger": "config",
    "shutdown": "config",
    "stats": "config",
    "TraceContext": "_context",
    "current_trace_context": "_context",
    "ContextThread": "_propagation",
    "ContextThreadPoolExecutor": "_propagation",
    "run_in_executor": "_propagation",
    "wrap": "_propagation",
    "Redactor": "redact",
    "SCHEMA_NAMES": "schemas",
    "Schema": "schemas",
}


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"tracelog.{module}"), name)
        globals()[name] = value  # the next look-up is a plain attribute
        return value
    if name == "inject_headers":
        # Imported on first use: importing opentelemetry.propagate loads the propagators
        # named in OTEL_PROPAGATORS, which raises when one is not installed, and
        # `import tracelog` must never fail or do that work.
        from tracelog.web import inject_headers  # noqa: PLC0415

        return inject_headers
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

        try:
            return version("tracelog-otel")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            from tracelog._version import __version__  # noqa: PLC0415

            return __version__
    raise AttributeError(f"module 'tracelog' has no attribute {name!r}")
