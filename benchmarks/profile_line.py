"""cProfile one tracelog path: ``python benchmarks/profile_line.py [structlog|stdlib]``."""

from __future__ import annotations

import cProfile
import logging
import os
import pstats
import sys

from opentelemetry.sdk.trace import TracerProvider

import tracelog


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 else "structlog"
    tracelog.configure(stream=open(os.devnull, "w"))  # noqa: SIM115, PTH123
    log = tracelog.get_logger("bench")
    std = logging.getLogger("bench")
    tracer = TracerProvider().get_tracer("p")
    with tracer.start_as_current_span("op"):
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(20000):
            if which == "structlog":
                log.info("order placed", order_id="A-1001")
            else:
                std.info("order placed", extra={"order_id": "A-1001"})
        prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
