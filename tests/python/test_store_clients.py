"""Interoperability of saved and loaded archives with skopeo, umoci and podman."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from store_support import BUSYBOX_DIFF_ID, BUSYBOX_ID, busybox_archive, require_tool

import dockwright


@pytest.fixture
def store(tmp_path: Path, shared_dir: Path) -> dockwright.Store:
    """A store holding Docker's busybox:local."""
    store = dockwright.Store(tmp_path / "store")
    store.load(busybox_archive(shared_dir))
    return store


def run(*args: str) -> str:
    """Run a program and return its standard output; fail the test with its stderr."""
    result = subprocess.run(args, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(args)} failed: {result.stderr}"
    return result.stdout


def test_skopeo_inspects_docker_archive(store: dockwright.Store, tmp_path: Path) -> None:
    skopeo = require_tool("skopeo")
    out = tmp_path / "busybox.tar"
    store.save("busybox:local", out)
    info = json.loads(run(skopeo, "inspect", f"docker-archive:{out}"))
    assert info["Layers"] == [BUSYBOX_DIFF_ID]
    assert info["Architecture"] == "amd64"
    config = json.loads(run(skopeo, "inspect", "--config", f"docker-archive:{out}"))
    assert config["rootfs"]["diff_ids"] == [BUSYBOX_DIFF_ID]


def test_skopeo_inspects_oci_layouts(store: dockwright.Store, tmp_path: Path) -> None:
    skopeo = require_tool("skopeo")
    archive = tmp_path / "oci.tar"
    store.save("busybox:local", archive, format="oci")
    layout = tmp_path / "layout/"
    store.save("busybox:local", str(layout) + "/", format="oci")
    from_tar = json.loads(run(skopeo, "inspect", f"oci-archive:{archive}:local"))
    from_dir = json.loads(run(skopeo, "inspect", f"oci:{layout}:local"))
    assert from_tar["Layers"] == [BUSYBOX_DIFF_ID]
    assert from_dir["Digest"] == from_tar["Digest"]


def config_digest(layout: Path) -> str:
    """Return the config digest of the only image of an OCI layout."""
    (descriptor,) = json.loads((layout / "index.json").read_text())["manifests"]
    manifest = layout / "blobs" / "sha256" / descriptor["digest"][7:]
    digest: str = json.loads(manifest.read_text())["config"]["digest"]
    return digest


def test_skopeo_copies_load_back(store: dockwright.Store, tmp_path: Path) -> None:
    skopeo = require_tool("skopeo")
    ours = tmp_path / "busybox.tar"
    store.save("busybox:local", ours)
    oci_copy = tmp_path / "copy-oci"
    run(skopeo, "copy", "-q", f"docker-archive:{ours}", f"oci:{oci_copy}:busybox:copied")
    docker_copy = tmp_path / "copy-docker.tar"
    layout = tmp_path / "layout"
    store.save("busybox:local", str(layout) + "/", format="oci")
    run(skopeo, "copy", "-q", f"oci:{layout}:local", f"docker-archive:{docker_copy}:busybox:again")
    gzip_copy = tmp_path / "copy-gzip"
    run(
        skopeo,
        "copy",
        "-q",
        "--dest-compress-format",
        "gzip",
        "--dest-compress",
        f"docker-archive:{ours}",
        f"oci:{gzip_copy}:gz",
    )

    other = dockwright.Store(tmp_path / "other")
    # skopeo rewrites a Docker config as an OCI config when it writes an OCI layout, so the
    # ID loaded from its layouts is the digest of the config skopeo wrote.
    (from_oci,) = other.load(oci_copy)
    assert from_oci.id == config_digest(oci_copy)
    assert from_oci.diff_ids == [BUSYBOX_DIFF_ID]
    assert from_oci.references == ["busybox:copied"]
    (from_docker,) = other.load(docker_copy)
    # Our OCI save re-encodes Docker's config as skopeo does, and skopeo keeps that config
    # when it writes a docker-archive, so both copies are one image with two tags.
    assert from_docker.id == config_digest(layout)
    assert from_docker.id == from_oci.id
    assert from_docker.diff_ids == [BUSYBOX_DIFF_ID]
    assert sorted(from_docker.references) == ["busybox:again", "busybox:copied"]
    (from_gzip,) = other.load(gzip_copy)
    assert from_gzip.id == config_digest(gzip_copy)
    assert from_gzip.diff_ids == [BUSYBOX_DIFF_ID]
    assert from_gzip.layers()[0].compressed_digest is not None
    assert other.verify() == []


