"""Layouts: each writes its trace fields and reads the trace id back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tracelog import _render as render
from tracelog._context import TraceContext
from tracelog.schemas import (
    DEFAULT,
    SCHEMA_NAMES,
    DatadogSchema,
    Schema,
    datadog,
    get_schema,
)

IDS = st.one_of(
    st.integers(min_value=1, max_value=2**128 - 1),
    st.integers(min_value=1, max_value=2**64 - 1),  # high half zero
    st.integers(min_value=1, max_value=2**64 - 1).map(lambda h: h << 64),  # low half zero
)
SPANS = st.integers(min_value=1, max_value=2**64 - 1)


def all_schemas() -> list[Schema]:
    return [get_schema(name, gcp_project="shop") for name in SCHEMA_NAMES] + [
        datadog(full_trace_id=True)
    ]


def write(schema: Schema, ctx: TraceContext) -> dict[str, object]:
    line: dict[str, object] = {}
    schema.add_trace(line, ctx)
    return render.loads(render.dumps(line))


class TestRoundTrip:
    @pytest.mark.parametrize("schema", all_schemas(), ids=lambda s: s.name)
    @given(trace_id=IDS, span_id=SPANS)
    def test_reads_back_what_it_writes(self, schema: Schema, trace_id: int, span_id: int) -> None:
        """Every layout reads its own trace id back (Datadog's decimal: the low 64 bits)."""
        ctx = TraceContext.from_ints(trace_id, span_id, 1)
        parsed = write(schema, ctx)
        read = schema.read_trace_id(parsed)
        if isinstance(schema, DatadogSchema) and not schema.full_trace_id:
            low = trace_id & (2**64 - 1)
            assert (format(low, "016x") if low else None) == read
        else:
            assert format(trace_id, "032x") == read
        if schema.name != "gcp":
            assert format(span_id, "016x") == schema.read_span_id(parsed)

    @given(trace_id=st.integers(min_value=1, max_value=2**128 - 1))
    def test_datadog_low_64_decimal(self, trace_id: int) -> None:
        """dd.trace_id is the decimal string of the low 64 bits, never the high bits."""
        parsed = write(datadog(), TraceContext.from_ints(trace_id, 1, 1))
        assert str(trace_id & (2**64 - 1)) == parsed["dd.trace_id"]


class TestReadingForeignLines:
    @pytest.mark.parametrize(
        "line",
        [
            {},
            {"traceId": "0" * 32},
            {"traceId": "XYZ"},
            {"traceId": 5},
            {"traceId": "ab" * 17},
            {"traceId": "g" * 32},
        ],
    )
    def test_default_rejects_bad_ids(self, line: dict[str, object]) -> None:
        """Zero, short, long, non-hex and non-string ids read as None."""
        assert DEFAULT.read_trace_id(line) is None

    def test_uppercase_hex_is_normalised(self) -> None:
        """An uppercase id written by another tool still reads as lowercase."""
        assert "ab" * 16 == DEFAULT.read_trace_id({"traceId": "AB" * 16})

    @pytest.mark.parametrize(
        ("schema", "line"),
        [
            ("datadog", {"dd.trace_id": "0"}),
            ("datadog", {"dd.trace_id": "-5"}),
            ("datadog", {"dd.trace_id": str(2**64)}),
            ("datadog", {"dd.trace_id": True}),
            ("xray", {"AWS-XRAY-TRACE-ID": "1-abc"}),
            ("xray", {"AWS-XRAY-TRACE-ID": 7}),
            ("xray", {"AWS-XRAY-TRACE-ID": "1-" + "a" * 8 + "x" + "b" * 24}),
            ("gcp", {"logging.googleapis.com/trace": 3}),
        ],
    )
    def test_layout_rejects_bad_ids(self, schema: str, line: dict[str, object]) -> None:
        """Malformed ids in each layout read as None, never raise."""
        assert get_schema(schema, gcp_project="p").read_trace_id(line) is None

    def test_datadog_reads_int(self) -> None:
        """A Datadog id written as a JSON number is read too."""
        assert format(42, "016x") == datadog().read_trace_id({"dd.trace_id": 42})


class TestSchemaConfig:
    def test_gcp_project_from_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """GOOGLE_CLOUD_PROJECT supplies the project for the gcp layout."""
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "shop-prod")
        assert "shop-prod" == get_schema("gcp").project  # type: ignore[attr-defined]

    def test_datadog_env_version(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """DD_ENV and DD_VERSION fill dd.env and dd.version."""
        monkeypatch.setenv("DD_ENV", "prod")
        monkeypatch.setenv("DD_VERSION", "1.2.3")
        line: dict[str, object] = {}
        schema = get_schema("datadog")
        schema.add_service(line, "checkout")
        schema.add_trace(line, TraceContext.from_ints(2**64 + 5, 7, 1))
        expected = {
            "service": "checkout",
            "dd.trace_id": "5",
            "dd.span_id": "7",
            "dd.service": "checkout",
            "dd.env": "prod",
            "dd.version": "1.2.3",
        }
        assert expected == line

    def test_schema_instance_passes_through(self) -> None:
        """A Schema object is used as given; names are case-insensitive."""
        assert DEFAULT is get_schema(DEFAULT)
        assert "otel" == get_schema(" OTEL ").name

    def test_gcp_levels(self) -> None:
        """Custom levels map into Cloud Logging severities."""
        gcp = get_schema("gcp", gcp_project="p")
        assert ["DEFAULT", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] == [
            gcp.level(n, "X") for n in (5, 15, 25, 35, 45, 60)
        ]

    def test_custom_level_name(self) -> None:
        """A custom stdlib level keeps its own name, lowercased."""
        assert "notice" == DEFAULT.level(25, "NOTICE")


def iso_from_micros(micros: int, digits: int) -> str:
    """The expected text, worked out with datetime from whole microseconds."""
    sec, frac = divmod(micros, 1_000_000)
    head = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{head}.{frac // 10 ** (6 - digits):0{digits}d}Z"


class TestTimestamps:
    @given(st.floats(min_value=0, max_value=4e9, allow_nan=False))
    def test_micro_and_milli_text(self, ts: float) -> None:
        """Both clocks print the time truncated to their digits, for any instant."""
        micros = int(ts * 1_000_000.0)
        assert iso_from_micros(micros, 6) == DEFAULT.timestamp(ts)
        assert iso_from_micros(micros, 3) == get_schema("ecs").timestamp(ts)

    def test_steps_across_millisecond_and_second(self) -> None:
        """The per-millisecond prefix is renewed as time moves on, and back."""
        base = 1_764_633_599.998  # 2025-12-01T23:59:59.998
        steps = [base, base + 0.0004, base + 0.0011, base + 0.0025, base + 1.5, base]
        expected = [iso_from_micros(int(t * 1_000_000.0), 6) for t in steps]
        assert expected == [DEFAULT.timestamp(t) for t in steps]
        assert "2025-12-02T00:00:00.000" in expected[3]
