"""Docker's word expansion: variables, quotes and escapes in Dockerfile arguments.

The rules are those of Docker's shell lexer (BuildKit's ``shell.Lex``): ``$NAME``, ``${NAME}``,
``${NAME:-word}``, ``${NAME+word}``, ``${NAME?message}``, the pattern operators ``#``, ``##``,
``%``, ``%%``, ``/`` and ``//``, single and double quotes, and the Dockerfile escape character.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Union

from dockwright import _core

__all__ = ["Environment", "expand", "expand_words"]

Environment = Union[Mapping[str, str], Iterable[str]]
"""Variables as a mapping, or as ``NAME=value`` strings where the last repeat of a name wins."""


def _entries(env: Environment) -> list[str]:
    if isinstance(env, Mapping):
        return [f"{name}={value}" for name, value in env.items()]
    if isinstance(env, str):
        raise TypeError("env must be a mapping or a sequence of 'NAME=value' strings, not str")
    return list(env)


def expand(word: str, env: Environment, *, escape: str = "\\") -> str:
    r"""Expand the variables of one Dockerfile word and remove its quotes and escapes.

    ``escape`` is the Dockerfile's escape character, ``\`` or a backtick. Raises
    :class:`~dockwright.ExpansionError` for an unterminated quote or brace, a bad substitution
    or an unset ``${NAME?}``; its ``value`` is the word.
    """
    return _core.expand(word, _entries(env), escape)


def expand_words(word: str, env: Environment, *, escape: str = "\\") -> list[str]:
    """Expand one Dockerfile word and split the result on unquoted white space.

    This is how ``EXPOSE $PORTS`` becomes several ports; quoted and escaped white space does
    not split, and empty words are dropped. Raises as :func:`expand` does.
    """
    return _core.expand_words(word, _entries(env), escape)
