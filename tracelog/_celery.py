"""Carry the caller's trace context to Celery tasks, through Celery's documented signals.

``before_task_publish`` writes the caller's ``traceparent``/``tracestate`` into the task
message's headers (:func:`~tracelog.web.inject_headers`); in the worker,
``task_prerun`` makes the context in those headers current for the task's run and
``task_postrun`` ends it, so the task's lines, and Celery's own "received... succeeded
/ raised" lines logged in between, carry the caller's trace id. No span is started:
with OpenTelemetry's Celery instrumentation installed, its span is current instead and
these receivers step aside.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from opentelemetry.context import attach, detach

from tracelog._context import current_trace_context
from tracelog.web import extract_context, inject_headers

if TYPE_CHECKING:
    from contextvars import Token
    from types import ModuleType

    from opentelemetry.context import Context

__all__ = ["connect", "disconnect"]

_HEADERS = ("traceparent", "tracestate")
# task id -> the token of the context attached in task_prerun (prefork, solo and thread
# pools run prerun, the task and postrun on one thread).
_tokens: dict[str, Token[Context]] = {}
_lock = threading.Lock()


def _publish(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None and current_trace_context() is not None:
        inject_headers(headers)


def _prerun(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    if task_id is None or current_trace_context() is not None:
        return
    request = getattr(task, "request", None)
    carrier = {name: getattr(request, name, None) for name in _HEADERS}
    found = {name: value for name, value in carrier.items() if isinstance(value, str)}
    if "traceparent" not in found:
        return
    token = attach(extract_context(found))
    with _lock:
        _tokens[task_id] = token


def _postrun(task_id: str | None = None, **_: Any) -> None:
    with _lock:
        token = _tokens.pop(task_id or "", None)
    if token is not None:
        detach(token)


def connect(signals: ModuleType) -> None:
    """Connect the receivers (strongly: Celery holds receivers weakly by default)."""
    signals.before_task_publish.connect(_publish, weak=False)
    signals.task_prerun.connect(_prerun, weak=False)
    signals.task_postrun.connect(_postrun, weak=False)


def disconnect(signals: ModuleType) -> None:
    """Undo :func:`connect` (``configure(frameworks=False)``)."""
    signals.before_task_publish.disconnect(_publish)
    signals.task_prerun.disconnect(_prerun)
    signals.task_postrun.disconnect(_postrun)
