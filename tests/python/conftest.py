"""Fixtures shared by the Python tests: the shared reference corpus, OCI schema validation,
the dockwright program and a plain loopback registry."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from registry_support import Registry, find_cli

REPO = Path(__file__).resolve().parents[2]


def shared_path() -> Path | None:
    """Return the shared corpus: $DOCKWRIGHT_SHARED, else the folder beside the repository."""
    env = os.environ.get("DOCKWRIGHT_SHARED")
    path = Path(env) if env else REPO.parent / "shared"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared corpus folder; tests using it skip when it is absent."""
    path = shared_path()
    if path is None:
        pytest.skip("the shared corpus was not found; set DOCKWRIGHT_SHARED to its folder")
    return path


@pytest.fixture(scope="session")
def oci_validate(shared_dir: Path) -> Callable[[str, Any], None]:
    """Return validate(media_type, document), raising jsonschema's ValidationError.

    The OCI schemas are draft-04 with `id` values that move the base URI, so each schema is
    registered under its file name and every alias listed in url-aliases.json, offline.
    """
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is needed for OCI schemas")
    referencing = pytest.importorskip("referencing", reason="referencing is needed for OCI schemas")
    from referencing.jsonschema import DRAFT4

    folder = shared_dir / "conformance" / "oci-schema"
    if not folder.is_dir():
        pytest.skip(f"the OCI schemas were not found in {folder}")
    aliases = json.loads((folder / "url-aliases.json").read_text())
    resources = []
    for name, urls in aliases["aliases"].items():
        resource = DRAFT4.create_resource(json.loads((folder / name).read_text()))
        resources.append((name, resource))
        resources.extend((url, resource) for url in urls)
    registry = referencing.Registry().with_resources(resources)

    def validate(media_type: str, document: Any) -> None:
        schema_name = aliases["entry_points_by_media_type"][media_type]
        schema = json.loads((folder / schema_name).read_text())
        validator = jsonschema.Draft4Validator(
            schema, registry=registry, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
        )
        validator.validate(document)

    return validate


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers of the test suite."""
    config.addinivalue_line(
        "markers", "slow: takes a minute or more (debootstrap, apt-get); still runs in CI"
    )


@pytest.fixture(scope="module")
def cli() -> Path:
    """The dockwright program."""
    path = find_cli()
    if path is None or not path.exists():
        pytest.skip("the dockwright program was not found; set DOCKWRIGHT_CLI")
    return path


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry over plain HTTP without authentication."""
    server = Registry(tmp_path_factory.mktemp("plain"))
    yield server
    server.stop()
