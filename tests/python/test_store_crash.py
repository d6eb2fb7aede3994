"""kill -9 at random points during load, save, tag, import and prune; the store stays sound."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from store_support import busybox_archive, cli, rootfs_tar, run_cli


def start(root: Path, *args: str) -> subprocess.Popen[bytes]:
    """Start dockwright with DOCKWRIGHT_ROOT set to ``root``, output discarded."""
    env = dict(os.environ, DOCKWRIGHT_ROOT=str(root))
    return subprocess.Popen(
        [cli(), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def test_kill_during_operations_keeps_store_consistent(shared_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "store"
    busybox = busybox_archive(shared_dir)
    run_cli(root, "load", "-i", str(busybox))
    docker_tar = tmp_path / "busybox.tar"
    oci_tar = tmp_path / "busybox-oci.tar"
    run_cli(root, "save", "-o", str(docker_tar), "busybox:local")
    run_cli(root, "save", "--format", "oci", "-o", str(oci_tar), "busybox:local")
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(rootfs_tar({f"file{i}": os.urandom(4096) for i in range(256)}))

    operations: list[tuple[str, Callable[[int], list[str]]]] = [
        ("load", lambda i: ["load", "-i", str(busybox)]),
        ("load-oci", lambda i: ["load", "-i", str(oci_tar)]),
        ("save", lambda i: ["save", "-o", str(tmp_path / f"out{i}.tar"), "busybox:local"]),
        ("tag", lambda i: ["tag", "busybox:local", f"copy:{i}"]),
        ("import", lambda i: ["import", str(rootfs), f"imported:{i}"]),
        ("rmi", lambda i: ["rmi", f"copy:{i - 1}"]),
        ("prune", lambda i: ["prune"]),
    ]
    # Time each operation once, so the kills land between its start and its usual end.
    durations: dict[str, float] = {}
    for name, arguments in operations:
        began = time.monotonic()
        start(root, *arguments(1000)).wait()
        durations[name] = time.monotonic() - began

    generator = random.Random(4)
    killed = 0
    rounds = 70
    deadline = time.monotonic() + 50
    for i in range(rounds):
        name, arguments = operations[i % len(operations)]
        process = start(root, *arguments(i))
        time.sleep(generator.uniform(0.0, 0.9 * durations[name]))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait()
        verify = run_cli(root, "store", "verify", check=False)
        assert verify.returncode == 0, f"round {i} ({name}): {verify.stdout}{verify.stderr}"
        assert time.monotonic() < deadline, f"too slow: {i} rounds in 50 s"
    assert killed >= 50, f"only {killed} of {rounds} processes were still running when killed"
    loaded = run_cli(root, "load", "-i", str(busybox))
    assert loaded.stdout.endswith("Loaded image: busybox:local\n")
    run_cli(root, "prune")
    assert list((root / "tmp").iterdir()) == []
    assert run_cli(root, "store", "verify").returncode == 0


def test_concurrent_writers_share_the_store(shared_dir: Path, tmp_path: Path) -> None:
    root = tmp_path / "store"
    busybox = busybox_archive(shared_dir)
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(rootfs_tar({"a": b"a"}))
    run_cli(root, "load", "-i", str(busybox))
    processes = []
    for i in range(4):
        processes.append(start(root, "load", "-i", str(busybox)))
        processes.append(start(root, "tag", "busybox:local", f"parallel:{i}"))
        processes.append(start(root, "import", str(rootfs), f"imported:{i}"))
    processes.append(start(root, "prune", "--blobs-only"))
    assert [process.wait() for process in processes] == [0] * len(processes)
    images = run_cli(root, "images").stdout
    for i in range(4):
        assert f"parallel     {i}" in images
        assert f"imported     {i}" in images
    assert run_cli(root, "store", "verify").returncode == 0
