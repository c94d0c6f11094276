"""Ids follow the work: a context-propagating thread pool, threads, and asyncio."""

from __future__ import annotations

import asyncio
import logging
import sys

from _common import announce, tracer

import tracelog

tracelog.configure(stream=sys.stdout, service="worker")
log = tracelog.get_logger("worker")


def resize(image: str) -> str:
    logging.getLogger("worker").info("resizing", extra={"image": image})
    return image.upper()


async def main() -> None:
    loop = asyncio.get_running_loop()
    with tracelog.ContextThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(resize, ["a.png", "b.png"]))  # pool threads carry the span's ids
        await tracelog.run_in_executor(pool, resize, "c.png", loop=loop)
    thread = tracelog.ContextThread(target=resize, args=("d.png",))
    thread.start()
    thread.join()
    await asyncio.to_thread(resize, "e.png")  # asyncio copies the context itself
    await asyncio.gather(*(log.ainfo("task done", n=n) for n in range(2)))


with tracer("worker").start_as_current_span("batch") as span:
    asyncio.run(main())
    announce(span)
