"""Twin of upstream's `codex-app-server-test-notify-capture`: a `notify` program that writes its
last argument (the JSON payload) to the file named by its first argument.

Run as `python notify_capture.py OUTPUT_FILE [PAYLOAD…]`. The file appears complete or not at
all (written to a temporary name, then renamed).
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    if len(sys.argv) < 3:
        return 2
    target = sys.argv[1]
    tmp = f"{target}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(sys.argv[-1])
    os.replace(tmp, target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
