"""Type stubs of dockwright._core, the C++ extension behind the public package."""

from collections.abc import Callable, Iterable
from os import PathLike as _PathLike
from typing import Any, TypedDict

__version__: str

# --- word expansion (dockwright.shell) ---

def expand(word: str, env: list[str], escape: str = "\\") -> str: ...
def expand_words(word: str, env: list[str], escape: str = "\\") -> list[str]: ...

# --- .dockerignore (dockwright.dockerignore) ---

class DockerIgnore:
    def __init__(self, patterns: list[str]) -> None: ...
    @staticmethod
    def parse(text: str | bytes) -> DockerIgnore: ...
    def matches(self, path: str) -> bool: ...
    def can_skip_directory(self, path: str) -> bool: ...
    @property
    def patterns(self) -> list[str]: ...
    @property
    def has_exceptions(self) -> bool: ...

def read_dockerignore(text: str | bytes) -> list[str]: ...

# --- Dockerfile parser (dockwright.dockerfile) ---

def parse_dockerfile(
    text: str, escape: str | None = None, classic: bool = False, check: bool = True
) -> dict[str, Any]: ...

# --- image value types and digests (dockwright.image) ---

class Digest:
    def __init__(self, text: str) -> None: ...
    @staticmethod
    def sha256_of(data: bytes) -> Digest: ...
    @property
    def algorithm(self) -> str: ...
    @property
    def hex(self) -> str: ...
    @property
    def short_id(self) -> str: ...
    def __eq__(self, other: object) -> bool: ...
    def __lt__(self, other: Digest) -> bool: ...
    def __hash__(self) -> int: ...

def chain_id(diff_ids: Iterable[str | Digest]) -> Digest: ...

class HealthConfig:
    test: list[str] | None
    interval: int
    timeout: int
    start_period: int
    retries: int
    def __init__(
        self,
        *,
        test: list[str] | None = ...,
        interval: int = ...,
        timeout: int = ...,
        start_period: int = ...,
        retries: int = ...,
    ) -> None: ...
    @staticmethod
    def from_json(data: bytes | str) -> HealthConfig: ...
    def to_json(self) -> bytes: ...
    def to_dict(self) -> dict[str, Any]: ...
    @property
    def extra_fields(self) -> dict[str, str]: ...

class Config:
    hostname: str
    domainname: str
    user: str
    attach_stdin: bool
    attach_stdout: bool
    attach_stderr: bool
    exposed_ports: set[str] | None
    tty: bool
    open_stdin: bool
    stdin_once: bool
    env: list[str] | None
    cmd: list[str] | None
    healthcheck: HealthConfig | None
    args_escaped: bool
    image: str
    volumes: set[str] | None
    working_dir: str
    entrypoint: list[str] | None
    network_disabled: bool
    mac_address: str
    on_build: list[str] | None
    labels: dict[str, str] | None
    stop_signal: str
    stop_timeout: int | None
    shell: list[str] | None
    def __init__(
        self,
        *,
        hostname: str = ...,
        domainname: str = ...,
        user: str = ...,
        attach_stdin: bool = ...,
        attach_stdout: bool = ...,
        attach_stderr: bool = ...,
        exposed_ports: set[str] | None = ...,
        tty: bool = ...,
        open_stdin: bool = ...,
        stdin_once: bool = ...,
        env: list[str] | None = ...,
        cmd: list[str] | None = ...,
        healthcheck: HealthConfig | None = ...,
        args_escaped: bool = ...,
        image: str = ...,
        volumes: set[str] | None = ...,
        working_dir: str = ...,
        entrypoint: list[str] | None = ...,
        network_disabled: bool = ...,
        mac_address: str = ...,
        on_build: list[str] | None = ...,
        labels: dict[str, str] | None = ...,
        stop_signal: str = ...,
        stop_timeout: int | None = ...,
        shell: list[str] | None = ...,
    ) -> None: ...
    @staticmethod
    def from_json(data: bytes | str) -> Config: ...
    def to_json(self) -> bytes: ...
    def to_dict(self) -> dict[str, Any]: ...
    @property
    def extra_fields(self) -> dict[str, str]: ...

class History:
    created: str
    author: str
    created_by: str
    comment: str
    empty_layer: bool
    def __init__(
        self,
        *,
        created: str = ...,
        author: str = ...,
        created_by: str = ...,
        comment: str = ...,
        empty_layer: bool = ...,
    ) -> None: ...
    @staticmethod
    def from_json(data: bytes | str) -> History: ...
    def to_json(self) -> bytes: ...
    def to_dict(self) -> dict[str, Any]: ...
    @property
    def extra_fields(self) -> dict[str, str]: ...

class RootFS:
    type: str
    @property
    def diff_ids(self) -> list[Digest]: ...
    @diff_ids.setter
    def diff_ids(self, value: Iterable[str | Digest]) -> None: ...
    def __init__(self, *, type: str = ..., diff_ids: Iterable[str | Digest] = ...) -> None: ...
    @staticmethod
    def from_json(data: bytes | str) -> RootFS: ...
    def to_json(self) -> bytes: ...
    def to_dict(self) -> dict[str, Any]: ...
    @property
    def extra_fields(self) -> dict[str, str]: ...

