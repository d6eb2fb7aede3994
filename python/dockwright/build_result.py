"""The result of :func:`dockwright.build`: the image, its ID and a record per step."""

from __future__ import annotations

import dataclasses
import html
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dockwright._core import Image, StageEvaluation

if TYPE_CHECKING:
    from dockwright.store import ImageRecord, Store

__all__ = ["BuildResult", "BuildStep"]


@dataclass
class BuildStep:
    """One step of a build, numbered as ``docker build`` numbers them (``Step N/M``).

    ``instruction`` is the text as written in the Dockerfile and ``line`` its first line.
    ``stage`` is the index of the stage the step belongs to, None for an ARG before the first
    FROM. ``cache_hit`` is None when the step did not probe the build cache (FROM, ARG before
    FROM, every step with ``no_cache``), else whether it hit. ``cache_reason`` gives the reason.
    ``duration`` is in seconds. ``image_id`` is the image the step committed (for FROM, the
    base image; None for ``scratch``). ``layer_digest`` (the diff ID) and ``layer_size``
    (bytes of the uncompressed tar) are set for steps that made a layer, cache hits included.
    ``output`` contains the lines a RUN step wrote, standard output and error interleaved.
    """

    number: int
    instruction: str
    line: int
    stage: int | None
    cache_hit: bool | None = None
    cache_reason: str = ""
    duration: float = 0.0
    image_id: str | None = None
    layer_digest: str | None = None
    layer_size: int | None = None
    container_id: str = ""
    output: list[str] = field(default_factory=list)

    @property
    def keyword(self) -> str:
        """The instruction's keyword in upper case: ``RUN``, ``COPY``, ..."""
        words = self.instruction.split(maxsplit=1)
        return words[0].upper() if words else ""


def _human_size(size: int | None) -> str:
    """Format bytes as ``docker history`` does: decimal units, three significant digits."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.3g}{unit}"
        value /= 1000
    return f"{value:.3g}GB"


def _short(digest: str | None) -> str:
    return digest.split(":", 1)[-1][:12] if digest else ""


def _cache_cell(step: BuildStep) -> str:
    if step.cache_hit is None:
        return ""
    word = "hit" if step.cache_hit else "miss"
    return f"{word}: {html.escape(step.cache_reason)}" if step.cache_reason else word


def _step_row(step: BuildStep) -> str:
    cells = [
        str(step.number),
        str(step.line) if step.line else "",
        f"<code>{html.escape(step.instruction.strip())}</code>",
        _cache_cell(step),
        f"{step.duration:.2f}s",
        _human_size(step.layer_size),
        f"<code>{_short(step.layer_digest)}</code>",
        f"<code>{_short(step.image_id)}</code>",
    ]
    return "<tr>" + "".join(f"<td style='text-align:left'>{cell}</td>" for cell in cells) + "</tr>"


@dataclass(frozen=True)
class BuildResult:
    """A finished build.

    ``id`` is the target image's ID (``sha256:...``) and ``image`` its config as stored.
    ``steps`` has one :class:`BuildStep` per step, ``stages`` the final config of every stage
    built, ``warnings`` what Docker prints as warnings, ``tags`` the references set, and
    ``duration`` the wall-clock seconds of the whole build.

    NOTE: ``image`` is decoded into the classic config type. A ``history_style="buildkit"``
    config therefore encodes to other bytes than the stored ones, which
    ``record().config_bytes()`` returns.
    """

    id: str
    image: Image
    steps: list[BuildStep]
    stages: list[StageEvaluation]
    warnings: list[str]
    tags: list[str]
    duration: float
    store: Store = field(repr=False, compare=False)

    @property
    def short_id(self) -> str:
        """The first 12 hex digits of the ID, as ``Successfully built`` prints it."""
        return _short(self.id)

    @property
    def cache_hits(self) -> int:
        """Number of steps the build cache satisfied."""
        return sum(1 for step in self.steps if step.cache_hit)

    def record(self) -> ImageRecord:
        """Return the image's store record, with its references and layers."""
        return self.store.get(self.id)

    def to_records(self) -> list[dict[str, Any]]:
        """Return the steps as dicts of the :class:`BuildStep` fields plus ``keyword``."""
        records = []
        for step in self.steps:
            fields = dataclasses.asdict(step)
            records.append({"number": fields.pop("number"), "keyword": step.keyword, **fields})
        return records

    def to_pandas(self) -> Any:
        """Return the steps as a pandas DataFrame indexed by step number.

        Raises ModuleNotFoundError naming pandas when it is not installed.
        """
        try:
            pandas = importlib.import_module("pandas")
        except ModuleNotFoundError as e:
            raise ModuleNotFoundError(
                "BuildResult.to_pandas() needs pandas; install it with 'pip install pandas'",
                name="pandas",
            ) from e
        return pandas.DataFrame.from_records(self.to_records(), index="number")

    def __repr__(self) -> str:
        """Show the ID, the tags and the step and cache-hit counts."""
        return (
            f"BuildResult(id={self.id!r}, tags={self.tags!r}, steps={len(self.steps)}, "
            f"cache_hits={self.cache_hits}, duration={self.duration:.2f})"
        )

    def _repr_html_(self) -> str:
        """Render the build in Jupyter: a summary and a table of steps."""
        new_bytes = sum(step.layer_size or 0 for step in self.steps if step.cache_hit is not True)
        summary = (
            f"<p><b>Successfully built {html.escape(self.short_id)}</b>"
            f"{''.join(f' · {html.escape(tag)}' for tag in self.tags)}<br>"
            f"{len(self.steps)} steps, {self.cache_hits} from cache, "
            f"{_human_size(new_bytes)} in new layers, {self.duration:.2f}s</p>"
        )
        columns = ("step", "line", "instruction", "cache", "time", "layer", "diff ID", "image")
        header = "".join(f"<th style='text-align:left'>{name}</th>" for name in columns)
        rows = "".join(_step_row(step) for step in self.steps)
        warnings = "".join(
            f"<p style='color:#a60'>{html.escape(text)}</p>" for text in self.warnings
        )
        return f"<div>{summary}<table><tr>{header}</tr>{rows}</table>{warnings}</div>"
