"""The local image store: list, tag, remove, save, load and import images.

:class:`Store` opens the same store as the ``dockwright`` command: ``$DOCKWRIGHT_ROOT``, else
``/var/lib/dockwright`` for root, else ``$XDG_DATA_HOME/dockwright``. Several processes may use
one store at the same time.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from dockwright import _core

if TYPE_CHECKING:
    from dockwright.image import Image

__all__ = ["ImageRecord", "Layer", "LayerFile", "Store", "VerifyProblem"]


@dataclass(frozen=True)
class LayerFile:
    """One entry of a layer tar: path, type (``file``, ``dir``, ``symlink``, ...), metadata."""

    path: str
    type: str
    size: int
    mode: int
    uid: int
    gid: int
    mtime: int
    link: str


@dataclass(frozen=True)
class Layer:
    """A layer of the store: the uncompressed tar stored under its diff ID."""

    diff_id: str
    size: int
    compressed_digest: str | None
    compressed_size: int
    _store: _core._Store = field(repr=False, compare=False)

    def files(self) -> list[LayerFile]:
        """Read the layer tar and return its entries in archive order."""
        return [LayerFile(**entry) for entry in self._store.layer_files(self.diff_id)]


@dataclass(frozen=True)
class ImageRecord:
    """An image of the store with its references in docker's short form (``busybox:1``).

    ``repo_digests`` are docker's ``RepoDigests`` (``busybox@sha256:...``): the digest of the
    manifest, or of the multi-platform index, that a registry served when the image was
    pulled or pushed, one per repository and digest. An image that was only built, loaded or
    imported has none.
    """

    id: str
    references: list[str]
    parent: str | None
    created: str
    size: int
    diff_ids: list[str]
    repo_digests: list[str]
    _store: _core._Store = field(repr=False, compare=False)

    @property
    def short_id(self) -> str:
        """The first 12 hex digits of the ID, as ``docker images`` shows it."""
        return self.id.split(":", 1)[1][:12]

    def config_bytes(self) -> bytes:
        """Return the config blob as stored; its SHA-256 is the image ID."""
        return self._store.config(self.id)

    def config(self) -> Image:
        """Decode the config blob into an :class:`~dockwright.Image`."""
        from dockwright.image import Image

        return Image.from_json(self.config_bytes())

    def layers(self) -> list[Layer]:
        """Return the layers bottom first; their file listings are read on demand."""
        return [
            Layer(**self._store.layer(diff_id), _store=self._store) for diff_id in self.diff_ids
        ]


@dataclass(frozen=True)
class VerifyProblem:
    """One inconsistency :meth:`Store.verify` found: what it concerns and what is wrong."""

    subject: str
    problem: str


def _familiar(name: str) -> str:
    """Shorten ``docker.io/library/x:1`` to ``x:1`` and ``docker.io/u/x:1`` to ``u/x:1``."""
    if name.startswith("docker.io/"):
        name = name[len("docker.io/") :]
        if name.startswith("library/") and "/" not in name[len("library/") :]:
            name = name[len("library/") :]
    return name


class Store:
    """The image store at ``path``, or at the default location when ``path`` is None."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        """Open the store, creating its directories and database when missing."""
        self._store = _core._Store(None if path is None else os.fspath(path))

    @property
    def root(self) -> str:
        """The store's root directory."""
        return self._store.root

    def _record(self, data: Mapping[str, Any]) -> ImageRecord:
        return ImageRecord(
            id=data["id"],
            references=[_familiar(name) for name in data["references"]],
            parent=data["parent"],
            created=data["created"],
            size=data["size"],
            diff_ids=list(data["diff_ids"]),
            repo_digests=[_familiar(name) for name in data["repo_digests"]],
            _store=self._store,
        )

    def images(self) -> list[ImageRecord]:
        """Return every image, newest first."""
        return [self._record(data) for data in self._store.images()]

    def get(self, name: str) -> ImageRecord:
        """Find an image by reference, full ID or unique ID prefix.

        Raises :class:`~dockwright.errors.ImageNotFoundError` when none matches.
        """
        return self._record(self._store.get(name))

    def tag(self, image: str, target: str) -> str | None:
        """Point the reference ``target`` at ``image``; return the image it named before."""
        return self._store.tag(image, target)

    def remove(self, image: str, force: bool = False) -> list[str]:
        """Remove a reference or an image as ``docker rmi`` does; return the lines it prints.

        An image with children, or one given by ID that several references name, raises
        :class:`~dockwright.errors.StoreError` unless ``force`` is set. Removing the last tag
        of a repository also removes that repository's digests, and the image goes once no
        tag and no repository digest is left.
        """
        return list(self._store.remove(image, force))

    def prune(self, dangling_images: bool = True) -> dict[str, Any]:
        """Remove dangling images, then unused blobs, layers, snapshots and temporary files.

        Returns the counts: ``images`` (IDs), ``blobs``, ``bytes``, ``snapshots``,
        ``temporary_files``.
        """
        return dict(self._store.prune(dangling_images))

    def verify(self) -> list[VerifyProblem]:
        """Recompute every blob digest and check the database; return every problem found."""
        return [VerifyProblem(subject, problem) for subject, problem in self._store.verify()]

    def save(
        self,
        images: str | Iterable[str],
        output: str | os.PathLike[str],
        format: Literal["docker", "oci"] = "docker",
        compression: Literal["none", "gzip", "zstd"] = "none",
    ) -> None:
        """Write images as a docker-archive tar or an OCI layout.

        With ``format="oci"``, an ``output`` that is an existing directory or ends with ``/``
        receives the layout itself; any other path receives a tar of it. ``compression``
        compresses the layers of an OCI layout; docker-archive layers stay uncompressed.
        """
        names = [images] if isinstance(images, str) else list(images)
        self._store.save(names, os.fspath(output), format, compression)

    def load(self, input: str | os.PathLike[str]) -> list[ImageRecord]:
        """Load a docker-archive or OCI layout (tar, compressed tar or directory).

        Raises :class:`~dockwright.errors.StoreError` naming the archive member on bad input,
        in which case nothing is recorded.
        """
        return [self.get(item["id"]) for item in self._store.load(os.fspath(input))]

    def import_rootfs(
        self,
        input: str | os.PathLike[str],
        reference: str | None = None,
        changes: Iterable[str] = (),
        message: str = "",
    ) -> ImageRecord:
        """Create a one-layer image from a root filesystem tar, as ``docker import`` does.

        ``changes`` are Dockerfile instructions (``CMD ["sh"]``, ``ENV A=1``) applied to the
        config.
        """
        image_id = self._store.import_rootfs(os.fspath(input), reference, list(changes), message)
        return self.get(image_id)

    def unpack(self, image: str) -> str:
        """Return the directory of the image's unpacked root filesystem.

        The layers are applied into a snapshot the first time; later calls reuse it.
        """
        return self._store.unpack(image)

    def __repr__(self) -> str:
        """Show the store's root."""
        return f"Store({self.root!r})"
