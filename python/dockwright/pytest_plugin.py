"""pytest plugin: build fixtures and one test item per ``expect.yaml`` build case.

Installed with dockwright through the ``pytest11`` entry point ``dockwright``, so pytest loads
it without a conftest line (``-p no:dockwright`` turns it off). Fixtures:

- ``dockwright_store``: an empty :class:`~dockwright.Store` in the test's temporary folder;
- ``busybox_base``: ``busybox:local`` imported into that store from a statically linked
  busybox (the ``dockwright_busybox`` ini option, ``/bin/busybox`` by default);
- ``build``: a function that builds a context into that store and returns the
  :class:`~dockwright.BuildResult`.

Every file named ``expect.yaml`` under the collected folders becomes one test item that builds
the folder and reports each unmet expectation with a readable diff (docs/pytest.md).
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from dockwright.build import build as build_context
from dockwright.build_result import BuildResult
from dockwright.conformance import (
    BUSYBOX,
    CaseFileError,
    CaseOutcome,
    busybox_problem,
    import_busybox,
    load_case,
    run_case,
    write_busybox_rootfs,
)
from dockwright.store import ImageRecord, Store

__all__ = [
    "BuildFunction",
    "ExpectFile",
    "ExpectItem",
    "build",
    "busybox_base",
    "dockwright_store",
]

#: The ``build`` fixture: ``build(context, dockerfile=None, **options) -> BuildResult``.
BuildFunction = Callable[..., BuildResult]

_ROOTFS_KEY = pytest.StashKey[Path]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``dockwright_busybox`` ini option."""
    parser.addini(
        "dockwright_busybox",
        "statically linked busybox that the busybox_base fixture and expect.yaml cases use",
        default=str(BUSYBOX),
    )


def _busybox_rootfs(config: pytest.Config) -> Path:
    """Return the busybox root filesystem tar, written once per session; skip without busybox."""
    cached = config.stash.get(_ROOTFS_KEY, None)
    if cached is not None:
        return cached
    busybox = str(config.getini("dockwright_busybox"))
    problem = busybox_problem(busybox)
    if problem is not None:
        pytest.skip(f"no busybox base image: {problem}")
    folder = tempfile.TemporaryDirectory(prefix="dockwright-busybox-")
    config.add_cleanup(folder.cleanup)
    tar = Path(folder.name) / "rootfs.tar"
    write_busybox_rootfs(tar, busybox)
    config.stash[_ROOTFS_KEY] = tar
    return tar


@pytest.fixture
def dockwright_store(tmp_path: Path) -> Store:
    """Open an empty image store in the test's temporary folder."""
    return Store(tmp_path / "dockwright-store")


@pytest.fixture
def busybox_base(dockwright_store: Store, request: pytest.FixtureRequest) -> ImageRecord:
    """``busybox:local`` in ``dockwright_store``, from a statically linked busybox."""
    return import_busybox(dockwright_store, rootfs=_busybox_rootfs(request.config))


def _write_context(folder: Path, files: Mapping[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return folder


@pytest.fixture
def build(dockwright_store: Store, tmp_path: Path) -> BuildFunction:
    """Build a context into ``dockwright_store``: ``build(context, dockerfile=None, **options)``.

    ``context`` is a folder, or a mapping of file names to contents that is written to a
    fresh folder first. The options are those of :func:`dockwright.build`, except that
    ``pull`` defaults to ``"never"`` so that tests stay offline.
    """
    contexts = itertools.count()

    def run(
        context: str | os.PathLike[str] | Mapping[str, str | bytes],
        dockerfile: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> BuildResult:
        if isinstance(context, Mapping):
            folder = tmp_path / f"context-{next(contexts)}"
            folder.mkdir()
            context = _write_context(folder, context)
        options.setdefault("pull", "never")
        return build_context(context, dockerfile, store=dockwright_store, **options)

    return run


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect every ``expect.yaml`` as a build case."""
    if file_path.name == "expect.yaml":
        collector: ExpectFile = ExpectFile.from_parent(parent, path=file_path)
        return collector
    return None


class ExpectFile(pytest.File):
    """An ``expect.yaml`` file, which contains one item named after its folder."""

    def collect(self) -> Iterator[ExpectItem]:
        """Yield the case's item."""
        yield ExpectItem.from_parent(self, name=self.path.parent.name)


class CaseFailed(AssertionError):
    """A build case whose build did not meet its expectations."""

    def __init__(self, outcome: CaseOutcome) -> None:
        """Keep the outcome for the report."""
        super().__init__(outcome.report())
        self.outcome = outcome


class ExpectItem(pytest.Item):
    """One build case: builds the folder of ``expect.yaml`` into a temporary store."""

    def runtest(self) -> None:
        """Load the case, build it and raise :class:`CaseFailed` on a mismatch."""
        case = load_case(self.path)
        with tempfile.TemporaryDirectory(prefix="dockwright-case-") as folder:
            store = Store(folder)
            if "busybox" in case.bases:
                import_busybox(store, rootfs=_busybox_rootfs(self.config))
            outcome = run_case(case, store)
        if not outcome.passed:
            raise CaseFailed(outcome)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        """Show the mismatches as a readable diff instead of a traceback."""
        if isinstance(excinfo.value, (CaseFailed, CaseFileError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Name the case by its file."""
        return self.path, None, f"build case {self.name}"
