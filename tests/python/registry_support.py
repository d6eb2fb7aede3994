"""Helpers for the registry tests: OCI layouts, a loopback registry server and test proxies."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import http.server
import io
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tarfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sha256(data: bytes) -> str:
    """Return the `sha256:<hex>` digest of `data`."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def find_cli() -> Path | None:
    """Return the dockwright program: $DOCKWRIGHT_CLI, else the one beside the Python used."""
    env = os.environ.get("DOCKWRIGHT_CLI")
    if env:
        return Path(env)
    beside = Path(os.sys.executable).parent / "dockwright"
    if beside.exists():
        return beside
    found = shutil.which("dockwright")
    return Path(found) if found else None


def layer_tar(files: dict[str, bytes]) -> bytes:
    """Return a gzip-compressed tar holding `files` (name to content), reproducibly."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(content))
    return gzip.compress(raw.getvalue(), compresslevel=1, mtime=0)


class Layout:
    """An OCI image layout being written: blobs, manifests and a final index.json."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
        self.entries: list[dict[str, Any]] = []

    def blob(self, data: bytes, media_type: str) -> dict[str, Any]:
        """Store `data` and return its descriptor."""
        digest = sha256(data)
        (self.root / "blobs" / "sha256" / digest[7:]).write_bytes(data)
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def image(self, layers: list[bytes], arch: str = "amd64") -> dict[str, Any]:
        """Store an image of gzip layers and return its manifest descriptor."""
        diff_ids = [sha256(gzip.decompress(layer)) for layer in layers]
        config = json.dumps(
            {
                "architecture": arch,
                "os": "linux",
                "config": {"Env": ["PATH=/bin"]},
                "rootfs": {"type": "layers", "diff_ids": diff_ids},
            }
        ).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": self.blob(config, "application/vnd.oci.image.config.v1+json"),
            "layers": [
                self.blob(layer, "application/vnd.oci.image.layer.v1.tar+gzip") for layer in layers
            ],
        }
        data = json.dumps(manifest).encode()
        return self.blob(data, "application/vnd.oci.image.manifest.v1+json")

    def index(self, manifests: list[tuple[dict[str, Any], str]]) -> dict[str, Any]:
        """Store an image index of (manifest descriptor, architecture) pairs."""
        entries = [dict(m, platform={"os": "linux", "architecture": a}) for m, a in manifests]
        data = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": entries,
            }
        ).encode()
        return self.blob(data, "application/vnd.oci.image.index.v1+json")

    def name(self, descriptor: dict[str, Any], name: str) -> None:
        """List `descriptor` in index.json under the ref.name `name`."""
        entry = dict(descriptor, annotations={"org.opencontainers.image.ref.name": name})
        self.entries.append(entry)
        index = {"schemaVersion": 2, "manifests": self.entries}
        (self.root / "index.json").write_text(json.dumps(index))


def layout_manifest(root: Path, name: str | None = None) -> dict[str, Any]:
    """Return the index.json entry of an OCI layout named `name` (or its only entry)."""
    entries = json.loads((root / "index.json").read_text())["manifests"]
    if name is not None:
        entries = [
            e
            for e in entries
            if e.get("annotations", {}).get("org.opencontainers.image.ref.name") == name
        ]
    assert len(entries) == 1, entries
    return dict(entries[0])


class Registry:
    """A docker-registry process on 127.0.0.1, stopped by pid."""

    def __init__(self, root: Path, auth: dict[str, Any] | None = None,
                 tls: tuple[Path, Path] | None = None) -> None:
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        root.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": str(root / "data")},
                        "delete": {"enabled": True}},
            "http": {"addr": self.host, "secret": "dockwright-test"},
        }
        if tls:
            config["http"]["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
        if auth:
            config["auth"] = auth
        config_path = root / "config.yml"
        config_path.write_text(json.dumps(config))  # JSON is valid YAML.
        self.log = open(root / "registry.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            ["docker-registry", "serve", str(config_path)],
            stdout=self.log, stderr=subprocess.STDOUT,
        )
        scheme = "https" if tls else "http"
        context = ssl._create_unverified_context()  # Used only to wait until the port responds.
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{scheme}://{self.host}/v2/", timeout=1, context=context)
                break
            except urllib.error.HTTPError:
                break  # 401 also means the server is up.
            except OSError as error:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"docker-registry did not start: see {root}/registry.log"
                    ) from error
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop the server and wait for it."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


