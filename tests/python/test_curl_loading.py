"""dockwright without a usable libcurl: downloads fail with a clear message, the rest works.

libcurl is loaded with dlopen when the first download starts. These tests run the program
with a fake libcurl.so.4 that lacks curl_easy_reset (found first through LD_LIBRARY_PATH),
and, as root, in a mount namespace where the real library is hidden by an empty file.
"""

from __future__ import annotations

import functools
import glob
import http.server
import io
import os
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_support import cli

# Every libcurl entry point dockwright resolves except curl_easy_reset.
FAKE_LIBCURL = r"""
void *curl_easy_init(void) { return 0; }
void curl_easy_cleanup(void *handle) { (void)handle; }
int curl_easy_setopt(void *handle, int option, ...) { (void)handle; (void)option; return 0; }
int curl_easy_getinfo(void *handle, int info, ...) { (void)handle; (void)info; return 0; }
int curl_easy_perform(void *handle) { (void)handle; return 0; }
const char *curl_easy_strerror(int code) { (void)code; return "fake"; }
void *curl_slist_append(void *list, const char *text) { (void)text; return list; }
void curl_slist_free_all(void *list) { (void)list; }
int curl_global_init(long flags) { (void)flags; return 0; }
"""

# Every entry point, with curl_version_info reporting 7.74.0, older than CURLOPT_PROTOCOLS_STR.
OLD_LIBCURL = (
    FAKE_LIBCURL
    + r"""
void curl_easy_reset(void *handle) { (void)handle; }
struct version_info { int age; const char *version; unsigned int version_num; };
static struct version_info old = {10, "7.74.0", 0x074a00};
struct version_info *curl_version_info(int stamp) { (void)stamp; return &old; }
"""
)

ADVICE = "; install Debian's libcurl4 package (or another libcurl 7.85 or later)"


def context_tar() -> bytes:
    """A build context containing a Dockerfile that copies one file into scratch."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in {
            "Dockerfile": b"FROM scratch\nCOPY hello.txt /hello.txt\n",
            "hello.txt": b"hello\n",
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def compile_library(folder: Path, source_text: str) -> Path:
    """Compile `source_text` into `folder`/libcurl.so.4 and return the folder."""
    compiler = shutil.which("cc")
    if compiler is None:
        pytest.skip("a C compiler (cc) is needed to make a fake libcurl.so.4")
    source = folder / "fake.c"
    source.write_text(source_text)
    subprocess.run(
        [
            compiler,
            "-shared",
            "-fPIC",
            "-Wl,-soname,libcurl.so.4",
            "-o",
            str(folder / "libcurl.so.4"),
            str(source),
        ],
        check=True,
    )
    return folder


@pytest.fixture(scope="module")
def fake_libcurl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder containing a libcurl.so.4 that lacks curl_easy_reset."""
    return compile_library(tmp_path_factory.mktemp("fake-libcurl"), FAKE_LIBCURL)


@pytest.fixture(scope="module")
def old_libcurl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder containing a libcurl.so.4 that reports version 7.74.0."""
    return compile_library(tmp_path_factory.mktemp("old-libcurl"), OLD_LIBCURL)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A loopback HTTP server with a context archive and a plain file; yields its base URL."""
    files = {"/context.tar": context_tar(), "/file.txt": b"downloaded\n"}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    thread.join()
    httpd.server_close()


