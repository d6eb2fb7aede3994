"""Tests of dockwright.parse: dump, typed instructions, stages, directives and errors."""

from __future__ import annotations

import os
import pathlib

import pytest

import dockwright
from dockwright.dockerfile import CopyInstruction, EnvInstruction, RunInstruction

SHARED = pathlib.Path(
    os.environ.get("DOCKWRIGHT_SHARED", pathlib.Path(__file__).parents[3] / "shared")
)
CASES = SHARED / "conformance" / "parser" / "cases"


@pytest.mark.skipif(not CASES.is_dir(), reason="shared corpus conformance/parser is missing")
@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()) if CASES.is_dir() else [])
def test_dump_matches_upstream_result(case: str) -> None:
    text = (CASES / case / "Dockerfile").read_bytes().decode("utf-8")
    expected = (CASES / case / "result").read_bytes().decode("utf-8")
    assert dockwright.parse(text, check=False).dump() + "\n" == expected


def test_unchecked_parse_keeps_unknown_instruction() -> None:
    tree = dockwright.parse("FROM a\nFOO --x=1 bar\n", check=False)
    assert type(tree) is dockwright.SyntaxTree
    assert tree.dump() == '(from "a")\n(foo ["--x=1"] "")'
    foo = tree.nodes[1]
    assert foo.keyword == "FOO"
    assert foo.flags == ["--x=1"]
    assert foo.arguments == [""]
    assert foo.start_line == 2
    assert foo.end_line == 2
    assert foo.original == "FOO --x=1 bar"


def test_syntax_nodes_have_fields() -> None:
    tree = dockwright.parse(
        '# syntax=x\n# about a\nFROM a\nONBUILD RUN ["b"]\nCOPY <<EOF /c\nd\nEOF\n', check=False
    )
    assert [(d.name, d.value, d.line) for d in tree.directives] == [("syntax", "x", 1)]
    from_, onbuild, copy = tree.nodes
    assert from_.comments == ["syntax=x", "about a"]
    assert from_.arguments == ["a"]
    assert from_.trigger is None
    assert onbuild.arguments == []
    assert onbuild.trigger is not None
    assert onbuild.trigger.keyword == "RUN"
    assert onbuild.trigger.arguments == ["b"]
    assert onbuild.trigger.json is True
    assert copy.heredocs == [dockwright.dockerfile.Heredoc(name="EOF", content="d\n")]
    assert copy.start_line == 5
    assert copy.end_line == 7


def test_checked_parse_has_nodes() -> None:
    df = dockwright.parse("FROM a\nENV k=v\n")
    assert isinstance(df, dockwright.SyntaxTree)
    assert [node.arguments for node in df.nodes] == [["a"], ["k", "v", "="]]


def test_unchecked_parse_still_raises_parse_error() -> None:
    with pytest.raises(dockwright.ParseError):
        dockwright.parse("FROM a\nENV PATH\n", check=False)


def test_stages_and_typed_instructions() -> None:
    df = dockwright.parse(
        "ARG BASE=alpine\nFROM $BASE AS Build\nENV A=1 B=2\nRUN <<EOF\necho hi\nEOF\n"
        "FROM scratch\nCOPY --from=build /a /b\n"
    )
    assert [arg.arguments for arg in df.meta_args] == [[("BASE", "alpine")]]
    assert [stage.name for stage in df.stages] == ["build", ""]
    env = df.stages[0].instructions[0]
    assert isinstance(env, EnvInstruction)
    assert env.variables == [("A", "1"), ("B", "2")]
    assert env.start_line == 3
    run = df.stages[0].instructions[1]
    assert isinstance(run, RunInstruction)
    assert run.heredocs[0].name == "EOF"
    assert run.heredocs[0].content == "echo hi\n"
    assert run.end_line == 6
    copy = df.stages[1].instructions[0]
    assert isinstance(copy, CopyInstruction)
    assert copy.from_ == "build"
    assert copy.sources == ["/a"]
    assert len(df.instructions) == 6


def test_directives_and_escape() -> None:
    df = dockwright.parse("# syntax=docker/dockerfile:1\n# escape=`\nFROM a\nRUN x `\n  y\n")
    assert [(d.name, d.value, d.line) for d in df.directives] == [
        ("syntax", "docker/dockerfile:1", 1),
        ("escape", "`", 2),
    ]
    assert df.escape == "`"
    assert df.dump() == '(from "a")\n(run "x   y")'


def test_escape_option_sets_initial_escape() -> None:
    assert dockwright.parse("FROM a\nRUN x `\ny\n", escape="`").dump() == '(from "a")\n(run "x y")'


def test_classic_dump_uses_pairs() -> None:
    assert dockwright.parse("FROM a\nENV k v\n", classic=True).dump() == '(from "a")\n(env "k" "v")'


def test_empty_continuation_line_warns() -> None:
    df = dockwright.parse("FROM a\nRUN a \\\n\n  b\n")
    assert len(df.warnings) == 1
    assert df.warnings[0].summary == "Empty continuation line found in: RUN a   b"
    assert df.warnings[0].line == 4


def test_parse_error_has_fields() -> None:
    with pytest.raises(dockwright.ParseError) as caught:
        dockwright.parse("FROM a\nENV PATH\n")
    assert caught.value.line == 2
    assert caught.value.instruction == "ENV"
    assert caught.value.value == "PATH"
    assert str(caught.value) == (
        "Dockerfile:2: ENV: missing value; expected a name and a value or name=value: 'PATH'"
    )
    assert isinstance(caught.value, ValueError)


def test_instruction_error_has_fields() -> None:
    with pytest.raises(dockwright.InstructionError) as caught:
        dockwright.parse("FROM a\nFOO bar\n")
    assert caught.value.line == 2
    assert str(caught.value) == "Dockerfile:2: FOO: unknown instruction: 'FOO'"


def test_bad_escape_option_raises() -> None:
    with pytest.raises(ValueError):
        dockwright.parse("FROM a\n", escape="x")
