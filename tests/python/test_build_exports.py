"""Export progress: `-o` outputs of `dockwright build` and `dockwright save` report totals.

A build's exports run after its last step. On a terminal each draws a bar that stays, full, in
the final frame. Plain and json output get one line per export. Python builds receive
``TaskProgress`` events whose total is the bytes the export writes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest
from registry_support import Registry
from store_support import cli
from test_build_cli import context, run
from test_build_cli import store_root as store_root  # noqa: F401 (the fixture)
from test_build_tty import frames, run_in_pty

import dockwright
from dockwright import events
from dockwright.pytest_plugin import BuildFunction

DOCKERFILE = (
    "FROM base:test\nRUN echo exported > /note; mkdir -p /srv/data; ln -s /note /srv/link\n"
)
BAR = "[\u2588\u2591]+"


def human_size(size: int) -> str:
    """Format `size` as the live display does: decimal units, three significant digits."""
    value = float(size)
    units = ["B", "kB", "MB", "GB", "TB"]
    unit = 0
    while value >= 1000 and unit + 1 < len(units):
        value /= 1000
        unit += 1
    return f"{value:.3g}{units[unit]}"


def file_bytes(path: Path) -> int:
    """The size of the file at `path`, or of every regular file under the directory `path`."""
    if path.is_file():
        return path.stat().st_size
    return sum(
        item.stat().st_size for item in path.rglob("*") if item.is_file() and not item.is_symlink()
    )


def test_tty_final_frame_keeps_export_bars(store_root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, DOCKERFILE)
    archive = tmp_path / "image.tar"
    layout = tmp_path / "layout.tar"
    status, output = run_in_pty(
        store_root,
        "build",
        "-o",
        f"type=docker,dest={archive}",
        "-o",
        f"type=oci,dest={layout}",
        str(ctx),
    )
    assert status == 0, output.decode(errors="replace")
    final = frames(output)[-1]
    docker_size = human_size(archive.stat().st_size)
    oci_size = human_size(layout.stat().st_size)
    assert re.fullmatch(
        rf"  export docker {BAR}  {docker_size} / {docker_size}  \d+\.\ds", final[2]
    ), final
    # The names are padded to the longest, so the bars line up.
    assert re.fullmatch(rf"  export oci    {BAR}  {oci_size} / {oci_size}  \d+\.\ds", final[3]), (
        final
    )
    assert final[2].index("\u2588") == final[3].index("\u2588")
    assert "\u2591" not in final[2]
    assert "\u2591" not in final[3]
    assert final[4].startswith("Built in ")
    # The live display shows bars, so the plain export lines are left out.
    assert not [line for line in final if line.startswith("Exported ")]


def test_tty_local_export_bar(store_root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, DOCKERFILE)
    folder = tmp_path / "rootfs"
    status, output = run_in_pty(store_root, "build", "-o", f"type=local,dest={folder}", str(ctx))
    assert status == 0, output.decode(errors="replace")
    final = frames(output)[-1]
    size = human_size(file_bytes(folder))
    assert re.fullmatch(rf"  export local {BAR}  {size} / {size}  \d+\.\ds", final[2]), final


def test_plain_prints_one_line_per_export(store_root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, DOCKERFILE)
    outputs = {
        "docker": tmp_path / "image.tar",
        "oci": tmp_path / "layout",
        "tar": tmp_path / "rootfs.tar",
        "local": tmp_path / "rootfs",
    }
    (tmp_path / "layout").mkdir()
    args = [arg for kind, dest in outputs.items() for arg in ("-o", f"type={kind},dest={dest}")]
    result = run(store_root, "build", "--progress", "plain", *args, str(ctx))
    lines = result.stdout.splitlines()
    exported = [line for line in lines if line.startswith("Exported ")]
    assert exported == [
        f"Exported type={kind} to {dest}: {file_bytes(dest)} bytes"
        for kind, dest in outputs.items()
    ]
    # The export lines come after the last step and before the result lines.
    assert lines.index(exported[-1]) == len(lines) - 2
    assert lines[-1].startswith("Successfully built ")
    assert "\x1b" not in result.stdout


def test_plain_export_line_is_exact(store_root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, DOCKERFILE)
    archive = tmp_path / "image.tar"
    result = run(
        store_root, "build", "--progress", "plain", "-o", f"type=docker,dest={archive}", str(ctx)
    )
    assert f"Exported type=docker to {archive}: {archive.stat().st_size} bytes" in (
        result.stdout.splitlines()
    )


def test_json_export_line(store_root: Path, tmp_path: Path) -> None:
    ctx = context(tmp_path, DOCKERFILE)
    rootfs = tmp_path / "rootfs.tar"
    result = run(
        store_root, "build", "--progress", "json", "-o", f"type=tar,dest={rootfs}", str(ctx)
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    expected = f"Exported type=tar to {rootfs}: {rootfs.stat().st_size} bytes\n"
    assert {"stream": expected} in records


def test_tty_push_bar_counts_blobs(plain: Registry, tmp_path: Path) -> None:
    ctx = tmp_path / "push-context"
    ctx.mkdir()
    (ctx / "hello").write_text("pushed with a bar\n" * 1000)
    (ctx / "Dockerfile").write_text("FROM scratch\nCOPY hello /hello\n")
    target = f"{plain.host}/exports/bar:v1"
    status, output = run_in_pty(
        tmp_path / "store", "build", "-o", f"type=registry,name={target}", str(ctx)
    )
    assert status == 0, output.decode(errors="replace")

    request = urllib.request.Request(
        f"http://{plain.host}/v2/exports/bar/manifests/v1",
        headers={
            "Accept": "application/vnd.oci.image.manifest.v1+json,"
            "application/vnd.docker.distribution.manifest.v2+json"
        },
    )
    with urllib.request.urlopen(request) as response:
        manifest = json.load(response)
    blobs = manifest["config"]["size"] + sum(layer["size"] for layer in manifest["layers"])
    final = frames(output)[-1]
    size = human_size(blobs)
    assert re.fullmatch(rf"  push     {BAR}  {size} / {size}  \d+\.\ds", final[2]), final
    assert final[3].startswith("Built in ")
    # The push line follows the final frame instead of cutting into the live display.
    pushed = [line for line in final if line.endswith(" pushed")]
    assert pushed == [f"{target}: digest: {pushed[0].split(': digest: ')[1]}"]
    assert final.index(pushed[0]) == 4


def test_save_draws_bar_on_terminal(store_root: Path, tmp_path: Path) -> None:
    archive = tmp_path / "saved.tar"
    status, output = run_in_pty(store_root, "save", "-o", str(archive), "base:test")
    assert status == 0, output.decode(errors="replace")
    text = output.decode("utf-8", "replace").replace("\r\n", "\n")
    last = text.split("\r")[-1]
    last = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", last)
    size = human_size(archive.stat().st_size)
    assert re.fullmatch(rf"save     {BAR}  {size} / {size}  \d+\.\ds\n", last), repr(last)
    assert "\u2591" not in last


def test_save_prints_nothing_off_terminal(store_root: Path, tmp_path: Path) -> None:
    archive = tmp_path / "saved.tar"
    env = dict(os.environ, DOCKWRIGHT_ROOT=str(store_root))
    result = subprocess.run(
        [str(Path(cli()).absolute()), "save", "-o", str(archive), "base:test"],
        env=env,
        capture_output=True,
        check=True,
    )
    assert result.stdout == b""
    assert result.stderr == b""
    assert archive.stat().st_size > 0


def test_python_export_events_total_file_size(
    build: BuildFunction, busybox_base: dockwright.ImageRecord, tmp_path: Path
) -> None:
    outputs = {
        "docker": tmp_path / "image.tar",
        "oci": tmp_path / "layout.tar",
        "tar": tmp_path / "rootfs.tar",
        "local": tmp_path / "rootfs",
    }
    received: list[events.BuildEvent] = []
    build(
        {"Dockerfile": "FROM busybox:local\nRUN echo exported > /note\n"},
        outputs=[f"type={kind},dest={dest}" for kind, dest in outputs.items()],
        on_event=received.append,
    )
    progress = [
        event
        for event in received
        if isinstance(event, events.TaskProgress) and event.task.startswith("export ")
    ]
    assert [event.task for event in progress if event.finished] == [
        f"export {kind}" for kind in outputs
    ]
    for kind, dest in outputs.items():
        task = [event for event in progress if event.task == f"export {kind}"]
        size = file_bytes(dest)
        assert size > 0
        assert task[0].current == 0
        assert task[0].finished is False
        assert {event.total for event in task} == {size}
        assert task[-1] == events.TaskProgress(0, f"export {kind}", size, size, "bytes", True)
    # The exports come after the build's last event.
    last_export = received.index(progress[-1])
    assert all(not isinstance(event, events.StageFinished) for event in received[last_export:])


def test_python_bare_output_is_local(
    build: BuildFunction, busybox_base: dockwright.ImageRecord, tmp_path: Path
) -> None:
    folder = tmp_path / "bare"
    build({"Dockerfile": "FROM busybox:local\n"}, outputs=str(folder))
    assert (folder / "bin" / "busybox").is_file()


def test_python_invalid_output_raises(
    build: BuildFunction, busybox_base: dockwright.ImageRecord
) -> None:
    with pytest.raises(dockwright.InvalidValueError) as caught:
        build({"Dockerfile": "FROM busybox:local\n"}, outputs="type=zip,dest=x")
    assert str(caught.value) == (
        "invalid output 'type=zip,dest=x': unknown output type zip "
        "(use docker, oci, tar, local, registry or image)"
    )
