"""fork safety: objects holding locks re-create them in a forked child.

A lock held by another thread at ``fork()`` stays held forever in the child, where that
thread does not exist: the child's first log call would deadlock. Objects with locks
register here; one ``os.register_at_fork`` hook (installed on first use, never at
import) calls their ``after_fork()`` in the child.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Protocol

__all__ = ["ForkAware", "register"]


class ForkAware(Protocol):
    """Anything with locks to replace in a forked child."""

    def after_fork(self) -> None:
        """Re-create locks (and anything else a vanished thread may have held)."""


_objects: weakref.WeakSet[ForkAware] = weakref.WeakSet()
_installed = False
_install_lock = threading.Lock()


def _after_fork_in_child() -> None:
    for obj in list(_objects):
        obj.after_fork()


def register(obj: ForkAware) -> None:
    """Call ``obj.after_fork()`` in every forked child while *obj* lives."""
    global _installed  # noqa: PLW0603 - one hook per process
    _objects.add(obj)
    if not _installed:
        with _install_lock:
            if not _installed:
                _installed = True
                if hasattr(os, "register_at_fork"):
                    os.register_at_fork(after_in_child=_after_fork_in_child)
