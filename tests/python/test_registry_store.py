"""Pulls into the store and pushes from it, against docker-registry on loopback.

Covers the store as the target of a pull (blobs streamed and checked before they become
visible), pushes that read the store's blobs in place, resumed downloads and killed pulls.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from registry_support import Layout, Proxy, Registry, layer_tar, sha256

pytestmark = pytest.mark.skipif(
    shutil.which("docker-registry") is None,
    reason="docker-registry is not installed (Debian package docker-registry)",
)


def dockwright(cli: Path, root: Path, *args: str,
               check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the dockwright program on the store at `root` and return its result."""
    env = {**os.environ, "DOCKWRIGHT_ROOT": str(root), "DOCKER_CONFIG": str(root / "docker")}
    result = subprocess.run([str(cli), *args], capture_output=True, text=True, env=env,
                            timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"dockwright {' '.join(args)} failed:\n{result.stderr}")
    return result


def seed(registry: Registry, work: Path, name: str,
         layers: list[bytes]) -> dict[str, Any]:
    """Copy an image of `layers` to `registry` as `name`; return its manifest and digests."""
    layout = Layout(work)
    descriptor = layout.image(layers)
    layout.name(descriptor, "v1")
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", f"oci:{work}:v1",
                    f"docker://{registry.host}/{name}"], check=True, capture_output=True)
    manifest = json.loads((work / "blobs" / "sha256" / descriptor["digest"][7:]).read_bytes())
    config = json.loads((work / "blobs" / "sha256" / manifest["config"]["digest"][7:]).read_bytes())
    return {"digest": descriptor["digest"], "manifest": manifest,
            "id": manifest["config"]["digest"], "diff_ids": config["rootfs"]["diff_ids"]}


def random_layers(count: int, size: int) -> list[bytes]:
    """Return `count` gzip layers of one random file each."""
    return [layer_tar({f"file{i}": os.urandom(size)}) for i in range(count)]


def image_id(cli: Path, root: Path, name: str) -> str:
    """Return the ID of a stored image."""
    return str(json.loads(dockwright(cli, root, "inspect", name).stdout)[0]["Id"])


def store_blobs(root: Path) -> set[str]:
    """Return the digests of the store's blob files."""
    return {"sha256:" + p.name for p in (root / "blobs" / "sha256").iterdir()}


def temporary_files(root: Path) -> list[str]:
    """Return the names under the store's tmp/."""
    return sorted(p.name for p in (root / "tmp").iterdir())


def test_pull_streams_layers_into_store(cli: Path, plain: Registry, tmp_path: Path) -> None:
    need_skopeo()
    image = seed(plain, tmp_path / "src", "store/pull:v1", random_layers(3, 200_000))
    root = tmp_path / "store"
    result = dockwright(cli, root, "pull", f"{plain.host}/store/pull:v1")
    assert result.stdout == (
        f"Digest: {image['digest']}\nPulled: {plain.host}/store/pull:v1\n"
    )
    assert image_id(cli, root, f"{plain.host}/store/pull:v1") == image["id"]
    # The store keeps the uncompressed layers under their diff IDs, and nothing else.
    assert store_blobs(root) == {image["id"], *image["diff_ids"]}
    assert temporary_files(root) == []
    assert dockwright(cli, root, "store", "verify").returncode == 0


def test_pull_again_skips_every_layer(cli: Path, plain: Registry, tmp_path: Path) -> None:
    need_skopeo()
    image = seed(plain, tmp_path / "src", "store/again:v1", random_layers(2, 100_000))
    root = tmp_path / "store"
    dockwright(cli, root, "pull", f"{plain.host}/store/again:v1")
    second = dockwright(cli, root, "pull", f"{plain.host}/store/again:v1")
    for layer in image["manifest"]["layers"]:
        assert f"{layer['digest'][7:19]}: Already exists" in second.stderr
    assert "Download complete" not in second.stderr


def test_pull_skips_layers_built_locally(cli: Path, plain: Registry, tmp_path: Path) -> None:
    """A layer is skipped when the store has its diff ID, whatever compression it came in."""
    need_skopeo()
    shared = layer_tar({"shared": os.urandom(50_000)})
    root = tmp_path / "store"
    seed(plain, tmp_path / "a", "store/first:v1", [shared])
    dockwright(cli, root, "pull", f"{plain.host}/store/first:v1")
    raw = gzip.decompress(shared)
    recompressed = gzip.compress(raw, compresslevel=9, mtime=12345)
    assert recompressed != shared
    image = seed(plain, tmp_path / "b", "store/second:v1",
                 [recompressed, layer_tar({"new": b"n"})])
    result = dockwright(cli, root, "pull", f"{plain.host}/store/second:v1")
    assert f"{sha256(recompressed)[7:19]}: Already exists" in result.stderr
    assert image_id(cli, root, f"{plain.host}/store/second:v1") == image["id"]