class V1Image:
    id: str
    parent: str
    comment: str
    created: str
    container: str
    container_config: Config
    docker_version: str
    author: str
    config: Config | None
    architecture: str
    variant: str
    os: str
    size: int
    def __init__(
        self,
        *,
        id: str = ...,
        parent: str = ...,
        comment: str = ...,
        created: str = ...,
        container: str = ...,
        container_config: Config = ...,
        docker_version: str = ...,
        author: str = ...,
        config: Config | None = ...,
        architecture: str = ...,
        variant: str = ...,
        os: str = ...,
        size: int = ...,
    ) -> None: ...
    @staticmethod
    def from_json(data: bytes | str) -> V1Image: ...
    def to_json(self) -> bytes: ...
    def to_dict(self) -> dict[str, Any]: ...
    @property
    def extra_fields(self) -> dict[str, str]: ...

class Image:
    legacy_id: str
    parent: str
    comment: str
    created: str
    container: str
    container_config: Config
    docker_version: str
    author: str
    config: Config | None
    architecture: str
    variant: str
    os: str
    size: int
    rootfs: RootFS | None
    history: list[History]
    os_version: str
    os_features: list[str]
    def __init__(
        self,
        *,
        legacy_id: str = ...,
        parent: str = ...,
        comment: str = ...,
        created: str = ...,
        container: str = ...,
        container_config: Config = ...,
        docker_version: str = ...,
        author: str = ...,
        config: Config | None = ...,
        architecture: str = ...,
        variant: str = ...,
        os: str = ...,
        size: int = ...,
        rootfs: RootFS | None = ...,
        history: list[History] = ...,
        os_version: str = ...,
        os_features: list[str] = ...,
    ) -> None: ...
    @property
    def id(self) -> Digest: ...
    @staticmethod
    def from_json(data: bytes | str) -> Image: ...
    def to_json(self) -> bytes: ...
    def to_dict(self) -> dict[str, Any]: ...
    @staticmethod
    def from_oci_json(data: bytes | str) -> Image: ...
    def to_oci_json(self) -> bytes: ...
    def oci_dropped_fields(self) -> list[str]: ...
    @property
    def extra_fields(self) -> dict[str, str]: ...

# --- the evaluator (dockwright.build) ---

class StepRecord:
    @property
    def instruction(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def executed(self) -> bool: ...
    @property
    def layer(self) -> str: ...
    @property
    def hash_known(self) -> bool: ...

class StageEvaluation:
    @property
    def name(self) -> str: ...
    @property
    def index(self) -> int: ...
    @property
    def base(self) -> str: ...
    @property
    def image_id(self) -> Digest | None: ...
    @property
    def image(self) -> Image: ...
    @property
    def base_history(self) -> int: ...
    @property
    def steps(self) -> list[StepRecord]: ...

class Evaluation:
    @property
    def stages(self) -> list[StageEvaluation]: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def target(self) -> StageEvaluation: ...

class _BuildFailure:
    @property
    def message(self) -> str: ...
    @property
    def docker_message(self) -> str: ...
    @property
    def exit_code(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def file(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def end_line(self) -> int: ...
    @property
    def instruction(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def value(self) -> str: ...

def _evaluate(
    text: str,
    dockerfile_name: str,
    context: _PathLike[str] | str,
    build_args: dict[str, str],
    target: str,
    labels: dict[str, str],
    classic: bool,
    bases: dict[str, Image],
) -> Evaluation | _BuildFailure: ...

# --- the local build (dockwright.build) ---

def _build(
    store: _Store,
    location: str,
    dockerfile: str,
    tags: list[str],
    build_args: dict[str, str],
    target: str,
    labels: dict[str, str],
    no_cache: bool,
    classic: bool,
    history_style: str,
    network: str,
    pull: str,
    reproducible: bool,
    source_date_epoch: int | None,
    secrets: list[tuple[str, str]],
    cache_to: list[str],
    cache_from: list[str],
    outputs: list[str],
    take_sigint: bool,
    on_event: Callable[[dict[str, Any]], None],
) -> tuple[str, Evaluation] | _BuildFailure: ...

# ---- image store (dockwright.store wraps these) ----

class _ImageData(TypedDict):
    """An image of the store; references and repo_digests in full form."""

    id: str
    parent: str | None
    references: list[str]
    diff_ids: list[str]
    created: str
    size: int
    repo_digests: list[str]

class _Store:
    def __init__(self, path: str | None = None) -> None: ...
    @property
    def root(self) -> str: ...
    def images(self) -> list[_ImageData]: ...
    def get(self, name: str) -> _ImageData: ...
    def config(self, id: str) -> bytes: ...
    def layer(self, diff_id: str) -> dict[str, Any]: ...
    def layer_files(self, diff_id: str) -> list[dict[str, Any]]: ...
    def tag(self, source: str, target: str) -> str | None: ...
    def remove(self, name: str, force: bool = False) -> list[str]: ...
    def prune(self, dangling_images: bool = True) -> dict[str, Any]: ...
    def verify(self) -> list[tuple[str, str]]: ...
    def save(
        self, names: list[str], output: str, format: str = "docker", compression: str = "none"
    ) -> None: ...
    def load(self, input: str) -> list[dict[str, Any]]: ...
    def import_rootfs(
        self,
        input: str,
        reference: str | None = None,
        changes: list[str] = ...,
        message: str = "",
    ) -> str: ...
    def unpack(self, name: str) -> str: ...
