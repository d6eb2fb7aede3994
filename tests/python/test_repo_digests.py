"""Repository digests (RepoDigests) recorded by pulls and pushes, against docker-registry.

Each expected digest is the SHA-256 of the manifest or index bytes the loopback registry
serves for the reference, fetched here with urllib, independently of dockwright.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from registry_support import Layout, Registry, layer_tar, sha256

pytestmark = pytest.mark.skipif(
    shutil.which("docker-registry") is None or shutil.which("skopeo") is None,
    reason="docker-registry or skopeo is not installed (Debian packages docker-registry, skopeo)",
)

ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])


def dockwright(cli: Path, root: Path, *args: str, check: bool = True,
               cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the dockwright program on the store at `root` and return its result."""
    env = {**os.environ, "DOCKWRIGHT_ROOT": str(root), "DOCKER_CONFIG": str(root / "docker")}
    result = subprocess.run([str(cli), *args], capture_output=True, text=True, env=env,
                            timeout=300, cwd=cwd)
    if check and result.returncode != 0:
        raise AssertionError(f"dockwright {' '.join(args)} failed:\n{result.stderr}")
    return result


def inspect(cli: Path, root: Path, name: str) -> dict[str, Any]:
    """Return the inspect document of one stored image."""
    documents = json.loads(dockwright(cli, root, "inspect", name).stdout)
    assert len(documents) == 1
    return dict(documents[0])


def served_digest(registry: Registry, repository: str, ref: str) -> str:
    """Return the digest of the manifest or index bytes the registry serves for `ref`."""
    request = urllib.request.Request(
        f"http://{registry.host}/v2/{repository}/manifests/{ref}", headers={"Accept": ACCEPT}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return sha256(response.read())


def copy_to_registry(layout: Path, name: str, target: str, *extra: str) -> None:
    """Copy the image `name` of an OCI layout to the registry reference `target`."""
    subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false", *extra,
                    f"oci:{layout}:{name}", f"docker://{target}"], check=True,
                   capture_output=True)


def seed_image(registry: Registry, work: Path, repository: str, content: bytes) -> str:
    """Push a one-layer image to `repository:v1`; return its image ID."""
    layout = Layout(work)
    descriptor = layout.image([layer_tar({"file": content})])
    layout.name(descriptor, "v1")
    copy_to_registry(work, "v1", f"{registry.host}/{repository}:v1")
    manifest = json.loads((work / "blobs" / "sha256" / descriptor["digest"][7:]).read_bytes())
    return str(manifest["config"]["digest"])


