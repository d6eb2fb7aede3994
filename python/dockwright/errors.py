"""Exceptions raised by dockwright.

Every exception derives from :class:`DockwrightError` and from the built-in exception that
describes its kind, so ``except ValueError`` catches bad input of every sort. The fields of the
C++ error (the offending value, its JSON path or Dockerfile line) are attributes.
"""

from __future__ import annotations

__all__ = [
    "DockerfileError",
    "DockwrightError",
    "ExecError",
    "ExpansionError",
    "ImageNotFoundError",
    "InstructionError",
    "InvalidValueError",
    "JSONError",
    "ParseError",
    "RegistryError",
    "StoreError",
]


class DockwrightError(Exception):
    """Base class of every exception raised by dockwright."""


class InvalidValueError(DockwrightError, ValueError):
    """A string that lacks the syntax of its kind: a digest, a timestamp, a reference."""

    kind: str
    value: str
    reason: str

    def __init__(self, message: str, kind: str = "", value: str = "", reason: str = "") -> None:
        """Create the error from its message and fields."""
        super().__init__(message)
        self.kind = kind
        self.value = value
        self.reason = reason


class JSONError(DockwrightError, ValueError):
    """JSON text that is malformed or does not fit the type it is decoded into."""

    path: str
    reason: str
    value: str
    offset: int

    def __init__(
        self, message: str, path: str = "", reason: str = "", value: str = "", offset: int = 0
    ) -> None:
        """Create the error from its message and fields."""
        super().__init__(message)
        self.path = path
        self.reason = reason
        self.value = value
        self.offset = offset


class DockerfileError(DockwrightError, ValueError):
    """Base class of the errors found in a Dockerfile, with their location."""

    file: str
    line: int
    end_line: int
    instruction: str
    reason: str
    value: str

    def __init__(
        self,
        message: str,
        file: str = "",
        line: int = 0,
        end_line: int = 0,
        instruction: str = "",
        reason: str = "",
        value: str = "",
    ) -> None:
        """Create the error from its message and fields."""
        super().__init__(message)
        self.file = file
        self.line = line
        self.end_line = end_line
        self.instruction = instruction
        self.reason = reason
        self.value = value


class ParseError(DockerfileError):
    """The Dockerfile text is malformed: directives, continuations, JSON form or flags."""


class ExpansionError(DockerfileError):
    """A word could not be expanded: an unterminated quote or brace, or ``${VAR?msg}``."""


class InstructionError(DockerfileError):
    """An instruction is well formed but invalid: a missing argument or a bad value."""


class ExecError(DockwrightError, RuntimeError):
    """A container could not be set up, limited, run or torn down.

    ``step`` names what failed (empty for Docker's own messages, such as a user missing from
    /etc/passwd) and ``reason`` gives the cause.
    """

    step: str
    reason: str

    def __init__(self, message: str, step: str = "", reason: str = "") -> None:
        """Create the error from its message and fields."""
        super().__init__(message)
        self.step = step
        self.reason = reason


class RegistryError(DockwrightError):
    """A registry operation failed: HTTP, TLS, authentication, or content that fails its digest.

    ``status`` is the HTTP status of the response that caused it, 0 when there was none.
    """

    subject: str
    reason: str
    status: int

    def __init__(self, message: str, subject: str = "", reason: str = "", status: int = 0) -> None:
        """Create the error from its message and fields."""
        super().__init__(message)
        self.subject = subject
        self.reason = reason
        self.status = status


class StoreError(DockwrightError, RuntimeError):
    """An image store operation failed: a bad archive, a missing blob, a conflict on removal.

    ``subject`` names what the problem concerns (an archive member, a digest, a reference) and
    ``reason`` says what is wrong.
    """

    subject: str
    reason: str

    def __init__(self, message: str, subject: str = "", reason: str = "") -> None:
        """Create the error from its message and fields."""
        super().__init__(message)
        self.subject = subject
        self.reason = reason


class ImageNotFoundError(StoreError, LookupError):
    """No image in the store matches a reference or ID."""
