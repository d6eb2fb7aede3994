"""Data-driven build cases: a folder with a Dockerfile, its context and an ``expect.yaml``.

:func:`load_case` reads a case, :func:`run_case` builds it into a store and returns every
expectation the build did not meet as a :class:`Mismatch`. The pytest plugin
(:mod:`dockwright.pytest_plugin`) turns each ``expect.yaml`` into a test item; docs/pytest.md
describes the file format. :func:`import_busybox` makes the small base image the cases build
on, from a statically linked busybox.
"""

from __future__ import annotations

import difflib
import json
import os
import struct
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dockwright.build import BuildError, build
from dockwright.build_result import BuildResult
from dockwright.store import ImageRecord, Store

__all__ = [
    "BUSYBOX",
    "Case",
    "CaseFileError",
    "CaseOutcome",
    "Mismatch",
    "busybox_problem",
    "find_cases",
    "import_busybox",
    "load_case",
    "run_case",
    "write_busybox_rootfs",
]

#: Path of the static busybox that Debian's busybox-static package installs.
BUSYBOX = Path("/bin/busybox")
#: The reference cases name their busybox base by.
BUSYBOX_REFERENCE = "busybox:local"
#: The mtime of every entry of the busybox root filesystem tar, so the layer is reproducible.
ROOTFS_MTIME = 1700000000

_TOP_KEYS = {"description", "build", "bases", "config", "image", "history", "files", "error"}
_BUILD_KEYS = {
    "dockerfile",
    "tags",
    "build_args",
    "target",
    "labels",
    "no_cache",
    "classic",
    "history_style",
    "network",
    "pull",
    "reproducible",
    "source_date_epoch",
}
_ERROR_KEYS = {"docker_message", "message", "line", "exit_code", "instruction", "step"}
_FILE_KEYS = {"path", "type", "mode", "size", "uid", "gid", "link"}
_HISTORY_KEYS = {"created", "created_by", "author", "comment", "empty_layer"}
_BASES = {"busybox"}
_HISTORY_DEFAULTS: dict[str, Any] = {"empty_layer": False}


class CaseFileError(ValueError):
    """An ``expect.yaml`` that cannot be read: bad YAML, an unknown key or a wrong type."""


@dataclass(frozen=True)
class Mismatch:
    """One expectation a build did not meet.

    ``path`` names what was compared (``config.Env``, ``history[2].created_by``, ``files``,
    ``error.line``); ``expected`` and ``actual`` are plain values, None where one is absent.
    """

    path: str
    expected: Any
    actual: Any

    def describe(self) -> str:
        """Return the mismatch as text.

        Two lists or two mappings get a line diff with an item or a key per line. Other values
        are shown as JSON on a line each.
        """
        both_lists = isinstance(self.expected, list) and isinstance(self.actual, list)
        both_dicts = isinstance(self.expected, dict) and isinstance(self.actual, dict)
        if not (both_lists or both_dicts):
            return (
                f"{self.path}:\n"
                f"  expected: {json.dumps(self.expected, ensure_ascii=False)}\n"
                f"  actual:   {json.dumps(self.actual, ensure_ascii=False)}"
            )
        lines = [
            line
            for line in difflib.ndiff(_item_lines(self.expected), _item_lines(self.actual))
            if not line.startswith("? ")
        ]
        return f"{self.path}: (- expected, + actual)\n" + "\n".join(f"  {line}" for line in lines)


def _item_lines(value: list[Any] | dict[str, Any]) -> list[str]:
    if isinstance(value, dict):
        return [f"{key}: {json.dumps(item, ensure_ascii=False)}" for key, item in value.items()]
    return [json.dumps(item, ensure_ascii=False) for item in value]


@dataclass(frozen=True)
class Case:
    """A build case: its folder (the build context), build options and expectations."""

    name: str
    directory: Path
    build_options: dict[str, Any]
    bases: list[str]
    expect: dict[str, Any]
    description: str = ""


