"""``python -m brim`` is the ``brim`` command."""

import sys

from brim.cli import main

if __name__ == "__main__":
    sys.exit(main())