def run(
    args: list[str],
    root: Path,
    env: dict[str, str],
    cwd: Path | None = None,
    prefix: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run dockwright with the store in `root` and extra environment `env`."""
    full_env = dict(os.environ, DOCKWRIGHT_ROOT=str(root), **env)
    return subprocess.run(
        [*(prefix or []), cli(), *args],
        env=full_env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def missing_symbol_message(folder: Path) -> str:
    return (
        "cannot load libcurl.so.4 for http(s) transfers: "
        f"{folder}/libcurl.so.4: undefined symbol: curl_easy_reset" + ADVICE
    )


def test_version_runs_without_libcurl(fake_libcurl: Path, tmp_path: Path) -> None:
    result = run(["version"], tmp_path / "store", {"LD_LIBRARY_PATH": str(fake_libcurl)})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_local_build_runs_without_libcurl(fake_libcurl: Path, tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\nENV A=1\n")
    (context / "hello.txt").write_text("hello\n")
    result = run(
        ["build", "-q", "-t", "local:1", str(context)],
        tmp_path / "store",
        {"LD_LIBRARY_PATH": str(fake_libcurl)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sha256:")


def test_http_context_fails_without_libcurl(
    fake_libcurl: Path, server: str, tmp_path: Path
) -> None:
    result = run(
        ["build", "-q", f"{server}/context.tar"],
        tmp_path / "store",
        {"LD_LIBRARY_PATH": str(fake_libcurl)},
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"dockwright: {missing_symbol_message(fake_libcurl)}\n"
    # Nothing of the download is left in the store's temporary folder.
    assert list((tmp_path / "store" / "tmp").iterdir()) == []


def test_add_url_fails_without_libcurl(fake_libcurl: Path, server: str, tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM scratch\nADD {server}/file.txt /file.txt\n")
    result = run(
        ["build", "-q", str(context)], tmp_path / "store", {"LD_LIBRARY_PATH": str(fake_libcurl)}
    )
    assert result.returncode == 1
    assert missing_symbol_message(fake_libcurl) in result.stderr


def test_pull_and_push_fail_without_libcurl(
    fake_libcurl: Path, server: str, tmp_path: Path
) -> None:
    host = server.removeprefix("http://")
    env = {"LD_LIBRARY_PATH": str(fake_libcurl)}
    pulled = run(["pull", f"{host}/app:1"], tmp_path / "store", env)
    assert pulled.returncode == 1
    assert pulled.stderr.endswith(f"dockwright: {missing_symbol_message(fake_libcurl)}\n")

    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    (context / "hello.txt").write_text("hello\n")
    built = run(["build", "-q", "-t", f"{host}/app:1", str(context)], tmp_path / "store", env)
    assert built.returncode == 0, built.stderr
    pushed = run(["push", f"{host}/app:1"], tmp_path / "store", env)
    assert pushed.returncode == 1
    assert pushed.stderr.endswith(f"dockwright: {missing_symbol_message(fake_libcurl)}\n")


def test_git_http_context_builds_without_libcurl(fake_libcurl: Path, tmp_path: Path) -> None:
    # git fetches over HTTP with its own library (Debian's git uses libcurl-gnutls.so.4), so
    # only dockwright's probe for a smart server needs libcurl.so.4, and that probe is optional.
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is needed for a git context")
    work = tmp_path / "work"
    work.mkdir()
    (work / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    (work / "hello.txt").write_text("hello\n")
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.com",
    )
    for args in (["init", "-q", "-b", "master"], ["add", "."], ["commit", "-q", "-m", "one"]):
        subprocess.run([git, *args], cwd=work, env=env, check=True)
    served = tmp_path / "served"
    served.mkdir()
    subprocess.run([git, "clone", "-q", "--bare", str(work), str(served / "repo.git")], check=True)
    subprocess.run([git, "update-server-info"], cwd=served / "repo.git", check=True)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(served))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/repo.git"
        result = run(
            ["build", "-q", url], tmp_path / "store", {"LD_LIBRARY_PATH": str(fake_libcurl)}
        )
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sha256:")


def test_old_libcurl_is_rejected(old_libcurl: Path, server: str, tmp_path: Path) -> None:
    # Before 7.85 libcurl ignores CURLOPT_PROTOCOLS_STR, so transfers and redirects would not
    # be limited to http and https.
    result = run(
        ["build", "-q", f"{server}/context.tar"],
        tmp_path / "store",
        {"LD_LIBRARY_PATH": str(old_libcurl)},
    )
    assert result.returncode == 1
    assert result.stderr == (
        "dockwright: cannot load libcurl.so.4 for http(s) transfers: libcurl 7.74.0 is older "
        "than 7.85.0" + ADVICE + "\n"
    )


def real_libcurl() -> Path | None:
    """The file the loader opens for libcurl.so.4, symlinks resolved."""
    for pattern in ("/usr/lib/*/libcurl.so.4", "/lib/*/libcurl.so.4", "/usr/lib/libcurl.so.4"):
        for found in glob.glob(pattern):
            return Path(found).resolve()
    return None


def test_hidden_libcurl_fails_clearly(server: str, tmp_path: Path) -> None:
    library = real_libcurl()
    if library is None:
        pytest.skip("libcurl.so.4 is not installed, so there is nothing to hide")
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("hiding libcurl needs root and unshare(1) for a private mount namespace")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    hide = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        f'mount --bind "{empty}" "{library}" && exec "$@"',
        "sh",
    ]
    result = run(["build", "-q", f"{server}/context.tar"], tmp_path / "store", {}, prefix=hide)
    assert result.returncode == 1
    assert result.stderr.startswith("dockwright: cannot load libcurl.so.4 for http(s) transfers: ")
    assert "file too short" in result.stderr
    assert result.stderr.endswith(ADVICE + "\n")
    version = run(["version"], tmp_path / "store", {}, prefix=hide)
    assert version.returncode == 0, version.stderr
