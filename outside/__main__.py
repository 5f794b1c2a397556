"""``python -m outside``: the same commands as the ``outside`` script (see ``outside.cli``)."""
from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
