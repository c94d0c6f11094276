"""Values that used to lose or mangle a line: huge ints, raising arguments, object graphs,
C1 controls. Each runs through both frameworks, direct and queue mode."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, ClassVar, NamedTuple

import pytest

import tracelog
from tests.conftest import emit
from tracelog import _render as render
from tracelog.testing import capture_lines

HUGE = 10**5000  # past Python's 4,300-digit str() limit
HUGE_TEXT = "<int with 5001 digits>"


@pytest.fixture(params=[False, True], ids=["direct", "queue"])
def queue_mode(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("str")

    def __repr__(self) -> str:
        raise RuntimeError("repr")


@dataclasses.dataclass
class Node:
    name: str = "n"
    left: Any = None
    right: Any = None


class ModelLike:
    """Quacks like a pydantic v2 model: ``model_fields`` plus ``model_dump``."""

    model_fields: ClassVar[dict[str, Any]] = {
        "name": object(),
        "child": object(),
        "password": type("Info", (), {"exclude": True})(),
    }

    def __init__(self, name: str, child: Any = None) -> None:
        self.name, self.child, self.password = name, child, "hunter2"

    def model_dump(self) -> dict[str, Any]:  # pragma: no cover - must not be called
        raise AssertionError("model_dump() expands a shared graph without bound")


class Pair(NamedTuple):
    a: Any
    b: Any


def dag(levels: int) -> Node:
    """A graph of *levels* nodes whose tree expansion has 2**levels leaves."""
    node = Node("leaf")
    for i in range(levels):
        node = Node(str(i), node, node)
    return node


def one_line(framework: str, queue_mode: bool, **fields: Any) -> dict[str, Any]:
    with capture_lines(queue=queue_mode) as lines:
        emit(framework, "warning", "value", **fields)
    (line,) = [x for x in lines if x["logger"] == "app"]
    return line


class TestHugeInts:
    def test_field(self, framework, queue_mode) -> None:
        """An int past the str() limit, as a field or nested, becomes a placeholder."""
        line = one_line(framework, queue_mode, n=HUGE, nested={"k": [-HUGE]})
        assert (HUGE_TEXT, {"k": [HUGE_TEXT]}) == (line["n"], line["nested"])

    def test_stdlib_message_argument(self, queue_mode) -> None:
        """A %s argument past the str() limit keeps the line and the rest of the message."""
        with capture_lines(queue=queue_mode) as lines:
            logging.getLogger("app").warning("n=%s m=%s", HUGE, 7)
        assert [f"n={HUGE_TEXT} m=7"] == [x["message"] for x in lines]

    def test_structlog_positional_argument(self, queue_mode) -> None:
        """structlog's positional %-arguments get the same placeholder."""
        with capture_lines(queue=queue_mode) as lines:
            tracelog.get_logger("app").warning("n=%s", HUGE)
        assert [f"n={HUGE_TEXT}"] == [x["message"] for x in lines]

    def test_safe_str_and_repr(self) -> None:
        """safe_str and safe_repr of a huge int do not raise; small ints are unchanged."""
        assert (HUGE_TEXT, HUGE_TEXT, "-12") == (
            render.safe_str(HUGE),
            render.safe_repr(HUGE),
            render.safe_str(-12),
        )


class TestUnprintableArguments:
    def test_str_and_repr_raise(self, queue_mode) -> None:
        """A %s argument whose __str__ and __repr__ raise becomes a placeholder."""
        with capture_lines(queue=queue_mode) as lines:
            logging.getLogger("app").warning("got %s and %d", Unprintable(), 3)
        assert ["got <unrepresentable Unprintable object> and 3"] == [x["message"] for x in lines]

    def test_template_does_not_fit(self, queue_mode) -> None:
        """Too few arguments: the template and safe reprs of its arguments."""
        with capture_lines(queue=queue_mode) as lines:
            logging.getLogger("app").warning("%s %s", Unprintable())
        assert ["'%s %s' % (<unrepresentable Unprintable object>,) (format failed: TypeError)"] == [
            x["message"] for x in lines
        ]

    @pytest.mark.parametrize(
        ("template", "args", "expected"),
        [
            ("%(a)s/%(b)s", {"a": Unprintable(), "b": 2}, "<unrepresentable Unprintable object>/2"),
            ("%d", (HUGE,), f"'%d' % ({HUGE_TEXT},) (format failed: TypeError)"),
            ("%s", Unprintable(), "<unrepresentable Unprintable object>"),
            (Unprintable(), (), "<unrepresentable Unprintable object>"),
            ("plain %s", ("x",), "plain x"),
        ],
        ids=["mapping", "huge-int-as-%d", "single-arg", "bad-template", "ok"],
    )
    def test_format_percent(self, template, args, expected) -> None:
        """format_percent never raises, whatever the template and arguments."""
        assert expected == render.format_percent(template, args)


