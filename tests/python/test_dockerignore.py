"""Tests of dockwright.DockerIgnore."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dockwright import DockerIgnore, InvalidValueError


def cases_file() -> Path:
    env = os.environ.get("DOCKWRIGHT_SHARED")
    shared = Path(env) if env else Path(__file__).resolve().parents[3] / "shared"
    path = shared / "conformance" / "dockerignore" / "cases.json"
    if not path.exists():
        pytest.skip("shared corpus conformance/dockerignore/cases.json not found")
    return path


def test_matches_and_exceptions() -> None:
    ignore = DockerIgnore(["docs", "!docs/README.md", "*.tmp"])
    assert ignore.matches("docs/a.md")
    assert not ignore.matches("docs/README.md")
    assert ignore.matches("x.tmp")
    assert not ignore.matches("src/x.tmp")
    assert not ignore.can_skip_directory("docs")
    assert ignore.patterns == ["docs", "!docs/README.md", "*.tmp"]


def test_parse_and_from_file(tmp_path: Path) -> None:
    text = "# comment\n/build\n! ./build/keep\n\n"
    assert DockerIgnore.parse(text).patterns == ["build", "!build/keep"]
    path = tmp_path / ".dockerignore"
    path.write_text(text)
    ignore = DockerIgnore.from_file(path)
    assert ignore.matches("build/x")
    assert not ignore.matches("build/keep")
    assert repr(ignore) == "DockerIgnore(['build', '!build/keep'])"


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        DockerIgnore.from_file(tmp_path / "absent")


def test_bad_patterns_name_the_pattern() -> None:
    with pytest.raises(InvalidValueError) as raised:
        DockerIgnore(["a[b"])
    assert str(raised.value) == "invalid dockerignore pattern 'a[b': syntax error in pattern"
    assert raised.value.value == "a[b"
    with pytest.raises(ValueError, match="illegal exclusion pattern"):
        DockerIgnore(["!"])


def test_shared_facts() -> None:
    data = json.loads(cases_file().read_text(encoding="utf-8"))
    checked = 0
    for group in data["groups"]:
        if group["name"] not in {"matcher_single_pattern", "matcher_multi_pattern"}:
            continue
        for case in group["cases"]:
            patterns = case.get("patterns") or [case["pattern"]]
            assert DockerIgnore(patterns).matches(case["path"]) == case["expected_match"], case
            checked += 1
    assert checked == 72