def test_pull_rejects_wrong_diff_id(cli: Path, plain: Registry, tmp_path: Path) -> None:
    need_skopeo()
    layout = Layout(tmp_path / "src")
    layer = layer_tar({"a": b"content"})
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [sha256(b"other")]}}).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": layout.blob(config, "application/vnd.oci.image.config.v1+json"),
        "layers": [layout.blob(layer, "application/vnd.oci.image.layer.v1.tar+gzip")],
    }
    layout.name(layout.blob(json.dumps(manifest).encode(),
                            "application/vnd.oci.image.manifest.v1+json"), "v1")
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                    f"oci:{tmp_path / 'src'}:v1", f"docker://{plain.host}/store/wrong:v1"],
                   check=True, capture_output=True)
    root = tmp_path / "store"
    result = dockwright(cli, root, "pull", f"{plain.host}/store/wrong:v1", check=False)
    assert result.returncode == 1
    diff_id = sha256(gzip.decompress(layer))
    assert result.stderr.splitlines()[-1] == (
        f"dockwright: {sha256(layer)}: the uncompressed layer has digest {diff_id}, the config "
        f"lists diff ID {sha256(b'other')}"
    )
    assert diff_id not in store_blobs(root)
    assert temporary_files(root) == []
    assert dockwright(cli, root, "images", "-q").stdout == ""


def test_pull_rejects_hostile_layer(cli: Path, plain: Registry, tmp_path: Path) -> None:
    need_skopeo()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("../escape")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    seed(plain, tmp_path / "src", "store/hostile:v1", [layer])
    root = tmp_path / "store"
    result = dockwright(cli, root, "pull", f"{plain.host}/store/hostile:v1", check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"dockwright: {sha256(layer)}: layer entry '../escape': absolute names and '..' are not "
        "allowed"
    )
    assert sha256(raw.getvalue()) not in store_blobs(root)
    assert temporary_files(root) == []


def test_pull_zstd_and_plain_layers(cli: Path, plain: Registry, tmp_path: Path) -> None:
    if shutil.which("zstd") is None:
        pytest.skip("zstd is not installed (Debian package zstd)")
    need_skopeo()
    raw_tars = [gzip.decompress(layer_tar({f"z{i}": os.urandom(30_000)})) for i in range(2)]
    zstd = subprocess.run(["zstd", "-q", "-c"], input=raw_tars[0], capture_output=True,
                          check=True).stdout
    layout = Layout(tmp_path / "src")
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {
        "type": "layers", "diff_ids": [sha256(raw_tars[0]), sha256(raw_tars[1])]}}).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": layout.blob(config, "application/vnd.oci.image.config.v1+json"),
        "layers": [layout.blob(zstd, "application/vnd.oci.image.layer.v1.tar+zstd"),
                   layout.blob(raw_tars[1], "application/vnd.oci.image.layer.v1.tar")],
    }
    layout.name(layout.blob(json.dumps(manifest).encode(),
                            "application/vnd.oci.image.manifest.v1+json"), "v1")
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                    f"oci:{tmp_path / 'src'}:v1", f"docker://{plain.host}/store/zstd:v1"],
                   check=True, capture_output=True)
    root = tmp_path / "store"
    dockwright(cli, root, "pull", f"{plain.host}/store/zstd:v1")
    assert image_id(cli, root, f"{plain.host}/store/zstd:v1") == sha256(config)
    assert store_blobs(root) == {sha256(config), sha256(raw_tars[0]), sha256(raw_tars[1])}


def test_push_from_store_then_pull_back(cli: Path, plain: Registry, tmp_path: Path) -> None:
    need_skopeo()
    image = seed(plain, tmp_path / "src", "store/origin:v1", random_layers(2, 100_000))
    first = tmp_path / "first"
    dockwright(cli, first, "pull", f"{plain.host}/store/origin:v1")
    target = f"{plain.host}/store/copy:v2"
    dockwright(cli, first, "tag", f"{plain.host}/store/origin:v1", target)
    pushed = dockwright(cli, first, "push", target)
    saved = tmp_path / "saved"
    dockwright(cli, first, "save", "--format", "oci", "-o", f"{saved}/", target)
    saved_digest = json.loads((saved / "index.json").read_text())["manifests"][0]["digest"]
    # The manifest pushed from the store is the one save writes for the same image.
    assert pushed.stdout == f"v2: digest: {saved_digest}\n"
    assert temporary_files(first) == []

    second = tmp_path / "second"
    pulled = dockwright(cli, second, "pull", target)
    assert pulled.stdout.splitlines()[0] == f"Digest: {saved_digest}"
    assert image_id(cli, second, target) == image["id"]
    assert store_blobs(second) == store_blobs(first)