class Proxy:
    """A loopback HTTP proxy in front of a plain registry that can damage blob responses.

    `mangle(path, body, count)` returns the body to send, None to cut the connection after
    half of it, Proxy.Cut(body) to send half of another body and cut, or Proxy.STALL to send
    half and then hold the connection open until stop().
    `count` is the number of earlier full GETs of that path. Only whole (HTTP 200) blob
    responses are mangled; `requests` records (method, path, Range header) of every request.
    With `ranges=False` the Range header is not forwarded, like a registry without range
    support.
    """

    STALL = b"stall"

    class Cut:
        """A body of which only the first half is sent before the connection is cut."""

        def __init__(self, body: bytes) -> None:
            self.body = body

    def __init__(self, upstream: str,
                 mangle: Callable[[str, bytes, int], bytes | Proxy.Cut | None],
                 ranges: bool = True) -> None:
        counts: dict[str, int] = {}
        lock = threading.Lock()
        self.requests: list[tuple[str, str, str | None]] = []
        self.stopping = threading.Event()
        requests = self.requests
        stopping = self.stopping

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def forward(self, method: str) -> None:
                with lock:
                    requests.append((method, self.path, self.headers.get("Range")))
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                connection = http.client.HTTPConnection(upstream, timeout=30)
                dropped = {"host"} if ranges else {"host", "range"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
                connection.request(method, self.path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                cut = False
                stall = False
                if method == "GET" and "/blobs/sha256:" in self.path and response.status == 200:
                    with lock:
                        count = counts.get(self.path, 0)
                        counts[self.path] = count + 1
                    changed = mangle(self.path, data, count)
                    if changed is None:
                        cut = True
                    elif changed is Proxy.STALL:
                        stall = True
                    elif isinstance(changed, Proxy.Cut):
                        data = changed.body
                        cut = True
                    else:
                        data = changed
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if method == "HEAD":
                    return
                if stall:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    stopping.wait(120)
                    self.close_connection = True
                    return
                if cut:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(data)

            def do_GET(self) -> None:
                self.forward("GET")

            def do_HEAD(self) -> None:
                self.forward("HEAD")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def b64url(data: bytes) -> str:
    """Return unpadded base64url text, as JWTs use."""
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """A loopback token server for registry token auth: checks basic credentials and returns
    RS256 JWTs that carry the signing certificate in `x5c`, granting every requested action.
    A form POST with grant_type=refresh_token exchanges a token of `refresh_tokens` (token to
    user name) the same way, as OAuth2 clients with an identity token do.
    """

    def __init__(self, folder: Path, service: str, users: dict[str, str],
                 refresh_tokens: dict[str, str] | None = None) -> None:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "token.key",
             "-out", "token.pem", "-days", "2", "-subj", "/CN=dockwright token signer"],
            cwd=folder, check=True, capture_output=True,
        )
        self.certificate = folder / "token.pem"
        der = subprocess.run(["openssl", "x509", "-in", "token.pem", "-outform", "DER"],
                             cwd=folder, check=True, capture_output=True).stdout
        import base64

        x5c = base64.b64encode(der).decode()
        key = folder / "token.key"
        self.requests: list[str] = []
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def reject(self) -> None:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                from urllib.parse import parse_qs

                form = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                requests.append("POST " + form)
                fields = parse_qs(form)
                token = fields.get("refresh_token", [""])[0]
                user = (refresh_tokens or {}).get(token)
                if fields.get("grant_type") != ["refresh_token"] or user is None:
                    self.reject()
                    return
                scopes = " ".join(fields.get("scope", [])).split()
                self.issue(user, scopes, "access_token")

            def do_GET(self) -> None:
                from urllib.parse import parse_qs, urlparse

                requests.append(self.path)
                query = parse_qs(urlparse(self.path).query)
                auth = self.headers.get("Authorization", "")
                user = ""
                if auth.startswith("Basic "):
                    name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                    if users.get(name) != password:
                        self.reject()
                        return
                    user = name
                self.issue(user, query.get("scope", []), "token")

            def issue(self, user: str, scopes: list[str], field: str) -> None:
                access = []
                for scope in scopes:
                    kind, _, rest = scope.partition(":")
                    repository, _, actions = rest.rpartition(":")
                    granted = actions.split(",") if user else []
                    access.append({"type": kind, "name": repository, "actions": granted})
                now = int(time.time())
                header = {"alg": "RS256", "typ": "JWT", "x5c": [x5c]}
                claims = {"iss": "dockwright-test-issuer", "sub": user, "aud": service,
                          "exp": now + 600, "nbf": now - 10, "iat": now, "jti": str(now),
                          "access": access}
                signing_input = (b64url(json.dumps(header).encode()) + "." +
                                 b64url(json.dumps(claims).encode()))
                signature = subprocess.run(
                    ["openssl", "dgst", "-sha256", "-sign", str(key)],
                    input=signing_input.encode(), check=True, capture_output=True,
                ).stdout
                body = json.dumps({field: signing_input + "." + b64url(signature)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
