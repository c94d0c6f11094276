"""One state (tracelog._state, _options, _compat): configure() swaps a whole configuration."""

from __future__ import annotations

import logging
import threading
from typing import Any

import orjson
import pytest

import tracelog
from tracelog import _compat, _options, _state


class TestSwapUnderLoad:
    @pytest.mark.parametrize("queue", [False, True], ids=["direct", "queue"])
    def test_reconfiguring_while_threads_log_loses_no_line(self, tmp_path, queue) -> None:
        """configure() 20 times while 4 threads log: every line arrives once, whole."""
        path = tmp_path / "out.log"
        per_thread = 1500
        with path.open("a") as stream:
            tracelog.configure(stream=stream, queue=queue)
            start = threading.Barrier(5)

            def work(n: int) -> None:
                stdlib, structlog = logging.getLogger(f"t{n}"), tracelog.get_logger(f"s{n}")
                start.wait()
                for i in range(per_thread):
                    if i % 2:
                        stdlib.info("line", extra={"n": n, "i": i})
                    else:
                        structlog.info("line", n=n, i=i)

            threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
            for thread in threads:
                thread.start()
            start.wait()
            for round_ in range(20):
                tracelog.configure(
                    stream=stream, queue=queue, schema="default", service=f"r{round_}"
                )
            for thread in threads:
                thread.join()
            tracelog.shutdown()
        lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
        seen = sorted((line["n"], line["i"]) for line in lines if line.get("message") == "line")
        assert [(n, i) for n in range(4) for i in range(per_thread)] == seen

    def test_state_is_swapped_whole(self, output) -> None:
        """After configure() every part of the state belongs to the new configuration."""
        output(queue=True, sample="parent")
        first = _state.current
        output()
        second = _state.current
        assert first is not second
        assert (None, None) == (second.queue, second.sampler)
        assert second.sink is second.handler.sink  # type: ignore[union-attr]
        assert second.front in logging.getLogger().handlers
        assert first.front not in logging.getLogger().handlers

    def test_shutdown_returns_to_unconfigured(self, output) -> None:
        """shutdown() removes tracelog's handler and forgets the state."""
        output()
        tracelog.shutdown()
        assert _state.UNCONFIGURED is _state.current
        assert [] == [
            h for h in logging.getLogger().handlers if type(h).__module__.startswith("tracelog")
        ]


BOOLEAN_OPTIONS = [name for name, o in _options.OPTIONS.items() if o.parse is _options.parse_bool]


class TestOptions:
    def test_every_variable_is_a_constant(self) -> None:
        """Each option's variable is one of the module's ENV_* constants."""
        constants = {v for k, v in vars(_options).items() if k.startswith("ENV_")}
        assert {o.env for o in _options.OPTIONS.values() if o.env} <= constants

    @pytest.mark.parametrize("name", BOOLEAN_OPTIONS)
    @pytest.mark.parametrize(
        ("text", "expected"),
        [("true", True), ("1", True), ("YES", True), ("on", True), ("false", False), ("0", False)],
    )
    def test_booleans_read_alike(self, monkeypatch, name, text, expected) -> None:
        """Every boolean option reads the same spellings, as argument and as variable."""
        assert expected is _options.resolve(name, text)
        env = _options.OPTIONS[name].env
        if env is not None:
            monkeypatch.setenv(env, text)
            assert expected is _options.resolve(name, None)

    @pytest.mark.parametrize("name", ["span_events", "queue", "otel_logs", "buffer_debug"])
    def test_configure_takes_boolean_text(self, output, name) -> None:
        """configure(span_events="true") is accepted like configure(queue="true")."""
        output(**{name: "true"})
        logging.getLogger("app").warning("ok")

    @pytest.mark.parametrize("name", ["span_events", "queue", "otel_logs", "redact"])
    def test_bad_boolean_names_the_option(self, output, monkeypatch, name) -> None:
        """A bad boolean names its option (or variable) and the valid spellings."""
        with pytest.raises(ValueError, match=rf"{name} must be true or false \(1/0"):
            output(**{name: "maybe"}) if name != "redact" else _options.resolve(name, "maybe")
        env = _options.OPTIONS[name].env
        assert env is not None
        monkeypatch.setenv(env, "maybe")
        with pytest.raises(ValueError, match=rf"{env} must be true or false"):
            output()

    def test_bad_level_names_the_variable(self, output, monkeypatch) -> None:
        """A bad TRACELOG_LEVEL names the variable and the valid levels."""
        monkeypatch.setenv("TRACELOG_LEVEL", "loud")
        with pytest.raises(ValueError, match="unknown TRACELOG_LEVEL 'loud'; valid levels: DEBUG"):
            output()

    def test_blank_variable_is_unset(self, output, monkeypatch) -> None:
        """A variable set to blanks counts as unset: the default applies."""
        monkeypatch.setenv("TRACELOG_QUEUE", "  ")
        output()
        assert _state.current.queue is None

    def test_argument_beats_variable(self, output, monkeypatch) -> None:
        """The argument wins over its variable."""
        monkeypatch.setenv("TRACELOG_SCHEMA", "ecs")
        out = output(schema="otel")
        logging.getLogger("app").warning("w")
        assert "level" in out.lines()[0]

    def test_env_helpers(self, monkeypatch) -> None:
        """env_bool: unset is false; env_text: blank is None."""
        monkeypatch.delenv("TRACELOG_CONFIGURE", raising=False)
        assert _options.env_bool("TRACELOG_CONFIGURE") is False
        monkeypatch.setenv("TRACELOG_CONFIGURE", "on")
        assert _options.env_bool("TRACELOG_CONFIGURE") is True
        monkeypatch.setenv("TRACELOG_TRACE_URL", " ")
        assert _options.env_text("TRACELOG_TRACE_URL") is None


class TestStats:
    def test_every_counter_is_reported(self, output) -> None:
        """stats() names the sampling, buffer, queue, sink and bridge counters."""
        output()
        assert {
            "sampled_kept",
            "sampled_dropped",
            "buffered",
            "buffer_flushed",
            "buffer_discarded",
            "buffer_evicted",
            "buffered_traces",
            "queue_dropped",
            "queue_lost_at_exit",
            "sink_lost",
            "sink_reentrant_dropped",
            "bridge_failures",
        } == set(tracelog.stats())

    def test_sink_and_bridge_failures_are_counted(self, capfd) -> None:
        """A closed stream's lost lines and a failing bridge show in stats()."""

        class Closed:
            closed = True

            def write(self, text: str) -> Any:
                raise ValueError("closed")

            def flush(self) -> None:
                pass

        class FailingProvider:
            def get_logger(self, *args: Any, **kwargs: Any) -> Any:
                raise RuntimeError("exporter down")

        tracelog.configure(stream=Closed(), otel_logs=True, logger_provider=FailingProvider())  # type: ignore[arg-type]
        logging.getLogger("app").warning("one")
        tracelog.get_logger("app").warning("two")
        counts = tracelog.stats()
        assert (2, 2) == (counts["sink_lost"], counts["bridge_failures"])
        capfd.readouterr()


class TestCompat:
    def test_no_fallback_on_the_installed_versions(self) -> None:
        """Every private attribute tracelog reads exists on the installed OTel and structlog."""
        import tracelog.bridge
        import tracelog.structlog  # noqa: F401

        assert _compat.context_reader() is not None
        assert _compat.structlog_context_vars() is not None
        assert [] == _compat.FALLBACKS
