"""Worked solutions of the exercises (used by tests/test_exercises.py)."""
