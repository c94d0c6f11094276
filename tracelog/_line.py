"""The one line builder both framework adapters call.

stdlib's formatter and structlog's renderer each translate their event into the
arguments of :meth:`LineEncoder.encode`; everything after that (redaction, field
collisions, the schema's names, JSON safety) happens here once, so the two frameworks
cannot drift apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracelog import _render as render
from tracelog._context import (
    env_deployment,
    escaped_context,
    fallback_service,
    resource_deployment,
)
from tracelog._event import Scrubber, resolve_redactor
from tracelog.schemas import ExcInfo, Schema, get_schema

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tracelog._context import TraceContext
    from tracelog.redact import Redactor


class LineEncoder:
    """Turns one log event into one JSON line (bytes ending in ``\\n``); never raises.

    Args:
        schema: a layout name or :class:`~tracelog.schemas.Schema`.
        service: a fixed service name; None resolves per line (Resource, env, program).
        redact: True (default rules), False, or a :class:`~tracelog.redact.Redactor`.
    """

    __slots__ = (
        "_args_deploy",
        "_clean",
        "_deploy",
        "_env_deploy",
        "_fallback",
        "_head",
        "_last_deploy",
        "_memo_max",
        "_plain",
        "redactor",
        "schema",
        "scrubber",
        "service",
    )

    def __init__(
        self,
        schema: str | Schema | None = None,
        service: str | None = None,
        redact: object = True,
        *,
        version: str | None = None,
        environment: str | None = None,
    ) -> None:
        self.schema = get_schema(schema)
        self._plain = type(self).serialize is LineEncoder.serialize
        self._head = self.schema.head_writer()
        if service is not None and (not isinstance(service, str) or not service.strip()):
            raise ValueError(f"service must be a non-empty string, not {service!r}")
        self.service = service
        self.redactor: Redactor | None = resolve_redactor(redact)
        self.scrubber = Scrubber(self.redactor)
        # The scrubber's memo of clean texts, asked inline on every line's message.
        self._clean = self.scrubber.clean
        self._memo_max = self.scrubber.memo_max
        self._fallback = fallback_service()
        for name, value in (("version", version), ("environment", environment)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValueError(f"{name} must be a non-empty string, not {value!r}")
        # Service version and environment: these arguments, else the Resource at each
        # line, else OTEL_RESOURCE_ATTRIBUTES as it was at construction.
        self._args_deploy = (version, environment)
        self._env_deploy = env_deployment()
        both = version is not None and environment is not None
        self._deploy: tuple[str | None, str | None] | None = self._args_deploy if both else None
        self._last_deploy: tuple[object, tuple[str | None, str | None] | None] = (None, None)

    def _merge_deploy(
        self, found: tuple[str | None, str | None]
    ) -> tuple[str | None, str | None] | None:
        """Per fact: the argument, else the Resource's, else the environment variable's."""
        merged = tuple(
            arg or res or env
            for arg, res, env in zip(self._args_deploy, found, self._env_deploy, strict=True)
        )
        return (merged[0], merged[1]) if merged[0] or merged[1] else None

    @classmethod
    def from_options(
        cls,
        schema: str | Schema | None = None,
        *,
        service: str | None = None,
        redact: object = True,
        gcp_project: str | None = None,
        datadog_full_trace_id: bool = False,
    ) -> LineEncoder:
        """The encoder a formatter or renderer builds from its constructor arguments."""
        return cls(
            get_schema(
                schema, gcp_project=gcp_project, datadog_full_trace_id=datadog_full_trace_id
            ),
            service=service,
            redact=redact,
        )

    def encode(
        self,
        ts: float,
        levelno: int,
        levelname: str,
        logger: str | None,
        message: str,
        ctx: TraceContext | None,
        resource_service: str | None,
        fields: Mapping[str, Any] | None,
        exc_info: ExcInfo | None = None,
        site: Mapping[str, Any] | None = None,
    ) -> bytes:
        """The line, in the schema's key order, as bytes with its newline; never raises.

        *site* holds fields the layout already named (call site, format-string record
        fields): written after the trace fields, before the user's, which cannot
        replace them. One function on purpose: it runs for every line of both
        frameworks, and each call layer is a measurable share of a line.
        """
        try:
            scrubber = self.scrubber
            schema = self.schema
            if ctx is None and exc_info is not None:
                # A server logs a request's failure after the request's span ended: the
                # exception kept the ids of the request it escaped from.
                ctx = escaped_context(exc_info)
            clean = self._clean
            # A message seen before (the usual case: a few templates) is one set lookup.
            if clean is None or len(message) > self._memo_max or message not in clean:
                message = scrubber.message(message)
            line = self._head(
                ts,
                levelno,
                levelname,
                logger,
                message,
                self.service or resource_service or self._fallback,
                ctx,
            )
            deploy = self._deploy
            if deploy is None:
                # The Resource's pair: one cached tuple per provider, merged once a change.
                found = resource_deployment()
                last = self._last_deploy
                if last[0] is found:
                    deploy = last[1]
                else:
                    deploy = self._merge_deploy(found)
                    self._last_deploy = (found, deploy)
            if deploy is not None:
                schema.add_deployment(line, deploy[0], deploy[1])
            if site:
                for key, value in site.items():
                    line.setdefault(key, render.coerce(value))
            if fields:
                scrubber.fields_into(line, fields, schema.reserved)
            if exc_info is not None:
                schema.add_exception(line, *scrubber.exception(exc_info))
            # The JSON layouts' serialize() is render.dumps: called straight.
            return render.dumps(line) if self._plain else self.serialize(line)
        except Exception as exc:  # pragma: no cover - every step guards its own inputs
            return self.serialize_failure(message, exc)

    def serialize(self, line: dict[str, Any]) -> bytes:
        """The bytes of a built line, with its newline (a subclass may render otherwise)."""
        return render.dumps(line)

    def serialize_failure(self, message: str, exc: BaseException) -> bytes:  # pragma: no cover
        """The line written when building one failed: the message and what went wrong."""
        return render.dumps({"message": message, "tracelog_error": render.safe_repr(exc)})
