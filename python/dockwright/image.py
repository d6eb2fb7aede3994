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
    """One field or file that differs between two documents or images.

    ``path`` names the field as in Docker's JSON (``config.Env[2]``), or a file as
    ``files:/etc/passwd``. ``old`` and ``new`` are the decoded JSON values (for a file: its
    type, size, mode, owner and link target), or ``None`` where it is absent on that side.
    ``made_by`` is the history entry (the Dockerfile step) whose layer last wrote the file, when
    known.
    """

    path: str
    old: Any
    new: Any
    made_by: str | None = None


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
        """Render the changes as an HTML table, or a note that the documents are equal."""
        if not self:
            return "<i>no differences</i>"
        makers = any(c.made_by for c in self)
        header = "<tr><th>field</th><th>old</th><th>new</th>"
        header += "<th>made by</th></tr>" if makers else "</tr>"
        rows = "".join(
            f"<tr><th style='text-align:left'><code>{html.escape(c.path)}</code></th>"
            f"<td style='text-align:left'>{_cell(c.old)}</td>"
            f"<td style='text-align:left'>{_cell(c.new)}</td>"
            + (
                f"<td style='text-align:left'><code>{html.escape(c.made_by or '')}</code></td>"
                if makers
                else ""
            )
            + "</tr>"
            for c in self
        )
        return f"<table>{header}{rows}</table>"


def _files(record: Any) -> dict[str, tuple[dict[str, Any], str | None]]:
    """Return the files of a stored image with the history entry that last wrote each one.

    The layers are applied in order, whiteouts and opaque markers included.
    """
    makers = [h.created_by for h in record.config().history if not h.empty_layer]
    layers = record.layers()
    offset = len(makers) - len(layers)
    files: dict[str, tuple[dict[str, Any], str | None]] = {}
    for index, layer in enumerate(layers):
        made_by = makers[index + offset] if 0 <= index + offset < len(makers) else None
        for entry in layer.files():
            path = "/" + entry.path.removeprefix("./").rstrip("/")
            parent, _, name = path.rpartition("/")
            if name == ".wh..wh..opq":
                for key in [k for k in files if k.startswith(parent + "/")]:
                    del files[key]
                continue
            if name.startswith(".wh."):
                gone = f"{parent}/{name[4:]}"
                for key in [k for k in files if k == gone or k.startswith(gone + "/")]:
                    del files[key]
                continue
            if path == "/":
                continue
            summary = {
                "type": entry.type,
                "size": entry.size,
                "mode": oct(entry.mode),
                "uid": entry.uid,
                "gid": entry.gid,
                "link": entry.link,
            }
            files[path] = (summary, made_by)
    return files


def diff(old: Any, new: Any) -> Diff:
    """Compare two configs, images or stored images field by field.

    For two :class:`~dockwright.ImageRecord` values of a store, the changes also list every file
    added, removed or changed (type, size, mode, owner, link target) in the merged layers, each
    with the history entry whose layer wrote it. Lists of different lengths are reported as
    one change of the whole list. Returns the changes sorted by path; an empty list means
    they are equal.
    """
    changes = Diff()
    if hasattr(old, "config_bytes") and hasattr(new, "config_bytes"):
        _walk("", json.loads(old.config_bytes()), json.loads(new.config_bytes()), changes)
        before, after = _files(old), _files(new)
        for path in sorted(set(before) | set(after)):
            left = before.get(path)
            right = after.get(path)
            if left is not None and right is not None and left[0] == right[0]:
                continue
            made_by = None
            if right is not None:
                made_by = right[1]
            elif left is not None:
                made_by = left[1]
            changes.append(
                Change(
                    f"files:{path}",
                    left[0] if left is not None else None,
                    right[0] if right is not None else None,
                    made_by,
                )
            )
        return changes
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
