"""tracelog under ``opentelemetry-instrument``: an opt-in ``opentelemetry_instrumentor``.

The zero-code agent loads every installed ``opentelemetry_instrumentor`` entry point
after it has set up the SDK (tracer provider, Resource), so by the time
:class:`TracelogInstrumentor` runs, ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES``
are already in the provider's Resource that each line reads its service from.

Nothing happens unless ``TRACELOG_CONFIGURE`` is true: then the agent's start-up calls
:func:`tracelog.configure`, which reads the usual ``TRACELOG_*`` variables.
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=tracelog`` skips it like any instrumentor (the
agent matches that list against the entry point's name).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracelog import config
from tracelog._extras import requires_extra
from tracelog._options import ENV_CONFIGURE, env_bool
from tracelog._sink import _diagnose

with requires_extra("tracelog.instrument", "instrument"):
    # The module starts with a file-wide `# type: ignore`, so mypy sees none of its names.
    from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
        BaseInstrumentor,
    )

if TYPE_CHECKING:
    from collections.abc import Collection

__all__ = ["CONFIGURE_VAR", "TracelogInstrumentor"]

CONFIGURE_VAR = ENV_CONFIGURE


class TracelogInstrumentor(BaseInstrumentor):  # type: ignore[misc]  # an Any base
    """Configure tracelog at the agent's start-up if ``TRACELOG_CONFIGURE`` is true.

    Otherwise it does nothing. ``uninstrument()`` undoes only its own
    :func:`tracelog.configure` call, through :func:`tracelog.shutdown`.

    A bad ``TRACELOG_CONFIGURE`` or ``TRACELOG_*`` value prints one ``tracelog:`` line to
    stderr and leaves logging as it was. It is not raised: the agent re-raises an
    instrumentor's exception out of its loading loop, so every instrumentor after this
    one (and the post-instrument hooks) would silently not be loaded.

    .. versionadded:: 0.1.0
    """

    _configured = False

    def instrumentation_dependencies(self) -> Collection[str]:
        # What tracelog adapts (stdlib logging, structlog) are its own runtime
        # dependencies, so there is nothing the agent's version check could find missing.
        return ()

    def _instrument(self, **kwargs: Any) -> None:
        try:
            if env_bool(CONFIGURE_VAR):
                config.configure()
                self._configured = True
        except (ValueError, TypeError) as exc:
            _diagnose(f"not configured under opentelemetry-instrument: {exc}")

    def _uninstrument(self, **kwargs: Any) -> None:
        # Only undo our own configure(): an app that called configure() itself keeps it.
        if self._configured:
            self._configured = False
            config.shutdown()
