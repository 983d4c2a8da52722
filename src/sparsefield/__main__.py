"""``python -m sparsefield``: the ``sparsefield`` command (:mod:`sparsefield.cli`)."""

import sys

from sparsefield.cli import main

if __name__ == "__main__":
    sys.exit(main())
