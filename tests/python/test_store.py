"""Tests of dockwright.Store and the image commands of the CLI."""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from store_support import (
    BUSYBOX_DIFF_ID,
    BUSYBOX_ID,
    busybox_archive,
    gunzip,
    rootfs_tar,
    run_cli,
)

import dockwright
from dockwright.errors import ImageNotFoundError, InvalidValueError, StoreError


@pytest.fixture
def store(tmp_path: Path) -> dockwright.Store:
    """An empty store in a temporary folder."""
    return dockwright.Store(tmp_path / "store")


@pytest.fixture
def busybox(store: dockwright.Store, shared_dir: Path) -> dockwright.ImageRecord:
    """The store with Docker's busybox:local loaded."""
    (loaded,) = store.load(busybox_archive(shared_dir))
    return loaded


def test_load_keeps_busybox_id(busybox: dockwright.ImageRecord) -> None:
    assert busybox.id == BUSYBOX_ID
    assert busybox.references == ["busybox:local"]
    assert busybox.diff_ids == [BUSYBOX_DIFF_ID]
    assert busybox.short_id == "36c3df1f99a1"
    assert hashlib.sha256(busybox.config_bytes()).hexdigest() == BUSYBOX_ID[7:]
    config = busybox.config().config
    assert config is not None
    assert config.cmd == ["sh"]


def test_layer_files_listed_on_demand(busybox: dockwright.ImageRecord) -> None:
    (layer,) = busybox.layers()
    assert layer.diff_id == BUSYBOX_DIFF_ID
    assert layer.size == 1996800
    files = {entry.path: entry for entry in layer.files()}
    assert files["bin"].type == "dir"
    assert any(entry.type == "file" and entry.size > 0 for entry in files.values())


