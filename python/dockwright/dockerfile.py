"""Dockerfile parsing: the syntax tree and its dump, typed instructions and build stages.

:func:`parse` follows BuildKit's parser (heredocs, the ``check`` directive) unless ``classic``
is set, in which case it follows Docker 20.10's classic builder. Arguments keep their quotes and
variables; word expansion is a separate step (:func:`dockwright.expand`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Union, overload

from dockwright import _core

__all__ = [
    "AddInstruction",
    "ArgInstruction",
    "CmdInstruction",
    "CopyInstruction",
    "Directive",
    "Dockerfile",
    "EntrypointInstruction",
    "EnvInstruction",
    "ExposeInstruction",
    "FromInstruction",
    "HealthcheckInstruction",
    "Heredoc",
    "Instruction",
    "LabelInstruction",
    "MaintainerInstruction",
    "OnbuildInstruction",
    "ParseWarning",
    "RunInstruction",
    "ShellInstruction",
    "Stage",
    "StopsignalInstruction",
    "SyntaxNode",
    "SyntaxTree",
    "UserInstruction",
    "VolumeInstruction",
    "WorkdirInstruction",
    "parse",
]


@dataclass(frozen=True)
class Heredoc:
    """A here-document attached to RUN, COPY or ADD."""

    name: str
    content: str
    file_descriptor: int = 0
    expand: bool = True
    chomp: bool = False


@dataclass(frozen=True)
class _Source:
    start_line: int
    end_line: int
    original: str


@dataclass(frozen=True)
class FromInstruction(_Source):
    """``FROM [--platform=p] image [AS name]``; the stage name is lower-cased."""

    base_name: str
    stage_name: str
    platform: str


@dataclass(frozen=True)
class RunInstruction(_Source):
    """``RUN``: a shell-form string or exec-form words, with mounts and heredocs."""

    command: list[str]
    shell_form: bool
    mounts: list[str]
    network: str
    security: str
    heredocs: list[Heredoc]


@dataclass(frozen=True)
class CmdInstruction(_Source):
    """``CMD`` in shell or exec form."""

    command: list[str]
    shell_form: bool


@dataclass(frozen=True)
class EntrypointInstruction(_Source):
    """``ENTRYPOINT`` in shell or exec form."""

    command: list[str]
    shell_form: bool


@dataclass(frozen=True)
class EnvInstruction(_Source):
    """``ENV``: (name, value) pairs with quotes and variables unexpanded."""

    variables: list[tuple[str, str]]


@dataclass(frozen=True)
class LabelInstruction(_Source):
    """``LABEL``: (key, value) pairs with quotes and variables unexpanded."""

    labels: list[tuple[str, str]]


@dataclass(frozen=True)
class MaintainerInstruction(_Source):
    """``MAINTAINER`` (deprecated by Docker)."""

    maintainer: str


@dataclass(frozen=True)
class ExposeInstruction(_Source):
    """``EXPOSE``: the ports sorted as Docker sorts them."""

    ports: list[str]


@dataclass(frozen=True)
class AddInstruction(_Source):
    """``ADD`` with its sources, destination and flags."""

    sources: list[str]
    destination: str
    chown: str
    chmod: str
    checksum: str
    keep_git_dir: bool | None
    link: bool
    excludes: list[str]
    heredocs: list[Heredoc]


@dataclass(frozen=True)
class CopyInstruction(_Source):
    """``COPY`` with its sources, destination and flags; ``from_`` is ``--from``."""

    sources: list[str]
    destination: str
    from_: str
    chown: str
    chmod: str
    link: bool
    parents: bool
    excludes: list[str]
    heredocs: list[Heredoc]


@dataclass(frozen=True)
class WorkdirInstruction(_Source):
    """``WORKDIR``."""

    path: str


@dataclass(frozen=True)
class UserInstruction(_Source):
    """``USER``."""

    user: str


@dataclass(frozen=True)
class VolumeInstruction(_Source):
    """``VOLUME``."""

    volumes: list[str]


@dataclass(frozen=True)
class ArgInstruction(_Source):
    """``ARG``: (name, default) pairs, the default None when none is given."""

    arguments: list[tuple[str, str | None]]


@dataclass(frozen=True)
class OnbuildInstruction(_Source):
    """``ONBUILD``: the trigger instruction's text."""

    expression: str