def test_umoci_unpacks_our_layout(store: dockwright.Store, tmp_path: Path) -> None:
    umoci = require_tool("umoci")
    layout = tmp_path / "layout"
    store.save("busybox:local", str(layout) + "/", format="oci")
    bundle = tmp_path / "bundle"
    run(umoci, "unpack", "--rootless", "--image", f"{layout}:local", str(bundle))
    ours = Path(store.unpack("busybox:local"))
    theirs = bundle / "rootfs"
    names_ours = sorted(str(p.relative_to(ours)) for p in ours.rglob("*"))
    names_theirs = sorted(str(p.relative_to(theirs)) for p in theirs.rglob("*"))
    assert names_theirs == names_ours
    for name in names_ours:
        path = ours / name
        if path.is_file() and not path.is_symlink():
            assert (theirs / name).read_bytes() == path.read_bytes(), name


@pytest.fixture
def podman_root() -> Iterator[Path]:
    """A short temporary folder for podman's storage (its runroot must stay under 50 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="dwpm-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def podman(root: Path, *args: str) -> str:
    """Run podman with its storage in ``root`` (vfs driver, no system state touched)."""
    binary = require_tool("podman")
    return run(
        binary,
        "--root",
        str(root / "storage"),
        "--runroot",
        str(root / "run"),
        "--storage-driver",
        "vfs",
        "--cgroup-manager",
        "cgroupfs",
        "--events-backend",
        "none",
        *args,
    )


def test_podman_load_keeps_the_id(
    store: dockwright.Store, tmp_path: Path, podman_root: Path
) -> None:
    out = tmp_path / "busybox.tar"
    store.save("busybox:local", out)
    podman(podman_root, "load", "-q", "-i", str(out))
    image_id = podman(podman_root, "images", "--no-trunc", "--format", "{{.ID}}").split()
    assert image_id == [BUSYBOX_ID]


def test_podman_save_loads_into_store(
    store: dockwright.Store, tmp_path: Path, podman_root: Path
) -> None:
    out = tmp_path / "busybox.tar"
    store.save("busybox:local", out)
    podman(podman_root, "load", "-q", "-i", str(out))
    (name,) = podman(podman_root, "images", "--format", "{{.Repository}}:{{.Tag}}").split()
    saved = tmp_path / "podman-save.tar"
    podman(podman_root, "save", "-o", str(saved), name)
    other = dockwright.Store(tmp_path / "other")
    (loaded,) = other.load(saved)
    assert loaded.id == BUSYBOX_ID
    assert loaded.references == [name.removeprefix("docker.io/library/")]
    assert other.verify() == []


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_compressed_oci_layout_reads_back(
    store: dockwright.Store,
    tmp_path: Path,
    compression: str,
    oci_validate: Callable[[str, Any], None],
) -> None:
    layout = tmp_path / "layout"
    store.save("busybox:local", str(layout) + "/", format="oci", compression=compression)  # type: ignore[arg-type]
    (descriptor,) = json.loads((layout / "index.json").read_text())["manifests"]
    manifest = json.loads((layout / "blobs" / "sha256" / descriptor["digest"][7:]).read_text())
    oci_validate("application/vnd.oci.image.manifest.v1+json", manifest)
    (layer,) = manifest["layers"]
    assert layer["mediaType"] == f"application/vnd.oci.image.layer.v1.tar+{compression}"
    blob = layout / "blobs" / "sha256" / layer["digest"][7:]
    assert blob.stat().st_size == layer["size"]
    assert layer["size"] < 1996800
    skopeo = require_tool("skopeo")
    info = json.loads(run(skopeo, "inspect", f"oci:{layout}:local"))
    assert info["Layers"] == [layer["digest"]]
    other = dockwright.Store(tmp_path / "other")
    (loaded,) = other.load(layout)
    assert loaded.id == manifest["config"]["digest"]
    assert loaded.diff_ids == [BUSYBOX_DIFF_ID]
    assert loaded.layers()[0].compressed_digest == layer["digest"]
    assert loaded.layers()[0].compressed_size == layer["size"]
    assert list(Path(store.root, "tmp").iterdir()) == []


def test_oci_config_matches_skopeo_conversion(
    store: dockwright.Store, tmp_path: Path, oci_validate: Callable[[str, Any], None]
) -> None:
    skopeo = require_tool("skopeo")
    layout = tmp_path / "layout"
    store.save("busybox:local", str(layout) + "/", format="oci")
    ours = (layout / "blobs" / "sha256" / config_digest(layout)[7:]).read_bytes()
    oci_validate("application/vnd.oci.image.config.v1+json", json.loads(ours))
    archive = tmp_path / "busybox.tar"
    store.save("busybox:local", archive)
    converted = tmp_path / "skopeo-oci"
    run(skopeo, "copy", "-q", f"docker-archive:{archive}", f"oci:{converted}:busybox:copied")
    theirs = (converted / "blobs" / "sha256" / config_digest(converted)[7:]).read_bytes()
    assert json.loads(ours) == json.loads(theirs)
    assert config_digest(layout) == config_digest(converted)