def image_rows(cli: Path, root: Path, *args: str) -> list[list[str]]:
    """Return the REPOSITORY, TAG and (with --digests) DIGEST cells of `images` rows."""
    lines = dockwright(cli, root, "images", *args).stdout.splitlines()
    width = 3 if "--digests" in args else 2
    return [line.split()[:width] for line in lines]


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A plain-HTTP registry of this module's own, so the tests' repositories do not clash."""
    server = Registry(tmp_path_factory.mktemp("digests-registry"))
    yield server
    server.stop()


def test_pull_by_tag_records_digest(cli: Path, registry: Registry, tmp_path: Path) -> None:
    image_id = seed_image(registry, tmp_path / "src", "digests/tagged", b"tagged")
    expected = served_digest(registry, "digests/tagged", "v1")
    root = tmp_path / "store"
    name = f"{registry.host}/digests/tagged"
    result = dockwright(cli, root, "pull", f"{name}:v1")
    assert result.stdout == f"Digest: {expected}\nPulled: {name}:v1\n"
    document = inspect(cli, root, f"{name}:v1")
    assert document["Id"] == image_id
    assert document["RepoTags"] == [f"{name}:v1"]
    assert document["RepoDigests"] == [f"{name}@{expected}"]
    assert inspect(cli, root, f"{name}@{expected}")["Id"] == image_id
    assert image_rows(cli, root, "--digests") == [
        ["REPOSITORY", "TAG", "DIGEST"], [name, "v1", expected]
    ]
    assert image_rows(cli, root) == [["REPOSITORY", "TAG"], [name, "v1"]]
    header = dockwright(cli, root, "images", "--digests").stdout.splitlines()[0]
    assert header.split() == ["REPOSITORY", "TAG", "DIGEST", "IMAGE", "ID", "CREATED", "SIZE"]
    assert dockwright(cli, root, "store", "verify").returncode == 0


def test_pull_index_records_index_digest(cli: Path, registry: Registry,
                                         tmp_path: Path) -> None:
    layout = Layout(tmp_path / "src")
    amd64 = layout.image([layer_tar({"arch": b"amd64"})], "amd64")
    arm64 = layout.image([layer_tar({"arch": b"arm64"})], "arm64")
    index = layout.index([(amd64, "amd64"), (arm64, "arm64")])
    layout.name(index, "multi")
    name = f"{registry.host}/digests/multi"
    copy_to_registry(tmp_path / "src", "multi", f"{name}:v1", "--all")
    expected = served_digest(registry, "digests/multi", "v1")
    assert expected == index["digest"]

    root = tmp_path / "store"
    result = dockwright(cli, root, "pull", f"{name}:v1", "--platform", "linux/arm64")
    # As docker pull, the index digest, not the arm64 manifest's.
    assert result.stdout.splitlines()[0] == f"Digest: {expected}"
    arm64_document = inspect(cli, root, f"{name}:v1")
    assert arm64_document["Architecture"] == "arm64"
    assert arm64_document["RepoDigests"] == [f"{name}@{expected}"]

    # The same index pulled for another platform: the tag moves, the digest stays with the
    # first image, as Docker's pull keeps an existing digest reference on a pull by tag.
    dockwright(cli, root, "pull", f"{name}:v1", "--platform", "linux/amd64")
    amd64_document = inspect(cli, root, f"{name}:v1")
    assert amd64_document["Architecture"] == "amd64"
    assert amd64_document["RepoDigests"] == []
    assert inspect(cli, root, f"{name}@{expected}")["Id"] == arm64_document["Id"]


def test_pull_by_index_digest_moves_it(cli: Path, registry: Registry, tmp_path: Path) -> None:
    layout = Layout(tmp_path / "src")
    amd64 = layout.image([layer_tar({"arch": b"amd64-2"})], "amd64")
    arm64 = layout.image([layer_tar({"arch": b"arm64-2"})], "arm64")
    layout.name(layout.index([(amd64, "amd64"), (arm64, "arm64")]), "multi")
    name = f"{registry.host}/digests/pinned-multi"
    copy_to_registry(tmp_path / "src", "multi", f"{name}:v1", "--all")
    expected = served_digest(registry, "digests/pinned-multi", "v1")

    root = tmp_path / "store"
    dockwright(cli, root, "pull", f"{name}@{expected}", "--platform", "linux/arm64")
    assert inspect(cli, root, f"{name}@{expected}")["Architecture"] == "arm64"
    # A pull by digest points the digest at the image it pulled, as docker pull NAME@DIGEST.
    dockwright(cli, root, "pull", f"{name}@{expected}", "--platform", "linux/amd64")
    document = inspect(cli, root, f"{name}@{expected}")
    assert document["Architecture"] == "amd64"
    assert document["RepoTags"] == []
    assert document["RepoDigests"] == [f"{name}@{expected}"]


def test_pull_by_digest_records_no_tag(cli: Path, registry: Registry, tmp_path: Path) -> None:
    image_id = seed_image(registry, tmp_path / "src", "digests/pinned", b"pinned")
    expected = served_digest(registry, "digests/pinned", "v1")
    root = tmp_path / "store"
    name = f"{registry.host}/digests/pinned"
    result = dockwright(cli, root, "pull", f"{name}@{expected}")
    assert result.stdout == f"Digest: {expected}\nPulled: {name}@{expected}\n"
    document = inspect(cli, root, f"{name}@{expected}")
    assert document["Id"] == image_id
    assert document["RepoTags"] == []
    assert document["RepoDigests"] == [f"{name}@{expected}"]
    assert image_rows(cli, root) == [["REPOSITORY", "TAG"], [name, "<none>"]]
    assert image_rows(cli, root, "--digests", f"{name}@{expected}") == [
        ["REPOSITORY", "TAG", "DIGEST"], [name, "<none>", expected]
    ]
    assert image_rows(cli, root, f"{name}@sha256:{'0' * 64}") == [["REPOSITORY", "TAG"]]
    # An image known only by digest is referenced, not dangling, so prune keeps it.
    pruned = dockwright(cli, root, "prune")
    assert "Deleted Images:" not in pruned.stdout
    assert inspect(cli, root, f"{name}@{expected}")["Id"] == image_id

    dockwright(cli, root, "tag", f"{name}@{expected}", "local/pinned:1")
    assert inspect(cli, root, "local/pinned:1")["Id"] == image_id
    # The image keeps its tag when its digest goes.
    removed = dockwright(cli, root, "rmi", f"{name}@{expected}")
    assert removed.stdout == f"Untagged: {name}@{expected}\n"
    assert inspect(cli, root, "local/pinned:1")["RepoDigests"] == []


def test_rmi_last_tag_removes_digest(cli: Path, registry: Registry, tmp_path: Path) -> None:
    image_id = seed_image(registry, tmp_path / "src", "digests/removed", b"removed")
    expected = served_digest(registry, "digests/removed", "v1")
    root = tmp_path / "store"
    name = f"{registry.host}/digests/removed"
    dockwright(cli, root, "pull", f"{name}:v1")
    # As moby's ImageDelete: removing a repository's last tag also untags that
    # repository's digests, then the image goes because no reference is left.
    removed = dockwright(cli, root, "rmi", f"{name}:v1")
    assert removed.stdout == (
        f"Untagged: {name}:v1\nUntagged: {name}@{expected}\nDeleted: {image_id}\n"
    )
    assert image_rows(cli, root) == [["REPOSITORY", "TAG"]]


def test_push_records_digest(cli: Path, registry: Registry, tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs.tar"
    with tarfile.open(rootfs, "w") as tar:
        (tmp_path / "hello").write_text("hello\n")
        tar.add(tmp_path / "hello", arcname="hello")
    root = tmp_path / "store"
    dockwright(cli, root, "import", str(rootfs), "local/pushed:1")
    # docker import records no digest.
    assert inspect(cli, root, "local/pushed:1")["RepoDigests"] == []

    name = f"{registry.host}/digests/pushed"
    dockwright(cli, root, "tag", "local/pushed:1", f"{name}:v1")
    pushed = dockwright(cli, root, "push", f"{name}:v1")
    expected = served_digest(registry, "digests/pushed", "v1")
    assert pushed.stdout == f"v1: digest: {expected}\n"
    document = inspect(cli, root, "local/pushed:1")
    assert document["RepoDigests"] == [f"{name}@{expected}"]
    assert sorted(document["RepoTags"]) == sorted(["local/pushed:1", f"{name}:v1"])

    # The image keeps a tag of another repository, so only the pushed repository's
    # references go.
    removed = dockwright(cli, root, "rmi", f"{name}:v1")
    assert removed.stdout == f"Untagged: {name}:v1\nUntagged: {name}@{expected}\n"
    assert inspect(cli, root, "local/pushed:1")["RepoDigests"] == []


def test_build_push_records_digest(cli: Path, registry: Registry, tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "hello").write_text("hello from a pushed build\n")
    (context / "Dockerfile").write_text("FROM scratch\nCOPY hello /hello\n")
    root = tmp_path / "store"
    name = f"{registry.host}/digests/built"
    dockwright(cli, root, "build", "-q", "-t", "local/built:1", "-o",
               f"type=registry,name={name}:v1", str(context))
    expected = served_digest(registry, "digests/built", "v1")
    assert inspect(cli, root, "local/built:1")["RepoDigests"] == [f"{name}@{expected}"]


def test_load_records_no_digest(cli: Path, registry: Registry, tmp_path: Path) -> None:
    image_id = seed_image(registry, tmp_path / "src", "digests/saved", b"saved")
    first = tmp_path / "first"
    name = f"{registry.host}/digests/saved"
    dockwright(cli, first, "pull", f"{name}:v1")
    archive = tmp_path / "saved.tar"
    dockwright(cli, first, "save", "-o", str(archive), f"{name}:v1")
    second = tmp_path / "second"
    dockwright(cli, second, "load", "-i", str(archive))
    document = inspect(cli, second, f"{name}:v1")
    assert document["Id"] == image_id
    assert document["RepoDigests"] == []


def test_from_digest_uses_local_image(cli: Path, tmp_path: Path) -> None:
    # A registry of its own, stopped before the build, so a pull would fail.
    server = Registry(tmp_path / "registry")
    try:
        image_id = seed_image(server, tmp_path / "src", "digests/base", b"base")
        expected = served_digest(server, "digests/base", "v1")
        base = f"{server.host}/digests/base"
        root = tmp_path / "store"
        dockwright(cli, root, "pull", f"{base}:v1")
    finally:
        server.stop()
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {base}@{expected}\nLABEL pinned=yes\n")
    dockwright(cli, root, "build", "-q", "-t", "local/child:1", str(context))
    document = inspect(cli, root, "local/child:1")
    assert document["Parent"] == image_id
    # A build records no repository digest.
    assert document["RepoDigests"] == []


def test_store_api_lists_repo_digests(cli: Path, registry: Registry, tmp_path: Path) -> None:
    dockwright_module = pytest.importorskip("dockwright")
    seed_image(registry, tmp_path / "src", "digests/api", b"api")
    expected = served_digest(registry, "digests/api", "v1")
    root = tmp_path / "store"
    name = f"{registry.host}/digests/api"
    dockwright(cli, root, "pull", f"{name}:v1")
    record = dockwright_module.Store(root).get(f"{name}@{expected}")
    assert record.references == [f"{name}:v1"]
    assert record.repo_digests == [f"{name}@{expected}"]