@dataclass
class CaseOutcome:
    """The result of :func:`run_case`: the mismatches, and the build result or its error."""

    case: Case
    mismatches: list[Mismatch] = field(default_factory=list)
    result: BuildResult | None = None
    error: BuildError | None = None

    @property
    def passed(self) -> bool:
        """Whether the build met every expectation."""
        return not self.mismatches

    def report(self) -> str:
        """Return the mismatches as readable text, with the output of a step that failed."""
        count = len(self.mismatches)
        lines = [f"{self.case.name}: {count} expectation{'s' if count != 1 else ''} not met"]
        lines.extend(mismatch.describe() for mismatch in self.mismatches)
        if self.error is not None and "error" not in self.case.expect and self.error.output:
            lines.append("output of the failing step (last lines):")
            lines.extend(f"  | {text}" for text in self.error.output)
        return "\n".join(lines)


def _check_keys(where: str, data: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise CaseFileError(f"{where}: expected a mapping, got {type(data).__name__}")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise CaseFileError(
            f"{where}: unknown key {', '.join(unknown)} (known: {', '.join(sorted(allowed))})"
        )
    return data


def _file_mode(where: str, value: Any) -> int:
    """Read a mode written as an octal string (``"0755"``) or as a YAML 1.1 octal number."""
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.removeprefix("0o"), 8)
        except ValueError:
            pass
    raise CaseFileError(f'{where}: mode {value!r} is not an octal number such as "0755"')


