"""Building and evaluating Dockerfiles.

:func:`build` builds a context into an image store, as ``dockwright build`` does, and returns a
:class:`BuildResult` with a :class:`BuildStep` per step. :func:`evaluate` runs the same
evaluator with a backend that runs no command: RUN steps are reported as not executed, and
layers that a build would create have no digest.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Literal

from dockwright import _core
from dockwright._core import Evaluation, Image, StageEvaluation, StepRecord, _evaluate
from dockwright.build_result import BuildResult, BuildStep
from dockwright.errors import (
    DockerfileError,
    DockwrightError,
    ExpansionError,
    InstructionError,
    InvalidValueError,
    ParseError,
)
from dockwright.events import (
    BaseResolved,
    BuildEvent,
    BuildWarning,
    CacheChecked,
    ContainerCreated,
    OutputLine,
    StageFinished,
    StepFinished,
    StepStarted,
    event_from_dict,
)
from dockwright.store import Store

__all__ = [
    "BuildError",
    "BuildResult",
    "BuildStep",
    "Evaluation",
    "StageEvaluation",
    "StepRecord",
    "build",
    "evaluate",
]

#: Number of output lines of the failing step that :class:`BuildError` keeps.
OUTPUT_TAIL_LINES = 20


class BuildError(DockwrightError, ValueError):
    """A Dockerfile that fails to build or evaluate.

    ``docker_message`` is the line Docker 20.10's classic builder ends the build with (for
    example ``COPY failed: no source files were specified``), ``exit_code`` the status
    ``docker build`` exits with, ``line`` the Dockerfile line and ``instruction`` its keyword.
    For a build, ``step`` is the failing step's number (0 when the build failed before step 1),
    ``output`` the last lines that step wrote and ``steps`` the steps up to the failing one.
    When the Dockerfile itself is at fault, ``__cause__`` is the :class:`ParseError`,
    :class:`ExpansionError` or :class:`InstructionError` with the full location.
    """

    docker_message: str
    exit_code: int
    line: int
    instruction: str
    step: int
    output: list[str]
    steps: list[BuildStep]

    def __init__(
        self,
        message: str,
        docker_message: str = "",
        exit_code: int = 1,
        line: int = 0,
        instruction: str = "",
        step: int = 0,
        output: Iterable[str] = (),
        steps: Iterable[BuildStep] = (),
    ) -> None:
        """Create the error from its message and fields."""
        super().__init__(message)
        self.docker_message = docker_message
        self.exit_code = exit_code
        self.line = line
        self.instruction = instruction
        self.step = step
        self.output = list(output)
        self.steps = list(steps)


_CAUSES: dict[str, type[DockerfileError]] = {
    "parse": ParseError,
    "expansion": ExpansionError,
    "instruction": InstructionError,
    "step": InstructionError,
}


def _cause(failure: _core._BuildFailure) -> DockerfileError | None:
    """Return the Dockerfile error behind ``failure``; None for a context that failed."""
    cls = _CAUSES.get(failure.kind)
    if cls is None:
        return None
    return cls(
        failure.message,
        file=failure.file,
        line=failure.line,
        end_line=failure.end_line,
        instruction=failure.instruction,
        reason=failure.reason,
        value=failure.value,
    )


def evaluate(
    context: str | os.PathLike[str],
    dockerfile: str | os.PathLike[str] | None = None,
    *,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    labels: Mapping[str, str] | None = None,
    classic: bool = False,
    base_images: Mapping[str, Image] | None = None,
) -> Evaluation:
    """Evaluate the Dockerfile of ``context`` without running anything.

    ``dockerfile`` defaults to ``<context>/Dockerfile``. ``build_args``, ``target`` and
    ``labels`` are the ``--build-arg``, ``--target`` and ``--label`` of ``docker build``;
    ``classic`` follows Docker 20.10's classic builder to the letter. ``base_images`` maps each
    ``FROM`` reference to its image config; an image's ID is the SHA-256 of its bytes.

    Returns an :class:`Evaluation` whose ``stages`` hold each stage's final :class:`Image` and
    one :class:`StepRecord` per new history entry. Raises :class:`BuildError` when the
    Dockerfile fails, with Docker's message in ``docker_message``.
    """
    root = Path(context)
    path = Path(dockerfile) if dockerfile is not None else root / "Dockerfile"
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    outcome = _evaluate(
        text,
        path.name,
        root,
        dict(build_args or {}),
        target or "",
        dict(labels or {}),
        classic,
        dict(base_images or {}),
    )
    if isinstance(outcome, Evaluation):
        return outcome
    raise BuildError(
        outcome.message,
        docker_message=outcome.docker_message,
        exit_code=outcome.exit_code,
        line=outcome.line,
        instruction=outcome.instruction,
    ) from _cause(outcome)


class _StepRecorder:
    """Turns the build's event dicts into events for ``on_event`` and into step records."""

    def __init__(self, on_event: Callable[[BuildEvent], object] | None) -> None:
        self.on_event = on_event
        self.steps: list[BuildStep] = []
        self.warnings: list[str] = []
        self.finished: set[int] = set()
        self.stage: int | None = None
        self.next_stage = 0

    def receive(self, data: dict[str, object]) -> None:
        event = event_from_dict(data)
        self.record(event)
        if self.on_event is not None:
            self.on_event(event)

    def record(self, event: BuildEvent) -> None:
        if isinstance(event, StepStarted):
            # A FROM starts the next stage; ARG steps before the first FROM belong to none.
            if event.instruction.lstrip()[:4].upper() == "FROM":
                self.stage = self.next_stage
                self.next_stage += 1
            self.steps.append(BuildStep(event.step, event.instruction, event.line, self.stage))
        elif isinstance(event, BuildWarning):
            self.warnings.append(event.text.rstrip("\n"))
        elif isinstance(event, StageFinished):
            self.stage = None
        elif self.steps:
            self.record_step_event(self.steps[-1], event)
            if isinstance(event, (BaseResolved, StepFinished)):
                self.finished.add(event.step)

    @staticmethod
    def record_step_event(step: BuildStep, event: BuildEvent) -> None:
        if isinstance(event, BaseResolved):
            step.image_id = event.image_id
        elif isinstance(event, CacheChecked):
            step.cache_hit = event.hit
            step.cache_reason = event.reason
        elif isinstance(event, ContainerCreated):
            step.container_id = event.container_id
        elif isinstance(event, OutputLine):
            step.output.append(event.text)
        elif isinstance(event, StepFinished):
            step.image_id = event.image_id
            step.layer_digest = event.layer_digest
            step.layer_size = event.layer_size
            step.duration = event.duration

    def error(self, failure: _core._BuildFailure) -> BuildError:
        last = self.steps[-1] if self.steps else None
        failing = last if last is not None and last.number not in self.finished else None
        return BuildError(
            failure.message,
            docker_message=failure.docker_message,
            exit_code=failure.exit_code,
            line=failure.line,
            instruction=failure.instruction,
            step=failing.number if failing is not None else 0,
            output=failing.output[-OUTPUT_TAIL_LINES:] if failing is not None else (),
            steps=self.steps,
        )


