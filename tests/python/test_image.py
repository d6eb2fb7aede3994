"""Tests of the image value types, digests and their Python conveniences."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import dockwright
from dockwright import (
    Change,
    Config,
    Digest,
    HealthConfig,
    History,
    Image,
    InvalidValueError,
    JSONError,
    RootFS,
    V1Image,
)

EMPTY_CONFIG = (
    b'{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,'
    b'"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,'
    b'"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,'
    b'"Labels":null}'
)
SHA_A = "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"


def sample_image() -> Image:
    return Image(
        architecture="amd64",
        os="linux",
        created="2023-11-14T22:13:20.5Z",
        config=Config(env=["PATH=/bin"], cmd=["sh"], labels={"a": "1"}, user="app"),
        rootfs=RootFS(diff_ids=[SHA_A]),
        history=[History(created="2023-11-14T22:13:20.5Z", created_by="/bin/sh -c true")],
    )


def test_config_default_bytes() -> None:
    assert Config().to_json() == EMPTY_CONFIG


def test_config_keyword_constructor_and_attributes() -> None:
    config = Config(user="app", env=["A=1"], exposed_ports={"80/tcp"}, stop_timeout=5)
    assert config.user == "app"
    assert config.env == ["A=1"]
    assert config.exposed_ports == {"80/tcp"}
    assert config.stop_timeout == 5
    assert config.cmd is None
    assert config.labels is None


def test_config_rejects_unknown_keyword() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'usr'"):
        Config(usr="app")


def test_config_equality_and_copy() -> None:
    config = Config(user="app", labels={"k": "v"})
    duplicate = copy.copy(config)
    assert duplicate == config
    duplicate.user = "root"
    assert duplicate != config
    assert copy.deepcopy(config) == config
    assert config != "not a config"


def test_config_repr_lists_set_fields() -> None:
    assert repr(Config(user="app", env=["A=1"])) == "Config(user='app', env=['A=1'])"
    assert repr(Config()) == "Config()"


def test_config_to_dict_uses_docker_names() -> None:
    data = Config(working_dir="/app", labels={}).to_dict()
    assert data["WorkingDir"] == "/app"
    assert data["Labels"] == {}
    assert data["Env"] is None
    assert list(data)[:3] == ["Hostname", "Domainname", "User"]


def test_config_from_json_bytes_and_str() -> None:
    text = '{"User":"app","Cmd":"sh","Future":[1, 2]}'
    for data in (text, text.encode()):
        config = Config.from_json(data)
        assert config.user == "app"
        assert config.cmd == ["sh"]
        assert config.extra_fields == {"Future": "[1,2]"}


def test_healthcheck_fields() -> None:
    check = HealthConfig(test=["CMD", "true"], interval=30_000_000_000, retries=3)
    assert check.to_json() == b'{"Test":["CMD","true"],"Interval":30000000000,"Retries":3}'
    assert HealthConfig.from_json(check.to_json()) == check
    assert Config(healthcheck=check).healthcheck == check


def test_history_fields() -> None:
    entry = History(created="2023-11-14T22:13:20Z", created_by="x", empty_layer=True)
    assert entry.to_json() == (
        b'{"created":"2023-11-14T22:13:20Z","created_by":"x","empty_layer":true}'
    )
    assert History().created == "0001-01-01T00:00:00Z"
    with pytest.raises(InvalidValueError) as error:
        History(created="yesterday")
    assert error.value.kind == "timestamp"
    assert error.value.value == "yesterday"


def test_rootfs_accepts_digests_and_text() -> None:
    rootfs = RootFS(diff_ids=[Digest(SHA_A), SHA_A])
    assert rootfs.diff_ids == [Digest(SHA_A), Digest(SHA_A)]
    assert rootfs.type == "layers"
    assert RootFS().to_json() == b'{"type":"layers"}'


def test_image_id_is_sha256_of_bytes() -> None:
    image = sample_image()
    data = image.to_json()
    assert str(image.id) == "sha256:" + hashlib.sha256(data).hexdigest()
    assert Image.from_json(data) == image
    assert list(json.loads(data)) == sorted(json.loads(data))


def test_image_legacy_id_is_separate() -> None:
    image = Image(legacy_id="abc")
    assert image.legacy_id == "abc"
    assert str(image.id).startswith("sha256:")
    assert V1Image(id="abc").id == "abc"


def test_v1_image_struct_order() -> None:
    v1 = V1Image(id="abc", created="2023-11-14T22:13:20Z", os="linux")
    assert v1.to_json() == (
        b'{"id":"abc","created":"2023-11-14T22:13:20Z","container_config":'
        + EMPTY_CONFIG
        + b',"os":"linux"}'
    )


def test_digest_value_type() -> None:
    digest = Digest(SHA_A)
    assert digest.algorithm == "sha256"
    assert digest.hex == SHA_A[7:]
    assert digest.short_id == "ca978112ca1b"
    assert str(digest) == SHA_A
    assert digest == SHA_A
    assert Digest.sha256_of(b"a") == digest
    assert {digest: 1}[Digest(SHA_A)] == 1


def test_digest_rejects_bad_text() -> None:
    with pytest.raises(InvalidValueError) as error:
        Digest("sha256:abc")
    assert isinstance(error.value, ValueError)
    assert str(error.value) == "invalid digest 'sha256:abc': sha256 needs 64 hex digits, got 3"
    assert error.value.kind == "digest"
    assert error.value.reason == "sha256 needs 64 hex digits, got 3"


def test_chain_id() -> None:
    b = "sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
    assert str(dockwright.chain_id([SHA_A])) == SHA_A
    assert str(dockwright.chain_id([SHA_A, b])) == (
        "sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676"
    )


def test_json_error_fields() -> None:
    with pytest.raises(JSONError) as error:
        Image.from_json(b'{"config":{"Env":["A=1",2]}}')
    assert isinstance(error.value, ValueError)
    assert str(error.value) == "json: config.Env[1]: expected a string, got number: '2'"
    assert error.value.path == "config.Env[1]"
    assert error.value.value == "2"
    assert error.value.offset == 24
    assert error.value.reason == "expected a string, got number"


def test_json_error_for_malformed_text() -> None:
    with pytest.raises(JSONError) as error:
        Config.from_json("{")
    assert str(error.value) == "json: at offset 1: unexpected end of JSON input"
    assert error.value.path == ""


def test_diff_reports_changed_fields() -> None:
    old = sample_image()
    new = copy.copy(old)
    config = new.config
    assert config is not None
    config.env = ["PATH=/bin", "A=1"]
    config.user = "root"
    new.config = config
    changes = dockwright.diff(old, new)
    assert changes == [
        Change("config.Env", ["PATH=/bin"], ["PATH=/bin", "A=1"]),
        Change("config.User", "app", "root"),
    ]
    assert dockwright.diff(old, old) == []


def test_repr_html_tables() -> None:
    image = sample_image()
    page = image._repr_html_()
    assert "<h4>History</h4>" in page
    assert "/bin/sh -c true" in page
    assert str(image.id) in page
    assert "<th style='text-align:left'>User</th>" in Config(user="app")._repr_html_()


def test_oci_conversion(oci_validate: Callable[[str, Any], None]) -> None:
    image = sample_image()
    image.container = "c" * 64
    oci = image.to_oci_json()
    oci_validate("application/vnd.oci.image.config.v1+json", json.loads(oci))
    assert image.oci_dropped_fields() == ["container"]
    back = Image.from_oci_json(oci)
    assert back.config == image.config
    assert back.history == image.history


def oracle_configs(shared: Path) -> list[Path]:
    return sorted((shared / "oracle" / "cases").glob("*/expected-classic/config.json"))


def test_oracle_configs_round_trip(shared_dir: Path) -> None:
    configs = oracle_configs(shared_dir)
    if not configs:
        pytest.skip(f"no oracle configs under {shared_dir / 'oracle' / 'cases'}")
    for path in configs:
        data = path.read_bytes()
        image = Image.from_json(data)
        assert image.to_json() == data, path
        expected = (path.parent / "image_id").read_text().strip()
        assert str(image.id) == expected, path


def test_oracle_configs_convert_to_valid_oci(
    shared_dir: Path, oci_validate: Callable[[str, Any], None]
) -> None:
    configs = oracle_configs(shared_dir)
    if not configs:
        pytest.skip(f"no oracle configs under {shared_dir / 'oracle' / 'cases'}")
    for path in configs:
        oci = json.loads(Image.from_json(path.read_bytes()).to_oci_json())
        oci_validate("application/vnd.oci.image.config.v1+json", oci)


def test_oci_schema_examples_validate(
    shared_dir: Path, oci_validate: Callable[[str, Any], None]
) -> None:
    example = shared_dir / "conformance" / "oci-schema" / "examples" / "config-1.json"
    oci_validate("application/vnd.oci.image.config.v1+json", json.loads(example.read_text()))
    image = Image.from_oci_json(example.read_bytes())
    oci_validate("application/vnd.oci.image.config.v1+json", json.loads(image.to_oci_json()))


def test_diff_renders_as_a_table() -> None:
    old = dockwright.Config(user="app", env=["A=1"])
    new = dockwright.Config(user="root", env=["A=1"])
    changes = dockwright.diff(old, new)
    assert isinstance(changes, dockwright.Diff)
    assert changes == [dockwright.Change("User", "app", "root")]
    assert changes._repr_html_() == (
        "<table><tr><th>field</th><th>old</th><th>new</th></tr>"
        "<tr><th style='text-align:left'><code>User</code></th>"
        "<td style='text-align:left'>app</td><td style='text-align:left'>root</td></tr></table>"
    )
    assert dockwright.diff(old, old)._repr_html_() == "<i>no differences</i>"
