"""``python -m tracelog``: the ``tracelog`` command."""

from __future__ import annotations

import sys

from tracelog.cli import main

sys.exit(main())
