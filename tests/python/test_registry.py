"""Pull, push and login against a real docker-registry on loopback, driven through the CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_support import (
    Layout,
    Proxy,
    Registry,
    TokenServer,
    layer_tar,
    layout_manifest,
    sha256,
)

pytestmark = pytest.mark.skipif(
    shutil.which("docker-registry") is None,
    reason="docker-registry is not installed (Debian package docker-registry)",
)


def need(tool: str) -> None:
    """Skip the test when `tool` is not on PATH."""
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 signed by it, and an htpasswd file."""
    need("openssl")
    need("htpasswd")
    folder = tmp_path_factory.mktemp("tls")

    def run(*args: str) -> None:
        subprocess.run(args, cwd=folder, check=True, capture_output=True)

    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
        "-out", "ca.pem", "-days", "2", "-subj", "/CN=dockwright test CA")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
        "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
    run("htpasswd", "-Bbc", "htpasswd", "alice", "wonderland")
    return {name: folder / name for name in ("ca.pem", "server.pem", "server.key", "htpasswd")}


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory,
           tls_files: dict[str, Path]) -> Iterator[Registry]:
    """A registry over TLS with htpasswd authentication (user alice, password wonderland)."""
    server = Registry(
        tmp_path_factory.mktemp("secure"),
        auth={"htpasswd": {"realm": "dockwright-test", "path": str(tls_files["htpasswd"])}},
        tls=(tls_files["server.pem"], tls_files["server.key"]),
    )
    yield server
    server.stop()


def make_layout(root: Path, seed: str, layers: int = 2, size: int = 300_000) -> dict:
    """Write an OCI layout named `v1` with `layers` random layers; return its descriptor."""
    layout = Layout(root)
    blobs = [layer_tar({f"file{i}": os.urandom(size) + seed.encode()}) for i in range(layers)]
    descriptor = layout.image(blobs)
    layout.name(descriptor, "v1")
    return descriptor


def skopeo_copy(source: str, destination: str, *extra: str) -> None:
    """Run skopeo copy without TLS verification on either side (loopback only)."""
    need("skopeo")
    subprocess.run(
        ["skopeo", "copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false",
         *extra, source, destination],
        check=True, capture_output=True,
    )