def _fill_cached_layers(store: Store, steps: list[BuildStep]) -> None:
    """Set the layer digest and size of cache hits, which the build does not report."""
    for step in steps:
        if not step.cache_hit or step.image_id is None:
            continue
        image = Image.from_json(store._store.config(step.image_id))
        if not image.history or image.history[-1].empty_layer or image.rootfs is None:
            continue
        diff_id = str(image.rootfs.diff_ids[-1])
        step.layer_digest = diff_id
        step.layer_size = int(store._store.layer(diff_id)["size"])


def _source_date_epoch(value: int | None) -> int | None:
    """Return ``value``, else $SOURCE_DATE_EPOCH as a number of seconds, else None."""
    if value is not None:
        return value
    text = os.environ.get("SOURCE_DATE_EPOCH", "")
    if not text:
        return None
    if not text.isdigit():
        raise InvalidValueError(
            f"invalid SOURCE_DATE_EPOCH '{text}': must be a whole number of seconds since 1970",
            kind="SOURCE_DATE_EPOCH",
            value=text,
            reason="must be a whole number of seconds since 1970",
        )
    return int(text)


def _owns_sigint() -> bool:
    """Whether a build may route Ctrl-C to its cancel token: Python's default handler is set.

    Signal handlers only run on the main thread. A program that installed its own SIGINT
    handler keeps it, and the handler runs when the build delivers its next event.
    """
    return (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    )


