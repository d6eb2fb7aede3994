"""``.dockerignore`` files: which build-context paths Docker leaves out."""

from __future__ import annotations

import os
from collections.abc import Iterable

from dockwright import _core

__all__ = ["DockerIgnore"]


class DockerIgnore:
    """The compiled patterns of a ``.dockerignore`` file, matched as Docker matches them.

    ``*`` and ``?`` do not cross ``/``, ``**`` matches any number of path elements, ``[...]``
    is a character class, and a pattern starting with ``!`` re-includes what earlier patterns
    excluded. The last matching pattern decides, and a path is excluded when it or one of its
    parent directories matches. A malformed pattern raises
    :class:`~dockwright.InvalidValueError` naming the pattern.
    """

    __slots__ = ("_matcher",)

    def __init__(self, patterns: Iterable[str]) -> None:
        """Compile ``patterns``, which are trimmed and cleaned; empty ones are dropped."""
        if isinstance(patterns, str):
            raise TypeError("patterns must be an iterable of strings, not str")
        self._matcher = _core.DockerIgnore(list(patterns))

    @classmethod
    def parse(cls, text: str | bytes) -> DockerIgnore:
        """Read the text of a ``.dockerignore`` file: ``#`` comments, blank lines, ``!``."""
        data = text.encode() if isinstance(text, str) else text
        return cls(_core.read_dockerignore(data))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> DockerIgnore:
        """Read a ``.dockerignore`` file; raises :class:`OSError` when it cannot be read."""
        with open(path, "rb") as file:
            return cls.parse(file.read())

    @property
    def patterns(self) -> list[str]:
        """The cleaned patterns, with ``!`` in front of exceptions."""
        return list(self._matcher.patterns)

    def matches(self, path: str) -> bool:
        """Return whether ``path`` (slash-separated, relative to the context) is excluded."""
        return bool(self._matcher.matches(path))

    def can_skip_directory(self, path: str) -> bool:
        """Return whether a context walk may skip directory ``path`` and everything below it.

        That is when the directory is excluded and no exception pattern starts with
        ``path/``, which is the textual rule of Docker's context walk.
        """
        return bool(self._matcher.can_skip_directory(path))

    def __repr__(self) -> str:
        """Show the patterns."""
        return f"DockerIgnore({self.patterns!r})"
