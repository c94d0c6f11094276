"""Ids follow the work into threads, pools, executors and asyncio tasks."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import tracelog
from tests.conftest import emit

ContextPool = tracelog.ContextThreadPoolExecutor


def ids_of(span: Any) -> tuple[str, str]:
    """The (traceId, spanId) a line logged inside *span* must carry."""
    return format(span.context.trace_id, "032x"), format(span.context.span_id, "016x")


def ids_in(line: dict[str, Any]) -> tuple[str | None, str | None]:
    return line.get("traceId"), line.get("spanId")


def by_message(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {line["message"]: line for line in lines if line["logger"] == "app"}


class TestWrap:
    def test_wrapped_target_logs_the_callers_ids(self, recorder, output, framework) -> None:
        """A thread running a wrapped function logs the trace and span ids of the wrapper."""
        out = output()
        with recorder.tracer.start_as_current_span("handler"):
            work = tracelog.wrap(emit)
            thread = threading.Thread(target=work, args=(framework, "info", "in thread"))
        thread.start()
        thread.join()
        (span,) = recorder.finished()
        assert ids_of(span) == ids_in(by_message(out.lines())["in thread"])

    def test_plain_thread_loses_the_ids(self, recorder, output, framework) -> None:
        """The trap: a plain Thread target runs in an empty context and logs no ids."""
        out = output()
        with recorder.tracer.start_as_current_span("handler"):
            thread = threading.Thread(target=emit, args=(framework, "info", "in thread"))
            thread.start()
            thread.join()
        assert (None, None) == ids_in(by_message(out.lines())["in thread"])

    def test_context_is_captured_at_wrap_time(self, recorder, output, framework) -> None:
        """Called after its span ended, elsewhere, the function still logs that span's ids."""
        out = output()
        with recorder.tracer.start_as_current_span("first"):
            work = tracelog.wrap(emit)
        with recorder.tracer.start_as_current_span("second"):
            pass
        work(framework, "info", "later")
        first, _second = recorder.finished()
        assert ids_of(first) == ids_in(by_message(out.lines())["later"])

    def test_one_wrapped_function_runs_in_many_threads_at_once(self, recorder, output) -> None:
        """Each call enters its own copy of the snapshot, so concurrent calls never collide."""
        out = output()
        barrier = threading.Barrier(8)

        def work(n: int) -> None:
            barrier.wait()
            emit("stdlib" if n % 2 else "structlog", "info", f"call {n}")

        with recorder.tracer.start_as_current_span("fan-out"):
            wrapped = tracelog.wrap(work)
        threads = [threading.Thread(target=wrapped, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        (span,) = recorder.finished()
        lines = by_message(out.lines())
        assert [ids_of(span)] * 8 == [ids_in(lines[f"call {n}"]) for n in range(8)]

    def test_calls_do_not_leak_context_changes(self) -> None:
        """A ContextVar set inside one call is gone in the next: each call gets a fresh copy."""
        var: contextvars.ContextVar[int] = contextvars.ContextVar("var", default=0)

        def bump() -> int:
            var.set(var.get() + 1)
            return var.get()

        wrapped = tracelog.wrap(bump)
        assert [1, 1] == [wrapped(), wrapped()]

    def test_keeps_name_and_result(self) -> None:
        """wrap() keeps the function's name and returns what it returns."""

        def add(a: int, b: int = 0) -> int:
            return a + b

        wrapped = tracelog.wrap(add)
        assert ("add", 5) == (wrapped.__name__, wrapped(2, b=3))


class TestContextThreadPoolExecutor:
    def test_submit_runs_in_the_submitters_context(self, recorder, output, framework) -> None:
        """Each submitted job logs the ids of the span that submitted it, not another's."""
        out = output()
        with ContextPool() as pool:
            with recorder.tracer.start_as_current_span("a"):
                first = pool.submit(emit, framework, "info", "job a")
            with recorder.tracer.start_as_current_span("b"):
                second = pool.submit(emit, framework, "warning", "job b")
            first.result()
            second.result()
        span_a, span_b = recorder.finished()
        lines = by_message(out.lines())
        assert ids_of(span_a) == ids_in(lines["job a"])
        assert ids_of(span_b) == ids_in(lines["job b"])

    def test_map_runs_in_the_callers_context(self, recorder, output, framework) -> None:
        """map() submits through submit(): every item carries the caller's ids."""
        out = output()

        def job(n: int) -> None:
            emit(framework, "info", f"item {n}")

        with ContextPool(max_workers=3) as pool, recorder.tracer.start_as_current_span("batch"):
            results = list(pool.map(job, range(6)))
        (span,) = recorder.finished()
        lines = by_message(out.lines())
        assert [None] * 6 == results
        assert [ids_of(span)] * 6 == [ids_in(lines[f"item {n}"]) for n in range(6)]

    def test_plain_pool_loses_the_ids(self, recorder, output, framework) -> None:
        """The trap: a plain ThreadPoolExecutor job logs no trace or span id."""
        out = output()
        with ThreadPoolExecutor(max_workers=1) as pool, recorder.tracer.start_as_current_span("h"):
            pool.submit(emit, framework, "info", "job").result()
        assert (None, None) == ids_in(by_message(out.lines())["job"])

    def test_results_and_exceptions_come_back(self) -> None:
        """It stays a ThreadPoolExecutor: results, keyword arguments and errors pass through."""
        with ContextPool() as pool:
            assert 5 == pool.submit(int, "101", base=2).result()
            with pytest.raises(ValueError, match="invalid literal"):
                pool.submit(int, "x").result()


class TestContextThread:
    def test_target_runs_in_the_context_of_start(self, recorder, output, framework) -> None:
        """Built outside any span, started inside one: the thread logs the starter's ids."""
        out = output()
        thread = tracelog.ContextThread(target=emit, args=(framework, "info", "worker"))
        with recorder.tracer.start_as_current_span("starter"):
            thread.start()
        thread.join()
        (span,) = recorder.finished()
        assert ids_of(span) == ids_in(by_message(out.lines())["worker"])

    def test_subclass_run_is_covered(self, recorder, output, framework) -> None:
        """A subclass that overrides run() runs in the starter's context too."""
        out = output()

        class Worker(tracelog.ContextThread):
            def run(self) -> None:
                emit(framework, "info", "subclass")

        with recorder.tracer.start_as_current_span("starter"):
            worker = Worker()
            worker.start()
            worker.join()
        (span,) = recorder.finished()
        assert ids_of(span) == ids_in(by_message(out.lines())["subclass"])


class TestRunInExecutor:
    def test_job_logs_the_awaiting_tasks_ids(self, recorder, output, framework) -> None:
        """run_in_executor with a plain pool carries the task's trace and span ids."""
        out = output()

        async def main() -> None:
            pool = ThreadPoolExecutor(max_workers=1)
            with pool, recorder.tracer.start_as_current_span("task"):
                await tracelog.run_in_executor(pool, emit, framework, "info", "blocking")

        asyncio.run(main())
        (span,) = recorder.finished()
        assert ids_of(span) == ids_in(by_message(out.lines())["blocking"])

    def test_default_executor_and_explicit_loop(self, recorder, output, framework) -> None:
        """executor=None uses the loop's default pool; loop= names the loop."""
        out = output()

        async def main() -> None:
            loop = asyncio.get_running_loop()
            with recorder.tracer.start_as_current_span("task"):
                await tracelog.run_in_executor(None, emit, framework, "info", "default", loop=loop)

        asyncio.run(main())
        (span,) = recorder.finished()
        assert ids_of(span) == ids_in(by_message(out.lines())["default"])

    def test_loop_run_in_executor_loses_the_ids(self, recorder, output, framework) -> None:
        """The trap: loop.run_in_executor with a plain pool logs no ids."""
        out = output()

        async def main() -> None:
            loop = asyncio.get_running_loop()
            pool = ThreadPoolExecutor(max_workers=1)
            with pool, recorder.tracer.start_as_current_span("task"):
                await loop.run_in_executor(pool, emit, framework, "info", "blocking")

        asyncio.run(main())
        assert (None, None) == ids_in(by_message(out.lines())["blocking"])


class TestAsyncioAlreadyCopies:
    def test_gather(self, recorder, output, framework) -> None:
        """Coroutines gathered inside a span log its ids: tasks copy the context."""
        out = output()

        async def step(n: int) -> None:
            await asyncio.sleep(0)
            emit(framework, "info", f"step {n}")

        async def main() -> None:
            with recorder.tracer.start_as_current_span("gather"):
                await asyncio.gather(*(step(n) for n in range(3)))

        asyncio.run(main())
        (span,) = recorder.finished()
        lines = by_message(out.lines())
        assert [ids_of(span)] * 3 == [ids_in(lines[f"step {n}"]) for n in range(3)]

    def test_task_group(self, recorder, output, framework) -> None:
        """TaskGroup tasks created in different spans each log their own span's ids."""
        out = output()

        async def step(name: str) -> None:
            await asyncio.sleep(0)
            emit(framework, "info", name)

        async def main() -> None:
            async with asyncio.TaskGroup() as group:
                with recorder.tracer.start_as_current_span("a"):
                    group.create_task(step("task a"))
                with recorder.tracer.start_as_current_span("b"):
                    group.create_task(step("task b"))

        asyncio.run(main())
        span_a, span_b = recorder.finished()
        lines = by_message(out.lines())
        assert ids_of(span_a) == ids_in(lines["task a"])
        assert ids_of(span_b) == ids_in(lines["task b"])

    def test_to_thread(self, recorder, output, framework) -> None:
        """asyncio.to_thread copies the context into its worker thread."""
        out = output()

        async def main() -> None:
            with recorder.tracer.start_as_current_span("task"):
                await asyncio.to_thread(emit, framework, "info", "to_thread")

        asyncio.run(main())
        (span,) = recorder.finished()
        assert ids_of(span) == ids_in(by_message(out.lines())["to_thread"])
