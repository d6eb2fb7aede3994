"""`--rm` and `--force-rm`: which build containers stay as records, and the lines printed.

Docker 20.10's classic builder removes a step's container after the step succeeded unless
``--rm=false``, keeps a failed step's container unless ``--force-rm``, and prints
``Removing intermediate container <id>`` for each container it removes. Kept containers are
listed by ``dockwright container ls`` and removed by ``container rm`` and ``prune``. Also
here: ``dockwright images`` hides intermediate images unless ``-a``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

from store_support import cli
from test_build_cli import busybox_rootfs_tar, context, run


def fresh_store(tmp_path: Path) -> Path:
    """A store of its own with `base:test`, so listings hold only this test's images."""
    root = tmp_path / "store"
    tar = tmp_path / "busybox-rootfs.tar"
    tar.write_bytes(busybox_rootfs_tar())
    run(root, "import", str(tar), "base:test", "--change", 'CMD ["sh"]')
    return root


def records(root: Path) -> list[dict[str, object]]:
    """The container.json of every kept container, oldest first."""
    folder = root / "containers"
    if not folder.exists():
        return []
    found = [json.loads((item / "container.json").read_text()) for item in folder.iterdir()]
    return sorted(found, key=lambda record: str(record["Created"]))


def running_ids(stdout: str) -> list[str]:
    return re.findall(r"^ ---> Running in ([0-9a-f]{12})$", stdout, re.MULTILINE)


def test_default_removes_containers_of_good_steps(tmp_path: Path) -> None:
    root = fresh_store(tmp_path)
    ctx = context(tmp_path, "FROM base:test\nRUN echo hi\nENV A=1\n")
    result = run(root, "build", "--progress", "plain", str(ctx))
    lines = result.stdout.splitlines()
    run_id, env_id = running_ids(result.stdout)
    images = re.findall(r"^ ---> ([0-9a-f]{12})$", result.stdout, re.MULTILINE)
    assert lines[1:] == [
        "Step 1/3 : FROM base:test",
        f" ---> {images[0]}",
        "Step 2/3 : RUN echo hi",
        f" ---> Running in {run_id}",
        "hi",
        f"Removing intermediate container {run_id}",
        f" ---> {images[1]}",
        "Step 3/3 : ENV A=1",
        f" ---> Running in {env_id}",
        f"Removing intermediate container {env_id}",
        f" ---> {images[2]}",
        f"Successfully built {images[2]}",
    ]
    assert records(root) == []
    assert run(root, "container", "ls", "-q").stdout == ""


