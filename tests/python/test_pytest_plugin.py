"""The pytest plugin: fixtures, expect.yaml collection and its failure reports."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from dockwright.conformance import (
    CaseFileError,
    Mismatch,
    busybox_problem,
    load_case,
)

pytest_plugins = ["pytester"]

DOCKERFILE = "FROM busybox:local\nENV A=1\nRUN echo built > /built.txt\n"


def make_case(root: Path, name: str, expect: str, dockerfile: str = DOCKERFILE) -> Path:
    folder = root / "cases" / name
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(dockerfile)
    (folder / "expect.yaml").write_text(textwrap.dedent(expect))
    return folder


def test_fixtures_build_into_store(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_uses_fixtures(build, busybox_base, dockwright_store):
            assert busybox_base.references == ["busybox:local"]
            result = build({"Dockerfile": "FROM busybox:local\\nCMD [\\"true\\"]\\n"}, tags="x:1")
            assert dockwright_store.get("x:1").id == result.id
            assert result.image.config.cmd == ["true"]
        """
    )
    outcome = pytester.runpytest("-p", "no:cacheprovider")
    outcome.assert_outcomes(passed=1)


def test_doc_example_passes(pytester: pytest.Pytester) -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "pytest.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) == 1
    pytester.makepyfile(test_doc_example=blocks[0])
    pytester.runpytest().assert_outcomes(passed=2)


def test_passing_case_is_one_item(pytester: pytest.Pytester) -> None:
    make_case(
        pytester.path,
        "env-case",
        """
        config:
          Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", A=1]
        history:
          - {created_by: "/bin/sh -c #(nop)  ENV A=1", empty_layer: true}
          - created_by: /bin/sh -c echo built > /built.txt
        files:
          - {path: built.txt, type: file, size: 6, mode: "0644"}
        """,
    )
    outcome = pytester.runpytest("-v", "cases")
    outcome.stdout.fnmatch_lines(["cases/env-case/expect.yaml::env-case PASSED*"])
    outcome.assert_outcomes(passed=1)


def test_failing_case_shows_diff(pytester: pytest.Pytester) -> None:
    make_case(
        pytester.path,
        "wrong-env",
        """
        config:
          Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", A=2]
          WorkingDir: /srv
        files: [built.txt, extra.txt]
        """,
    )
    outcome = pytester.runpytest("cases")
    outcome.assert_outcomes(failed=1)
    outcome.stdout.fnmatch_lines(
        [
            "wrong-env: 3 expectations not met",
            "config.Env: (- expected, + actual)",
            '    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
            '  - "A=2"',
            '  + "A=1"',
            "config.WorkingDir:",
            '  expected: "/srv"',
            '  actual:   ""',
            "files: (- expected, + actual)",
            '    "built.txt"',
            '  - "extra.txt"',
        ]
    )
    outcome.stdout.no_fnmatch_line("*Traceback*")


def test_expected_error_case_passes(pytester: pytest.Pytester) -> None:
    make_case(
        pytester.path,
        "fails",
        """
        error:
          docker_message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3"
          line: 2
          exit_code: 3
          step: 2
        """,
        dockerfile="FROM busybox:local\nRUN exit 3\n",
    )
    pytester.runpytest("cases").assert_outcomes(passed=1)


def test_unexpected_failure_shows_output(pytester: pytest.Pytester) -> None:
    make_case(
        pytester.path,
        "breaks",
        "config: {User: root}\n",
        dockerfile="FROM busybox:local\nRUN echo went wrong; exit 2\n",
    )
    outcome = pytester.runpytest("cases")
    outcome.assert_outcomes(failed=1)
    outcome.stdout.fnmatch_lines(
        [
            "breaks: 1 expectation not met",
            "error:",
            "  expected: null",
            '  actual:   {*"line": 2}',
            "output of the failing step (last lines):",
            "  | went wrong",
        ]
    )