def test_dropped_layer_resumes_with_range(cli: Path, plain: Registry, tmp_path: Path) -> None:
    need_skopeo()
    image = seed(plain, tmp_path / "src", "store/resume:v1", random_layers(2, 1_000_000))
    layer = image["manifest"]["layers"][1]

    def cut_once(path: str, body: bytes, count: int) -> bytes | None:
        return None if path.endswith(layer["digest"]) and count == 0 else body

    proxy = Proxy(plain.host, cut_once)
    root = tmp_path / "store"
    try:
        result = dockwright(cli, root, "pull", f"{proxy.host}/store/resume:v1")
    finally:
        proxy.stop()
    half = layer["size"] // 2
    assert f"{layer['digest'][7:19]}: Retrying (attempt 2): " in result.stderr
    assert f"; resuming at byte {half}\n" in result.stderr
    ranges = [r for m, p, r in proxy.requests if m == "GET" and p.endswith(layer["digest"])]
    assert ranges == [None, f"bytes={half}-"]
    assert image_id(cli, root, f"{proxy.host}/store/resume:v1") == image["id"]
    assert dockwright(cli, root, "store", "verify").returncode == 0


def test_ignored_range_starts_over(cli: Path, plain: Registry, tmp_path: Path) -> None:
    """A registry that returns the whole blob (HTTP 200) for a range request is handled."""
    need_skopeo()
    image = seed(plain, tmp_path / "src", "store/no-range:v1", random_layers(1, 600_000))
    layer = image["manifest"]["layers"][0]

    def cut_once(path: str, body: bytes, count: int) -> bytes | None:
        return None if path.endswith(layer["digest"]) and count == 0 else body

    proxy = Proxy(plain.host, cut_once, ranges=False)
    root = tmp_path / "store"
    try:
        result = dockwright(cli, root, "pull", f"{proxy.host}/store/no-range:v1")
    finally:
        proxy.stop()
    assert f"; resuming at byte {layer['size'] // 2}\n" in result.stderr
    gets = [r for m, p, r in proxy.requests if m == "GET" and p.endswith(layer["digest"])]
    assert len(gets) == 2
    assert image_id(cli, root, f"{proxy.host}/store/no-range:v1") == image["id"]
    assert temporary_files(root) == []
    assert dockwright(cli, root, "store", "verify").returncode == 0


def test_resumed_layer_is_verified_whole(cli: Path, plain: Registry, tmp_path: Path) -> None:
    """Damage in the part received before the cut is caught by the whole blob's digest."""
    need_skopeo()
    image = seed(plain, tmp_path / "src", "store/resume-bad:v1", random_layers(1, 400_000))
    layer = image["manifest"]["layers"][0]["digest"]

    def damage_then_cut(path: str, body: bytes, count: int) -> bytes | Proxy.Cut:
        if not path.endswith(layer) or count > 0:
            return body
        at = len(body) // 4
        return Proxy.Cut(body[:at] + bytes([body[at] ^ 0xFF]) + body[at + 1:])

    proxy = Proxy(plain.host, damage_then_cut)
    root = tmp_path / "store"
    try:
        result = dockwright(cli, root, "pull", f"{proxy.host}/store/resume-bad:v1", check=False)
    finally:
        proxy.stop()
    assert result.returncode == 1
    assert "resuming at byte" in result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        f"dockwright: {layer}: digest mismatch: received content with digest ")
    assert image["diff_ids"][0] not in store_blobs(root)
    assert temporary_files(root) == []
    assert dockwright(cli, root, "images", "-q").stdout == ""