def dockwright(cli: Path, *args: str, env: dict[str, str] | None = None,
               check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the dockwright program and return its result."""
    result = subprocess.run([str(cli), *args], capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"dockwright {' '.join(args)} failed:\n{result.stderr}")
    return result


def blob_files(root: Path) -> set[str]:
    """Return the digests of every blob file of an OCI layout, checking each file's content."""
    found = set()
    for path in (root / "blobs" / "sha256").iterdir():
        assert not path.name.startswith(".tmp"), f"temporary file left behind: {path}"
        assert sha256(path.read_bytes()) == "sha256:" + path.name
        found.add("sha256:" + path.name)
    return found


def test_pull_by_tag(cli: Path, plain: Registry, tmp_path: Path) -> None:
    source = make_layout(tmp_path / "src", "tag")
    skopeo_copy(f"oci:{tmp_path / 'src'}:v1", f"docker://{plain.host}/pull/tag:v1")
    out = tmp_path / "out"
    result = dockwright(cli, "pull", f"{plain.host}/pull/tag:v1", "--oci-layout", str(out))
    assert result.stdout == f"Digest: {source['digest']}\n"
    assert layout_manifest(out, "v1")["digest"] == source["digest"]
    assert blob_files(out) == blob_files(tmp_path / "src")


def test_pull_by_digest(cli: Path, plain: Registry, tmp_path: Path) -> None:
    source = make_layout(tmp_path / "src", "digest")
    skopeo_copy(f"oci:{tmp_path / 'src'}:v1", f"docker://{plain.host}/pull/digest:v1")
    out = tmp_path / "out"
    reference = f"{plain.host}/pull/digest@{source['digest']}"
    result = dockwright(cli, "pull", reference, "--oci-layout", str(out), "--oci-name", "pinned")
    assert result.stdout == f"Digest: {source['digest']}\n"
    assert layout_manifest(out, "pinned")["digest"] == source["digest"]


def test_pull_unknown_digest_fails(cli: Path, plain: Registry, tmp_path: Path) -> None:
    make_layout(tmp_path / "src", "unknown")
    skopeo_copy(f"oci:{tmp_path / 'src'}:v1", f"docker://{plain.host}/pull/unknown:v1")
    missing = sha256(b"nothing")
    result = dockwright(cli, "pull", f"{plain.host}/pull/unknown@{missing}", "--oci-layout",
                        str(tmp_path / "out"), check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"dockwright: {plain.host}/pull/unknown@{missing}: not found (HTTP 404): "
        "MANIFEST_UNKNOWN: manifest unknown"
    )


def test_pull_manifest_list(cli: Path, plain: Registry, tmp_path: Path) -> None:
    layout = Layout(tmp_path / "src")
    amd64 = layout.image([layer_tar({"arch": b"amd64"})], "amd64")
    arm64 = layout.image([layer_tar({"arch": b"arm64"})], "arm64")
    index = layout.index([(amd64, "amd64"), (arm64, "arm64")])
    layout.name(index, "multi")
    skopeo_copy(f"oci:{tmp_path / 'src'}:multi", f"docker://{plain.host}/pull/multi:v1", "--all")

    out = tmp_path / "out"
    result = dockwright(cli, "pull", f"{plain.host}/pull/multi:v1", "--oci-layout", str(out),
                        "--platform", "linux/arm64")
    assert result.stdout == f"Digest: {arm64['digest']}\n"
    assert layout_manifest(out, "v1")["digest"] == arm64["digest"]

    result = dockwright(cli, "pull", f"{plain.host}/pull/multi:v1", "--oci-layout", str(out),
                        "--platform", "linux/amd64")
    assert layout_manifest(out, "v1")["digest"] == amd64["digest"]

    result = dockwright(cli, "pull", f"{plain.host}/pull/multi:v1", "--oci-layout", str(out),
                        "--platform", "linux/s390x", check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"dockwright: {plain.host}/pull/multi:v1: no image for platform linux/s390x in the "
        "index (it has: linux/amd64, linux/arm64)"
    )


def test_pull_skips_present_blobs(cli: Path, plain: Registry, tmp_path: Path) -> None:
    make_layout(tmp_path / "src", "skip", layers=3)
    skopeo_copy(f"oci:{tmp_path / 'src'}:v1", f"docker://{plain.host}/pull/skip:v1")
    out = tmp_path / "out"
    dockwright(cli, "pull", f"{plain.host}/pull/skip:v1", "--oci-layout", str(out))
    again = dockwright(cli, "pull", f"{plain.host}/pull/skip:v1", "--oci-layout", str(out))
    assert again.stderr.count(": Already exists") == 3
    assert "complete" not in again.stderr


def test_push_then_pull_back(cli: Path, plain: Registry, tmp_path: Path) -> None:
    source = make_layout(tmp_path / "src", "roundtrip", layers=3)
    pushed = dockwright(cli, "push", f"{plain.host}/push/roundtrip:v1", "--oci-layout",
                        str(tmp_path / "src"))
    assert pushed.stdout == f"v1: digest: {source['digest']}\n"
    assert pushed.stderr.count("Upload complete") == 4  # Three layers and the config.
    out = tmp_path / "out"
    pulled = dockwright(cli, "pull", f"{plain.host}/push/roundtrip:v1", "--oci-layout", str(out))
    assert pulled.stdout == f"Digest: {source['digest']}\n"
    assert blob_files(out) == blob_files(tmp_path / "src")

    again = dockwright(cli, "push", f"{plain.host}/push/roundtrip:v1", "--oci-layout",
                       str(tmp_path / "src"))
    assert again.stderr.count(": Already exists") == 4


def test_push_chunked_then_skopeo_copies(cli: Path, plain: Registry, tmp_path: Path) -> None:
    source = make_layout(tmp_path / "src", "chunked", layers=2, size=3_000_000)
    dockwright(cli, "push", f"{plain.host}/push/chunked:v1", "--oci-layout",
               str(tmp_path / "src"), "--chunk-size", "1")
    skopeo_copy(f"docker://{plain.host}/push/chunked:v1", f"oci:{tmp_path / 'copy'}:v1")
    assert layout_manifest(tmp_path / "copy", "v1")["digest"] == source["digest"]
    assert blob_files(tmp_path / "copy") == blob_files(tmp_path / "src")


def test_push_index(cli: Path, plain: Registry, tmp_path: Path) -> None:
    layout = Layout(tmp_path / "src")
    amd64 = layout.image([layer_tar({"a": b"1"})], "amd64")
    arm64 = layout.image([layer_tar({"a": b"2"})], "arm64")
    index = layout.index([(amd64, "amd64"), (arm64, "arm64")])
    layout.name(index, "multi")
    pushed = dockwright(cli, "push", f"{plain.host}/push/index:v1", "--oci-layout",
                        str(tmp_path / "src"))
    assert pushed.stdout == f"v1: digest: {index['digest']}\n"
    skopeo_copy(f"docker://{plain.host}/push/index:v1", f"oci:{tmp_path / 'copy'}:v1", "--all")
    assert layout_manifest(tmp_path / "copy", "v1")["digest"] == index["digest"]


def test_push_mounts_from_other_repository(cli: Path, plain: Registry, tmp_path: Path) -> None:
    make_layout(tmp_path / "src", "mount", layers=2)
    dockwright(cli, "push", f"{plain.host}/mount/first:v1", "--oci-layout", str(tmp_path / "src"))
    second = dockwright(cli, "push", f"{plain.host}/mount/second:v1", "--oci-layout",
                        str(tmp_path / "src"), "--mount-from", "mount/first")
    assert second.stderr.count("Mounted from another repository") == 3
    assert "Upload complete" not in second.stderr


def test_corrupt_blob_is_rejected(cli: Path, plain: Registry, tmp_path: Path) -> None:
    make_layout(tmp_path / "src", "corrupt", layers=1, size=200_000)
    skopeo_copy(f"oci:{tmp_path / 'src'}:v1", f"docker://{plain.host}/bad/corrupt:v1")
    manifest = json.loads((tmp_path / "src" / "blobs" / "sha256" /
                           layout_manifest(tmp_path / "src")["digest"][7:]).read_bytes())
    layer = manifest["layers"][0]["digest"]

    def flip(path: str, body: bytes, count: int) -> bytes:
        if not path.endswith(layer):
            return body
        return body[:100] + bytes([body[100] ^ 1]) + body[101:]

    proxy = Proxy(plain.host, flip)
    try:
        out = tmp_path / "out"
        result = dockwright(cli, "pull", f"{proxy.host}/bad/corrupt:v1", "--oci-layout", str(out),
                            check=False)
    finally:
        proxy.stop()
    assert result.returncode == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"dockwright: {layer}: digest mismatch: received content with digest ")
    assert not (out / "blobs" / "sha256" / layer[7:]).exists()
    assert json.loads((out / "index.json").read_text())["manifests"] == []
    blob_files(out)  # No temporary files are left behind.


