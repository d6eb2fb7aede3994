"""Hostile archives given to load: each is rejected, writes nothing outside, leaves no trace."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from store_support import rootfs_tar

import dockwright
from dockwright.errors import DockwrightError


def member(
    name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, link: str = ""
) -> tarfile.TarInfo:
    """Return a tar header for a member; data follows when it is a regular file."""
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = link
    info.mode = 0o644
    info.mtime = 1700000000
    return info


def make_tar(entries: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    """Return a PAX tar of the given headers and data, with no checks on the names."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return out.getvalue()


def config_for(layers: list[bytes]) -> bytes:
    """Return an image config whose diff IDs are those of ``layers``."""
    diff_ids = ["sha256:" + hashlib.sha256(layer).hexdigest() for layer in layers]
    document = {
        "architecture": "amd64",
        "config": {"Cmd": ["sh"]},
        "created": "2024-01-01T00:00:00Z",
        "history": [{"created": "2024-01-01T00:00:00Z"}],
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    return json.dumps(document, separators=(",", ":")).encode()


def docker_archive(
    layers: list[bytes],
    config: bytes | None = None,
    manifest: bytes | None = None,
    extra: list[tuple[tarfile.TarInfo, bytes]] | None = None,
    layer_members: list[tuple[tarfile.TarInfo, bytes]] | None = None,
) -> bytes:
    """Return a docker-archive holding ``layers``, with parts replaced as given."""
    config = config_for(layers) if config is None else config
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    names = [f"layer{i}/layer.tar" for i in range(len(layers))]
    if manifest is None:
        manifest = json.dumps(
            [{"Config": config_name, "RepoTags": ["hostile:1"], "Layers": names}]
        ).encode()
    entries = [(member(config_name, config), config)]
    if layer_members is None:
        entries += [(member(name, layer), layer) for name, layer in zip(names, layers, strict=True)]
    else:
        entries += layer_members
    entries += extra or []
    entries.append((member("manifest.json", manifest), manifest))
    return make_tar(entries)


def oci_layout(layer: bytes, corrupt_manifest: bool = False, wrong_size: bool = False) -> bytes:
    """Return an OCI layout tar with one layer; optionally with a bad manifest digest or size."""
    config = config_for([layer])
    blobs: dict[str, bytes] = {}

    def add(data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        return digest

    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": add(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": add(layer),
                    "size": len(layer) + (1 if wrong_size else 0),
                }
            ],
        }
    ).encode()
    manifest_digest = add(manifest)
    if corrupt_manifest:
        blobs[manifest_digest] = manifest.replace(b"schemaVersion", b"schemaVersioN")
    index = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": manifest_digest,
                    "size": len(manifest),
                }
            ],
        }
    ).encode()
    entries = [
        (member("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), b'{"imageLayoutVersion":"1.0.0"}')
    ]
    entries += [(member(f"blobs/sha256/{d[7:]}", data), data) for d, data in blobs.items()]
    entries.append((member("index.json", index), index))
    return make_tar(entries)


GOOD_LAYER = rootfs_tar({"etc/hello": b"hi\n"})


def layer_of(entries: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    """Return a layer tar made of raw entries."""
    return make_tar(entries)


def absurd_size_archive() -> bytes:
    """Return a tar whose only header claims 2**60 bytes of data that never follow."""
    info = member("huge.bin")
    info.size = 2**60
    return info.tobuf(format=tarfile.PAX_FORMAT) + b"\0" * 1024


def truncated_gzip_layer() -> bytes:
    """Return a docker-archive whose layer is a gzip stream cut in the middle."""
    big = rootfs_tar({"data": bytes(range(256)) * 4096})
    compressed = gzip.compress(big)[:2000]
    config = config_for([big])
    return docker_archive(
        [big], config=config, layer_members=[(member("layer0/layer.tar", compressed), compressed)]
    )


CASES: dict[str, tuple[Callable[[], bytes], str]] = {
    "outer traversal": (
        lambda: docker_archive([GOOD_LAYER], extra=[(member("../escaped", b"x"), b"x")]),
        "archive entry '../escaped': absolute names and '..' are not allowed",
    ),
    "outer absolute name": (
        lambda: docker_archive([GOOD_LAYER], extra=[(member("/tmp/escaped", b"x"), b"x")]),
        "archive entry '/tmp/escaped': absolute names and '..' are not allowed",
    ),
    "outer device node": (
        lambda: docker_archive([GOOD_LAYER], extra=[(member("dev", kind=tarfile.CHRTYPE), b"")]),
        "archive entry 'dev': devices, fifos and sockets are not allowed",
    ),
    "outer symlink to absolute path": (
        lambda: docker_archive(
            [GOOD_LAYER],
            layer_members=[
                (member("layer0/layer.tar", kind=tarfile.SYMTYPE, link="/etc/passwd"), b"")
            ],
        ),
        "archive member 'layer0/layer.tar': symlink to '/etc/passwd' leaves the archive",
    ),
    "outer symlink climbing out": (
        lambda: docker_archive(
            [GOOD_LAYER],
            layer_members=[(member("layer0/layer.tar", kind=tarfile.SYMTYPE, link="../../x"), b"")],
        ),
        "archive member 'layer0/layer.tar': symlink to '../../x' leaves the archive",
    ),
    "outer hard link to missing member": (
        lambda: docker_archive(
            [GOOD_LAYER],
            layer_members=[(member("layer0/layer.tar", kind=tarfile.LNKTYPE, link="nothing"), b"")],
        ),
        "archive entry 'layer0/layer.tar': hard link to a missing or non-file entry 'nothing'",
    ),
    "absurd declared size": (
        absurd_size_archive,
        "archive entry 'huge.bin': declares 1152921504606846976 bytes",
    ),
    "truncated gzip archive": (
        lambda: gzip.compress(docker_archive([GOOD_LAYER]))[:300],
        "truncated gzip input",
    ),
    "truncated gzip layer": (truncated_gzip_layer, "decompression failed"),
    "layer traversal": (
        lambda: docker_archive([layer_of([(member("../../escaped", b"x"), b"x")])]),
        "layer entry '../../escaped': absolute names and '..' are not allowed",
    ),
    "layer absolute name": (
        lambda: docker_archive([layer_of([(member("/etc/passwd", b"x"), b"x")])]),
        "layer entry '/etc/passwd': absolute names and '..' are not allowed",
    ),
    "layer write through symlink": (
        lambda: docker_archive(
            [
                layer_of(
                    [
                        (member("etc", kind=tarfile.SYMTYPE, link="/etc"), b""),
                        (member("etc/passwd", b"x"), b"x"),
                    ]
                )
            ]
        ),
        "layer entry 'etc/passwd': path goes through the symlink 'etc' of the same layer",
    ),
    "layer hard link escape": (
        lambda: docker_archive(
            [layer_of([(member("passwd", kind=tarfile.LNKTYPE, link="../../etc/passwd"), b"")])]
        ),
        "layer entry 'passwd': hard link to '../../etc/passwd' leaves the layer",
    ),
    "layer hard link to missing entry": (
        lambda: docker_archive([layer_of([(member("a", kind=tarfile.LNKTYPE, link="b"), b"")])]),
        "layer entry 'a': hard link to 'b', which the layer lacks",
    ),
    "diff ID mismatch": (
        lambda: docker_archive([GOOD_LAYER], config=config_for([rootfs_tar({"other": b"x"})])),
        "has diff ID sha256:" + hashlib.sha256(GOOD_LAYER).hexdigest(),
    ),
    "layer count mismatch": (
        lambda: docker_archive([GOOD_LAYER], config=config_for([GOOD_LAYER, GOOD_LAYER])),
        "manifest.json[0]: lists 1 layers, the config 2",
    ),
    "config not JSON": (
        lambda: docker_archive([GOOD_LAYER], config=b"{not json"),
        "is not a valid image config",
    ),
    "manifest not JSON": (
        lambda: docker_archive([GOOD_LAYER], manifest=b"[{"),
        "archive member 'manifest.json': is not valid JSON",
    ),
    "no manifest or index": (
        lambda: make_tar([(member("hello", b"x"), b"x")]),
        "neither manifest.json (docker-archive) nor index.json (OCI layout) found",
    ),
    "OCI manifest digest mismatch": (
        lambda: oci_layout(GOOD_LAYER, corrupt_manifest=True),
        "content has digest sha256:",
    ),
    "OCI layer size mismatch": (
        lambda: oci_layout(GOOD_LAYER, wrong_size=True),
        f"has {len(GOOD_LAYER)} bytes, the manifest says {len(GOOD_LAYER) + 1}",
    ),
    "not a tar at all": (lambda: b"\x00garbage" * 100, "archive"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_archive_rejected(name: str, tmp_path: Path) -> None:
    build, message = CASES[name]
    work = tmp_path / "work"
    work.mkdir()
    archive = work / "archive.tar"
    archive.write_bytes(build())
    store = dockwright.Store(tmp_path / "store")
    with pytest.raises(DockwrightError) as raised:
        store.load(archive)
    assert message in str(raised.value)
    assert store.images() == []
    root = Path(store.root)
    assert list((root / "blobs" / "sha256").iterdir()) == []
    assert list((root / "tmp").iterdir()) == []
    assert sorted(p.name for p in work.iterdir()) == ["archive.tar"]
    assert not (tmp_path / "escaped").exists()
    assert not Path("/tmp/escaped").exists()
    assert store.verify() == []


def test_valid_archive_of_the_generator_loads(tmp_path: Path) -> None:
    archive = tmp_path / "archive.tar"
    archive.write_bytes(docker_archive([GOOD_LAYER]))
    (loaded,) = dockwright.Store(tmp_path / "store").load(archive)
    assert loaded.references == ["hostile:1"]
    oci = tmp_path / "oci.tar"
    oci.write_bytes(oci_layout(GOOD_LAYER))
    (from_oci,) = dockwright.Store(tmp_path / "store2").load(oci)
    assert from_oci.diff_ids == loaded.diff_ids
