from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest

import tracelog
from tracelog import _state
from tracelog import structlog as adapter
from tracelog.testing import LogRecorder, SpanRecorder

FRAMEWORKS = ("stdlib", "structlog")

# Modules whose every test starts real processes or servers (examples, the demo, servers,
# the W3C suite over HTTP, the exporters on the wire, the zero-code agent): `make test`
# runs them, `make check` (the quick loop) leaves them out.
SLOW_MODULES = frozenset(
    {
        "test_examples",
        "test_demo",
        "test_servers",
        "test_w3c_suite",
        "test_receiver",
        "test_instrument",
        "test_snippets",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.module is not None and item.module.__name__.rpartition(".")[2] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def recorder() -> Iterator[SpanRecorder]:
    rec = SpanRecorder(service="checkout")
    yield rec
    rec.shutdown()


@pytest.fixture
def log_recorder() -> Iterator[LogRecorder]:
    rec = LogRecorder(service="checkout")
    yield rec
    rec.shutdown()


@pytest.fixture(autouse=True)
def _restore_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts unconfigured and leaves the root logger as it found it."""
    import structlog

    for var in [name for name in os.environ if name.startswith("TRACELOG_")] + [
        "OTEL_SERVICE_NAME",
        "GOOGLE_CLOUD_PROJECT",
        "DD_ENV",
        "DD_VERSION",
    ]:
        monkeypatch.delenv(var, raising=False)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    saved = structlog.get_config()
    state, loggers_level = _state.current, adapter.ACTIVE.level
    yield
    tracelog.shutdown()
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**saved)
    _state.swap(state)
    adapter.ACTIVE.level = loggers_level


class Output:
    """A configured tracelog writing into a buffer; `.lines()` parses what was written."""

    def __init__(self, **kwargs: Any) -> None:
        self.buffer = io.StringIO()
        tracelog.configure(stream=self.buffer, **kwargs)

    def lines(self) -> list[dict[str, Any]]:
        return [orjson.loads(line) for line in self.buffer.getvalue().splitlines()]

    def raw(self) -> list[str]:
        return self.buffer.getvalue().splitlines()


@pytest.fixture
def output() -> Callable[..., Output]:
    return Output


def emit(framework: str, method: str, message: str, **fields: Any) -> None:
    """Log one event through *framework* with *fields* as user fields."""
    exc_info = fields.pop("exc_info", None)
    if framework == "stdlib":
        getattr(logging.getLogger("app"), method)(message, extra=fields, exc_info=exc_info)
    else:
        if exc_info is not None:
            fields["exc_info"] = exc_info
        getattr(tracelog.get_logger("app"), method)(message, **fields)


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# Both output modes: direct, and queue mode's listener thread.
MODES = [False, True]


@pytest.fixture(params=MODES, ids=["direct", "queue"])
def queue_mode(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def strict(raw: str) -> Any:
    def bad(value: str) -> None:
        raise ValueError(value)

    return json.loads(raw, parse_constant=bad)