def test_dropped_connection_is_retried(cli: Path, plain: Registry, tmp_path: Path) -> None:
    source = make_layout(tmp_path / "src", "dropped", layers=2, size=1_000_000)
    skopeo_copy(f"oci:{tmp_path / 'src'}:v1", f"docker://{plain.host}/bad/dropped:v1")
    manifest = json.loads((tmp_path / "src" / "blobs" / "sha256" /
                           source["digest"][7:]).read_bytes())
    layer = manifest["layers"][1]["digest"]

    def cut_once(path: str, body: bytes, count: int) -> bytes | None:
        return None if path.endswith(layer) and count == 0 else body

    proxy = Proxy(plain.host, cut_once)
    try:
        out = tmp_path / "out"
        result = dockwright(cli, "pull", f"{proxy.host}/bad/dropped:v1", "--oci-layout", str(out))
    finally:
        proxy.stop()
    assert f"{layer[7:19]}: Retrying (attempt 2)" in result.stderr
    assert result.stdout == f"Digest: {source['digest']}\n"
    assert blob_files(out) == blob_files(tmp_path / "src")


def test_tls_needs_the_ca(cli: Path, secure: Registry, tmp_path: Path) -> None:
    result = dockwright(cli, "pull", f"{secure.host}/x/y:v1", "--oci-layout",
                        str(tmp_path / "out"), env={"DOCKER_CONFIG": str(tmp_path)}, check=False)
    assert result.returncode == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"dockwright: {secure.host}: cannot reach the registry: ")
    assert "certificate" in last


