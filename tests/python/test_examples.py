"""Build every example of examples/ with `dockwright build` and run the images it makes.

The base images come from scripts/make-base in a temporary store (DOCKWRIGHT_ROOT). Each
image's config and history are checked. Then the image is written with `dockwright save`
and loaded into podman, whose storage is a temporary folder so that the user's podman
images are untouched, and into docker when an engine listens on /var/run/docker.sock. Each
runtime runs it and its exact output is checked. Where a docker engine runs, each example
is also built by Docker's classic builder, whose config and history must equal ours.

The debian-service example is marked slow: its first build runs debootstrap (about a
minute) and every build runs apt-get against the Debian mirror.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from store_support import cli

import dockwright

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
MAKE_BASE = REPO / "scripts" / "make-base"
DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEBIAN_BASE_CACHE = (
    Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "dockwright"
    / "debian-bookworm-minbase-r3.tar"
)
DOCKER_SOCKET = Path("/var/run/docker.sock")

# Limits given to every podman and docker run. As root, podman raises the open-file and
# process limits above the caller's hard limits by default. That fails with EPERM where the
# caller lacks CAP_SYS_RESOURCE, as in some sandboxes, but lowering a limit always works.
RUN_LIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")

INDEX_HTML = (EXAMPLES / "static-app" / "site" / "index.html").read_text()
INVENTORY_TABLE = """\
bolt       250
gear         7
nut        310
spring      48
widget      12
total      627
"""
STATUS_PAGE = """\
HTTP/1.0 200 OK
status: ok
service: lighttpd on Debian bookworm, installed by apt-get during a dockwright build
"""
MULTI_STAGE_RUN = (
    '|{count} VERSION={version} /bin/sh -c mkdir -p /out/bin /out/share/inventory  && sed "s/'
    '@VERSION@/${{VERSION}}/g" inventory.sh.in > /out/bin/inventory  && chmod 0755 '
    "/out/bin/inventory  && sort -t, -k1,1 items.csv | awk -F, -f table.awk > "
    "/out/share/inventory/table.txt"
)


@dataclass(frozen=True)
class Build:
    """One `dockwright build` of an example: its folder, extra options and tag."""

    example: str
    options: tuple[str, ...] = ()
    variant: str = "latest"

    @property
    def tag(self) -> str:
        """The reference the build is tagged with."""
        return f"example/{self.example}:{self.variant}"

    @property
    def base(self) -> str:
        """The scripts/make-base argument for the example's base image."""
        return "debian" if self.example == "debian-service" else "busybox"


HELLO = Build("hello")
STATIC_APP = Build("static-app")
MULTI_STAGE = Build("multi-stage")
MULTI_STAGE_BUILD_STAGE = Build(
    "multi-stage", ("--target", "build", "--build-arg", "VERSION=2.0"), "build-stage"
)
DEBIAN_SERVICE = Build("debian-service", ("--network", "host"))


def run(args: list[str], env: dict[str, str] | None = None, timeout: float = 900) -> str:
    """Run a program and return its standard output; fail the test with its stderr."""
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (
        f"{' '.join(args)} exited with {result.returncode}:\n{result.stderr}{result.stdout}"
    )
    return result.stdout


def require_build_command() -> None:
    """Skip when the installed dockwright program has no build command."""
    result = subprocess.run([cli(), "build", "--help"], capture_output=True, text=True)
    if result.returncode != 0 or "dockwright build" not in result.stdout:
        pytest.skip(f"{cli()} has no build command")