class TestObjectGraphs:
    def test_self_reference_twice(self, framework, queue_mode) -> None:
        """n.left = n.right = n: "[circular]" at the first repeat, not 2**32 nodes."""
        node = Node("root")
        node.left = node.right = node
        line = one_line(framework, queue_mode, v=node)
        assert {"name": "root", "left": "[circular]", "right": "[circular]"} == line["v"]

    def test_shared_node_dag(self, framework, queue_mode) -> None:
        """A DAG with 2**60 paths costs at most MAX_NODES values, then a marker."""
        line = one_line(framework, queue_mode, v=dag(60))
        text = render.dumps(line).decode()
        assert "[size limit: more than 10000 values]" in text
        assert 10_000 >= text.count('"name"')

    def test_list_dag(self, framework, queue_mode) -> None:
        """Shared lists are bounded the same way."""
        shared: list[Any] = []
        for _ in range(60):
            shared = [shared, shared]
        text = render.dumps(one_line(framework, queue_mode, v=shared)).decode()
        assert "[size limit: more than 10000 values]" in text

    def test_dumps_dataclass_dag(self) -> None:
        """dumps() hands dataclasses to the bounded walk, not to orjson's own expansion."""
        text = render.dumps({"v": dag(60)}).decode()
        assert "[size limit: more than 10000 values]" in text

    def test_long_list_is_cut_with_marker(self) -> None:
        """A 20,000-item list keeps 10,000 values and says it was cut."""
        out = render.coerce(list(range(20_000)))
        assert (10_001, 9_999, "[size limit: more than 10000 values]") == (
            len(out),
            out[-2],
            out[-1],
        )

    def test_model_like_field_by_field(self) -> None:
        """A pydantic-style model is expanded field by field, excluded fields left out."""
        inner = ModelLike("inner")
        outer = ModelLike("outer", child=inner)
        inner.child = outer  # a cycle through two models
        expected = {"name": "outer", "child": {"name": "inner", "child": "[circular]"}}
        assert expected == render.coerce(outer)

    def test_namedtuple_dag(self) -> None:
        """NamedTuples sharing children are bounded too."""
        pair: Any = Pair(1, 2)
        for _ in range(60):
            pair = Pair(pair, pair)
        text = render.dumps({"v": render.coerce(pair)}).decode()
        assert "[size limit: more than 10000 values]" in text


C1_AND_DEL = "a\x7fb\x85c\x9bd\x80e\x9ff\u2028g\u2029h"


class TestControlCharacters:
    def test_c1_and_del_are_escaped(self, framework, queue_mode) -> None:
        """DEL, C1 controls and U+2028/9 are written as \\uXXXX, and parse back intact."""
        with capture_lines(queue=queue_mode) as lines:
            emit(framework, "warning", C1_AND_DEL, v=C1_AND_DEL, ascii_del="x\x7f")
        raw = lines.text
        assert [] == [c for c in raw if 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029"]
        assert 1 == raw.count("\n")
        (line,) = lines
        assert (C1_AND_DEL, C1_AND_DEL, "x\x7f") == (line["message"], line["v"], line["ascii_del"])

    def test_escapes_spelled_lowercase(self) -> None:
        """The escapes are JSON's \\u00XX form."""
        expected = b'{"v":"\\u0085\\u009b\\u007f\\u2028"}\n'
        assert expected == render.dumps({"v": "\x85\x9b\x7f\u2028"})

    def test_other_non_ascii_untouched(self) -> None:
        """Other non-ASCII text stays raw UTF-8."""
        assert '{"v":"é ¡ \u00a0 日本"}\n'.encode() == render.dumps({"v": "é ¡ \u00a0 日本"})


class TestCaptureLinesSplitting:
    def test_splits_on_newline_only(self) -> None:
        """A raw U+0085 in captured text does not split a line (only "\\n" does)."""
        with capture_lines() as lines:
            pass
        lines._buffer.write('{"v":"a\x85b\u2028c"}\n{"v":2}\n')
        assert [{"v": "a\x85b\u2028c"}, {"v": 2}] == lines.refresh()


class TestHugeIntsInSpanEvents:
    def test_span_event_attribute(self, framework, queue_mode, recorder) -> None:
        """A huge int field becomes the placeholder on the span event too, not a lost event."""
        with (
            capture_lines(queue=queue_mode, span_events=True),
            recorder.tracer.start_as_current_span("op"),
        ):
            emit(framework, "warning", "value", n=HUGE)
        (span,) = recorder.finished()
        assert [HUGE_TEXT] == [e.attributes["n"] for e in span.events if e.name == "value"]