def test_login_with_wrong_password(cli: Path, secure: Registry, tls_files: dict[str, Path],
                                   tmp_path: Path) -> None:
    env = {"DOCKER_CONFIG": str(tmp_path / "docker")}
    result = dockwright(cli, "login", secure.host, "-u", "alice", "-p", "wrong", "--ca-file",
                        str(tls_files["ca.pem"]), env=env, check=False)
    assert result.returncode == 1
    assert result.stderr == (
        f"dockwright: {secure.host}: authentication failed for user 'alice': the registry "
        "rejected the credentials (HTTP 401)\n"
    )
    assert not (tmp_path / "docker" / "config.json").exists()


def test_pull_without_login_fails(cli: Path, secure: Registry, tls_files: dict[str, Path],
                                  tmp_path: Path) -> None:
    result = dockwright(cli, "pull", f"{secure.host}/x/y:v1", "--oci-layout",
                        str(tmp_path / "out"), "--ca-file", str(tls_files["ca.pem"]),
                        env={"DOCKER_CONFIG": str(tmp_path / "docker")}, check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        f"dockwright: {secure.host}: authentication required: no credentials are stored for this "
        f"registry; run 'dockwright login {secure.host}'"
    )


def test_login_push_pull_logout(cli: Path, secure: Registry, tls_files: dict[str, Path],
                                tmp_path: Path) -> None:
    env = {"DOCKER_CONFIG": str(tmp_path / "docker")}
    ca = str(tls_files["ca.pem"])
    result = subprocess.run(
        [str(cli), "login", secure.host, "-u", "alice", "--password-stdin", "--ca-file", ca],
        input="wonderland\n", capture_output=True, text=True, env={**os.environ, **env},
    )
    assert result.stdout == "Login Succeeded\n", result.stderr
    config_path = tmp_path / "docker" / "config.json"
    assert oct(config_path.stat().st_mode & 0o777) == "0o600"
    config = json.loads(config_path.read_text())
    assert config == {"auths": {secure.host: {"auth": "YWxpY2U6d29uZGVybGFuZA=="}}}

    source = make_layout(tmp_path / "src", "secure")
    pushed = dockwright(cli, "push", f"{secure.host}/team/app:v1", "--oci-layout",
                        str(tmp_path / "src"), "--ca-file", ca, env=env)
    assert pushed.stdout == f"v1: digest: {source['digest']}\n"
    out = tmp_path / "out"
    dockwright(cli, "pull", f"{secure.host}/team/app:v1", "--oci-layout", str(out),
               "--ca-file", ca, env=env)
    assert blob_files(out) == blob_files(tmp_path / "src")

    result = dockwright(cli, "logout", secure.host, env=env)
    assert result.stdout == f"Removing login credentials for {secure.host}\n"
    assert json.loads(config_path.read_text()) == {"auths": {}}


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, TokenServer]]:
    """A plain-HTTP registry behind token auth and its token server: user bob, password b0b,
    identity token refresh-bob."""
    need("openssl")
    folder = tmp_path_factory.mktemp("token")
    issuer = TokenServer(folder, "dockwright-test", {"bob": "b0b"}, {"refresh-bob": "bob"})
    server = Registry(
        folder / "registry",
        auth={"token": {"realm": issuer.realm, "service": "dockwright-test",
                        "issuer": "dockwright-test-issuer",
                        "rootcertbundle": str(issuer.certificate)}},
    )
    yield server, issuer
    server.stop()
    issuer.stop()