def test_rm_false_keeps_every_container(tmp_path: Path) -> None:
    root = fresh_store(tmp_path)
    ctx = context(tmp_path, "FROM base:test\nRUN echo kept > /kept\nENV K=1\n")
    result = run(root, "build", "--rm=false", "--progress", "plain", str(ctx))
    assert "Removing intermediate container" not in result.stdout
    run_id, env_id = running_ids(result.stdout)
    images = re.findall(r"^ ---> ([0-9a-f]{12})$", result.stdout, re.MULTILINE)
    kept = records(root)
    assert [str(record["Id"])[:12] for record in kept] == [run_id, env_id]
    assert kept[0]["Cmd"] == ["/bin/sh", "-c", "echo kept > /kept"]
    assert kept[0]["ExitCode"] == 0
    assert str(kept[0]["Committed"]).removeprefix("sha256:")[:12] == images[1]
    assert kept[1]["Cmd"] == ["/bin/sh", "-c", "#(nop) ", "ENV K=1"]
    assert kept[1]["ExitCode"] is None
    assert str(kept[1]["Committed"]).removeprefix("sha256:")[:12] == images[2]
    upper = root / "containers" / str(kept[0]["Id"]) / "upper"
    assert (upper / "kept").read_text() == "kept\n"

    listing = run(root, "container", "ls").stdout.splitlines()
    assert listing[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS"]
    assert listing[1].startswith(env_id)
    assert listing[1].endswith("Created")
    assert listing[2].startswith(run_id)
    assert '"/bin/sh -c echo kep…"' in listing[2]
    assert re.search(r"Exited \(0\) .* ago$", listing[2])
    assert run(root, "container", "ls", "-q").stdout.split() == [env_id, run_id]

    assert run(root, "container", "rm", run_id[:6]).stdout == f"{run_id[:6]}\n"
    assert [str(record["Id"])[:12] for record in records(root)] == [env_id]
    missing = run(root, "container", "rm", run_id, check=False)
    assert missing.returncode != 0
    assert f"Error: No such container: {run_id}" in missing.stderr

    pruned = run(root, "prune").stdout.splitlines()
    assert pruned[:2] == ["Deleted Containers:", str(kept[1]["Id"])]
    assert records(root) == []


def test_failed_step_container_is_kept(tmp_path: Path) -> None:
    root = fresh_store(tmp_path)
    ctx = context(tmp_path, "FROM base:test\nRUN echo partial > /partial; exit 4\n")
    result = run(root, "build", "--progress", "plain", str(ctx), check=False)
    assert result.returncode == 4
    assert "Removing intermediate container" not in result.stdout
    (run_id,) = running_ids(result.stdout)
    assert result.stdout.splitlines()[-1] == f" ---> Running in {run_id}"
    (kept,) = records(root)
    assert str(kept["Id"]).startswith(run_id)
    assert kept["ExitCode"] == 4
    assert kept["Committed"] == ""
    upper = root / "containers" / str(kept["Id"]) / "upper"
    assert (upper / "partial").read_text() == "partial\n"
    listing = run(root, "container", "ls").stdout.splitlines()
    assert re.search(r"Exited \(4\) .* ago$", listing[1])


def test_force_rm_removes_failed_container(tmp_path: Path) -> None:
    root = fresh_store(tmp_path)
    ctx = context(tmp_path, "FROM base:test\nRUN exit 5\n")
    result = run(root, "build", "--force-rm", "--progress", "plain", str(ctx), check=False)
    assert result.returncode == 5
    (run_id,) = running_ids(result.stdout)
    assert result.stdout.splitlines()[-2:] == [
        f" ---> Running in {run_id}",
        f"Removing intermediate container {run_id}",
    ]
    assert result.stderr.splitlines()[-1] == (
        "The command '/bin/sh -c exit 5' returned a non-zero code: 5"
    )
    assert records(root) == []


def test_force_rm_wins_over_rm_false(tmp_path: Path) -> None:
    root = fresh_store(tmp_path)
    ctx = context(tmp_path, "FROM base:test\nRUN true\n")
    result = run(root, "build", "--rm=false", "--force-rm", "--progress", "plain", str(ctx))
    (run_id,) = running_ids(result.stdout)
    assert f"Removing intermediate container {run_id}" in result.stdout.splitlines()
    assert records(root) == []


def test_copy_keeps_no_container(tmp_path: Path) -> None:
    root = fresh_store(tmp_path)
    ctx = context(tmp_path, "FROM base:test\nCOPY file /file\n", {"file": "x"})
    result = run(root, "build", "--rm=false", "--progress", "plain", str(ctx))
    assert "Running in" not in result.stdout
    assert records(root) == []


def test_interrupt_keeps_no_container(tmp_path: Path) -> None:
    root = fresh_store(tmp_path)
    ctx = context(tmp_path, "FROM base:test\nENV A=1\nRUN echo started; sleep 60\n")
    process = subprocess.Popen(
        [str(Path(cli()).absolute()), "build", "--rm=false", "--progress", "plain", str(ctx)],
        env=dict(os.environ, DOCKWRIGHT_ROOT=str(root)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # The build installs its own SIGINT handler; start it with the default one.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip() == "started":
            break
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=20)
    assert process.returncode != 0
    assert records(root) == []
    leftovers = [p.name for p in (root / "tmp").iterdir()]
    assert not [name for name in leftovers if name.startswith(("build-", "container-"))]


def test_images_hides_intermediate_images(tmp_path: Path) -> None:
    root = fresh_store(tmp_path)
    tagged = context(tmp_path / "a", "FROM base:test\nENV A=1\nENV B=2\n")
    build = run(root, "build", "-t", "img:a", "--progress", "plain", str(tagged))
    step_images = re.findall(r"^ ---> ([0-9a-f]{12})$", build.stdout, re.MULTILINE)
    intermediate = step_images[1]
    untagged = context(tmp_path / "b", "FROM base:test\nENV C=3\n")
    dangling = run(root, "build", "-q", str(untagged)).stdout.strip()[7:19]

    listed = run(root, "images").stdout.splitlines()
    assert listed[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    names = [line.split()[:3] for line in listed[1:]]
    assert ["img", "a", step_images[2]] in names
    assert ["base", "test", step_images[0]] in names
    assert ["<none>", "<none>", dangling] in names
    assert intermediate not in run(root, "images").stdout
    assert intermediate not in run(root, "images", "-q").stdout.split()

    everything = [line.split()[:3] for line in run(root, "images", "-a").stdout.splitlines()]
    assert ["<none>", "<none>", intermediate] in everything
    assert intermediate in run(root, "images", "-a", "-q").stdout.split()
