"""`python -m parley` runs the same command line as the `parley` script."""

import sys

from parley.cli.main import main

sys.exit(main())
