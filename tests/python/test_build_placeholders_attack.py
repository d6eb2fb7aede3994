"""Builds whose inputs change or die while they run.

A context file written to after the context was hashed must fail the build. Otherwise the
layer contains other bytes than the cache key names, and a later build with the original file
takes the wrong layer from the cache. A build killed with SIGKILL must leave nothing that
`prune` cannot remove, including its scratch directory outside the store. The layer bytes are
read back with Python's tarfile from `dockwright save`, not from dockwright's own listing.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import tarfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from test_build_cli import busybox_store, cli, context, run


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with `base:test` imported from /bin/busybox."""
    return busybox_store(tmp_path_factory, "attack-store")


def layer_file(root: Path, ref: str, name: str, tmp_path: Path) -> bytes:
    """The data of `name` in the top layer of `ref`, read from `dockwright save`."""
    archive = tmp_path / f"saved-{uuid.uuid4().hex}.tar"
    run(root, "save", "-o", str(archive), ref)
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        with tarfile.open(fileobj=outer.extractfile(manifest[0]["Layers"][-1])) as inner:
            stream = inner.extractfile(name)
            assert stream is not None, f"{name} is not a regular file in the top layer"
            return stream.read()


@pytest.mark.parametrize("size", [1000, 300 * 1024], ids=["small", "placeholder"])
def test_context_change_after_hashing_fails(store_root: Path, tmp_path: Path, size: int) -> None:
    original = os.urandom(size)
    changed = os.urandom(size)
    # The RUN gives the writer below time to change the file after the context was hashed
    # and before the COPY reads it.
    ctx = context(
        tmp_path,
        f"FROM base:test\nRUN sleep 4 && echo {uuid.uuid4().hex}\nCOPY big.bin /big.bin\n",
    )
    big = ctx / "big.bin"
    big.write_bytes(original)

    def overwrite() -> None:
        time.sleep(2)
        with open(big, "r+b") as out:
            out.write(changed)

    writer = threading.Thread(target=overwrite)
    writer.start()
    result = run(store_root, "build", "-t", f"changed:{size}", str(ctx), check=False)
    writer.join()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the build context file big.bin changed after the context was hashed" in result.stderr

    # The context file has its original bytes again, so the image must contain exactly them.
    big.write_bytes(original)
    run(store_root, "build", "-t", f"changed:{size}", str(ctx))
    body = layer_file(store_root, f"changed:{size}", "big.bin", tmp_path)
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(original).hexdigest()


def test_prune_removes_scratch_of_killed_build(store_root: Path, tmp_path: Path) -> None:
    scratch_parent = tmp_path / "scratch"
    scratch_parent.mkdir()
    ctx = context(tmp_path, f"FROM base:test\nRUN sleep 60 && echo {uuid.uuid4().hex}\n")
    env = dict(os.environ, DOCKWRIGHT_ROOT=str(store_root), DOCKWRIGHT_SCRATCH=str(scratch_parent))
    build = subprocess.Popen(
        [str(Path(cli()).absolute()), "build", "--no-cache", str(ctx)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not any(scratch_parent.glob("dockwright-build-*/*/upper")):
            assert build.poll() is None, "the build ended before its RUN step started"
            assert time.monotonic() < deadline, "the build made no container in 30 s"
            time.sleep(0.1)
    finally:
        os.killpg(build.pid, signal.SIGKILL)
        build.wait()
    assert len(list(scratch_parent.iterdir())) == 1

    report = run(store_root, "prune")
    assert list(scratch_parent.iterdir()) == [], report.stdout
    assert list((store_root / "tmp").iterdir()) == []
    verify = run(store_root, "store", "verify")
    assert "is consistent" in verify.stdout
