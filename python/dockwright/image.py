"""Image configuration value types and the helpers that present them.

The classes come from the C++ core; this module adds ``to_dict``, rich display in Jupyter and
:func:`diff`, which compares two configs or images field by field.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

from dockwright._core import (
    Config,
    Digest,
    HealthConfig,
    History,
    Image,
    RootFS,
    V1Image,
    chain_id,
)

__all__ = [
    "Change",
    "Diff",
    "Config",
    "Digest",
    "HealthConfig",
    "History",
    "Image",
    "RootFS",
    "V1Image",
    "chain_id",
    "diff",
]

ValueType = Config | HealthConfig | History | RootFS | V1Image | Image


def _to_dict(self: ValueType) -> dict[str, Any]:
    """Return the value as a dict with Docker's JSON key names."""
    result: dict[str, Any] = json.loads(self.to_json())
    return result


for _cls in (Config, HealthConfig, History, RootFS, V1Image, Image):
    _cls.to_dict = _to_dict  # type: ignore[method-assign]


@dataclass(frozen=True)
class Change:
    """One field that differs between two documents.

    ``path`` names the field as in Docker's JSON (``config.Env[2]``); ``old`` and ``new`` are
    the decoded JSON values, or ``None`` where the field is absent on that side.
    """

    path: str
    old: Any
    new: Any


def _walk(path: str, old: Any, new: Any, changes: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            _walk(f"{path}.{key}" if path else key, old.get(key), new.get(key), changes)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (left, right) in enumerate(zip(old, new, strict=True)):
            _walk(f"{path}[{index}]", left, right, changes)
    elif old != new:
        changes.append(Change(path, old, new))


class Diff(list[Change]):
    """The changes between two documents, a list of :class:`Change` sorted by path.

    In Jupyter it renders as a table of path, old value and new value.
    """

    def _repr_html_(self) -> str:
        """Render the changes as an HTML table, or say that the documents are equal."""
        if not self:
            return "<i>no differences</i>"
        header = "<tr><th>field</th><th>old</th><th>new</th></tr>"
        rows = "".join(
            f"<tr><th style='text-align:left'><code>{html.escape(c.path)}</code></th>"
            f"<td style='text-align:left'>{_cell(c.old)}</td>"
            f"<td style='text-align:left'>{_cell(c.new)}</td></tr>"
            for c in self
        )
        return f"<table>{header}{rows}</table>"


def diff(old: ValueType, new: ValueType) -> Diff:
    """Compare two configs or images field by field.

    Lists of different lengths are reported as one change of the whole list. Returns the
    changes sorted by path; an empty list means the JSON documents are equal.
    """
    changes = Diff()
    _walk("", json.loads(old.to_json()), json.loads(new.to_json()), changes)
    return changes


def _cell(value: Any) -> str:
    if value is None:
        return "<i>null</i>"
    if isinstance(value, (dict, list)):
        return f"<code>{html.escape(json.dumps(value, ensure_ascii=False))}</code>"
    return html.escape(str(value))


def _table(rows: list[tuple[str, Any]]) -> str:
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
        f"<td style='text-align:left'>{_cell(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table>{body}</table>"


def _config_html(self: Config) -> str:
    """Render the config as an HTML table of its set fields, in Docker's order."""
    data = json.loads(self.to_json())
    return _table([(key, value) for key, value in data.items() if value not in (None, "", False)])


def _history_table(entries: list[History]) -> str:
    header = "<tr><th>#</th><th>created</th><th>created_by</th><th>empty_layer</th></tr>"
    rows = "".join(
        f"<tr><td>{i}</td><td>{html.escape(h.created)}</td>"
        f"<td style='text-align:left'><code>{html.escape(h.created_by or h.comment)}</code></td>"
        f"<td>{'yes' if h.empty_layer else ''}</td></tr>"
        for i, h in enumerate(entries)
    )
    return f"<table>{header}{rows}</table>"


def _image_html(self: Image) -> str:
    """Render the image: its ID and platform, its config and its history as tables."""
    layers = len(self.rootfs.diff_ids) if self.rootfs is not None else 0
    summary = _table(
        [
            ("id", str(self.id)),
            ("created", self.created),
            (
                "platform",
                "/".join(part for part in (self.os, self.architecture, self.variant) if part),
            ),
            ("layers", layers),
        ]
    )
    config = _config_html(self.config) if self.config is not None else "<i>no config</i>"
    return (
        f"<div><h4>Image</h4>{summary}<h4>Config</h4>{config}"
        f"<h4>History</h4>{_history_table(self.history)}</div>"
    )


def _history_html(self: History) -> str:
    """Render one history entry as a table."""
    return _table(list(json.loads(self.to_json()).items()))


Config._repr_html_ = _config_html  # type: ignore[attr-defined]
Image._repr_html_ = _image_html  # type: ignore[attr-defined]
History._repr_html_ = _history_html  # type: ignore[attr-defined]
