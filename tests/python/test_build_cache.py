"""Build cache across stores: `--cache-to` exports a build's cache, `--cache-from` imports it.

Store A builds and exports to a docker-registry on loopback (or an OCI layout directory);
stores B, C, ... start with the same base image (saved from A and loaded) and import it.
RUN steps run in the namespace executor, so these tests need root.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_build_cli import busybox_rootfs_tar, context, run

DOCKERFILE = (
    "FROM base:test\n"
    "ENV GREETING=hello\n"
    'RUN echo "$GREETING" > /greeting && echo ran-first-run\n'
    "COPY app.txt /app/app.txt\n"
    "RUN cat /app/app.txt > /copied && echo ran-second-run\n"
)

RECORDS_TYPE = "application/vnd.dockwright.build-cache.records.v1+json"


@pytest.fixture(scope="module")
def base_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A docker archive of `base:test` (busybox), loaded into every store of a test."""
    if not Path("/bin/busybox").exists():
        pytest.skip("busybox-static is needed: apt-get install busybox-static")
    if os.geteuid() != 0:
        pytest.skip("RUN steps here need root (namespaces, overlayfs)")
    folder = tmp_path_factory.mktemp("cache-base")
    tar = folder / "busybox-rootfs.tar"
    tar.write_bytes(busybox_rootfs_tar())
    root = folder / "store"
    run(root, "import", str(tar), "base:test", "--change", 'CMD ["sh"]')
    archive = folder / "base.tar"
    run(root, "save", "-o", str(archive), "base:test")
    return archive


@pytest.fixture
def registry_host(tmp_path: Path) -> Iterator[str]:
    """The `127.0.0.1:PORT` of a docker-registry started for one test and stopped by pid."""
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (Debian package docker-registry)")
    from registry_support import Registry

    registry = Registry(tmp_path / "registry")
    try:
        yield registry.host
    finally:
        registry.stop()


def new_store(tmp_path: Path, name: str, base_archive: Path) -> Path:
    """A store that holds only `base:test`."""
    root = tmp_path / name
    run(root, "load", "-i", str(base_archive))
    return root


def step_cache(stdout: str) -> list[bool]:
    """For each step after the first, whether the build reported `Using cache` for it."""
    hits: list[bool] = []
    for line in stdout.splitlines():
        if line.startswith("Step "):
            hits.append(False)
        elif line == " ---> Using cache":
            hits[-1] = True
    return hits[1:]


def build(root: Path, ctx: Path, *options: str) -> tuple[str, str]:
    """Build `ctx` in the store at `root`; return the image ID and the output."""
    iid = ctx.parent / "iid"
    result = run(root, "build", "--iidfile", str(iid), *options, str(ctx))
    return iid.read_text(), result.stdout


def test_registry_cache_hits_in_second_store(
    tmp_path: Path, base_archive: Path, registry_host: str
) -> None:
    ref = f"{registry_host}/cache/app:1"
    ctx = context(tmp_path, DOCKERFILE, {"app.txt": "version 1\n"})
    first = new_store(tmp_path, "a", base_archive)
    built, output = build(first, ctx, "--cache-to", f"type=registry,ref={ref}")
    assert step_cache(output) == [False, False, False, False]
    export_lines = [line for line in output.splitlines() if line.startswith("Exported")]
    assert len(export_lines) == 1
    # Images: the base and the 4 steps. Blobs: the records document, 5 configs, and the
    # layers of the base, both RUNs and COPY.
    assert export_lines[0].endswith(": 5 images, 10 blobs, 0 already present")

    second = new_store(tmp_path, "b", base_archive)
    again, output = build(second, ctx, "--cache-from", f"type=registry,ref={ref}")
    assert again == built
    assert step_cache(output) == [True, True, True, True]
    assert "Running in" not in output
    assert "ran-first-run" not in output.splitlines()
    assert "ran-second-run" not in output.splitlines()
    import_lines = [line for line in output.splitlines() if line.startswith("Imported")]
    assert len(import_lines) == 1
    # The base's config and layer are in B already: 4 configs and 3 layers are fetched.
    assert import_lines[0].endswith(": 4 of 5 images added, 7 blobs fetched, 2 already present")
    verify = run(second, "store", "verify")
    assert verify.stdout.endswith(" is consistent (5 images)\n")

    # A bare REF means the registry type, as in docker build.
    third = new_store(tmp_path, "c", base_archive)
    bare, output = build(third, ctx, "--cache-from", ref)
    assert bare == built
    assert step_cache(output) == [True, True, True, True]


def test_changed_file_misses_from_its_copy_on(
    tmp_path: Path, base_archive: Path, registry_host: str
) -> None:
    ref = f"{registry_host}/cache/app:changed"
    ctx = context(tmp_path, DOCKERFILE, {"app.txt": "version 1\n"})
    built, _ = build(new_store(tmp_path, "a", base_archive), ctx, "--cache-to", ref)
    (ctx / "app.txt").write_text("version 2\n")
    second = new_store(tmp_path, "b", base_archive)
    changed, output = build(second, ctx, "--cache-from", ref)
    assert changed != built
    assert step_cache(output) == [True, True, False, False]
    assert "ran-first-run" not in output.splitlines()
    assert "ran-second-run" in output.splitlines()