def build(
    context: str | os.PathLike[str],
    dockerfile: str | os.PathLike[str] | None = None,
    *,
    tags: str | Iterable[str] = (),
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    labels: Mapping[str, str] | None = None,
    no_cache: bool = False,
    classic: bool = False,
    history_style: Literal["classic", "buildkit"] = "classic",
    network: str = "host",
    pull: Literal["missing", "always", "never"] = "missing",
    store: Store | str | os.PathLike[str] | None = None,
    on_event: Callable[[BuildEvent], object] | None = None,
    reproducible: bool = False,
    source_date_epoch: int | None = None,
    secrets: Mapping[str, str | os.PathLike[str]] | None = None,
    cache_to: str | Iterable[str] = (),
    cache_from: str | Iterable[str] = (),
    outputs: str | Iterable[str] = (),
) -> BuildResult:
    """Build ``context`` into ``store`` and tag the result, as ``dockwright build`` does.

    ``context`` is a directory, a git URL or an http(s) URL. ``dockerfile`` is the ``-f`` of
    ``docker build`` and defaults to ``Dockerfile`` in the context. For a directory context it
    is relative to the current directory, for the other forms to the context root.
    ``tags``, ``build_args``, ``target``, ``labels``, ``no_cache`` and ``network`` (``host``,
    ``default`` or ``none``) are the options of ``docker build``. ``classic`` follows Docker
    20.10's classic builder to the letter. ``history_style="buildkit"`` writes the config and
    history BuildKit writes (no container_config, ``RUN ... # buildkit`` entries). ``store``
    is a :class:`Store` or its root, the default store when None.

    ``pull`` selects when a base image is fetched from its registry: when it is not in the
    store (``missing``, Docker's default), for every FROM (``always``, ``docker build
    --pull``) or ``never``. ``reproducible`` fixes times and container IDs, so equal inputs
    give equal image IDs. ``source_date_epoch`` (else $SOURCE_DATE_EPOCH) sets the time and
    implies ``reproducible``. ``secrets`` maps an ID to a host file, which a
    ``RUN --mount=type=secret,id=<id>`` mounts at ``/run/secrets/<id>``.

    ``cache_to`` and ``cache_from`` take the values of ``--cache-to`` and ``--cache-from``
    (one string or several): ``cache_from`` imports exported build cache before the build
    (``type=registry,ref=REF``, a bare ``REF``, or ``type=local,src=DIR``), and a cache that
    cannot be read becomes a ``warning`` event. ``cache_to`` exports the build cache after a
    successful build (``type=registry,ref=REF[,mode=min|max]`` or ``type=local,dest=DIR``).

    ``outputs`` takes the values of ``-o``/``--output`` (one string or several) and writes the
    image once it is built: ``type=docker,dest=FILE`` (a docker-archive), ``type=oci,dest=PATH``
    (an OCI layout, as a tar or into a directory), ``type=tar,dest=FILE`` (the root filesystem as
    one tar) or ``type=local,dest=DIR`` (the root filesystem copied into a directory); a bare
    path means ``type=local``. Each output sends :class:`~dockwright.events.TaskProgress`
    events of task ``export <type>`` whose ``total`` is the bytes it writes.

    ``on_event`` receives each :mod:`dockwright.events` event as it happens, on the calling
    thread; an exception it raises stops the build and propagates. The GIL is released while
    the build runs. Ctrl-C (KeyboardInterrupt) stops a running RUN and the build, removes its
    containers and raises KeyboardInterrupt; the images of finished steps stay as build cache.

    Raises :class:`BuildError` when the Dockerfile or a step fails; the images of the steps
    that succeeded stay in the store as build cache.
    """
    images = store if isinstance(store, Store) else Store(store)
    tag_list = [tags] if isinstance(tags, str) else list(tags)
    recorder = _StepRecorder(on_event)
    started = time.perf_counter()
    outcome = _core._build(
        images._store,
        os.fspath(context),
        os.fspath(dockerfile) if dockerfile is not None else "",
        tag_list,
        dict(build_args or {}),
        target or "",
        dict(labels or {}),
        no_cache,
        classic,
        history_style,
        network,
        pull,
        reproducible,
        _source_date_epoch(source_date_epoch),
        [(name, os.fspath(path)) for name, path in (secrets or {}).items()],
        [cache_to] if isinstance(cache_to, str) else list(cache_to),
        [cache_from] if isinstance(cache_from, str) else list(cache_from),
        [outputs] if isinstance(outputs, str) else list(outputs),
        _owns_sigint(),
        recorder.receive,
    )
    if isinstance(outcome, _core._BuildFailure):
        raise recorder.error(outcome) from _cause(outcome)
    image_id, evaluation = outcome
    _fill_cached_layers(images, recorder.steps)
    return BuildResult(
        id=image_id,
        image=Image.from_json(images._store.config(image_id)),
        steps=recorder.steps,
        stages=list(evaluation.stages),
        warnings=recorder.warnings,
        tags=tag_list,
        duration=time.perf_counter() - started,
        store=images,
    )
