"""The MdsyncError hierarchy.

Every error a user can meet carries one sentence that says what to do, and the exit code
the CLI ends with. The CLI prints ``message`` and never a traceback unless asked to.
"""

from __future__ import annotations

from mdsync.vocabulary import ExitCode

EXIT_OK = ExitCode.OK
EXIT_FAILURE = ExitCode.FAILURE
EXIT_USAGE = ExitCode.USAGE
EXIT_CONFLICT = ExitCode.CONFLICT
EXIT_DIFFERENCES = ExitCode.DIFFERENCES


class MdsyncError(Exception):
    """Base class: a failure with a message a user can act on."""

    exit_code: ExitCode = EXIT_FAILURE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuilt from its attributes, not by calling __init__ again: errors cross from the
        # push's worker processes, and subclasses take other arguments than ``message``.
        return _rebuild, (type(self), self.message, self.__dict__)


def _rebuild(kind: type[MdsyncError], message: str, attributes: dict[str, object]) -> MdsyncError:
    error = kind.__new__(kind)
    Exception.__init__(error, message)
    error.__dict__.update(attributes)
    return error


class ConfigError(MdsyncError):
    """mdsync.yaml is missing, unreadable or holds a value that makes no sense."""

    exit_code = EXIT_USAGE


class UsageError(MdsyncError):
    """The command line asks for something that cannot be done."""

    exit_code = EXIT_USAGE


class ConflictError(MdsyncError):
    """The run stopped because both sides changed and the policy says stop."""

    exit_code = EXIT_CONFLICT


class DifferencesFound(MdsyncError):
    """A --check run found that the two sides differ."""

    exit_code = EXIT_DIFFERENCES


class SandboxError(MdsyncError):
    """The local sandbox could not start or serve."""
