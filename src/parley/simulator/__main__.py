"""`python -m parley.simulator`: the same as `parley simulate`."""

from __future__ import annotations

from parley.simulator.cli import main

raise SystemExit(main())
