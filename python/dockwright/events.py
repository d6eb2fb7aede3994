"""Build events: what :func:`dockwright.build` hands to its ``on_event`` callback as it runs.

Each event is a small frozen dataclass. ``step`` is Docker's step number (the ``N`` of
``Step N/M``) of the step the event belongs to. Events arrive in the order Docker prints the
corresponding lines. Each step begins with :class:`StepStarted`. A FROM continues with
:class:`BasePulling` when its base is pulled, then :class:`BaseResolved`. Other steps continue
with :class:`CacheChecked` and, on a miss, :class:`ContainerCreated`, an :class:`OutputLine`
for each line a RUN writes, and :class:`StepFinished`. :class:`StageFinished` closes a stage.
:class:`TaskProgress` events report long work (context hashing, layer writing, pulls, exports)
as it goes, at most about ten per second for each task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "BasePulling",
    "BaseResolved",
    "BuildEvent",
    "BuildWarning",
    "CacheChecked",
    "ContainerCreated",
    "OutputLine",
    "StageFinished",
    "StepFinished",
    "StepNotExecuted",
    "StepStarted",
    "TaskProgress",
    "TriggersStarted",
    "event_from_dict",
]


@dataclass(frozen=True)
class StepStarted:
    """A step began: Docker's ``Step N/M : <instruction>`` line, with its Dockerfile line."""

    step: int
    total: int
    instruction: str
    line: int


@dataclass(frozen=True)
class BaseResolved:
    """FROM found its base image; ``image_id`` is None for ``scratch``."""

    step: int
    image_id: str | None


@dataclass(frozen=True)
class BasePulling:
    """A base image is not in the store (or the build pulls every base) and is being pulled."""

    step: int
    reference: str


@dataclass(frozen=True)
class TriggersStarted:
    """The base image's ONBUILD triggers are about to run (``count`` of them)."""

    step: int
    count: int


@dataclass(frozen=True)
class ContainerCreated:
    """A container was created for the step, as Docker's `` ---> Running in <id>`` line."""

    step: int
    container_id: str


@dataclass(frozen=True)
class OutputLine:
    """One line a RUN step wrote, without its line feed; invalid UTF-8 is replaced."""

    step: int
    text: str
    stream: Literal["stdout", "stderr"]


@dataclass(frozen=True)
class CacheChecked:
    """The build cache was probed: ``hit`` and the reason it hit or missed."""

    step: int
    hit: bool
    reason: str


@dataclass(frozen=True)
class StepNotExecuted:
    """A RUN step was evaluated without being run (evaluation backend only)."""

    step: int


@dataclass(frozen=True)
class StepFinished:
    """A step committed ``image_id``.

    ``layer_digest`` (the diff ID) and ``layer_size`` (bytes of the uncompressed layer tar) are
    set when the step made a layer. Both are None for config-only steps and cache hits.
    ``duration`` is in seconds, measured from :class:`StepStarted`.
    """

    step: int
    image_id: str | None
    layer_digest: str | None
    layer_size: int | None
    cache_hit: bool
    duration: float


@dataclass(frozen=True)
class BuildWarning:
    """A warning Docker prints, such as an unconsumed build argument or a parser warning."""

    text: str


@dataclass(frozen=True)
class StageFinished:
    """A stage ended; ``image_id`` is None for a ``FROM scratch`` stage without steps."""

    step: int
    image_id: str | None


@dataclass(frozen=True)
class TaskProgress:
    """A long task advanced: ``current`` of ``total`` done, counted in ``unit``.

    ``task`` names the work: ``context`` (hashing the build context), ``layer`` (writing a
    step's layer into the store), ``export <type>`` (writing an ``outputs`` entry of that
    type, such as ``export oci``) or ``pull <digest>`` (downloading one layer of a base image).
    ``total`` is 0 when it is not known in advance. An export's ``total`` is known from its
    first event on: the bytes of every file it writes (for ``type=local``, the regular files'
    contents). ``finished`` is set on the task's last event. ``step`` is 0 for work outside a
    step: before the first step and for exports after the last.
    """

    step: int
    task: str
    current: int
    total: int
    unit: Literal["bytes", "items"]
    finished: bool


BuildEvent = (
    StepStarted
    | BasePulling
    | BaseResolved
    | TriggersStarted
    | ContainerCreated
    | OutputLine
    | CacheChecked
    | StepNotExecuted
    | StepFinished
    | BuildWarning
    | StageFinished
    | TaskProgress
)


def event_from_dict(data: dict[str, Any]) -> BuildEvent:
    """Convert the dict the C++ build sink sends into the dataclass of its ``kind``."""
    kind = data["kind"]
    step: int = data["step"]
    if kind == "step_started":
        return StepStarted(step, data["total"], data["instruction"], data["line"])
    if kind == "base":
        return BaseResolved(step, data["image_id"])
    if kind == "pulling":
        return BasePulling(step, data["text"])
    if kind == "triggers":
        return TriggersStarted(step, data["count"])
    if kind == "container":
        return ContainerCreated(step, data["container_id"])
    if kind == "output":
        return OutputLine(step, data["text"], "stderr" if data["is_stderr"] else "stdout")
    if kind == "cache":
        return CacheChecked(step, data["cache_hit"], data["cache_reason"])
    if kind == "not_executed":
        return StepNotExecuted(step)
    if kind == "step_finished":
        return StepFinished(
            step,
            data["image_id"],
            data["layer_digest"],
            data["layer_size"],
            data["cache_hit"],
            data["duration"],
        )
    if kind == "warning":
        return BuildWarning(data["text"])
    if kind == "stage_finished":
        return StageFinished(step, data["image_id"])
    if kind == "progress":
        return TaskProgress(
            step,
            data["task"],
            data["current"],
            data["progress_total"],
            data["unit"],
            data["finished"],
        )
    raise ValueError(f"unknown build event kind {kind!r}")