def test_token_auth_push_and_pull(cli: Path, token: tuple[Registry, TokenServer],
                                  tmp_path: Path) -> None:
    server, issuer = token
    env = {"DOCKER_CONFIG": str(tmp_path / "docker")}
    source = make_layout(tmp_path / "src", "token")
    denied = dockwright(cli, "push", f"{server.host}/tok/app:v1", "--oci-layout",
                        str(tmp_path / "src"), env=env, check=False)
    assert denied.returncode == 1
    assert denied.stderr.splitlines()[-1] == (
        f"dockwright: {server.host}: authentication required: no credentials are stored for this "
        f"registry; run 'dockwright login {server.host}'"
    )

    wrong = dockwright(cli, "login", server.host, "-u", "bob", "-p", "nope", env=env, check=False)
    assert wrong.stderr == (
        f"dockwright: {server.host}: authentication failed for user 'bob': the token server "
        "rejected the credentials (HTTP 401)\n"
    )
    assert dockwright(cli, "login", server.host, "-u", "bob", "-p", "b0b", env=env).stdout == (
        "Login Succeeded\n"
    )
    pushed = dockwright(cli, "push", f"{server.host}/tok/app:v1", "--oci-layout",
                        str(tmp_path / "src"), env=env)
    assert pushed.stdout == f"v1: digest: {source['digest']}\n"
    assert any("scope=repository%3Atok%2Fapp%3Apull%2Cpush" in r for r in issuer.requests)
    out = tmp_path / "out"
    dockwright(cli, "pull", f"{server.host}/tok/app:v1", "--oci-layout", str(out), env=env)
    assert blob_files(out) == blob_files(tmp_path / "src")


HELPER_SCRIPT = r'''#!/usr/bin/env python3
"""A credential helper for the tests: keeps credentials in the JSON file $HELPER_STORE."""
import json, os, sys
path = os.environ["HELPER_STORE"]
stored = json.load(open(path)) if os.path.exists(path) else {}
action = sys.argv[1]
data = sys.stdin.read()
with open(path + ".log", "a") as log:
    log.write(action + " " + (data if action != "store" else json.loads(data)["ServerURL"]) + "\n")
if action == "store":
    entry = json.loads(data)
    stored[entry["ServerURL"]] = [entry["Username"], entry["Secret"]]
elif action == "get":
    if data not in stored:
        print("credentials not found in native keychain")
        sys.exit(1)
    user, secret = stored[data]
    print(json.dumps({"ServerURL": data, "Username": user, "Secret": secret}))
elif action == "erase":
    if data not in stored:
        print("credentials not found in native keychain")
        sys.exit(1)
    del stored[data]
json.dump(stored, open(path, "w"))
'''


def helper_env(tmp_path: Path, config: dict) -> dict[str, str]:
    """Install docker-credential-dwtest in a PATH folder and write `config` as config.json."""
    folder = tmp_path / "helper-bin"
    folder.mkdir()
    script = folder / "docker-credential-dwtest"
    script.write_text(HELPER_SCRIPT)
    script.chmod(0o755)
    docker = tmp_path / "docker"
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps(config))
    return {"DOCKER_CONFIG": str(docker), "HELPER_STORE": str(tmp_path / "helper.json"),
            "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def test_login_stores_through_creds_store(cli: Path, secure: Registry,
                                          tls_files: dict[str, Path], tmp_path: Path) -> None:
    env = helper_env(tmp_path, {"credsStore": "dwtest"})
    ca = str(tls_files["ca.pem"])
    result = dockwright(cli, "login", secure.host, "-u", "alice", "-p", "wonderland",
                        "--ca-file", ca, env=env)
    assert result.stdout == "Login Succeeded\n"
    assert json.loads((tmp_path / "helper.json").read_text()) == {
        secure.host: ["alice", "wonderland"]}
    # The file keeps no copy of the secret.
    assert json.loads((tmp_path / "docker" / "config.json").read_text()) == {
        "credsStore": "dwtest"}

    source = make_layout(tmp_path / "src", "helper")
    pushed = dockwright(cli, "push", f"{secure.host}/helper/app:v1", "--oci-layout",
                        str(tmp_path / "src"), "--ca-file", ca, env=env)
    assert pushed.stdout == f"v1: digest: {source['digest']}\n"
    assert f"get {secure.host}\n" in (tmp_path / "helper.json.log").read_text()

    result = dockwright(cli, "logout", secure.host, env=env)
    assert result.stdout == f"Removing login credentials for {secure.host}\n"
    assert json.loads((tmp_path / "helper.json").read_text()) == {}
    again = dockwright(cli, "logout", secure.host, env=env)
    assert again.stdout == f"Not logged in to {secure.host}\n"
    denied = dockwright(cli, "pull", f"{secure.host}/helper/app:v1", "--oci-layout",
                        str(tmp_path / "out"), "--ca-file", ca, env=env, check=False)
    assert denied.stderr.splitlines()[-1] == (
        f"dockwright: {secure.host}: authentication required: no credentials are stored for this "
        f"registry; run 'dockwright login {secure.host}'"
    )