@dataclass(frozen=True)
class StopsignalInstruction(_Source):
    """``STOPSIGNAL``."""

    signal: str


@dataclass(frozen=True)
class HealthcheckInstruction(_Source):
    """``HEALTHCHECK``: Docker's test list and the durations in seconds."""

    test: list[str]
    interval: float
    timeout: float
    start_period: float
    start_interval: float
    retries: int


@dataclass(frozen=True)
class ShellInstruction(_Source):
    """``SHELL``: the exec-form shell words."""

    shell: list[str]


Instruction = Union[
    FromInstruction,
    RunInstruction,
    CmdInstruction,
    EntrypointInstruction,
    EnvInstruction,
    LabelInstruction,
    MaintainerInstruction,
    ExposeInstruction,
    AddInstruction,
    CopyInstruction,
    WorkdirInstruction,
    UserInstruction,
    VolumeInstruction,
    ArgInstruction,
    OnbuildInstruction,
    StopsignalInstruction,
    HealthcheckInstruction,
    ShellInstruction,
]
"""Any typed instruction."""

_CLASSES: dict[str, type[Any]] = {
    "from": FromInstruction,
    "run": RunInstruction,
    "cmd": CmdInstruction,
    "entrypoint": EntrypointInstruction,
    "env": EnvInstruction,
    "label": LabelInstruction,
    "maintainer": MaintainerInstruction,
    "expose": ExposeInstruction,
    "add": AddInstruction,
    "copy": CopyInstruction,
    "workdir": WorkdirInstruction,
    "user": UserInstruction,
    "volume": VolumeInstruction,
    "arg": ArgInstruction,
    "onbuild": OnbuildInstruction,
    "stopsignal": StopsignalInstruction,
    "healthcheck": HealthcheckInstruction,
    "shell": ShellInstruction,
}


@dataclass(frozen=True)
class Stage:
    """A build stage: its FROM and the instructions up to the next FROM."""

    from_: FromInstruction
    instructions: list[Instruction]

    @property
    def name(self) -> str:
        """The lower-cased ``AS`` name, or an empty string."""
        return self.from_.stage_name


@dataclass(frozen=True)
class Directive:
    """A parser directive such as ``# syntax=docker/dockerfile:1``."""

    name: str
    value: str
    line: int


@dataclass(frozen=True)
class ParseWarning:
    """A problem the parser accepted, such as an empty continuation line."""

    summary: str
    detail: str
    url: str
    line: int


@dataclass(frozen=True)
class SyntaxNode:
    """One instruction of the syntax tree, as the parser split it and before any check.

    ``arguments`` holds the words as the parser split them; for ENV and LABEL that is a flat
    list of (key, value, separator) triples, the separator ``=`` for ``key=value`` and empty for
    the legacy ``key value`` form.
    """

    keyword: str
    """The instruction word as written, e.g. ``run`` or ``RUN``."""
    flags: list[str]
    """The leading ``--name[=value]`` words, unparsed."""
    arguments: list[str]
    trigger: SyntaxNode | None
    """The instruction that ONBUILD wraps, else None."""
    heredocs: list[Heredoc]
    comments: list[str]
    """The comment lines just above the instruction, without the ``#``."""
    original: str
    """The logical line after joining continuation lines."""
    json: bool
    """Whether the arguments came from a JSON array (exec form)."""
    start_line: int
    end_line: int
    """The last physical line, heredoc bodies included."""


