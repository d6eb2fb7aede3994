"""`dockwright build` on the local backend: cache, outputs, mounts, archives and errors.

Each test builds real images into a real store from a busybox base made of the host's
/bin/busybox (Debian's busybox-static), running RUN steps in the namespace executor.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import shutil
import signal
import subprocess
import tarfile
import time
from pathlib import Path

import pytest
from store_support import cli

BUSYBOX = Path("/bin/busybox")


def busybox_rootfs_tar() -> bytes:
    """A rootfs of /bin/busybox and a symlink per applet, with /etc/passwd and /etc/group."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def add(info: tarfile.TarInfo, data: bytes | None = None) -> None:
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data) if data is not None else None)

        for name in ("bin", "etc", "tmp"):
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = 0o1777 if name == "tmp" else 0o755
            add(info)
        body = BUSYBOX.read_bytes()
        info = tarfile.TarInfo("bin/busybox")
        info.size = len(body)
        info.mode = 0o755
        add(info, body)
        applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True)
        for applet in sorted(set(applets.stdout.split()) - {"busybox"}):
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            add(info)
        for name, text in {
            "etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
            "etc/group": "root:x:0:\napp:x:1000:\nstaff:x:50:app\n",
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            add(info, data)
    return out.getvalue()


def busybox_store(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """Make a store named `name` with `base:test` imported from /bin/busybox.

    Skips the calling test when busybox-static is missing or the process is not root.
    """
    if not BUSYBOX.exists():
        pytest.skip("busybox-static is needed: apt-get install busybox-static")
    if os.geteuid() != 0:
        pytest.skip("RUN steps here need root (namespaces, overlayfs)")
    root = tmp_path_factory.mktemp(name)
    tar = root.parent / f"{name}-rootfs.tar"
    tar.write_bytes(busybox_rootfs_tar())
    run(root, "import", str(tar), "base:test", "--change", 'CMD ["sh"]')
    return root


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with `base:test` imported from /bin/busybox."""
    return busybox_store(tmp_path_factory, "build-store")


def run(
    root: Path, *args: str, cwd: Path | None = None, check: bool = True, **extra: str
) -> subprocess.CompletedProcess[str]:
    """Run dockwright with the store at `root`; `extra` adds environment variables."""
    env = dict(os.environ, DOCKWRIGHT_ROOT=str(root), **extra)
    result = subprocess.run(
        [str(Path(cli()).absolute()), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        errors="replace",
    )
    if check and result.returncode != 0:
        raise AssertionError(f"dockwright {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def context(tmp_path: Path, dockerfile: str, files: dict[str, str] | None = None) -> Path:
    """A context folder with this Dockerfile and files."""
    folder = tmp_path / "ctx"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(dockerfile)
    for name, text in (files or {}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def image_config(root: Path, ref: str) -> dict[str, object]:
    """The image config of `ref` as `dockwright inspect` reads it from the store."""
    import dockwright

    record = dockwright.Store(root).get(ref)
    return json.loads(record.config_bytes())


def layer_names(root: Path, ref: str, tmp_path: Path) -> list[list[str]]:
    """The entry names of every layer of `ref`, from a `dockwright save` archive."""
    archive = tmp_path / "saved.tar"
    run(root, "save", "-o", str(archive), ref)
    names: list[list[str]] = []
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        for layer in manifest[0]["Layers"]:
            with tarfile.open(fileobj=outer.extractfile(layer)) as inner:
                names.append(inner.getnames())
    return names


def test_cached_rebuild_reuses_every_step(store_root: Path, tmp_path: Path) -> None:
    ctx = context(
        tmp_path,
        "FROM base:test\nLABEL t=cache-all\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\n",
        {"a.txt": "one\n"},
    )
    first = run(store_root, "build", "-q", str(ctx)).stdout.strip()
    again = run(store_root, "build", str(ctx))
    assert again.stdout.count(" ---> Using cache") == 3
    assert f"Successfully built {first[7:19]}" in again.stdout
    assert "Running in" not in again.stdout


def test_changed_file_misses_with_reason(store_root: Path, tmp_path: Path) -> None:
    ctx = context(
        tmp_path,
        "FROM base:test\nLABEL t=cache-miss\nCOPY a.txt /a.txt\nRUN cat /a.txt\n",
        {"a.txt": "one\n"},
    )
    first = run(store_root, "build", "-q", str(ctx)).stdout.strip()
    (ctx / "a.txt").write_text("two\n")
    again = run(store_root, "build", "--explain-cache", str(ctx))
    lines = again.stdout.splitlines()
    copy = lines.index("Step 3/4 : COPY a.txt /a.txt")
    assert lines[copy + 1].startswith(" ---> Cache miss: cached image ")
    assert lines[copy + 1].endswith(": the command differs")
    assert lines.count(" ---> Using cache") == 1
    assert first[7:19] not in again.stdout.splitlines()[-1]


def test_no_cache_builds_again(store_root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, "FROM base:test\nRUN echo t=no-cache > /f\n")
    first = run(store_root, "build", "-q", str(ctx)).stdout.strip()
    second = run(store_root, "build", "-q", "--no-cache", str(ctx)).stdout.strip()
    assert first != second
    assert "Using cache" not in run(store_root, "build", "--no-cache", str(ctx)).stdout


def test_reproducible_builds_match_across_stores(tmp_path: Path, store_root: Path) -> None:
    ids = []
    for n in (1, 2):
        root = tmp_path / f"store{n}"
        shutil.copytree(store_root, root, symlinks=True)
        ctx = context(
            tmp_path / f"m{n}",
            "FROM base:test\nCOPY app /app\nRUN echo built > /app/out && mkdir /made\n",
            {"app/main.sh": "echo hi\n"},
        )
        os.utime(ctx / "app" / "main.sh", (time.time() + n, time.time() + n))
        result = run(root, "build", "-q", str(ctx), SOURCE_DATE_EPOCH="1700000000")
        ids.append(result.stdout.strip())
        time.sleep(1.1)
    assert ids[0] == ids[1]
    config = image_config(tmp_path / "store1", ids[0])
    assert config["created"] == "2023-11-14T22:13:20Z"


def test_failed_run_exits_with_its_status(store_root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, "FROM base:test\nRUN echo oops >&2; exit 7\n")
    result = run(store_root, "build", str(ctx), check=False)
    assert result.returncode == 7
    assert "\x1b[91moops\n\x1b[0m" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == (
        "The command '/bin/sh -c echo oops >&2; exit 7' returned a non-zero code: 7"
    )


def test_quiet_and_iidfile_give_the_id(store_root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, "FROM base:test\nENV T=quiet\n")
    iid = tmp_path / "iid"
    result = run(store_root, "build", "-q", "--iidfile", str(iid), "-t", "quiet:1", str(ctx))
    assert result.stdout == iid.read_text() + "\n"
    assert image_config(store_root, "quiet:1")["config"]["Env"][-1] == "T=quiet"  # type: ignore[index]


def test_outputs_write_tar_local_and_oci(store_root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, "FROM base:test\nRUN echo out > /out.txt\n")
    rootfs = tmp_path / "rootfs.tar"
    local = tmp_path / "local"
    oci = tmp_path / "oci"
    run(
        store_root,
        "build",
        "-o",
        f"type=tar,dest={rootfs}",
        "-o",
        str(local),
        "-o",
        f"type=oci,dest={oci}/",
        str(ctx),
    )
    with tarfile.open(rootfs) as tar:
        assert tar.extractfile("out.txt").read() == b"out\n"  # type: ignore[union-attr]
    assert (local / "out.txt").read_text() == "out\n"
    assert json.loads((oci / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}


def test_secret_mount_leaves_no_trace(store_root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("s3cr3t")
    ctx = context(
        tmp_path,
        "FROM base:test\n"
        'RUN --mount=type=secret,id=token test "$(cat /run/secrets/token)" = s3cr3t '
        "&& echo ok > /ok\n",
    )
    run(
        store_root,
        "build",
        "--no-cache",
        "--secret",
        f"id=token,src={secret}",
        "-t",
        "sec",
        str(ctx),
    )
    assert layer_names(store_root, "sec", tmp_path)[-1] == ["ok"]
    missing = context(
        tmp_path / "m",
        "FROM base:test\nRUN --mount=type=secret,id=absent,required=true true\n",
    )
    result = run(store_root, "build", str(missing), check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "secret absent: not found (pass it with --secret id=absent,src=FILE)"
    )


def test_cache_mount_persists_between_builds(store_root: Path, tmp_path: Path) -> None:
    ctx = context(
        tmp_path,
        "FROM base:test\n"
        "RUN --mount=type=cache,id=test-cache-mount,target=/c echo x >> /c/log && wc -l < /c/log"
        " > /count\n",
    )
    run(store_root, "build", "--no-cache", "-t", "cm:1", str(ctx))
    run(store_root, "build", "--no-cache", "-t", "cm:2", str(ctx))
    assert layer_names(store_root, "cm:2", tmp_path)[-1] == ["count"]


def test_bind_mount_is_read_only(store_root: Path, tmp_path: Path) -> None:
    ctx = context(
        tmp_path,
        "FROM base:test\n"
        "RUN --mount=type=bind,source=src,target=/src cat /src/a > /copied "
        "&& ! touch /src/b 2>/dev/null\n",
        {"src/a": "bound\n"},
    )
    run(store_root, "build", "-t", "bind", str(ctx))
    assert layer_names(store_root, "bind", tmp_path)[-1] == ["copied"]


def test_classic_rejects_run_mount(store_root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, "FROM base:test\nRUN --mount=type=cache,target=/c true\n")
    result = run(store_root, "build", "--classic", str(ctx), check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error response from daemon: dockerfile parse error line 2: Unknown flag: mount"
    )


def test_add_extracts_every_compression(store_root: Path, tmp_path: Path) -> None:
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w") as tar:
        data = b"inside\n"
        info = tarfile.TarInfo("pkg/file.txt")
        info.size = len(data)
        info.uid = info.gid = 1234
        info.mode = 0o640
        tar.addfile(info, io.BytesIO(data))
    raw = payload.getvalue()
    ctx = context(tmp_path, "")
    archives = {
        "plain.tar": raw,
        "a.tar.gz": gzip.compress(raw),
        "b.tar.bz2": bz2.compress(raw),
        "c.tar.xz": lzma.compress(raw),
        "not-a-tar.gz": gzip.compress(b"just text\n"),
    }
    for name, data in archives.items():
        (ctx / name).write_bytes(data)
    (ctx / "Dockerfile").write_text(
        "FROM base:test\n"
        + "".join(f"ADD {name} /x/{name.split('.')[0]}/\n" for name in archives)
        + "RUN stat -c '%u:%g %a' /x/plain/pkg/file.txt /x/a/pkg/file.txt /x/b/pkg/file.txt"
        " /x/c/pkg/file.txt > /owners && ls /x/not-a-tar > /kept\n"
    )
    out = tmp_path / "final"
    run(store_root, "build", "-o", str(out), str(ctx))
    assert (out / "owners").read_text() == "1234:1234 640\n" * 4
    assert (out / "kept").read_text() == "not-a-tar.gz\n"


def test_volume_discards_writes_below_it(store_root: Path, tmp_path: Path) -> None:
    ctx = context(
        tmp_path,
        "FROM base:test\nVOLUME /data\nRUN echo lost > /data/f && echo kept > /kept\n",
    )
    run(store_root, "build", "-t", "vol", str(ctx))
    assert layer_names(store_root, "vol", tmp_path)[-1] == ["data", "kept"]


def test_chown_names_come_from_the_image(store_root: Path, tmp_path: Path) -> None:
    ctx = context(
        tmp_path,
        "FROM base:test\nCOPY --chown=app:staff f /f\nRUN stat -c '%u:%g' /f > /owner\n",
        {"f": "x\n"},
    )
    out = tmp_path / "out"
    run(store_root, "build", "-o", str(out), str(ctx))
    assert (out / "owner").read_text() == "1000:50\n"
    bad = context(tmp_path / "bad", "FROM base:test\nCOPY --chown=app:nogroup f /f\n", {"f": "x"})
    result = run(store_root, "build", str(bad), check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "unable to convert uid/gid chown string to host mapping: can't find gid for group "
        "nogroup: no such group: nogroup"
    )


def test_bad_flags_name_the_value(store_root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, "FROM base:test\n")
    cases = {
        ("--platform", "linux/arm64"): "linux/arm64",
        ("-t", "Bad:Tag"): 'invalid argument "Bad:Tag" for "-t, --tag" flag',
        ("--network", "bridge2"): "bridge2",
        ("-m", "12zz"): "12zz",
        ("-o", "type=zip,dest=x"): "unknown output type zip",
    }
    for args, text in cases.items():
        result = run(store_root, "build", *args, str(ctx), check=False)
        assert result.returncode != 0, args
        assert text in result.stderr, (args, result.stderr)


def test_interrupt_cancels_and_cleans_up(store_root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, "FROM base:test\nRUN echo started; sleep 60\n")
    env = dict(os.environ, DOCKWRIGHT_ROOT=str(store_root))
    process = subprocess.Popen(
        [str(Path(cli()).absolute()), "build", "--no-cache", str(ctx)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == "started":
            break
    start = time.monotonic()
    process.send_signal(signal.SIGINT)
    process.wait(timeout=20)
    assert time.monotonic() - start < 10
    assert process.returncode != 0
    survivors = subprocess.run(["pgrep", "-f", "sleep 60"], capture_output=True, text=True)
    assert survivors.stdout == ""
    assert not [p for p in (store_root / "tmp").iterdir() if p.name.startswith("build-")]
    verify = run(store_root, "store", "verify", check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_add_url_downloads_with_mode_0600(store_root: Path, tmp_path: Path) -> None:
    served = tmp_path / "www"
    served.mkdir()
    (served / "remote.txt").write_text("remote file\n")
    (served / "pkg.tar.gz").write_bytes(gzip.compress(b"not extracted"))
    server = subprocess.Popen(
        ["python3", "-m", "http.server", "0", "--bind", "127.0.0.1"],
        cwd=served,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = server.stdout.readline().split("port ")[1].split(" ")[0]
        url = f"http://127.0.0.1:{port}"
        ctx = context(
            tmp_path,
            f"FROM base:test\nADD {url}/remote.txt /r/\nADD {url}/pkg.tar.gz /named.tgz\n"
            "RUN stat -c '%a %s' /r/remote.txt /named.tgz > /modes\n",
        )
        out = tmp_path / "out"
        run(store_root, "build", "--classic", "-o", str(out), "-t", "addurl", str(ctx))
        missing = context(tmp_path / "m", f"FROM base:test\nADD {url}/nope.txt /n\n")
        failed = run(store_root, "build", str(missing), check=False)
        digest = "sha256:" + hashlib.sha256(b"remote file\n").hexdigest()
        good = context(
            tmp_path / "g", f"FROM base:test\nADD --checksum={digest} {url}/remote.txt /\n"
        )
        run(store_root, "build", str(good))
        wrong = "sha256:" + "0" * 64
        bad = context(
            tmp_path / "b", f"FROM base:test\nADD --checksum={wrong} {url}/remote.txt /\n"
        )
        mismatch = run(store_root, "build", str(bad), check=False)
    finally:
        server.kill()
        server.wait()
    assert (out / "modes").read_text().splitlines()[0] == "600 12"
    assert (out / "named.tgz").read_bytes() == (served / "pkg.tar.gz").read_bytes()
    history = [h.get("created_by", "") for h in image_config(store_root, "addurl")["history"]]  # type: ignore[index, union-attr]
    assert history[-3].startswith("/bin/sh -c #(nop) ADD file:")
    assert history[-3].endswith(" in /r/ ")
    assert failed.returncode == 1
    assert f"failed to GET {url}/nope.txt with status 404" in failed.stderr
    assert mismatch.returncode == 1
    assert mismatch.stderr.startswith(f"ADD failed: digest mismatch {digest}: {wrong}")


_NO_LAST_MODIFIED_SERVER = """
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"no date\\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def test_add_url_takes_mtime_from_last_modified(store_root: Path, tmp_path: Path) -> None:
    served = tmp_path / "www"
    served.mkdir()
    (served / "dated.txt").write_text("dated\n")
    os.utime(served / "dated.txt", (1600000000, 1600000000))
    dated = subprocess.Popen(
        ["python3", "-m", "http.server", "0", "--bind", "127.0.0.1"],
        cwd=served,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    undated = subprocess.Popen(
        ["python3", "-c", _NO_LAST_MODIFIED_SERVER], stdout=subprocess.PIPE, text=True
    )
    try:
        assert dated.stdout is not None and undated.stdout is not None
        dated_port = dated.stdout.readline().split("port ")[1].split(" ")[0]
        undated_port = undated.stdout.readline().strip()
        ctx = context(
            tmp_path,
            f"FROM base:test\nADD http://127.0.0.1:{dated_port}/dated.txt /dated.txt\n"
            f"ADD http://127.0.0.1:{undated_port}/plain.txt /plain.txt\n"
            "RUN stat -c '%Y %n' /dated.txt /plain.txt > /times\n",
        )
        out = tmp_path / "out"
        run(store_root, "build", "-o", str(out), str(ctx))
    finally:
        for server in (dated, undated):
            server.kill()
            server.wait()
    # Docker sets the Last-Modified time, and the Unix epoch when the response has none.
    assert (out / "times").read_text().splitlines() == ["1600000000 /dated.txt", "0 /plain.txt"]
    assert (out / "plain.txt").read_text() == "no date\n"


def test_from_pulls_a_missing_base_from_its_registry(store_root: Path, tmp_path: Path) -> None:
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (Debian package docker-registry)")
    from registry_support import Registry

    registry = Registry(tmp_path / "registry")
    try:
        name = f"{registry.host}/base/test:1"
        run(store_root, "tag", "base:test", name)
        run(store_root, "push", name)
        fresh = tmp_path / "fresh"
        ctx = context(tmp_path, f"FROM {name}\nRUN echo pulled > /p\n")
        built = run(fresh, "build", "-t", "pulled", str(ctx))
        assert f"Pulling {name}" in built.stdout
        assert run(fresh, "inspect", name).returncode == 0
        again = run(fresh, "build", "--pull", "--no-cache", str(ctx))
        assert f"Pulling {name}" in again.stdout
        missing = context(tmp_path / "m", f"FROM {registry.host}/no/such:1\n")
        failed = run(fresh, "build", str(missing), check=False)
    finally:
        registry.stop()
    assert failed.returncode == 1
    assert f"{registry.host}/no/such" in failed.stderr


def test_copy_heredoc_parents_and_exclude(store_root: Path, tmp_path: Path) -> None:
    ctx = context(
        tmp_path,
        "FROM base:test\nARG WHO=world\n"
        "COPY <<EOF /greeting.txt\nhello \"$WHO\" 'q'\nEOF\n"
        "COPY <<'RAW' /raw/\nliteral $WHO\nRAW\n"
        "COPY --parents src/a/b/c.txt docs/k.md /p/\n"
        "COPY --exclude=**/*.md src /e/\n",
        {"src/a/b/c.txt": "x\n", "src/a/readme.md": "y\n", "docs/k.md": "z\n"},
    )
    out = tmp_path / "out"
    run(store_root, "build", "-o", str(out), str(ctx))
    assert (out / "greeting.txt").read_text() == "hello \"world\" 'q'\n"
    assert oct((out / "greeting.txt").stat().st_mode & 0o777) == "0o664"
    assert (out / "raw" / "RAW").read_text() == "literal $WHO\n"
    assert sorted(str(p.relative_to(out)) for p in (out / "p").rglob("*")) == [
        "p/docs",
        "p/docs/k.md",
        "p/src",
        "p/src/a",
        "p/src/a/b",
        "p/src/a/b/c.txt",
    ]
    assert sorted(str(p.relative_to(out)) for p in (out / "e").rglob("*")) == [
        "e/a",
        "e/a/b",
        "e/a/b/c.txt",
    ]
    classic = run(store_root, "build", "--classic", str(ctx), check=False)
    assert classic.returncode == 1
    # The classic parser has no heredocs, so it reads the body's first line as an instruction.
    assert classic.stderr.strip() == (
        "Error response from daemon: dockerfile parse error line 4: unknown instruction: HELLO"
    )


def test_diff_of_two_builds_lists_files_and_steps(store_root: Path, tmp_path: Path) -> None:
    import dockwright

    base = "FROM base:test\nRUN echo one > /one && mkdir /gone && touch /gone/f\n"
    run(store_root, "build", "-t", "diff:a", str(context(tmp_path / "a", base)))
    changed = base + "RUN rm -r /gone && echo three > /one\nENV STAGE=b\n"
    run(store_root, "build", "-t", "diff:b", str(context(tmp_path / "b", changed)))
    store = dockwright.Store(store_root)
    changes = {c.path: c for c in dockwright.diff(store.get("diff:a"), store.get("diff:b"))}
    assert changes["config.Env"].new[-1] == "STAGE=b"
    assert changes["files:/gone"].new is None
    assert changes["files:/gone/f"].new is None
    assert changes["files:/one"].old["size"] == 4
    assert changes["files:/one"].new["size"] == 6
    assert changes["files:/one"].made_by == "/bin/sh -c rm -r /gone && echo three > /one"


def test_add_archive_cannot_link_to_host_files(store_root: Path, tmp_path: Path) -> None:
    hostile = io.BytesIO()
    with tarfile.open(fileobj=hostile, mode="w") as tar:
        link = tarfile.TarInfo("etc-link")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc"
        tar.addfile(link)
        hard = tarfile.TarInfo("stolen")
        hard.type = tarfile.LNKTYPE
        hard.linkname = "etc-link/hostname"
        tar.addfile(hard)
    ctx = context(tmp_path, "FROM base:test\nADD evil.tar /x/\n")
    (ctx / "evil.tar").write_bytes(hostile.getvalue())
    result = run(store_root, "build", str(ctx), check=False)
    assert result.returncode == 1
    assert "invalid hard link stolen -> etc-link/hostname in evil.tar" in result.stderr
    escape = io.BytesIO()
    with tarfile.open(fileobj=escape, mode="w") as tar:
        data = b"x"
        info = tarfile.TarInfo("../../outside.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    (ctx / "evil.tar").write_bytes(escape.getvalue())
    result = run(store_root, "build", str(ctx), check=False)
    assert result.returncode == 1
    assert "its path leaves the destination" in result.stderr