def test_missing_cache_ref_warns_and_builds(
    tmp_path: Path, base_archive: Path, registry_host: str
) -> None:
    ref = f"{registry_host}/cache/none:1"
    ctx = context(tmp_path, DOCKERFILE, {"app.txt": "version 1\n"})
    root = new_store(tmp_path, "a", base_archive)
    _, output = build(root, ctx, "--cache-from", ref)
    warnings = [line for line in output.splitlines() if line.startswith("WARNING:")]
    assert warnings == [
        f"WARNING: failed to import the build cache from {ref}, building without it: "
        f"{ref}: not found (HTTP 404): MANIFEST_UNKNOWN: manifest unknown"
    ]
    assert step_cache(output) == [False, False, False, False]
    assert "ran-second-run" in output.splitlines()


def test_image_that_is_no_cache_warns(
    tmp_path: Path, base_archive: Path, registry_host: str
) -> None:
    root = new_store(tmp_path, "a", base_archive)
    name = f"{registry_host}/base/test:1"
    run(root, "tag", "base:test", name)
    run(root, "push", name)
    ctx = context(tmp_path, DOCKERFILE, {"app.txt": "version 1\n"})
    _, output = build(root, ctx, "--cache-from", name)
    warnings = [line for line in output.splitlines() if line.startswith("WARNING:")]
    assert warnings == [
        f"WARNING: failed to import the build cache from {name}, building without it: "
        f"{name}: not a build cache: the config type is "
        f"'application/vnd.oci.image.config.v1+json', expected '{RECORDS_TYPE}'"
    ]


def test_failed_export_fails_unless_ignored(tmp_path: Path, base_archive: Path) -> None:
    ctx = context(tmp_path, DOCKERFILE, {"app.txt": "version 1\n"})
    root = new_store(tmp_path, "a", base_archive)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    failed = run(root, "build", "--cache-to", f"type=local,dest={blocker}", str(ctx), check=False)
    assert failed.returncode == 1
    assert failed.stderr.startswith(
        f"failed to export the build cache to {blocker} (latest): {blocker}: cannot create the "
        "layout: "
    )
    ignored = run(
        root, "build", "--cache-to", f"type=local,dest={blocker},ignore-error=true", str(ctx)
    )
    assert ignored.returncode == 0
    assert (
        f"WARNING: failed to export the build cache to {blocker} (latest): {blocker}: cannot "
        "create the layout: "
    ) in ignored.stdout


def test_local_cache_and_max_mode(tmp_path: Path, base_archive: Path) -> None:
    dockerfile = (
        "FROM base:test AS tools\nRUN echo tool > /tool\n"
        "FROM base:test\nCOPY --from=tools /tool /tool\nRUN cat /tool > /used\n"
    )
    ctx = context(tmp_path, dockerfile, {})
    first = new_store(tmp_path, "a", base_archive)
    built, output = build(
        first,
        ctx,
        "--cache-to",
        f"type=local,dest={tmp_path / 'min'}",
        "--cache-to",
        f"type=local,dest={tmp_path / 'max'},mode=max",
    )
    exported = [line for line in output.splitlines() if line.startswith("Exported")]
    # min: the base and the final stage's 2 steps. max adds the first stage's RUN image, whose
    # layer has the same bytes as the COPY's layer (one file /tool, same mode and time).
    assert exported[0].endswith(": 3 images, 7 blobs, 0 already present")
    assert exported[1].endswith(": 4 images, 8 blobs, 0 already present")
    index = json.loads((tmp_path / "max" / "index.json").read_text())
    entry = index["manifests"][0]
    assert entry["annotations"] == {"org.opencontainers.image.ref.name": "latest"}
    manifest_path = tmp_path / "max" / "blobs" / "sha256" / entry["digest"][7:]
    manifest = json.loads(manifest_path.read_text())
    assert manifest["artifactType"] == "application/vnd.dockwright.build-cache.v1"
    assert manifest["config"]["mediaType"] == RECORDS_TYPE

    with_min = new_store(tmp_path, "b", base_archive)
    again, output = build(with_min, ctx, "--cache-from", f"type=local,src={tmp_path / 'min'}")
    assert again == built
    # The first stage is not in the min export, so its RUN runs again. The final stage still
    # hits because the COPY --from hash covers the copied content, not the source image ID.
    assert step_cache(output) == [False, False, True, True]

    with_max = new_store(tmp_path, "c", base_archive)
    again, output = build(with_max, ctx, "--cache-from", f"type=local,src={tmp_path / 'max'}")
    assert again == built
    assert step_cache(output) == [True, False, True, True]


def test_python_build_cache_options(tmp_path: Path, base_archive: Path) -> None:
    import dockwright

    ctx = context(tmp_path, DOCKERFILE, {"app.txt": "version 1\n"})
    layout = tmp_path / "layout"
    first = dockwright.build(
        ctx, store=new_store(tmp_path, "a", base_archive), cache_to=f"type=local,dest={layout}"
    )
    assert first.cache_hits == 0
    warnings: list[str] = []

    def collect(event: object) -> None:
        if isinstance(event, dockwright.events.BuildWarning):
            warnings.append(event.text)

    second = dockwright.build(
        ctx,
        store=new_store(tmp_path, "b", base_archive),
        cache_from=[f"type=local,src={layout}", f"type=local,src={tmp_path / 'none'}"],
        on_event=collect,
    )
    assert second.id == first.id
    assert second.cache_hits == 4
    assert warnings == [
        f"WARNING: failed to import the build cache from {tmp_path / 'none'} (latest), "
        f"building without it: {tmp_path / 'none'}/index.json: cannot read: No such file or "
        "directory"
    ]
    with pytest.raises(ValueError, match="mode must be min or max, not 'all'"):
        dockwright.build(ctx, store=tmp_path / "b", cache_to=f"type=local,dest={layout},mode=all")
