"""Benchmarks of outside: micro-benchmarks (pytest-benchmark) and the end-to-end runner.

``python -m benchmarks`` runs the end-to-end comparison against peer servers; see
``benchmarks/README.md``.
"""
