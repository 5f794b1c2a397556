"""Coverage-guided fuzz harnesses (atheris) for outside's sans-I/O cores.

Each ``fuzz.<target>`` module is a runnable harness (``python -m fuzz.<target>``) whose
``check(data)`` is the one-input oracle; the regression tests replay findings through it.
"""
