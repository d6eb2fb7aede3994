"""Large COPY files: the layer gets their bytes straight from the source.

A COPY of a file of 64 KiB or more leaves a placeholder in the step's upper directory and the
layer writer reads the data from the context. Whatever reads the directory afterwards (a RUN,
COPY --from, a chown lookup, a COPY replacing the file) gets the real data. These tests build
with the CLI and check the bytes and metadata that each of those readers gets.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from pathlib import Path

import pytest
from test_build_cli import busybox_store, context, run

SIZE = 200 * 1024


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with `base:test` imported from /bin/busybox."""
    return busybox_store(tmp_path_factory, "large-copy-store")


def payload(seed: str, size: int = SIZE) -> bytes:
    """`size` bytes that differ for every seed, so a swapped source changes the digest."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}-{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def last_layer(root: Path, ref: str, tmp_path: Path) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    """The entries of the top layer of `ref`, with the data of regular files."""
    archive = tmp_path / "saved.tar"
    run(root, "save", "-o", str(archive), ref)
    found: dict[str, tuple[tarfile.TarInfo, bytes]] = {}
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        with tarfile.open(fileobj=outer.extractfile(manifest[0]["Layers"][-1])) as inner:
            for member in inner.getmembers():
                stream = inner.extractfile(member) if member.isfile() else None
                found[member.name] = (member, stream.read() if stream else b"")
    return found


def test_run_gets_the_copied_bytes_mode_and_mtime(store_root: Path, tmp_path: Path) -> None:
    data = payload("run")
    ctx = context(
        tmp_path,
        "FROM base:test\nCOPY big.bin /data/big.bin\n"
        "RUN sha256sum /data/big.bin > /sum && stat -c '%a %Y %s' /data/big.bin > /meta\n",
    )
    big = ctx / "big.bin"
    big.write_bytes(data)
    big.chmod(0o4755)
    os.utime(big, (1600000000, 1600000000))
    out = tmp_path / "out"
    run(store_root, "build", "--no-cache", "-t", "large:run", "-o", str(out), str(ctx))
    digest = hashlib.sha256(data).hexdigest()
    assert (out / "sum").read_text() == f"{digest}  /data/big.bin\n"
    assert (out / "meta").read_text() == f"4755 1600000000 {SIZE}\n"
    assert (out / "data/big.bin").read_bytes() == data


def test_copy_layer_holds_the_source_bytes(store_root: Path, tmp_path: Path) -> None:
    data = payload("layer")
    ctx = context(tmp_path, "FROM base:test\nCOPY big.bin small.txt /data/\n")
    (ctx / "big.bin").write_bytes(data)
    (ctx / "small.txt").write_text("small\n")
    os.utime(ctx / "big.bin", (1500000000, 1500000000))
    run(store_root, "build", "--no-cache", "-t", "large:layer", str(ctx))
    entries = last_layer(store_root, "large:layer", tmp_path)
    assert sorted(entries) == ["data", "data/big.bin", "data/small.txt"]
    info, body = entries["data/big.bin"]
    assert (info.size, info.mode, info.mtime, info.uid, info.gid) == (
        SIZE,
        0o100644,
        1500000000,
        0,
        0,
    )
    assert body == data
    assert entries["data/small.txt"][1] == b"small\n"


def test_copy_from_large_stage_file(store_root: Path, tmp_path: Path) -> None:
    data = payload("stage")
    ctx = context(
        tmp_path,
        "FROM base:test AS first\nCOPY big.bin /big.bin\n"
        "FROM base:test\nCOPY --from=first /big.bin /copied.bin\n"
        "RUN sha256sum /copied.bin > /sum\n",
    )
    (ctx / "big.bin").write_bytes(data)
    out = tmp_path / "out"
    run(store_root, "build", "--no-cache", "-o", str(out), str(ctx))
    assert (out / "sum").read_text() == f"{hashlib.sha256(data).hexdigest()}  /copied.bin\n"
    assert (out / "copied.bin").read_bytes() == data


def test_second_source_of_one_name_wins(store_root: Path, tmp_path: Path) -> None:
    first, second = payload("first"), payload("second", SIZE + 1000)
    ctx = context(
        tmp_path,
        "FROM base:test\nCOPY a/big.bin b/big.bin /dst/\nRUN sha256sum /dst/big.bin > /sum\n",
    )
    (ctx / "a").mkdir()
    (ctx / "b").mkdir()
    (ctx / "a/big.bin").write_bytes(first)
    (ctx / "b/big.bin").write_bytes(second)
    out = tmp_path / "out"
    run(store_root, "build", "--no-cache", "-o", str(out), str(ctx))
    assert (out / "dst/big.bin").read_bytes() == second
    assert (out / "sum").read_text() == f"{hashlib.sha256(second).hexdigest()}  /dst/big.bin\n"


def test_chown_reads_a_large_copied_passwd(store_root: Path, tmp_path: Path) -> None:
    users = "".join(f"user{n}:x:{5000 + n}:{5000 + n}::/home/u{n}:/bin/sh\n" for n in range(2000))
    passwd = "root:x:0:0:root:/root:/bin/sh\n" + users + "late:x:4242:4243::/:/bin/sh\n"
    assert len(passwd) >= 64 * 1024
    ctx = context(
        tmp_path,
        "FROM base:test\nCOPY passwd /etc/passwd\nCOPY --chown=late:4243 f /f\n"
        "RUN stat -c '%u:%g' /f > /owner\n",
        {"passwd": passwd, "f": "x\n"},
    )
    out = tmp_path / "out"
    run(store_root, "build", "--no-cache", "-o", str(out), str(ctx))
    assert (out / "owner").read_text() == "4242:4243\n"
