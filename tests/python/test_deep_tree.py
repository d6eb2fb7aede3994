"""A RUN step that makes a directory tree deeper than the descriptor limit and PATH_MAX.

The build commits the tree as a layer, as Docker does; the test reads the layer back from a
`dockwright save` archive.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_support import cli
from test_build_cli import busybox_store, context, run

LEVELS = 2000


@pytest.fixture()
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store with `busybox:local` imported from /bin/busybox, removed with `rm -rf`.

    pytest's own clean-up recurses once per level and cannot remove trees this deep.
    """
    root = busybox_store(tmp_path_factory, "deep-store")
    run(root, "tag", "base:test", "busybox:local")
    yield root
    subprocess.run(["rm", "-rf", str(root)], check=False)


def test_run_commits_a_2000_level_tree(store: Path, tmp_path: Path) -> None:
    dockerfile = (
        "FROM busybox:local\n"
        f"RUN i=0; while [ $i -lt {LEVELS} ]; do mkdir d && cd d; i=$((i+1)); done\n"
    )
    run(store, "build", "-t", "deep:test", str(context(tmp_path, dockerfile)))

    archive = tmp_path / "saved.tar"
    run(store, "save", "-o", str(archive), "deep:test")
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        last_layer = manifest[0]["Layers"][-1]
        with tarfile.open(fileobj=outer.extractfile(last_layer)) as layer:
            members = layer.getmembers()
    directories = [m.name for m in members if m.isdir()]
    chain = [name for name in directories if set(name.split("/")) == {"d"}]
    assert len(chain) == LEVELS
    assert max(chain, key=len) == "/".join(["d"] * LEVELS)
    assert len(directories) == LEVELS


def test_build_removes_its_deep_scratch_tree(store: Path, tmp_path: Path) -> None:
    """The build directory goes even when the tree is deeper than the descriptor limit."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    dockerfile = (
        "FROM busybox:local\n"
        f"RUN i=0; while [ $i -lt {LEVELS} ]; do mkdir d && cd d; i=$((i+1)); done\n"
    )

    def limit_descriptors() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (512, 512))

    result = subprocess.run(
        [str(Path(cli()).absolute()), "build", str(context(tmp_path, dockerfile))],
        env=dict(os.environ, DOCKWRIGHT_ROOT=str(store), DOCKWRIGHT_SCRATCH=str(scratch)),
        preexec_fn=limit_descriptors,
        capture_output=True,
        text=True,
    )
    left = sorted(p.name for p in scratch.iterdir())
    subprocess.run(["rm", "-rf", str(scratch)], check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert left == []