def _file_entries(where: str, value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise CaseFileError(f"{where}: files must be a list of paths or mappings")
    entries = []
    for index, item in enumerate(value):
        entry = {"path": item} if isinstance(item, str) else dict(item or {})
        _check_keys(f"{where}: files[{index}]", entry, _FILE_KEYS)
        if not isinstance(entry.get("path"), str):
            raise CaseFileError(f"{where}: files[{index}] has no path")
        entry["path"] = _layer_path(entry["path"])
        if "mode" in entry:
            entry["mode"] = _file_mode(f"{where}: files[{index}]", entry["mode"])
        entries.append(entry)
    return entries


def load_case(path: str | os.PathLike[str]) -> Case:
    """Read the ``expect.yaml`` at ``path``; its folder is the case's build context.

    Raises :class:`CaseFileError` naming the file for invalid YAML or unknown keys.
    """
    file = Path(path)
    where = str(file)
    try:
        data = yaml.safe_load(file.read_text()) or {}
    except yaml.YAMLError as e:
        raise CaseFileError(f"{where}: invalid YAML: {e}") from e
    _check_keys(where, data, _TOP_KEYS)
    options = dict(_check_keys(f"{where}: build", data.get("build") or {}, _BUILD_KEYS))
    bases = data.get("bases", ["busybox"])
    if not isinstance(bases, list) or not set(bases) <= _BASES:
        raise CaseFileError(f"{where}: bases must be a list of {', '.join(sorted(_BASES))}")
    expect = {
        key: data[key] for key in ("config", "image", "history", "files", "error") if key in data
    }
    if "error" in expect:
        _check_keys(f"{where}: error", expect["error"], _ERROR_KEYS)
        if set(expect) & {"config", "image", "history", "files"}:
            raise CaseFileError(f"{where}: a case expects either an error or a result, not both")
    for key in ("config", "image"):
        if key in expect and not isinstance(expect[key], dict):
            raise CaseFileError(f"{where}: {key} must be a mapping of field names to values")
    if "history" in expect:
        if not isinstance(expect["history"], list):
            raise CaseFileError(f"{where}: history must be a list of entries")
        for index, entry in enumerate(expect["history"]):
            _check_keys(f"{where}: history[{index}]", entry, _HISTORY_KEYS)
    if "files" in expect:
        expect["files"] = _file_entries(where, expect["files"])
    return Case(
        name=file.parent.name,
        directory=file.parent,
        build_options=options,
        bases=list(bases),
        expect=expect,
        description=str(data.get("description", "")),
    )


def _layer_path(path: str) -> str:
    return path.strip("/").removeprefix("./")


def _compare_fields(
    prefix: str, expected: dict[str, Any], actual: dict[str, Any]
) -> list[Mismatch]:
    return [
        Mismatch(f"{prefix}.{key}", value, actual.get(key))
        for key, value in expected.items()
        if actual.get(key) != value
    ]


def _check_history(expected: list[Any], actual: list[dict[str, Any]]) -> list[Mismatch]:
    keys = {key for entry in expected if isinstance(entry, dict) for key in entry}
    actual_fields = [
        {key: entry.get(key, _HISTORY_DEFAULTS.get(key, "")) for key in sorted(keys)}
        for entry in actual
    ]
    if len(expected) != len(actual):
        return [Mismatch("history", expected, actual_fields)]
    mismatches = []
    for index, (want, got) in enumerate(zip(expected, actual_fields, strict=True)):
        mismatches.extend(_compare_fields(f"history[{index}]", want, got))
    return mismatches


def _last_layer_files(store: Store, image_id: str) -> list[dict[str, Any]]:
    layers = store.get(image_id).layers()
    if not layers:
        return []
    return [
        {
            "path": _layer_path(entry.path),
            "type": entry.type,
            "mode": entry.mode & 0o7777,
            "size": entry.size,
            "uid": entry.uid,
            "gid": entry.gid,
            "link": entry.link,
        }
        for entry in layers[-1].files()
    ]


def _check_files(expected: list[dict[str, Any]], actual: list[dict[str, Any]]) -> list[Mismatch]:
    want = sorted(entry["path"] for entry in expected)
    got = sorted(entry["path"] for entry in actual)
    if want != got:
        return [Mismatch("files", want, got)]
    by_path = {entry["path"]: entry for entry in actual}
    mismatches = []
    for entry in expected:
        found = by_path[entry["path"]]
        for key, value in entry.items():
            if key == "mode":
                value &= 0o7777
            if key != "path" and found[key] != value:
                mismatches.append(Mismatch(f"files[{entry['path']}].{key}", value, found[key]))
    return mismatches


def _check_result(case: Case, result: BuildResult, store: Store) -> list[Mismatch]:
    expect = case.expect
    if "error" in expect:
        return [Mismatch("error", expect["error"], None)]
    document = result.image.to_dict()
    mismatches = []
    if "image" in expect:
        mismatches += _compare_fields("image", expect["image"], document)
    if "config" in expect:
        mismatches += _compare_fields("config", expect["config"], document.get("config") or {})
    if "history" in expect:
        inherited = result.stages[-1].base_history if result.stages else 0
        mismatches += _check_history(expect["history"], document["history"][inherited:])
    if "files" in expect:
        mismatches += _check_files(expect["files"], _last_layer_files(store, result.id))
    return mismatches


def _check_error(case: Case, error: BuildError) -> list[Mismatch]:
    actual = {
        "docker_message": error.docker_message,
        "message": str(error),
        "line": error.line,
        "exit_code": error.exit_code,
        "instruction": error.instruction,
        "step": error.step,
    }
    expected = case.expect.get("error")
    if expected is None:
        return [
            Mismatch("error", None, {"docker_message": error.docker_message, "line": error.line})
        ]
    return _compare_fields("error", expected, actual)


def run_case(case: Case, store: Store) -> CaseOutcome:
    """Build ``case`` into ``store`` and compare the outcome with its expectations.

    The bases the case names must already be in ``store`` (see :func:`import_busybox`). Base
    images are not pulled unless the case sets ``pull`` under ``build``.
    """
    options = dict(case.build_options)
    dockerfile = options.pop("dockerfile", None)
    # A case reaches a registry only when it requests a pull, so a mistyped base fails fast offline.
    options.setdefault("pull", "never")
    outcome = CaseOutcome(case)
    try:
        outcome.result = build(
            case.directory,
            case.directory / dockerfile if dockerfile is not None else None,
            store=store,
            **options,
        )
    except BuildError as e:
        outcome.error = e
        outcome.mismatches = _check_error(case, e)
        return outcome
    outcome.mismatches = _check_result(case, outcome.result, store)
    return outcome


def busybox_problem(busybox: str | os.PathLike[str] = BUSYBOX) -> str | None:
    """Return why ``busybox`` cannot make a base image, or None when it can.

    An image without a C library needs a statically linked x86-64 busybox, as Debian's
    busybox-static package installs at /bin/busybox. The dynamically linked busybox of the
    busybox package cannot run there.
    """
    path = Path(busybox)
    if not path.is_file() or not os.access(path, os.X_OK):
        return f"{path} is missing: install Debian's busybox-static package"
    with path.open("rb") as binary:
        header = binary.read(64)
        if header[:5] != b"\x7fELF\x02" or header[5] != 1:
            return f"{path} is not a 64-bit little-endian ELF program"
        program_headers, entry_size, count = (
            struct.unpack_from("<Q", header, 0x20)[0],
            struct.unpack_from("<H", header, 0x36)[0],
            struct.unpack_from("<H", header, 0x38)[0],
        )
        binary.seek(program_headers)
        table = binary.read(entry_size * count)
    interpreter = 3  # PT_INTERP names the dynamic loader a program needs
    for index in range(count):
        if struct.unpack_from("<I", table, index * entry_size)[0] == interpreter:
            return f"{path} is dynamically linked: install Debian's busybox-static package"
    return None


def write_busybox_rootfs(
    output: str | os.PathLike[str], busybox: str | os.PathLike[str] = BUSYBOX
) -> None:
    """Write a root filesystem tar with ``bin/busybox`` and a symlink per applet.

    Entries are sorted by name, owned by 0:0 and dated :data:`ROOTFS_MTIME`, so the same
    busybox gives the same layer diff ID. Raises ValueError when ``busybox`` cannot be used.
    """
    problem = busybox_problem(busybox)
    if problem is not None:
        raise ValueError(problem)
    applets = subprocess.run(
        [os.fspath(busybox), "--list"], check=True, capture_output=True, text=True
    ).stdout.split()

    def entry(name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = kind, mode, ROOTFS_MTIME
        info.uid = info.gid = 0
        return info

    links = {f"bin/{name}": "busybox" for name in applets if name != "busybox"}
    with tarfile.open(output, "w", format=tarfile.GNU_FORMAT) as tar:
        tar.addfile(entry("bin", tarfile.DIRTYPE, 0o755))
        for name in sorted([*links, "bin/busybox"]):
            if name in links:
                link = entry(name, tarfile.SYMTYPE, 0o777)
                link.linkname = links[name]
                tar.addfile(link)
                continue
            program = entry(name, tarfile.REGTYPE, 0o755)
            program.size = Path(busybox).stat().st_size
            with open(busybox, "rb") as data:
                tar.addfile(program, data)


def import_busybox(
    store: Store,
    reference: str = BUSYBOX_REFERENCE,
    busybox: str | os.PathLike[str] = BUSYBOX,
    rootfs: str | os.PathLike[str] | None = None,
) -> ImageRecord:
    """Import a one-layer busybox image with ``CMD ["sh"]`` into ``store`` as ``reference``.

    ``rootfs`` is a tar that :func:`write_busybox_rootfs` wrote earlier, to skip writing it
    again; without it a temporary one is written from ``busybox``.
    """
    if rootfs is not None:
        return store.import_rootfs(rootfs, reference, ['CMD ["sh"]'])
    with tempfile.TemporaryDirectory(prefix="dockwright-busybox-") as folder:
        tar = Path(folder) / "rootfs.tar"
        write_busybox_rootfs(tar, busybox)
        return store.import_rootfs(tar, reference, ['CMD ["sh"]'])


def find_cases(folders: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Return every ``expect.yaml`` under ``folders``, sorted."""
    return sorted(path for folder in folders for path in Path(folder).rglob("expect.yaml"))