def test_cred_helpers_entry_wins_over_auths(cli: Path, secure: Registry,
                                            tls_files: dict[str, Path], tmp_path: Path) -> None:
    """A registry named in credHelpers uses only its helper, as Docker does."""
    env = helper_env(tmp_path, {
        "auths": {secure.host: {"auth": "YWxpY2U6d3Jvbmc="}},  # alice:wrong
        "credHelpers": {secure.host: "dwtest"},
    })
    (tmp_path / "helper.json").write_text(json.dumps({secure.host: ["alice", "wonderland"]}))
    ca = str(tls_files["ca.pem"])
    source = make_layout(tmp_path / "src", "cred-helpers")
    pushed = dockwright(cli, "push", f"{secure.host}/helper/other:v1", "--oci-layout",
                        str(tmp_path / "src"), "--ca-file", ca, env=env)
    assert pushed.stdout == f"v1: digest: {source['digest']}\n"


def test_missing_credential_helper_is_named(cli: Path, secure: Registry,
                                            tls_files: dict[str, Path], tmp_path: Path) -> None:
    docker = tmp_path / "docker"
    docker.mkdir()
    (docker / "config.json").write_text(json.dumps({"credsStore": "absent"}))
    result = dockwright(cli, "pull", f"{secure.host}/x/y:v1", "--oci-layout",
                        str(tmp_path / "out"), "--ca-file", str(tls_files["ca.pem"]),
                        env={"DOCKER_CONFIG": str(docker)}, check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "dockwright: docker-credential-absent: the credential helper is not installed: "
        "docker-credential-absent was not found in PATH"
    )


def test_identity_token_from_helper(cli: Path, token: tuple[Registry, TokenServer],
                                    tmp_path: Path) -> None:
    """A `<token>` user name makes the secret an OAuth2 refresh token, sent in a form POST."""
    server, issuer = token
    env = helper_env(tmp_path, {"credsStore": "dwtest"})
    (tmp_path / "helper.json").write_text(json.dumps({server.host: ["<token>", "refresh-bob"]}))
    source = make_layout(tmp_path / "src", "identity")
    pushed = dockwright(cli, "push", f"{server.host}/tok/identity:v1", "--oci-layout",
                        str(tmp_path / "src"), env=env)
    assert pushed.stdout == f"v1: digest: {source['digest']}\n"
    posts = [r for r in issuer.requests if r.startswith("POST ")]
    assert posts
    assert all(r.startswith("POST grant_type=refresh_token&") for r in posts)
    assert all("&refresh_token=refresh-bob" in r for r in posts)


def test_pull_draws_bars_on_a_terminal(cli: Path, plain: Registry, tmp_path: Path) -> None:
    import pty

    make_layout(tmp_path / "src", "bars", layers=2, size=8_000_000)
    skopeo_copy(f"oci:{tmp_path / 'src'}:v1", f"docker://{plain.host}/pull/bars:v1")
    reference = f"{plain.host}/pull/bars:v1"

    piped = dockwright(cli, "pull", reference, "--oci-layout", str(tmp_path / "piped"))
    assert "\x1b" not in piped.stderr
    assert "Downloading [" not in piped.stderr

    master, slave = pty.openpty()
    process = subprocess.Popen(
        [str(cli), "pull", reference, "--oci-layout", str(tmp_path / "tty")],
        stdout=subprocess.PIPE, stderr=slave, text=False,
    )
    os.close(slave)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the terminal closes with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=120) == 0
    os.close(master)
    screen = b"".join(chunks).decode()
    bars = [line for line in screen.split("\n") if "Downloading [" in line]
    assert bars, screen
    assert all(line.rstrip("\r").endswith("MB") for line in bars), bars
    assert "\x1b[" in screen
    assert "A\r\x1b[J" in screen
    assert screen.count("Download complete (8.0MB)") == 2  # one line per layer
