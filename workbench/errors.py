"""Errors meant for people, with the exit code the CLI maps them to."""
from __future__ import annotations


class WorkbenchError(Exception):
    """A failure the user can act on. The CLI prints the message (no traceback) and exits."""

    exit_code = 1


class InputError(WorkbenchError):
    """Bad input data or arguments: exit code 2. ``problems`` holds one line per problem."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])

    def __str__(self) -> str:
        head = super().__str__()
        return "\n".join([head, *self.problems]) if self.problems else head


class ParameterError(InputError, ValueError):
    """A policy or model parameter out of its allowed range; the message names the parameter (exit code 2).

    The one error type for bad parameters: a ``ValueError`` for library callers, an ``InputError`` for the CLI.
    """