def test_save_docker_matches_docker_bytes(
    store: dockwright.Store, busybox: dockwright.ImageRecord, shared_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.tar"
    store.save("busybox:local", out)
    assert out.read_bytes() == gunzip(busybox_archive(shared_dir))


def test_save_oci_layout_validates(
    store: dockwright.Store,
    busybox: dockwright.ImageRecord,
    tmp_path: Path,
    oci_validate: Callable[[str, Any], None],
) -> None:
    layout = tmp_path / "layout"
    layout.mkdir()
    store.save(["busybox:local"], layout, format="oci")
    oci_validate(
        "application/vnd.oci.layout.header.v1+json",
        json.loads((layout / "oci-layout").read_text()),
    )
    index = json.loads((layout / "index.json").read_text())
    oci_validate("application/vnd.oci.image.index.v1+json", index)
    (descriptor,) = index["manifests"]
    assert descriptor["annotations"]["org.opencontainers.image.ref.name"] == "local"
    assert (
        descriptor["annotations"]["io.containerd.image.name"] == "docker.io/library/busybox:local"
    )
    blob = layout / "blobs" / "sha256" / descriptor["digest"][7:]
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == descriptor["digest"][7:]
    manifest = json.loads(blob.read_text())
    oci_validate("application/vnd.oci.image.manifest.v1+json", manifest)
    assert manifest["layers"][0]["digest"] == BUSYBOX_DIFF_ID
    # Docker's config has nulls the OCI config schema rejects, so it is re-encoded.
    config_digest = manifest["config"]["digest"]
    assert config_digest != BUSYBOX_ID
    config = (layout / "blobs" / "sha256" / config_digest[7:]).read_bytes()
    assert hashlib.sha256(config).hexdigest() == config_digest[7:]
    oci_validate("application/vnd.oci.image.config.v1+json", json.loads(config))
    assert json.loads(config)["rootfs"]["diff_ids"] == [BUSYBOX_DIFF_ID]
    assert "container_config" not in json.loads(config)
    assert not (layout / "blobs" / "sha256" / BUSYBOX_ID[7:]).exists()


def test_oci_tar_round_trip(
    store: dockwright.Store, busybox: dockwright.ImageRecord, tmp_path: Path
) -> None:
    out = tmp_path / "oci.tar"
    store.save("busybox:local", out, format="oci")
    with tarfile.open(out) as tar:
        assert {"oci-layout", "index.json"} <= set(tar.getnames())
    with tarfile.open(out) as tar:
        index = json.loads(tar.extractfile("index.json").read())  # type: ignore[union-attr]
        manifest_name = "blobs/sha256/" + index["manifests"][0]["digest"][7:]
        manifest = json.loads(tar.extractfile(manifest_name).read())  # type: ignore[union-attr]
    other = dockwright.Store(tmp_path / "other")
    (loaded,) = other.load(out)
    # Docker's config has nulls the OCI schema rejects, so the OCI save re-encodes it.
    assert loaded.id == manifest["config"]["digest"]
    assert loaded.id != BUSYBOX_ID
    assert loaded.diff_ids == [BUSYBOX_DIFF_ID]
    assert loaded.references == ["busybox:local"]
    assert other.verify() == []
    # A config that is already valid OCI keeps its bytes, so a second round trip is stable.
    again = tmp_path / "again.tar"
    other.save("busybox:local", again, format="oci")
    third = dockwright.Store(tmp_path / "third")
    (reloaded,) = third.load(again)
    assert reloaded.id == loaded.id


def test_import_rootfs_like_docker_import(store: dockwright.Store, tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs.tar"
    data = rootfs_tar({"etc/hello": b"hi\n"})
    rootfs.write_bytes(data)
    image = store.import_rootfs(rootfs, "hello:1", changes=['CMD ["sh"]', "ENV A=1"])
    assert image.references == ["hello:1"]
    assert image.diff_ids == ["sha256:" + hashlib.sha256(data).hexdigest()]
    config = json.loads(image.config_bytes())
    assert config["comment"] == "Imported from -"
    assert config["docker_version"] == "dockwright " + dockwright.__version__
    assert config["history"] == [{"created": config["created"], "comment": "Imported from -"}]
    assert config["config"]["Cmd"] == ["sh"]
    assert config["config"]["Env"] == ["A=1"]
    assert config["container_config"]["Cmd"] is None
    assert config["os"] == "linux"


def test_import_rejects_other_instructions(store: dockwright.Store, tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(rootfs_tar({"a": b"a"}))
    with pytest.raises(StoreError, match="not a valid change command"):
        store.import_rootfs(rootfs, changes=["RUN true"])


def test_tag_remove_and_lookup(store: dockwright.Store, tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(rootfs_tar({"a": b"a"}))
    image = store.import_rootfs(rootfs, "app:1")
    assert store.tag("app:1", "app:2") is None
    assert store.get("app:2").id == image.id
    assert store.get(image.short_id).id == image.id
    with pytest.raises(StoreError, match="must be forced"):
        store.remove(image.id)
    assert store.remove("app:1") == ["Untagged: app:1"]
    assert store.remove("app:2") == ["Untagged: app:2", f"Deleted: {image.id}"]
    with pytest.raises(ImageNotFoundError, match="no such image: app:2"):
        store.get("app:2")
    with pytest.raises(InvalidValueError, match="repository name must be lowercase"):
        store.tag(image.id, "App")


def test_prune_and_verify(store: dockwright.Store, tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(rootfs_tar({"a": b"a"}))
    dangling = store.import_rootfs(rootfs)
    report = store.prune()
    assert report["images"] == [dangling.id]
    assert report["blobs"] == 2
    assert store.images() == []
    assert store.verify() == []


def test_verify_reports_corruption(store: dockwright.Store, tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(rootfs_tar({"a": b"a"}))
    image = store.import_rootfs(rootfs, "app:1")
    config = Path(store.root) / "blobs" / "sha256" / image.id[7:]
    config.write_bytes(config.read_bytes() + b" ")
    problems = store.verify()
    assert [problem.subject for problem in problems] == [image.id, f"image {image.id}"]
    assert problems[1].problem == "config blob is missing or corrupt"
    result = run_cli(Path(store.root), "store", "verify", check=False)
    assert result.returncode == 1
    assert f"image {image.id}: config blob is missing or corrupt" in result.stdout
    assert "2 problems found" in result.stderr


def test_unpack_builds_the_root_filesystem(store: dockwright.Store, tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(rootfs_tar({"etc/hello": b"hi\n"}))
    store.import_rootfs(rootfs, "app:1")
    (before,) = json.loads(run_cli(Path(store.root), "inspect", "app:1").stdout)
    assert before["GraphDriver"] == {"Data": None, "Name": "dockwright"}
    snapshot = store.unpack("app:1")
    assert (Path(snapshot) / "etc" / "hello").read_bytes() == b"hi\n"
    assert store.verify() == []
    (after,) = json.loads(run_cli(Path(store.root), "inspect", "app:1").stdout)
    assert after["GraphDriver"] == {"Data": {"MergedDir": snapshot}, "Name": "dockwright"}


def test_cli_images_history_inspect(
    busybox: dockwright.ImageRecord, store: dockwright.Store
) -> None:
    root = Path(store.root)
    lines = run_cli(root, "images").stdout.splitlines()
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert lines[1].startswith("busybox      local     36c3df1f99a1   ")
    assert lines[1].endswith("   2MB")
    history = run_cli(root, "history", "busybox:local").stdout.splitlines()
    # The CREATED column is as wide as its text ("9 hours ago", "10 hours ago"), which
    # changes with the clock, plus the three spaces of padding.
    created = history[1][len("36c3df1f99a1   ") :].split("   ")[0]
    assert created.endswith(" ago")
    created_column = "CREATED".ljust(max(len("CREATED"), len(created)) + 3)
    assert history[0] == "IMAGE          " + created_column + "CREATED BY   SIZE      COMMENT"
    assert history[1].startswith("36c3df1f99a1   ")
    assert history[1].endswith("2MB       Imported from -")
    (document,) = json.loads(run_cli(root, "inspect", "busybox:local").stdout)
    assert document["Id"] == BUSYBOX_ID
    assert document["RepoTags"] == ["busybox:local"]
    assert document["RootFS"] == {"Type": "layers", "Layers": [BUSYBOX_DIFF_ID]}
    assert document["Size"] == 1996800
    assert list(document)[:6] == ["Id", "RepoTags", "RepoDigests", "Parent", "Comment", "Created"]
    missing = run_cli(root, "inspect", "nothing:here", check=False)
    assert missing.returncode == 1
    assert "Error: No such image: nothing:here" in missing.stderr


def test_cli_load_reports_moved_tag(
    store: dockwright.Store, shared_dir: Path, tmp_path: Path
) -> None:
    root = Path(store.root)
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(rootfs_tar({"a": b"a"}))
    old_id = run_cli(root, "import", str(rootfs), "busybox:local").stdout.strip()
    result = run_cli(root, "load", "-i", str(busybox_archive(shared_dir)))
    assert result.stdout == (
        f"The image busybox:local already exists, renaming the old one with ID {old_id} "
        "to empty string\nLoaded image: busybox:local\n"
    )
    assert store.get(old_id).references == []


def test_every_docker_base_loads_unchanged(shared_dir: Path, tmp_path: Path) -> None:
    bases = shared_dir / "oracle" / "bases"
    known = json.loads((bases / "known-bases.json").read_text())
    store = dockwright.Store(tmp_path / "store")
    for name, expected in known.items():
        archive = bases / (name.replace(":", "-") + ".tar.gz")
        (loaded,) = store.load(archive)
        assert loaded.id == expected["id"], name
        assert loaded.diff_ids == expected["diff_ids"], name
        assert name in loaded.references
        out = tmp_path / "resaved.tar"
        store.save(name, out)
        assert out.read_bytes() == gunzip(archive), name
    assert store.verify() == []


def test_save_links_shared_layers(
    store: dockwright.Store, busybox: dockwright.ImageRecord, tmp_path: Path
) -> None:
    layer = tmp_path / "layer.tar"
    layer.write_bytes(Path(store.root, "blobs", "sha256", BUSYBOX_DIFF_ID[7:]).read_bytes())
    twin = store.import_rootfs(layer, "twin:1", changes=['CMD ["true"]'])
    assert twin.diff_ids == busybox.diff_ids
    out = tmp_path / "both.tar"
    store.save(["busybox:local", "twin:1"], out)
    with tarfile.open(out) as tar:
        links = [m for m in tar.getmembers() if m.issym()]
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert [item["RepoTags"] for item in manifest] == [["busybox:local"], ["twin:1"]]
    (link,) = links
    assert link.name == manifest[1]["Layers"][0]
    assert link.linkname == "../" + manifest[0]["Layers"][0]
    other = dockwright.Store(tmp_path / "other")
    loaded = other.load(out)
    assert [image.id for image in loaded] == [BUSYBOX_ID, twin.id]
    assert other.verify() == []


def test_load_picks_amd64_from_nested_index(
    store: dockwright.Store, busybox: dockwright.ImageRecord, tmp_path: Path
) -> None:
    layout = tmp_path / "layout"
    store.save("busybox:local", str(layout) + "/", format="oci")
    index_path = layout / "index.json"
    index = json.loads(index_path.read_text())
    amd64 = index["manifests"][0]
    other_platform = dict(amd64, platform={"architecture": "arm64", "os": "linux"})
    nested = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [other_platform, amd64],
        }
    ).encode()
    digest = hashlib.sha256(nested).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(nested)
    index["manifests"] = [
        {
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": "sha256:" + digest,
            "size": len(nested),
            "annotations": amd64["annotations"],
        }
    ]
    index_path.write_text(json.dumps(index))
    (loaded,) = dockwright.Store(tmp_path / "other").load(layout)
    manifest = json.loads((layout / "blobs" / "sha256" / amd64["digest"][7:]).read_text())
    assert loaded.id == manifest["config"]["digest"]
    assert loaded.diff_ids == [BUSYBOX_DIFF_ID]
    assert loaded.references == ["busybox:local"]


def test_concurrent_unpack_shares_snapshot(store: dockwright.Store, tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(rootfs_tar({f"f{i}": bytes(65536) for i in range(64)}))
    store.import_rootfs(rootfs, "app:1")
    stores = [dockwright.Store(store.root) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        paths = list(pool.map(lambda other: other.unpack("app:1"), stores))
    assert len(set(paths)) == 1
    assert (Path(paths[0]) / "f63").stat().st_size == 65536
    assert list(Path(store.root, "tmp").iterdir()) == []
    assert store.verify() == []
