"""Compiled twins of outside's hot paths (Cython); ``outside.speedups`` picks them up when built."""