def test_missing_error_is_reported(pytester: pytest.Pytester) -> None:
    make_case(pytester.path, "succeeds", "error: {line: 2}\n")
    outcome = pytester.runpytest("cases")
    outcome.assert_outcomes(failed=1)
    outcome.stdout.fnmatch_lines(["error:", '  expected: {"line": 2}', "  actual:   null"])


def test_unknown_key_is_reported(pytester: pytest.Pytester) -> None:
    folder = make_case(pytester.path, "typo", "confg: {User: root}\n")
    outcome = pytester.runpytest("cases")
    outcome.assert_outcomes(failed=1)
    outcome.stdout.fnmatch_lines(
        [f"{folder / 'expect.yaml'}: unknown key confg (known: bases, build, config, *)"]
    )


def test_missing_busybox_skips(pytester: pytest.Pytester) -> None:
    make_case(pytester.path, "needs-base", "config: {User: root}\n")
    pytester.makeini("[pytest]\ndockwright_busybox = /nonexistent/busybox\n")
    outcome = pytester.runpytest("-rs", "cases")
    outcome.assert_outcomes(skipped=1)
    outcome.stdout.fnmatch_lines(
        [
            "SKIPPED * no busybox base image: /nonexistent/busybox is missing: "
            "install Debian's busybox-static package"
        ]
    )


def test_load_case_reads_options(tmp_path: Path) -> None:
    folder = make_case(
        tmp_path,
        "options",
        """
        description: Options and modes
        build:
          build_args: {A: "1"}
          classic: true
          dockerfile: Dockerfile
        bases: []
        files:
          - {path: /opt/tool/, mode: "0750"}
          - {path: ./run.sh, mode: 0755}
        """,
    )
    case = load_case(folder / "expect.yaml")
    assert case.name == "options"
    assert case.directory == folder
    assert case.build_options == {
        "build_args": {"A": "1"},
        "classic": True,
        "dockerfile": "Dockerfile",
    }
    assert case.bases == []
    assert case.description == "Options and modes"
    assert case.expect["files"] == [
        {"path": "opt/tool", "mode": 0o750},
        {"path": "run.sh", "mode": 0o755},
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("build: {tag: x}\n", "build: unknown key tag"),
        ("bases: [alpine]\n", "bases must be a list of busybox"),
        ("error: {line: 1}\nconfig: {}\n", "a case expects either an error or a result, not both"),
        ("files: [{mode: '0755'}]\n", "files[0] has no path"),
        ("files: [{path: a, mode: 'rwx'}]\n", "files[0]: mode 'rwx' is not an octal number"),
        ("config: [1]\n", "config must be a mapping of field names to values"),
        ("history: {a: 1}\n", "history must be a list of entries"),
        ("history: [{created_by: x, layer: 1}]\n", "history[0]: unknown key layer"),
        ("history: [x]\n", "history[0]: expected a mapping, got str"),
        ("config: [\n", "invalid YAML"),
    ],
)
def test_load_case_rejects(tmp_path: Path, text: str, message: str) -> None:
    folder = make_case(tmp_path, "bad", text)
    with pytest.raises(CaseFileError, match=message.replace("[", r"\[")):
        load_case(folder / "expect.yaml")


def test_mismatch_describes_scalars() -> None:
    assert Mismatch("error.line", 3, 4).describe() == ("error.line:\n  expected: 3\n  actual:   4")


def test_busybox_problem_names_cause(tmp_path: Path) -> None:
    assert busybox_problem(tmp_path / "absent") == (
        f"{tmp_path / 'absent'} is missing: install Debian's busybox-static package"
    )
    text = tmp_path / "script"
    text.write_text("#!/bin/sh\n")
    text.chmod(0o755)
    assert busybox_problem(text) == f"{text} is not a 64-bit little-endian ELF program"
    assert busybox_problem("/bin/sh") == (
        "/bin/sh is dynamically linked: install Debian's busybox-static package"
    )
