"""Issue 20: stdlib logging and structlog behave as one logging system."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

import tracelog
from tests.conftest import Output, emit

NAMES = ("noisy", "noisy.child", "app")


@pytest.fixture(autouse=True)
def _restore_levels() -> Iterator[None]:
    """Levels set on named loggers or by logging.disable do not outlive the test."""
    yield
    logging.disable(logging.NOTSET)
    for name in NAMES:
        logger = logging.getLogger(name)
        logger.setLevel(logging.NOTSET)
        logger.disabled = False


def log_both(name: str, method: str, message: str) -> None:
    """The same call through stdlib and through a tracelog structlog logger."""
    getattr(logging.getLogger(name), method)(message, extra={"via": "stdlib"})
    getattr(tracelog.get_logger(name), method)(message, via="structlog")


def written(out: Output) -> list[tuple[str, str]]:
    """(message, framework) of each line written."""
    return [(line["message"], line["via"]) for line in out.lines()]


class TestLevels:
    def test_set_level_quiets_both_frameworks(self, output: Callable[..., Output]) -> None:
        """setLevel(WARNING) on a logger filters INFO calls of that name in both frameworks."""
        out = output(level="DEBUG")
        logging.getLogger("noisy").setLevel(logging.WARNING)
        log_both("noisy", "info", "dropped")
        log_both("noisy", "warning", "kept")
        log_both("app", "info", "other")
        expected = [
            ("kept", "stdlib"),
            ("kept", "structlog"),
            ("other", "stdlib"),
            ("other", "structlog"),
        ]
        assert expected == written(out)

    @pytest.mark.parametrize("method", ["debug", "info", "warning", "error", "critical"])
    def test_each_method_follows_the_stdlib_level(
        self, output: Callable[..., Output], method: str
    ) -> None:
        """Every level method of a structlog logger is quiet below the stdlib logger's level."""
        out = output(level="DEBUG")
        logging.getLogger("noisy").setLevel(logging.CRITICAL + 1)
        getattr(tracelog.get_logger("noisy"), method)("dropped")
        tracelog.get_logger("noisy").log(logging.ERROR, "dropped too")
        assert [] == out.lines()

    def test_logger_taken_before_configure_follows_later_set_level(
        self, output: Callable[..., Output]
    ) -> None:
        """A logger taken before configure() and setLevel() follows both."""
        early = tracelog.get_logger("noisy")
        out = output()
        early.info("before", via="structlog")
        logging.getLogger("noisy").setLevel(logging.ERROR)
        early.info("after", via="structlog")
        early.bind(k=1).warning("bound", via="structlog")
        logging.getLogger("noisy").setLevel(logging.NOTSET)
        early.info("again", via="structlog")
        assert [("before", "structlog"), ("again", "structlog")] == written(out)

    def test_parent_level_is_inherited(self, output: Callable[..., Output]) -> None:
        """A child logger's effective level comes from its parent, as in stdlib."""
        out = output()
        logging.getLogger("noisy").setLevel(logging.WARNING)
        log_both("noisy.child", "info", "dropped")
        log_both("noisy.child", "error", "kept")
        assert [("kept", "stdlib"), ("kept", "structlog")] == written(out)

    def test_logging_disable_applies(self, output: Callable[..., Output]) -> None:
        """logging.disable(INFO) quiets INFO in both frameworks, and lifting it restores them."""
        out = output()
        log_both("app", "info", "first")
        logging.disable(logging.INFO)
        log_both("app", "info", "dropped")
        log_both("app", "warning", "kept")
        logging.disable(logging.NOTSET)
        log_both("app", "info", "last")
        expected = [(m, via) for m in ("first", "kept", "last") for via in ("stdlib", "structlog")]
        assert expected == written(out)

    def test_disabled_logger_is_quiet(self, output: Callable[..., Output]) -> None:
        """A stdlib logger disabled (as dictConfig does to existing loggers) quiets both."""
        out = output()
        log_both("app", "warning", "first")
        logging.getLogger("app").disabled = True
        log_both("app", "warning", "dropped")
        assert [("first", "stdlib"), ("first", "structlog")] == written(out)

    def test_lower_logger_level_does_not_beat_configure(
        self, output: Callable[..., Output]
    ) -> None:
        """A logger at DEBUG still writes nothing below configure()'s level, in both."""
        out = output(level="INFO")
        logging.getLogger("app").setLevel(logging.DEBUG)
        log_both("app", "debug", "dropped")
        assert [] == out.lines()

    def test_is_enabled_for(self, output: Callable[..., Output]) -> None:
        """is_enabled_for() answers with both levels."""
        output(level="DEBUG")
        logging.getLogger("noisy").setLevel(logging.WARNING)
        log = tracelog.get_logger("noisy")
        assert (False, True) == (log.is_enabled_for(20), log.is_enabled_for(30))

    def test_unnamed_logger_follows_root(self, output: Callable[..., Output]) -> None:
        """A logger without a name has the root logger's level."""
        out = output(level="INFO")
        logging.getLogger().setLevel(logging.ERROR)
        tracelog.get_logger().warning("dropped")
        tracelog.get_logger().error("kept")
        assert ["kept"] == [line["message"] for line in out.lines()]

    @pytest.mark.parametrize("framework", ["stdlib", "structlog"])
    def test_parity_with_emit(self, output: Callable[..., Output], framework: str) -> None:
        """The shared emit helper's logger 'app' obeys setLevel in each framework."""
        out = output()
        logging.getLogger("app").setLevel(logging.ERROR)
        emit(framework, "warning", "dropped")
        emit(framework, "error", "kept")
        assert ["kept"] == [line["message"] for line in out.lines()]