@dataclass(frozen=True, kw_only=True)
class SyntaxTree:
    """A parsed Dockerfile before the instruction check: nodes, directives and warnings."""

    nodes: list[SyntaxNode]
    directives: list[Directive]
    warnings: list[ParseWarning]
    escape: str
    """The escape character in effect after the directives."""
    _dump: str = field(repr=False)

    def dump(self) -> str:
        """Return the syntax tree in moby's dump format, one ``(keyword args...)`` per line."""
        return self._dump


@dataclass(frozen=True, kw_only=True)
class Dockerfile(SyntaxTree):
    """A parsed and checked Dockerfile: the syntax tree with typed instructions and stages."""

    meta_args: list[ArgInstruction]
    stages: list[Stage]

    @property
    def instructions(self) -> list[Instruction]:
        """Every instruction in file order: the meta ARGs, then each stage's FROM and body."""
        result: list[Instruction] = list(self.meta_args)
        for stage in self.stages:
            result.append(stage.from_)
            result.extend(stage.instructions)
        return result


def _instruction(fields: dict[str, Any]) -> Instruction:
    values = dict(fields)
    cls = _CLASSES[values.pop("kind")]
    if "heredocs" in values:
        values["heredocs"] = [Heredoc(**doc) for doc in values["heredocs"]]
    for name in ("variables", "labels", "arguments"):
        if name in values:
            values[name] = [tuple(pair) for pair in values[name]]
    instruction: Instruction = cls(**values)
    return instruction


def _node(fields: dict[str, Any]) -> SyntaxNode:
    values = dict(fields)
    values["heredocs"] = [Heredoc(**doc) for doc in values["heredocs"]]
    values["trigger"] = _node(values["trigger"][0]) if values["trigger"] else None
    return SyntaxNode(**values)


@overload
def parse(
    text: str, *, escape: str | None = ..., classic: bool = ..., check: Literal[True] = ...
) -> Dockerfile: ...


@overload
def parse(
    text: str, *, escape: str | None = ..., classic: bool = ..., check: Literal[False]
) -> SyntaxTree: ...


@overload
def parse(
    text: str, *, escape: str | None = ..., classic: bool = ..., check: bool
) -> SyntaxTree: ...


def parse(
    text: str, *, escape: str | None = None, classic: bool = False, check: bool = True
) -> SyntaxTree:
    r"""Parse Dockerfile text and check its instructions.

    ``escape`` sets the escape character (``\`` or a backtick) used until an ``# escape=``
    directive changes it. ``classic`` follows Docker 20.10: no heredocs, and ENV and LABEL
    dumped as pairs. With ``check`` false the instructions are not checked, so a file with an
    unknown instruction or invalid flags still parses; the result is then a
    :class:`SyntaxTree` instead of a :class:`Dockerfile`.

    Raises :class:`~dockwright.ParseError` for malformed text and, when checking,
    :class:`~dockwright.InstructionError` for an invalid instruction; both carry ``line``,
    ``end_line``, ``instruction`` and ``value``.
    """
    raw = _core.parse_dockerfile(text, escape, classic, check)
    nodes = [_node(item) for item in raw["nodes"]]
    directives = [Directive(**item) for item in raw["directives"]]
    warnings = [ParseWarning(**item) for item in raw["warnings"]]
    if not check:
        return SyntaxTree(
            nodes=nodes,
            directives=directives,
            warnings=warnings,
            escape=raw["escape"],
            _dump=raw["dump"],
        )
    stages = [
        Stage(
            from_=_instruction(stage["from"]),  # type: ignore[arg-type]
            instructions=[_instruction(item) for item in stage["instructions"]],
        )
        for stage in raw["stages"]
    ]
    return Dockerfile(
        nodes=nodes,
        directives=directives,
        warnings=warnings,
        escape=raw["escape"],
        _dump=raw["dump"],
        meta_args=[_instruction(item) for item in raw["meta_args"]],  # type: ignore[misc]
        stages=stages,
    )
