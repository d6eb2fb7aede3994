"""Docker-oracle conformance of `dockwright build --classic`.

Every case under the shared corpus's oracle/cases is staged as its README describes. It is built
with `dockwright build --classic --no-cache <args> <context>` into a store that contains the
oracle's base images, then saved with `dockwright save`. The corpus's own compare.py then
compares it with Docker 20.10's output (config bytes, layer listings). The `Step N/M : ...`
lines must equal those of Docker's build.log, and a case Docker fails must fail with Docker's
last line and exit code.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import shared_path
from store_support import cli, run_cli

ORACLE = (shared_path() or Path("/nonexistent")) / "oracle"
CASES = sorted(p.name for p in (ORACLE / "cases").iterdir()) if ORACLE.is_dir() else []
STEP = re.compile(rb"Step \d+/\d+ : [^\n]*")
BUILDKIT_CASES = [
    n for n in CASES if (ORACLE / "cases" / n / "expected-buildkit" / "config.json").exists()
]


@pytest.fixture(scope="module")
def oracle_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding busybox:local and the orc-base images, loaded from the corpus."""
    if not ORACLE.is_dir():
        pytest.skip("the shared oracle corpus was not found; set DOCKWRIGHT_SHARED")
    root = tmp_path_factory.mktemp("oracle-store")
    for archive in sorted((ORACLE / "bases").glob("*.tar.gz")):
        run_cli(root, "load", "-i", str(archive))
    return root


def case_args(case: Path) -> list[str]:
    """The extra build flags of a case: `--flag value` is two words, `--flag=value` one."""
    args: list[str] = []
    path = case / "args"
    if not path.exists():
        return args
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        first = line.split(" ", 1)[0]
        if " " in line and "=" not in first:
            args.extend(line.split(" ", 1))
        else:
            args.append(line)
    return args


def stage(name: str, target: Path) -> None:
    """Write the normalised build context of case `name` to `target` (run-oracle.sh --stage)."""
    subprocess.run(
        ["bash", str(ORACLE / "run-oracle.sh"), "--stage", name, str(target)],
        check=True,
        capture_output=True,
    )


@pytest.mark.parametrize("name", CASES)
def test_oracle_case(name: str, oracle_store: Path, tmp_path: Path) -> None:
    """The case builds (or fails) exactly as Docker's classic builder did."""
    case = ORACLE / "cases" / name
    expected = case / "expected-classic"
    context = tmp_path / "context"
    stage(name, context)
    contextdir = (
        (case / "contextdir").read_text().strip() if (case / "contextdir").exists() else "."
    )
    out = tmp_path / "out"
    out.mkdir()
    tag = f"orc-case-{name}"
    args = ["build", "--classic", "--no-cache", "-t", tag, *case_args(case), contextdir]
    result = subprocess.run(
        [str(Path(cli()).absolute()), *args],
        cwd=context,
        env={"DOCKWRIGHT_ROOT": str(oracle_store), "PATH": "/usr/bin:/bin"},
        capture_output=True,
    )
    log = result.stdout + result.stderr
    (out / "exit_code").write_text(f"{result.returncode}\n")
    expected_code = int((expected / "exit_code").read_text())
    assert result.returncode == expected_code, log.decode(errors="replace")
    if expected_code != 0:
        lines = [line for line in log.decode(errors="replace").splitlines() if line.strip()]
        (out / "error.txt").write_text(lines[-1] + "\n")
    else:
        archive = tmp_path / "image.tar"
        run_cli(oracle_store, "save", "-o", str(archive), tag)
        subprocess.run(
            [
                sys.executable,
                str(ORACLE / "tools" / "extract.py"),
                str(archive),
                str(out),
                "--known-bases",
                str(ORACLE / "bases" / "known-bases.json"),
            ],
            check=True,
            capture_output=True,
        )
    compare = subprocess.run(
        [sys.executable, str(ORACLE / "compare.py"), str(expected), str(out)],
        capture_output=True,
        text=True,
    )
    assert compare.returncode == 0, compare.stdout + compare.stderr
    assert STEP.findall(log) == STEP.findall((expected / "build.log").read_bytes()), shlex.join(
        args
    )


@pytest.mark.parametrize("name", BUILDKIT_CASES)
def test_oracle_case_buildkit_history(name: str, oracle_store: Path, tmp_path: Path) -> None:
    """`--history-style buildkit` writes the config BuildKit wrote for the case.

    Only the config is compared: BuildKit's runtime differs from the classic one in ways that
    show in layers (no supplementary primary group, the Dockerfile kept in the context).
    """
    case = ORACLE / "cases" / name
    context = tmp_path / "context"
    stage(name, context)
    contextdir = (
        (case / "contextdir").read_text().strip() if (case / "contextdir").exists() else "."
    )
    tag = f"orc-bk-{name}"
    args = ["build", "--history-style", "buildkit", "--no-cache", "-t", tag]
    result = subprocess.run(
        [str(Path(cli()).absolute()), *args, *case_args(case), contextdir],
        cwd=context,
        env={"DOCKWRIGHT_ROOT": str(oracle_store), "PATH": "/usr/bin:/bin"},
        capture_output=True,
    )
    assert result.returncode == 0, (result.stdout + result.stderr).decode(errors="replace")
    archive = tmp_path / "image.tar"
    run_cli(oracle_store, "save", "-o", str(archive), tag)
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, str(ORACLE / "tools" / "extract.py"), str(archive), str(out)],
        check=True,
        capture_output=True,
    )
    compare = subprocess.run(
        [
            sys.executable,
            str(ORACLE / "compare.py"),
            str(case / "expected-buildkit" / "config.json"),
            str(out / "config.json"),
        ],
        capture_output=True,
        text=True,
    )
    assert compare.returncode == 0, compare.stdout + compare.stderr
