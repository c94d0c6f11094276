"""render.py: JSON that never raises, and sensible encodings for common types."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

import pytest

from tracelog import _render as render


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: float


class ModelLike:
    """Quacks like a pydantic v2 model."""

    def model_dump(self) -> dict[str, Any]:
        return {"name": "m", "when": dt.date(2026, 1, 2)}


class BrokenModel:
    def model_dump(self) -> dict[str, Any]:
        raise RuntimeError("nope")

    def __repr__(self) -> str:
        return "BrokenModel()"


class StrBoom:
    def __str__(self) -> str:
        raise ValueError("no str")

    def __repr__(self) -> str:
        return "StrBoom()"


def roundtrip(value: Any) -> Any:
    return render.loads(render.dumps({"v": value}))["v"]


class TestEncodings:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (dt.datetime(2026, 11, 24, 8, 5, 2, tzinfo=dt.UTC), "2026-11-24T08:05:02+00:00"),
            (dt.date(2026, 11, 24), "2026-11-24"),
            (Decimal("1.10"), "1.10"),
            (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
            (Color.RED, "red"),
            (Point(1, 2.5), {"x": 1, "y": 2.5}),
            (ModelLike(), {"name": "m", "when": "2026-01-02"}),
            (BrokenModel(), "BrokenModel()"),
            ({1, 2} - {2}, [1]),
            (bytearray(b"ab\xff"), "ab\\xff"),
            (memoryview(b"ok"), "ok"),
            (ValueError("bad"), "ValueError: bad"),
            ({"k": float("-inf")}, {"k": "-Infinity"}),
            ((1, "a"), [1, "a"]),
            ({Color.RED: 1}, {"red": 1}),
        ],
    )
    def test_coerce(self, value: Any, expected: Any) -> None:
        """Types outside JSON get ISO times, strings for Decimal/UUID, dicts for dataclasses."""
        assert expected == render.coerce(value)
        assert expected == roundtrip(render.coerce(value))

    def test_nested_types_go_through_default(self) -> None:
        """Values orjson does not know, handed to dumps directly, are still encoded."""
        assert {"d": "1.5", "s": "StrBoom()"} == roundtrip({"d": Decimal("1.5"), "s": StrBoom()})

    def test_depth_limit(self) -> None:
        """10,000 levels of nesting give a placeholder, not a RecursionError."""
        deep: Any = {}
        for _ in range(10_000):
            deep = {"d": deep}
        out = roundtrip(render.coerce(deep))
        for _ in range(render.MAX_DEPTH):
            out = out["d"]
        assert f"[depth limit {render.MAX_DEPTH}]" == out

    def test_circular_list(self) -> None:
        """A list that contains itself becomes a marker."""
        items: list[Any] = [1]
        items.append(items)
        assert [1, "[circular]"] == render.coerce(items)

    def test_safe_str(self) -> None:
        """safe_str falls back to repr, then to a type placeholder."""
        assert "StrBoom()" == render.safe_str(StrBoom())
        assert "x" == render.safe_str("x")

    def test_repr_that_logs_is_not_rendered_twice(self) -> None:
        """A repr running inside another render gets a placeholder."""

        class Nested:
            def __repr__(self) -> str:
                return render.safe_repr(Point(0, 0)) + "!"

        assert "<Point object>!" == render.safe_repr(Nested())

    def test_safe_repr_non_str(self) -> None:
        """A __repr__ returning a non-string yields a placeholder."""

        class Weird:
            def __repr__(self) -> Any:
                return 5

        assert "<unrepresentable Weird object>" == render.safe_repr(Weird())

    def test_big_int_and_unicode_keys(self) -> None:
        """Ints beyond 64 bits become strings; surrogate keys are cleaned."""
        assert {"n": str(2**70), "k\ufffd": 1} == roundtrip({"n": 2**70, "k\udc80": 1})

    def test_colliding_keys(self) -> None:
        """1 and "1" as keys both survive without a duplicate key."""
        assert {"1": "int", "1_": "str"} == render.coerce({1: "int", "1": "str"})
