"""The one line builder both framework adapters call.

stdlib's formatter and structlog's renderer each translate their event into the
arguments of :meth:`LineEncoder.encode`; everything after that (redaction, field
collisions, the schema's names, JSON safety) happens here once, so the two frameworks
cannot drift apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tracelog import _render as render
from tracelog._context import escaped_context, fallback_service
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

    __slots__ = ("_fallback", "_head", "redactor", "schema", "scrubber", "service")

    def __init__(
        self, schema: str | Schema | None = None, service: str | None = None, redact: object = True
    ) -> None:
        self.schema = get_schema(schema)
        self._head = self.schema.head_writer()
        if service is not None and (not isinstance(service, str) or not service.strip()):
            raise ValueError(f"service must be a non-empty string, not {service!r}")
        self.service = service
        self.redactor: Redactor | None = resolve_redactor(redact)
        self.scrubber = Scrubber(self.redactor)
        self._fallback = fallback_service()

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
    ) -> bytes:
        """Build and render the line."""
        try:
            return render.dumps(
                self.build(
                    ts, levelno, levelname, logger, message, ctx, resource_service, fields, exc_info
                )
            )
        except Exception as exc:  # pragma: no cover - build() guards its own inputs
            return render.dumps({"message": message, "tracelog_error": render.safe_repr(exc)})

    def build(
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
    ) -> dict[str, Any]:
        """The line as a dict, in the schema's key order."""
        scrubber = self.scrubber
        if ctx is None and exc_info is not None:
            # A server logs a request's failure after the request's span ended: the
            # exception kept the ids of the request it escaped from.
            ctx = escaped_context(exc_info)
        line = self._head(
            ts,
            levelno,
            levelname,
            logger,
            scrubber.message(message),
            self.service or resource_service or self._fallback,
            ctx,
        )
        if fields:
            scrubber.fields_into(line, fields, self.schema.reserved)
        if exc_info is not None:
            self.schema.add_exception(line, *scrubber.exception(exc_info))
        return line
