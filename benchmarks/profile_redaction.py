"""Where redaction spends its time on long values: ``python benchmarks/profile_redaction.py``.

Times ``Redactor.text``, each of its gates and each search of the pair-key gate on the
value-size rows' strings (from
``rows.py``: 32 KiB without and with ``:``/``=``, 1 KiB with them; a new string every
call, as in the rows), as the best of several perf_counter_ns loops, then prints a
cProfile of ``text`` on the slowest. Absolute times on a shared machine are noisy;
compare the parts with each other.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import pstats
import time
from typing import TYPE_CHECKING

from rows import text_value

from tracelog import redact

if TYPE_CHECKING:
    from collections.abc import Callable


def best_ns(fn: Callable[[], object], calls: int, loops: int = 7) -> float:
    """The fastest of *loops* loops of *calls* calls, in ns per call."""
    best = float("inf")
    for _ in range(loops):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter_ns() - start) / calls)
    return best


def parts(r: redact.Redactor, text: str) -> dict[str, Callable[[], object]]:
    """``Redactor.text`` on a new string each call, and each gate on one of them."""
    counter = itertools.count()
    value = f"{next(counter):08d} {text}"
    folded = redact._fold(value)
    timed: dict[str, Callable[[], object]] = {
        "new string (f-string, the rows' cost too)": lambda: f"{next(counter):08d} {text}",
        "Redactor.text": lambda: r.text(f"{next(counter):08d} {text}"),
        "gate: bearer/basic": lambda: redact._credential_hint(value),
        "gate: JWT": lambda: redact._has_jwt(value),
        "gate: cloud key": lambda: redact._has_cloud_key(value),
        "gate: URL credential": lambda: redact._has_url_credential(value),
        "gate: digits, sparse": lambda: redact._sparse_digit_shape(value),
        "gate: digits, one pass": lambda: redact._dense_digit_shape(value),
        "gate: the fold (one translate pass)": lambda: redact._fold(value),
        "gate: card in the fold": lambda: redact._FOLD_CARD in folded,
        "gate: listed words in the fold": lambda: r._names_in(folded),
        # What a scan that judged only the word before each ":"/"=" would pay before
        # judging any: finding them. Counting is the least such a pass can do.
        f"count the {value.count(':') + value.count('='):,} ':'/'=' (str.count, twice)": (
            lambda: value.count(":") + value.count("=")
        ),
        "split at every ':' and '=' (str.split, twice)": lambda: (
            value.split(":"),
            value.split("="),
        ),
    }
    # Each search the pair-key gate makes, as it makes it: the needle's two rarest
    # characters (memchr), then the needle if both are there.
    for rare, second, needle, find, _group in r._needles:
        found = "searched" if rare in folded and second in folded else "ruled out"
        timed[f"  {needle.decode()} ({found})"] = search(folded, rare, second, find)
    return timed


def search(
    folded: bytes, rare: int, second: int, find: Callable[[bytes], object]
) -> Callable[[], object]:
    """One of the pair-key gate's searches in *folded*."""
    return lambda: rare in folded and second in folded and find(folded)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    r = redact.Redactor()
    values = {
        "32 KiB": text_value(32 << 10, separators=False),
        "32 KiB with ':'/'='": text_value(32 << 10, separators=True),
        "1 KiB with ':'/'='": text_value(1 << 10, separators=True),
    }
    for label, text in values.items():
        print(f"# {label}")
        for name, fn in parts(r, text).items():
            print(f"{name:44} {best_ns(fn, args.calls):12,.0f} ns")
    counter = itertools.count()
    text = values["32 KiB with ':'/'='"]
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(args.calls):
        r.text(f"{next(counter):08d} {text}")
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(8)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
