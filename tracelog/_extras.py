"""An ImportError that names the extra to install, for modules with optional dependencies."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["requires_extra"]


@contextmanager
def requires_extra(module: str, extra: str) -> Iterator[None]:
    """Turn an ImportError inside the block into one that says which extra to install.

    Args:
        module: the tracelog module doing the import, for the message.
        extra: the ``tracelog-otel`` extra that brings the missing package.

    Raises:
        ImportError: naming the extra, chained to the original error.
    """
    try:
        yield
    except ImportError as exc:
        raise ImportError(
            f"{module} needs the '{extra}' extra: pip install 'tracelog-otel[{extra}]' "
            f"(import failed: {exc})",
            name=exc.name,
        ) from exc
