"""``python -m benchmarks``: the end-to-end benchmark runner (see ``benchmarks/run.py``)."""
import sys

from benchmarks.run import main

sys.exit(main())
