"""_sink.py: one write per line, whatever the stream."""

from __future__ import annotations

import io
import os
import sys
from typing import Any

import pytest

from tracelog._sink import LineSink


class TestSink:
    def test_binary_stream(self) -> None:
        """A binary stream without a descriptor gets the bytes as they are."""
        out = io.BytesIO()
        assert LineSink(out).write(b'{"a":1}\n')
        assert b'{"a":1}\n' == out.getvalue()

    def test_rejects_non_stream(self) -> None:
        """A stream without write() is refused at construction."""
        with pytest.raises(TypeError, match="writable file object"):
            LineSink(object())  # type: ignore[arg-type]

    def test_short_write_is_completed(self, monkeypatch) -> None:
        """A partial os.write is finished so the line arrives whole."""
        r, w = os.pipe()
        real_write = os.write
        calls: list[int] = []

        def short_write(fd: int, data: Any) -> int:
            calls.append(len(data))
            return real_write(fd, bytes(data)[:3]) if len(calls) == 1 else real_write(fd, data)

        with os.fdopen(w, "w") as stream:
            sink = LineSink(stream)
            monkeypatch.setattr(os, "write", short_write)
            assert sink.write(b"0123456789\n")
            monkeypatch.undo()
        with os.fdopen(r, "rb") as reader:
            assert b"0123456789\n" == reader.read()
        assert 2 <= len(calls)

    def test_unflushable_stream_falls_back_to_write(self) -> None:
        """A stream whose flush fails at construction is written through write()."""

        class NoFlush(io.StringIO):
            def fileno(self) -> int:
                return 1

            def flush(self) -> None:
                raise OSError("no")

        stream = NoFlush()
        sink = LineSink(stream)
        assert sink._fd is None

    def test_diagnostic_channel_gone(self, monkeypatch) -> None:
        """With no stderr at all, failures are still counted and never raise."""
        monkeypatch.setattr(sys, "__stderr__", None)
        stream = io.StringIO()
        stream.close()
        sink = LineSink(stream)
        assert not sink.write(b"x\n")
        assert 1 == sink.failed
