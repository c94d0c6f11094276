"""``python -m tracelog.cli``."""

from __future__ import annotations

import sys

from tracelog.cli import main

sys.exit(main())
