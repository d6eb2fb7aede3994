"""Evaluating a Dockerfile: the config and history every stage gets, with nothing executed.

:func:`evaluate` runs the same evaluator as ``dockwright build`` with a backend that runs no
command. RUN steps are reported as not executed, and layers that a build would create have no
digest. COPY and ADD history carries the content hashes Docker computes for the build context.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from dockwright._core import Evaluation, Image, StageEvaluation, StepRecord, _evaluate
from dockwright.errors import DockwrightError

__all__ = ["BuildError", "Evaluation", "StageEvaluation", "StepRecord", "evaluate"]


class BuildError(DockwrightError, ValueError):
    """A Dockerfile that fails to build or evaluate.

    ``docker_message`` is the line Docker 20.10's classic builder ends the build with (for
    example ``COPY failed: no source files were specified``), ``exit_code`` the status
    ``docker build`` exits with, ``line`` the Dockerfile line and ``instruction`` its keyword.
    """

    docker_message: str
    exit_code: int
    line: int
    instruction: str

    def __init__(
        self,
        message: str,
        docker_message: str = "",
        exit_code: int = 1,
        line: int = 0,
        instruction: str = "",
    ) -> None:
        """Create the error from its message and fields."""
        super().__init__(message)
        self.docker_message = docker_message
        self.exit_code = exit_code
        self.line = line
        self.instruction = instruction


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
    )