class ExampleImages:
    """Builds examples into one temporary store, each build once, and saves them as archives."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = dict(os.environ, DOCKWRIGHT_ROOT=str(root), DOCKWRIGHT_CLI=cli())
        self._bases: set[str] = set()
        self._images: dict[Build, str] = {}
        self._archives: dict[Build, Path] = {}

    def make_base(self, kind: str) -> None:
        """Import the busybox or debian base image with scripts/make-base, once."""
        if kind in self._bases:
            return
        if kind == "debian" and not DEBIAN_BASE_CACHE.exists():
            if shutil.which("debootstrap") is None:
                pytest.skip("debootstrap is not installed (scripts/setup installs it)")
            if os.geteuid() != 0:
                pytest.skip("debootstrap needs root to make the Debian base image")
        run([str(MAKE_BASE), kind, "--store", str(self.root)], env=self.env)
        self._bases.add(kind)

    def build(self, build: Build) -> str:
        """Build the example once and return its image ID."""
        if build not in self._images:
            require_build_command()
            self.make_base(build.base)
            context = str(EXAMPLES / build.example)
            output = run(
                [cli(), "build", "-q", "-t", build.tag, *build.options, context], env=self.env
            )
            # As with docker build -q, the standard output is only the image ID.
            assert output == f"{self.record(build).id}\n"
            self._images[build] = self.record(build).id
        return self._images[build]

    def record(self, build: Build) -> dockwright.ImageRecord:
        """Return the store's record of the built image."""
        return dockwright.Store(self.root).get(build.tag)

    def config(self, build: Build) -> dict[str, Any]:
        """Build the example and return its image config as the JSON document it is stored as."""
        self.build(build)
        document: dict[str, Any] = json.loads(self.record(build).config_bytes())
        return document

    def archive(self, build: Build) -> Path:
        """Build the example and write it as a docker-archive with `dockwright save`."""
        if build not in self._archives:
            self.build(build)
            path = self.root.parent / f"{build.example}-{build.variant}.tar"
            run([cli(), "save", "-o", str(path), build.tag], env=self.env)
            self._archives[build] = path
        return self._archives[build]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> ExampleImages:
    """The examples built into a store of this module's own."""
    return ExampleImages(tmp_path_factory.mktemp("examples") / "store")


