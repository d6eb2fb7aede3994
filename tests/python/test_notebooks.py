"""Every notebook under notebooks/ runs headless from top to bottom without an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockwright.conformance import busybox_problem

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
# These notebooks build images on a busybox base made from a statically linked busybox.
BUILDING = {"scripting_builds", "conformance"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    problem = busybox_problem()
    if path.stem in BUILDING and problem is not None:
        pytest.skip(f"{path.name} builds on a busybox base: {problem}")
    nbformat = pytest.importorskip("nbformat", reason="nbformat is needed to run notebooks")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is needed to run notebooks")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": path.parent}}
    )
    client.execute()
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.get("output_type") == "error"]


def test_notebooks_exist() -> None:
    assert [path.stem for path in NOTEBOOKS] == [
        "conformance",
        "explore_config",
        "scripting_builds",
    ]
