"""Byte-compile Parley's modules before a benchmark, as an installed package is.

`pip install` compiles a package's modules to `.pyc` files; a checkout run from source has
them only where an earlier import could write them, and none at all when
`PYTHONDONTWRITEBYTECODE` is set (then every start compiles the ~10,000-line generated models
again). Benchmarks that spawn Parley call `precompile()` first so they time the program, not
the compiler. `compileall` writes the files whatever that variable says.
"""

from __future__ import annotations

import compileall
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "parley"


def precompile() -> None:
    compileall.compile_dir(str(PACKAGE), quiet=1)
