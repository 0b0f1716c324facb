"""Exercises with checkers: ``from vmstate_edu.exercises import grader``;
``grader.show("q1")``, ``grader.material("q1")``, ``grader.check("q1", answer)``."""

from . import grader

__all__ = ["grader"]
