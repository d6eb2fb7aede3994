"""Helpers of the store tests: the CLI path, small root filesystems and the busybox base."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

BUSYBOX_ID = "sha256:36c3df1f99a17e6dfc2344f4f6fed26d1490d2cd9cf62f5f2c90f5bfee06ee34"
BUSYBOX_DIFF_ID = "sha256:1632c58ce452243ee93fd825ec4307e9121cf987a4dd7dfdbb5c09116648ef64"


def cli() -> str:
    """Return $DOCKWRIGHT_CLI, else the dockwright program beside the Python interpreter."""
    if os.environ.get("DOCKWRIGHT_CLI"):
        return os.environ["DOCKWRIGHT_CLI"]
    beside = Path(sys.executable).parent / "dockwright"
    if beside.exists():
        return str(beside)
    found = shutil.which("dockwright")
    if found is None:
        pytest.skip("the dockwright program is not installed beside the Python interpreter")
    return found


def run_cli(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run dockwright with DOCKWRIGHT_ROOT set to ``root``."""
    env = dict(os.environ, DOCKWRIGHT_ROOT=str(root))
    result = subprocess.run([cli(), *args], env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"dockwright {' '.join(args)} failed: {result.stderr}")
    return result


def rootfs_tar(files: dict[str, bytes]) -> bytes:
    """Return an uncompressed tar of regular files (mode 0644, owner 0, mtime 1700000000)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def busybox_archive(shared_dir: Path) -> Path:
    """Return the Docker-written busybox:local archive, skipping when it is missing."""
    path = shared_dir / "oracle" / "bases" / "busybox-local.tar.gz"
    if not path.exists():
        pytest.skip(f"{path} is missing from the shared corpus")
    return path


def gunzip(path: Path) -> bytes:
    """Return the decompressed content of a gzip file."""
    return gzip.decompress(path.read_bytes())


def require_tool(name: str) -> str:
    """Return the path of a program, skipping the test with its name when it is missing."""
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found
