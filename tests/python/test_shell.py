"""Tests of dockwright.expand and dockwright.expand_words."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import dockwright
from dockwright import ExpansionError, expand, expand_words


def shared_dir() -> Path | None:
    env = os.environ.get("DOCKWRIGHT_SHARED")
    path = Path(env) if env else Path(__file__).resolve().parents[3] / "shared"
    return path if path.is_dir() else None


def shell_file(name: str) -> Path:
    shared = shared_dir()
    path = shared / "conformance" / "shell" / name if shared else None
    if path is None or not path.exists():
        pytest.skip(f"shared corpus conformance/shell/{name} not found")
    return path


def test_expand_with_mapping_and_list() -> None:
    assert expand("${A}-$B", {"A": "1", "B": "2"}) == "1-2"
    assert expand("$A", ["A=first", "A=last"]) == "last"
    assert expand("'$A'", {}) == "$A"


def test_expand_words_splits_unquoted_values() -> None:
    assert expand_words("$P 9000", {"P": "80  443"}) == ["80", "443", "9000"]
    assert expand_words('"$P"', {"P": "80  443"}) == ["80  443"]


def test_backtick_escape() -> None:
    assert expand("C:\\dir`$A", {"A": "x"}, escape="`") == "C:\\dir$A"
    with pytest.raises(ValueError, match="escape must be"):
        expand("a", {}, escape="x")


def test_expansion_error_fields() -> None:
    with pytest.raises(ExpansionError) as raised:
        expand("${A?is required}", {})
    error = raised.value
    assert isinstance(error, ValueError)
    assert str(error) == "A: is required: '${A?is required}'"
    assert error.reason == "A: is required"
    assert error.value == "${A?is required}"
    assert error.line == 0
    assert error.instruction == ""


def test_unterminated_quote_message() -> None:
    with pytest.raises(ExpansionError, match="matching double-quote"):
        expand('"abc', {})


def test_string_env_rejected() -> None:
    with pytest.raises(TypeError):
        expand("$A", "A=1")


def test_env_var_vectors() -> None:
    env = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""}
    count = 0
    for line in shell_file("envVarTest").read_text(encoding="utf-8").split("\n"):
        if line.startswith("#") or not line.strip():
            continue
        platform, word, expected = (field.strip() for field in line.strip().split("|"))
        if platform == "W":
            continue
        if expected == "error":
            with pytest.raises(ExpansionError):
                expand(word, env)
        else:
            assert expand(word, env) == expected, word
        count += 1
    assert count == 228


def test_words_vectors() -> None:
    env: list[str] = []
    count = 0
    for line in shell_file("wordsTest").read_text(encoding="utf-8").split("\n"):
        if line.startswith("#") or not line:
            continue
        if line.startswith("ENV "):
            env.append(line[4:].lstrip(" "))
            continue
        word, expected = line.split("|")
        try:
            words = expand_words(word.strip(), env)
        except ExpansionError:
            words = ["error"]
        assert words == expected.lstrip(" ").split(","), word
        count += 1
    assert count == 24


def test_derived_cases() -> None:
    cases = json.loads(shell_file("derived-cases.json").read_text(encoding="utf-8"))
    for case in cases["process_word_with_matches"]["cases"]:
        if case.get("expected_error"):
            with pytest.raises(ExpansionError):
                expand(case["input"], case["env"])
        else:
            assert expand(case["input"], case["env"]) == case["expected"], case["input"]


def test_public_names() -> None:
    assert dockwright.expand is expand
    assert "expand_words" in dockwright.__all__