def test_killed_pull_leaves_nothing_visible(cli: Path, plain: Registry, tmp_path: Path) -> None:
    need_skopeo()
    image = seed(plain, tmp_path / "src", "store/killed:v1", random_layers(2, 2_000_000))
    stalled = image["manifest"]["layers"][1]["digest"]

    def stall(path: str, body: bytes, count: int) -> bytes | None:
        return Proxy.STALL if path.endswith(stalled) else body

    proxy = Proxy(plain.host, stall)
    root = tmp_path / "store"
    env = {**os.environ, "DOCKWRIGHT_ROOT": str(root), "DOCKER_CONFIG": str(root / "docker")}
    process = subprocess.Popen([str(cli), "pull", "-q", f"{proxy.host}/store/killed:v1"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        # Wait until the stalled layer has written part of its temporary file.
        while not any((root / "tmp" / name).stat().st_size > 0
                      for name in (temporary_files(root) if (root / "tmp").exists() else [])):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the pull wrote no temporary file"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        proxy.stop()
    assert dockwright(cli, root, "images", "-q").stdout == ""
    assert dockwright(cli, root, "store", "verify").returncode == 0
    assert not set(image["diff_ids"][1:]) & store_blobs(root)
    pruned = dockwright(cli, root, "prune")
    assert "temporary" in pruned.stdout
    assert temporary_files(root) == []
    dockwright(cli, root, "pull", f"{plain.host}/store/killed:v1")
    assert image_id(cli, root, f"{plain.host}/store/killed:v1") == image["id"]


def need_skopeo() -> None:
    """Skip the test when skopeo is missing; it puts the images into the registry."""
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed (Debian package skopeo)")


def test_pull_image_podman_pushed(cli: Path, plain: Registry, tmp_path: Path) -> None:
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (Debian package podman)")
    layout = Layout(tmp_path / "src")
    layout.name(layout.image(random_layers(2, 100_000)), "v1")
    # A private podman storage keeps the test away from the machine's images. podman rejects
    # a run root path longer than 50 characters, so it lives in a short folder of its own.
    run_root = Path(tempfile.mkdtemp(prefix="dw-podman-"))
    podman = ["podman", "--root", str(tmp_path / "podman-root"), "--runroot", str(run_root),
              "--storage-driver", "vfs"]

    def run_podman(*args: str) -> str:
        result = subprocess.run([*podman, *args], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        return result.stdout

    target = f"{plain.host}/podman/app:v1"
    digest_file = tmp_path / "digest"
    try:
        run_podman("pull", "-q", f"oci:{tmp_path / 'src'}:v1")
        podman_id = run_podman("images", "-q", "--no-trunc").split()[0]
        run_podman("push", "--tls-verify=false", "--digestfile", str(digest_file), podman_id,
                   f"docker://{target}")
    finally:
        shutil.rmtree(run_root, ignore_errors=True)
    pushed_digest = digest_file.read_text().strip()

    root = tmp_path / "store"
    result = dockwright(cli, root, "pull", target)
    assert result.stdout == f"Digest: {pushed_digest}\nPulled: {target}\n"
    stored_id = image_id(cli, root, target)
    assert stored_id == (podman_id if podman_id.startswith("sha256:") else "sha256:" + podman_id)
    assert dockwright(cli, root, "store", "verify").returncode == 0


def test_build_pushes_its_outputs(cli: Path, plain: Registry, tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "hello").write_text("hello from the registry test\n")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY hello /hello\n")
    root = tmp_path / "store"
    tagged = f"{plain.host}/built/tagged:v1"
    registry_output = f"{plain.host}/built/output:v2"
    image_output = f"{plain.host}/built/image:v3"
    local_only = "local/only:v4"
    result = dockwright(
        cli, root, "build", "--progress", "plain", "-t", tagged, "--push",
        "-o", f"type=registry,name={registry_output}",
        "-o", f'type=image,"name={image_output},{local_only}",push=false',
        "-o", f"type=image,name={image_output},push=true", str(context))
    built = image_id(cli, root, tagged)
    lines = result.stdout.splitlines()
    pushed = [line for line in lines if line.endswith(" pushed")]
    assert [line.split(": digest: ")[0] for line in pushed] == [
        tagged, registry_output, image_output]
    assert image_id(cli, root, local_only) == built
    assert image_id(cli, root, image_output) == built

    for name in (tagged, registry_output, image_output):
        other = tmp_path / ("pulled-" + name.rsplit(":", 1)[1])
        dockwright(cli, other, "pull", name)
        assert image_id(cli, other, name) == built


def test_build_rejects_registry_output_without_name(cli: Path, tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\n")
    result = dockwright(cli, tmp_path / "store", "build", "-o", "type=registry", str(context),
                        check=False)
    assert result.returncode == 1
    assert result.stderr == (
        "dockwright: invalid output 'type=registry': type=registry needs name=REF\n")