def make_base(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/make-base with the store at ``root``."""
    env = dict(os.environ, DOCKWRIGHT_CLI=cli())
    command = [str(MAKE_BASE), *args, "--store", str(root)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


def test_make_base_busybox_twice(tmp_path: Path) -> None:
    first = make_base(tmp_path / "store", "busybox")
    assert first.returncode == 0, first.stderr
    record = dockwright.Store(tmp_path / "store").get("busybox:local")
    (diff_id,) = record.diff_ids
    assert first.stderr == f"make-base: imported busybox:local (layer {diff_id})\n"
    second = make_base(tmp_path / "store", "busybox")
    assert second.returncode == 0, second.stderr
    assert second.stderr == f"make-base: busybox:local is up to date (layer {diff_id})\n"
    assert dockwright.Store(tmp_path / "store").get("busybox:local").id == record.id
    # The tar is reproducible, so a second store gets the same layer.
    other = make_base(tmp_path / "other", "busybox")
    assert other.returncode == 0, other.stderr
    assert dockwright.Store(tmp_path / "other").get("busybox:local").diff_ids == [diff_id]


def test_make_base_replaces_changed_config(tmp_path: Path) -> None:
    store = dockwright.Store(tmp_path / "store")
    assert make_base(tmp_path / "store", "busybox").returncode == 0
    (diff_id,) = store.get("busybox:local").diff_ids
    # The same layer imported with another CMD is not the base that make-base makes.
    archive = tmp_path / "busybox.tar"
    store.save("busybox:local", archive)
    with tarfile.open(archive) as saved:
        manifest = saved.extractfile("manifest.json")
        assert manifest is not None
        (layer_name,) = json.load(manifest)[0]["Layers"]
        saved.extract(layer_name, tmp_path / "unpacked")
    store.import_rootfs(tmp_path / "unpacked" / layer_name, "busybox:local", ['CMD ["ls"]'])
    result = make_base(tmp_path / "store", "busybox")
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"make-base: imported busybox:local (layer {diff_id})\n"
    config = json.loads(store.get("busybox:local").config_bytes())
    assert config["config"]["Cmd"] == ["sh"]


def test_make_base_busybox_image(tmp_path: Path) -> None:
    result = make_base(tmp_path, "busybox")
    assert result.returncode == 0, result.stderr
    record = dockwright.Store(tmp_path).get("busybox:local")
    config = json.loads(record.config_bytes())
    assert config["config"]["Cmd"] == ["sh"]
    assert config["config"]["Env"] is None
    files = {entry.path: entry for entry in record.layers()[0].files()}
    assert files["bin/busybox"].type == "file"
    assert files["bin/busybox"].mode == 0o755
    assert files["bin/sh"].type == "symlink"
    assert files["bin/sh"].link == "busybox"
    assert {entry.uid for entry in files.values()} == {0}
    assert {entry.mtime for entry in files.values()} == {1700000000}


def test_make_base_rejects_unknown_base(tmp_path: Path) -> None:
    result = make_base(tmp_path, "alpine")
    assert result.returncode == 2
    assert result.stderr == (
        "make-base: unknown base 'alpine'\nusage: scripts/make-base busybox|debian [--store DIR]\n"
    )


@pytest.mark.slow
def test_make_base_debian_image(tmp_path: Path) -> None:
    if not DEBIAN_BASE_CACHE.exists() and shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (scripts/setup installs it)")
    result = make_base(tmp_path, "debian")
    assert result.returncode == 0, result.stderr
    assert DEBIAN_BASE_CACHE.exists()
    record = dockwright.Store(tmp_path).get("debian:bookworm-minbase")
    config = json.loads(record.config_bytes())
    assert config["config"]["Cmd"] == ["bash"]
    assert config["config"]["Env"] == [DEFAULT_PATH]
    files = {entry.path: entry for entry in record.layers()[0].files()}
    assert files["usr/sbin/policy-rc.d"].mode == 0o755
    assert files["usr/bin/apt-get"].type == "file"
    assert files["etc/shadow"].gid == 42  # group shadow: owners are kept, not forced to 0
    assert [path for path in files if path.startswith("dev/")] == []
    assert [path for path in files if path.startswith("var/lib/apt/lists/")] == []
    assert [path for path in files if path.endswith(".deb")] == []


def history_after_base(config: dict[str, Any], base_entries: int) -> list[tuple[str, bool]]:
    """Return (created_by, empty_layer) of each history entry that the Dockerfile added."""
    return [
        (entry.get("created_by", ""), entry.get("empty_layer", False))
        for entry in config["history"][base_entries:]
    ]


def assert_history(actual: list[tuple[str, bool]], expected: list[tuple[str, bool]]) -> None:
    """Compare history lines exactly, except that `<sha256>` in the expected line matches any
    64 hex digits (the content hash of a COPY source, which depends on file metadata)."""
    assert len(actual) == len(expected), "\n".join(line for line, _ in actual)
    for (line, empty), (pattern, expected_empty) in zip(actual, expected, strict=True):
        regex = re.escape(pattern).replace(re.escape("<sha256>"), "[0-9a-f]{64}")
        assert re.fullmatch(regex, line), f"{line!r} does not match {pattern!r}"
        assert empty == expected_empty, line


def nop(instruction: str) -> str:
    """Return the created_by line the classic builder writes for a config-only step."""
    return f"/bin/sh -c #(nop)  {instruction}"


def test_hello_config(images: ExampleImages) -> None:
    config = images.config(HELLO)
    assert config["config"]["Cmd"] == ["/app/hello.sh"]
    assert config["config"]["Entrypoint"] is None
    assert config["config"]["Env"] == [DEFAULT_PATH, "GREETING=Hello from dockwright"]
    assert config["config"]["User"] == "1000:1000"
    assert config["config"]["ExposedPorts"] == {"8080/tcp": {}}
    assert config["config"]["WorkingDir"] == "/app"
    assert config["config"]["Healthcheck"] == {
        "Test": ["CMD", "/app/hello.sh", "--check"],
        "Interval": 30_000_000_000,
        "Timeout": 3_000_000_000,
    }
    assert config["config"]["Labels"] == {
        "org.opencontainers.image.description": "prints a greeting",
        "org.opencontainers.image.title": "hello",
    }
    assert_history(
        history_after_base(config, 1),
        [
            (
                nop(
                    "LABEL org.opencontainers.image.title=hello "
                    "org.opencontainers.image.description=prints a greeting"
                ),
                True,
            ),
            (nop("ENV GREETING=Hello from dockwright"), True),
            ("/bin/sh -c #(nop) WORKDIR /app", False),
            ("/bin/sh -c #(nop) COPY file:<sha256> in /app/ ", False),
            ("/bin/sh -c chmod 0755 /app/hello.sh", False),
            (nop("USER 1000:1000"), True),
            (nop("EXPOSE 8080/tcp"), True),
            (
                nop('HEALTHCHECK &{["CMD" "/app/hello.sh" "--check"] "30s" "3s" "0s" \'\\x00\'}'),
                True,
            ),
            (nop('CMD ["/app/hello.sh"]'), True),
        ],
    )


def test_static_app_config(images: ExampleImages) -> None:
    config = images.config(STATIC_APP)
    assert config["config"]["Entrypoint"] == ["/usr/local/bin/serve"]
    assert config["config"]["Cmd"] == ["--port", "8080"]
    assert config["config"]["Env"] == [DEFAULT_PATH]
    assert config["config"]["User"] == "1000:1000"
    assert config["config"]["ExposedPorts"] == {"8080/tcp": {}}
    assert config["config"]["WorkingDir"] == "/srv/www"
    assert config["config"]["Healthcheck"] == {
        "Test": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1"],
        "Interval": 10_000_000_000,
        "Timeout": 2_000_000_000,
        "Retries": 3,
    }
    assert_history(
        history_after_base(config, 1),
        [
            ("/bin/sh -c #(nop) WORKDIR /srv/www", False),
            ("/bin/sh -c #(nop) COPY dir:<sha256> in ./ ", False),
            ("/bin/sh -c #(nop) COPY file:<sha256> in /usr/local/bin/serve ", False),
            (nop("USER 1000:1000"), True),
            (nop("EXPOSE 8080/tcp"), True),
            (
                nop(
                    'HEALTHCHECK &{["CMD-SHELL" "wget -q -O /dev/null http://127.0.0.1:8080/ '
                    '|| exit 1"] "10s" "2s" "0s" \'\\x03\'}'
                ),
                True,
            ),
            (nop('ENTRYPOINT ["/usr/local/bin/serve"]'), True),
            (nop('CMD ["--port" "8080"]'), True),
        ],
    )


def test_multi_stage_config(images: ExampleImages) -> None:
    config = images.config(MULTI_STAGE)
    assert config["config"]["Entrypoint"] == ["/usr/local/bin/inventory"]
    assert config["config"]["Cmd"] is None
    assert config["config"]["Env"] == [DEFAULT_PATH]
    assert config["config"]["User"] == ""
    assert "ExposedPorts" not in config["config"]
    assert config["config"]["WorkingDir"] == ""
    assert config["config"]["Labels"] == {"org.opencontainers.image.title": "inventory"}
    # Only the final stage's steps reach the image: the build and test stages leave nothing.
    assert_history(
        history_after_base(config, 1),
        [
            (nop("LABEL org.opencontainers.image.title=inventory"), True),
            ("/bin/sh -c #(nop) COPY dir:<sha256> in /usr/local/ ", False),
            (nop('ENTRYPOINT ["/usr/local/bin/inventory"]'), True),
        ],
    )
    assert len(config["rootfs"]["diff_ids"]) == 2


def test_multi_stage_target_and_build_arg(images: ExampleImages) -> None:
    config = images.config(MULTI_STAGE_BUILD_STAGE)
    assert config["config"]["Cmd"] == ["sh"]
    assert config["config"]["Entrypoint"] is None
    assert config["config"]["Env"] == [DEFAULT_PATH]
    assert config["config"]["WorkingDir"] == "/src"
    assert config["config"]["Labels"] is None
    assert_history(
        history_after_base(config, 1),
        [
            (nop("ARG VERSION=1.0"), True),
            ("/bin/sh -c #(nop) WORKDIR /src", False),
            ("/bin/sh -c #(nop) COPY dir:<sha256> in ./ ", False),
            (MULTI_STAGE_RUN.format(count=1, version="2.0"), False),
        ],
    )


def test_rebuild_uses_cache(images: ExampleImages) -> None:
    image_id = images.build(STATIC_APP)
    context = str(EXAMPLES / "static-app")
    output = run([cli(), "build", "-t", "example/static-app:again", context], env=images.env)
    # Every step after FROM comes from the cache, so the image and its ID are the same.
    assert output.count(" ---> Using cache\n") == 8
    assert output.endswith(
        f"Successfully built {image_id[7:19]}\nSuccessfully tagged example/static-app:again\n"
    )
    assert dockwright.Store(images.root).get("example/static-app:again").id == image_id


def test_examples_build_script(tmp_path: Path) -> None:
    require_build_command()
    env = dict(os.environ, DOCKWRIGHT_ROOT=str(tmp_path / "store"), DOCKWRIGHT_CLI=cli())
    output = run([str(EXAMPLES / "build"), "multi-stage", "--build-arg", "VERSION=3.1"], env=env)
    assert "\ninventory 3.1: 6 lines\n" in output  # printed by the test stage's RUN
    assert "\nSuccessfully tagged example/multi-stage:latest\n" in output
    assert "\nIMAGE          CREATED" in output  # the history table
    inspect = json.loads(output[output.index("\n[\n") :])
    assert inspect[0]["RepoTags"] == ["example/multi-stage:latest"]
    assert inspect[0]["Config"]["Entrypoint"] == ["/usr/local/bin/inventory"]


@pytest.mark.slow
def test_debian_service_config(images: ExampleImages) -> None:
    config = images.config(DEBIAN_SERVICE)
    assert config["config"]["Entrypoint"] == ["/usr/local/bin/status-page"]
    assert config["config"]["Cmd"] == ["serve"]
    assert config["config"]["Env"] == [DEFAULT_PATH]
    assert config["config"]["User"] == ""
    assert config["config"]["ExposedPorts"] == {"8080/tcp": {}}
    assert_history(
        history_after_base(config, 1),
        [
            (
                "/bin/sh -c apt-get update  && apt-get install -y --no-install-recommends "
                "lighttpd  && rm -rf /var/lib/apt/lists/*",
                False,
            ),
            ("/bin/sh -c #(nop) COPY file:<sha256> in /etc/lighttpd/status-page.conf ", False),
            ("/bin/sh -c #(nop) COPY dir:<sha256> in /var/www/status-page/ ", False),
            ("/bin/sh -c #(nop) COPY file:<sha256> in /usr/local/bin/status-page ", False),
            (nop("EXPOSE 8080/tcp"), True),
            (nop('ENTRYPOINT ["/usr/local/bin/status-page"]'), True),
            (nop('CMD ["serve"]'), True),
        ],
    )


@dataclass(frozen=True)
class Run:
    """A container run of a built example and the exact standard output it must print."""

    build: Build
    args: tuple[str, ...]
    expected: str
    options: tuple[str, ...] = ()


RUNS = [
    pytest.param(Run(HELLO, (), "Hello from dockwright\n"), id="hello"),
    pytest.param(Run(STATIC_APP, ("--get", "/"), INDEX_HTML), id="static-app"),
    pytest.param(
        Run(STATIC_APP, (), "index.html\n", ("--entrypoint", "ls")), id="static-app-dockerignore"
    ),
    pytest.param(Run(MULTI_STAGE, (), "inventory 1.0\n" + INVENTORY_TABLE), id="multi-stage"),
    pytest.param(
        Run(MULTI_STAGE_BUILD_STAGE, ("/out/bin/inventory", "--version"), "inventory 2.0\n"),
        id="multi-stage-target",
    ),
    pytest.param(
        Run(DEBIAN_SERVICE, ("check",), STATUS_PAGE), id="debian-service", marks=pytest.mark.slow
    ),
]


@pytest.fixture(scope="module")
def podman() -> Iterator[Callable[..., str]]:
    """Return podman(*args) running podman with its storage in a temporary folder."""
    binary = shutil.which("podman")
    if binary is None:
        pytest.skip("podman is not installed (scripts/setup installs it)")
    # podman's runroot path must stay under 50 bytes, so the folder is short and in /tmp.
    folder = Path(tempfile.mkdtemp(prefix="dwex-", dir="/tmp"))
    global_options = [
        "--root", str(folder / "storage"),
        "--runroot", str(folder / "run"),
        "--storage-driver", "vfs",
        "--cgroup-manager", "cgroupfs",
        "--events-backend", "none",
    ]  # fmt: skip
    # crun rejects a hybrid cgroup v1 and v2 layout whose v2 hierarchy has controllers
    # ("cgroups in hybrid mode not supported"), where runc works, so runc is used when present.
    if shutil.which("runc"):
        global_options += ["--runtime", "runc"]

    def podman(*args: str) -> str:
        return run([binary, *global_options, *args])

    yield podman
    subprocess.run([binary, *global_options, "system", "reset", "--force"], capture_output=True)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def docker() -> Callable[..., str]:
    """Return docker(*args) for the engine on /var/run/docker.sock, skipping without one."""
    binary = shutil.which("docker")
    if binary is None:
        pytest.skip("docker is not installed")
    if not DOCKER_SOCKET.is_socket():
        pytest.skip(f"docker: no engine listens on {DOCKER_SOCKET}")
    probe = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"docker: the engine on {DOCKER_SOCKET} does not respond: {probe.stderr}")

    def docker(*args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [binary, *args],
            input=stdin,
            env=dict(os.environ, DOCKER_BUILDKIT="0"),
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert result.returncode == 0, f"docker {' '.join(args)} failed:\n{result.stderr}"
        return result.stdout

    return docker


@pytest.mark.parametrize("case", RUNS)
def test_runs_in_podman(images: ExampleImages, podman: Callable[..., str], case: Run) -> None:
    image_id = images.build(case.build)
    podman("load", "-q", "-i", str(images.archive(case.build)))
    loaded = podman("image", "inspect", "--format", "{{.Id}}", image_id).strip()
    assert f"sha256:{loaded}" == image_id
    output = podman(
        "run", "--rm", "--network", "none", *RUN_LIMITS, *case.options, image_id, *case.args
    )
    assert output == case.expected


def test_static_app_health_and_stop(images: ExampleImages, podman: Callable[..., str]) -> None:
    image_id = images.build(STATIC_APP)
    podman("load", "-q", "-i", str(images.archive(STATIC_APP)))
    name = "dockwright-static-app-health"
    podman("run", "-d", "--name", name, "--network", "none", *RUN_LIMITS, image_id)
    try:
        # The HEALTHCHECK command fails until httpd listens, so it is retried for 5 seconds.
        for _ in range(50):
            try:
                podman("healthcheck", "run", name)
                break
            except AssertionError:
                time.sleep(0.1)
        assert podman("inspect", "--format", "{{.State.Health.Status}}", name) == "healthy\n"
        podman("stop", "--time", "10", name)
        # The server script stops httpd on SIGTERM and exits with 0; without its trap, the
        # signal would be ignored (PID 1) and podman would SIGKILL it after 10 s (status 137).
        assert podman("inspect", "--format", "{{.State.ExitCode}}", name) == "0\n"
        assert podman("logs", name) == "serving /srv/www on port 8080\n"
    finally:
        podman("rm", "--force", name)


@pytest.mark.parametrize("case", RUNS)
def test_runs_in_docker(images: ExampleImages, docker: Callable[..., str], case: Run) -> None:
    image_id = images.build(case.build)
    docker("load", "-q", "-i", str(images.archive(case.build)))
    try:
        output = docker(
            "run", "--rm", "--network", "none", *RUN_LIMITS, *case.options, image_id, *case.args
        )
        assert output == case.expected
    finally:
        subprocess.run(["docker", "rmi", "--force", image_id], capture_output=True, timeout=60)


BASE_REFERENCES = {"busybox": "busybox:local", "debian": "debian:bookworm-minbase"}


class DockerClassicBuilds:
    """Builds the examples with Docker's classic builder on the bases that dockwright used.

    The engine may be shared, so every image gets a name under a prefix of this process's own
    and the bases are loaded under such names too: loading an archive tagged busybox:local
    would take that tag away from whoever else uses the engine.
    """

    def __init__(self, docker: Callable[..., str], images: ExampleImages) -> None:
        self.docker = docker
        self.images = images
        self.prefix = f"dockwright-examples-{os.getpid()}"
        self.references: list[str] = []

    def base(self, kind: str) -> str:
        """Load the dockwright base image into docker under a unique name and return it."""
        reference = f"{self.prefix}/{kind}:base"
        if reference not in self.references:
            self.images.make_base(kind)
            env = self.images.env
            run([cli(), "tag", BASE_REFERENCES[kind], reference], env=env)
            archive = self.images.root.parent / f"docker-base-{kind}.tar"
            run([cli(), "save", "-o", str(archive), reference], env=env)
            self.docker("load", "-q", "-i", str(archive))
            self.references.append(reference)
        return reference

    def config(self, build: Build) -> dict[str, Any]:
        """Build the example with DOCKER_BUILDKIT=0 and return its image config document."""
        base = self.base(build.base)
        dockerfile = (EXAMPLES / build.example / "Dockerfile").read_text()
        dockerfile = dockerfile.replace(f"FROM {BASE_REFERENCES[build.base]}", f"FROM {base}")
        tag = f"{self.prefix}/{build.example}:{build.variant}"
        context = str(EXAMPLES / build.example)
        options = [*build.options]
        if "ARG BASE=" in dockerfile:
            options += ["--build-arg", f"BASE={base}"]
        output = self.docker("build", "-t", tag, *options, "-f", "-", context, stdin=dockerfile)
        self.references.append(tag)
        self.references.extend(step_images(output))
        archive = self.images.root.parent / f"docker-{build.example}-{build.variant}.tar"
        self.docker("save", "-o", str(archive), tag)
        with tarfile.open(archive) as saved:
            manifest = saved.extractfile("manifest.json")
            assert manifest is not None
            config = saved.extractfile(json.load(manifest)[0]["Config"])
            assert config is not None
            document: dict[str, Any] = json.load(config)
        return document

    def remove_all(self) -> None:
        """Remove the images this object made, newest first.

        Without --force, docker keeps an image that another reference or a child still uses.
        """
        for reference in reversed(self.references):
            subprocess.run(["docker", "rmi", reference], capture_output=True, timeout=120)


def step_images(output: str) -> list[str]:
    """Return the image IDs that a classic build printed for its steps, except the bases.

    Each stage's last image stays in the engine untagged when it is not the target, so the
    IDs are the only handle to remove them.
    """
    ids = []
    from_step = False
    for line in output.splitlines():
        if line.startswith("Step "):
            from_step = " : FROM " in line
        elif (match := re.fullmatch(r" ---> ([0-9a-f]{12})", line)) and not from_step:
            ids.append(match.group(1))
    return ids


@pytest.fixture(scope="module")
def docker_classic(
    docker: Callable[..., str], images: ExampleImages
) -> Iterator[DockerClassicBuilds]:
    """Docker's classic builds of the examples, removed from the engine afterwards."""
    builds = DockerClassicBuilds(docker, images)
    yield builds
    builds.remove_all()


def build_record(config: dict[str, Any]) -> dict[str, Any]:
    """Return what a build writes deterministically: the config without its parent image ID,
    and each history entry's created_by, comment and empty_layer."""
    runtime_config = {key: value for key, value in config["config"].items() if key != "Image"}
    history = [
        (entry.get("created_by"), entry.get("comment"), entry.get("empty_layer", False))
        for entry in config["history"]
    ]
    return {"config": runtime_config, "history": history, "os": config["os"]}


CLASSIC_BUILDS = [
    pytest.param(HELLO, id="hello"),
    pytest.param(STATIC_APP, id="static-app"),
    pytest.param(MULTI_STAGE, id="multi-stage"),
    pytest.param(MULTI_STAGE_BUILD_STAGE, id="multi-stage-target"),
    pytest.param(DEBIAN_SERVICE, id="debian-service", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("build", CLASSIC_BUILDS)
def test_matches_docker_classic_build(
    images: ExampleImages, docker_classic: DockerClassicBuilds, build: Build
) -> None:
    ours = build_record(images.config(build))
    theirs = build_record(docker_classic.config(build))
    assert ours["config"] == theirs["config"]
    assert ours["history"] == theirs["history"]
    assert ours["os"] == theirs["os"]
