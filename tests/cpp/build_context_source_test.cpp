// Build contexts: local directories, stdin, git and http(s) URLs, and hostile archives.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dockwright/build/context_source.hpp"
#include "support.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using dockwright::context_error;
using dockwright::context_request;
using dockwright::prepare_context;
using dockwright::prepared_context;

/// A directory for one test, removed at the end.
class scratch_dir {
  public:
    scratch_dir() {
        std::string pattern = (fs::temp_directory_path() / "dockwright-context-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        // Readable by everyone, so that the unprivileged checks below can enter it.
        fs::permissions(pattern, fs::perms(0755));
        path_ = pattern;
        fs::create_directories(path_ / "work");
    }
    ~scratch_dir() {
        std::error_code code;
        fs::remove_all(path_, code);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;

    [[nodiscard]] const fs::path& path() const { return path_; }
    [[nodiscard]] fs::path work() const { return path_ / "work"; }
    [[nodiscard]] fs::path operator/(const std::string& name) const { return path_ / name; }

  private:
    fs::path path_;
};

void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary);
    out << text;
    REQUIRE(out.good());
}

void shell(const std::string& command) {
    INFO(command);
    REQUIRE(std::system(("set -e; { " + command + "; } >/dev/null 2>&1").c_str()) == 0);
}

std::string quote(const fs::path& path) {
    return "'" + path.string() + "'";
}

/// An open descriptor on a file holding `bytes`, standing in for stdin.
class stdin_file {
  public:
    stdin_file(const fs::path& path, const std::string& bytes) {
        write_file(path, bytes);
        fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd_ >= 0);
    }
    explicit stdin_file(const fs::path& existing) : fd_(::open(existing.c_str(), O_RDONLY)) {
        REQUIRE(fd_ >= 0);
    }
    ~stdin_file() { ::close(fd_); }
    stdin_file(const stdin_file&) = delete;
    stdin_file& operator=(const stdin_file&) = delete;
    [[nodiscard]] int fd() const { return fd_; }

  private:
    int fd_;
};

context_request request_for(const std::string& location, const scratch_dir& dir,
                            std::string dockerfile = {}) {
    context_request request;
    request.location = location;
    request.dockerfile = std::move(dockerfile);
    request.work_dir = dir.work();
    return request;
}

/// Runs prepare_context() and returns the context_error's Docker message; fails the test when
/// nothing or something else is thrown.
std::string docker_error(const context_request& request, bool* from_daemon = nullptr) {
    try {
        const prepared_context context = prepare_context(request);
    } catch (const context_error& failure) {
        if (from_daemon) *from_daemon = failure.from_daemon();
        return failure.docker_message();
    }
    FAIL("prepare_context() did not throw for " << request.location);
    return "";
}

bool is_empty_dir(const fs::path& path) {
    return fs::is_empty(path);
}

/// Sets the current directory for one scope.
class current_dir_guard {
  public:
    explicit current_dir_guard(const fs::path& path) : saved_(fs::current_path()) {
        fs::current_path(path);
    }
    ~current_dir_guard() { fs::current_path(saved_); }
    current_dir_guard(const current_dir_guard&) = delete;
    current_dir_guard& operator=(const current_dir_guard&) = delete;

  private:
    fs::path saved_;
};

/// Runs prepare_context() as the user `nobody` in a child process and returns the Docker
/// message it throws, or an empty string. Permission checks then work when tests run as root.
std::string docker_error_as_nobody(const context_request& request) {
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);

    if (pid == 0) {
        ::close(pipe_fds[0]);
        std::string message;
        if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) {
            message = "setuid failed";
        } else {
            try {
                const prepared_context context = prepare_context(request);
            } catch (const context_error& failure) {
                message = failure.docker_message();
            } catch (const std::exception& failure) {
                message = std::string("other exception: ") + failure.what();
            }
        }
        const ssize_t written = ::write(pipe_fds[1], message.data(), message.size());
        ::_exit(written == static_cast<ssize_t>(message.size()) ? 0 : 1);
    }

    ::close(pipe_fds[1]);
    std::string message;
    char buffer[4096];
    ssize_t count = 0;
    while ((count = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0)
        message.append(buffer, count);
    ::close(pipe_fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return message;
}

/// Runs prepare_context() in a child process whose private mount namespace has a 1 MiB tmpfs
/// on the work directory. Returns the Docker message followed by `|empty` when the work
/// directory was empty afterwards, or the reason the namespace could not be made.
std::string docker_error_on_small_disk(const context_request& request) {
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);

    if (pid == 0) {
        ::close(pipe_fds[0]);
        std::string message;
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount("tmpfs", request.work_dir.c_str(), "tmpfs", 0, "size=1m") != 0) {
            message = "skip: cannot mount a tmpfs";
        } else {
            try {
                const prepared_context context = prepare_context(request);
            } catch (const context_error& failure) {
                message = failure.docker_message();
            }
            if (fs::is_empty(request.work_dir)) message += "|empty";
        }
        const ssize_t written = ::write(pipe_fds[1], message.data(), message.size());
        ::_exit(written == static_cast<ssize_t>(message.size()) ? 0 : 1);
    }

    ::close(pipe_fds[1]);
    std::string message;
    char buffer[4096];
    ssize_t count = 0;
    while ((count = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0)
        message.append(buffer, count);
    ::close(pipe_fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return message;
}

/// Writes a tar archive with Python's tarfile module: `entries` is Python code run with `t`
/// (the open TarFile) and `add(name, data)` in scope.
void python_tar(const fs::path& out, const std::string& entries, const std::string& mode = "w") {
    const fs::path script = out.string() + ".py";
    write_file(script,
               "import io, sys, tarfile\n"
               "t = tarfile.open(sys.argv[1], '" +
                   mode +
                   "', format=tarfile.GNU_FORMAT)\n"
                   "def add(name, data=b'x', mode=0o644):\n"
                   "    info = tarfile.TarInfo(name)\n"
                   "    info.size = len(data)\n"
                   "    info.mode = mode\n"
                   "    info.mtime = 1700000000\n"
                   "    t.addfile(info, io.BytesIO(data))\n"
                   "def special(name, kind, link=''):\n"
                   "    info = tarfile.TarInfo(name)\n"
                   "    info.type = kind\n"
                   "    info.linkname = link\n"
                   "    info.devmajor, info.devminor = 1, 3\n"
                   "    t.addfile(info)\n" +
                   entries + "\nt.close()\n");
    shell("python3 " + quote(script) + " " + quote(out));
}

/// A throwaway HTTP server on 127.0.0.1 serving files of one folder, answering 404 with the
/// body `missing <path>` so that error messages are exact. Killed by pid on destruction.
class http_server {
  public:
    explicit http_server(const fs::path& root) {
        const fs::path script = root.parent_path() / "server.py";
        write_file(script,
                   "import http.server, os, sys\n"
                   "root = sys.argv[1]\n"
                   "class Handler(http.server.BaseHTTPRequestHandler):\n"
                   "    def log_message(self, *args):\n"
                   "        pass\n"
                   "    def body(self):\n"
                   "        path = os.path.join(root, self.path.split('?')[0].lstrip('/'))\n"
                   "        if os.path.isfile(path):\n"
                   "            return 200, open(path, 'rb').read()\n"
                   "        return 404, ('missing ' + self.path + '\\n').encode()\n"
                   "    def do_GET(self, head=False):\n"
                   "        status, data = self.body()\n"
                   "        self.send_response(status)\n"
                   "        self.send_header('Content-Type', 'application/octet-stream')\n"
                   "        self.send_header('Content-Length', str(len(data)))\n"
                   "        self.end_headers()\n"
                   "        if not head:\n"
                   "            self.wfile.write(data)\n"
                   "    def do_HEAD(self):\n"
                   "        self.do_GET(True)\n"
                   "server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)\n"
                   "print(server.server_address[1], flush=True)\n"
                   "server.serve_forever()\n");

        int pipe_fds[2];
        REQUIRE(::pipe(pipe_fds) == 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
        std::vector<std::string> words{"python3", script.string(), root.string()};
        std::vector<char*> argv;
        for (auto& word : words)
            argv.push_back(word.data());
        argv.push_back(nullptr);
        const int spawned =
            ::posix_spawnp(&pid_, "python3", &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(pipe_fds[1]);
        REQUIRE(spawned == 0);

        std::string line;
        char c = 0;
        while (::read(pipe_fds[0], &c, 1) == 1 && c != '\n')
            line += c;
        ::close(pipe_fds[0]);
        REQUIRE(!line.empty());
        base_ = "http://127.0.0.1:" + line;
    }
    ~http_server() {
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    http_server(const http_server&) = delete;
    http_server& operator=(const http_server&) = delete;

    [[nodiscard]] const std::string& base() const { return base_; }

  private:
    pid_t pid_ = -1;
    std::string base_;
};

/// Makes a bare repository `<dir>/repo.git` from a working tree with the given files, on the
/// branch `branch`, with the tag `v1` on the first commit.
fs::path make_repository(const scratch_dir& dir, const std::string& branch = "master") {
    const fs::path work = dir / "source";
    write_file(work / "Dockerfile", "FROM scratch\nCOPY hello /\n");
    write_file(work / "hello", "hello from git\n");
    write_file(work / "app/Dockerfile", "FROM scratch\nCOPY main.c /\n");
    write_file(work / "app/main.c", "int main(void) { return 0; }\n");
    const std::string git = "git -C " + quote(work) + " -c user.name=test -c user.email=t@e ";
    shell("git init -q -b " + branch + " " + quote(work));
    shell(git + "add -A");
    shell(git + "commit -q -m first");
    shell(git + "tag v1");
    write_file(work / "hello", "hello again\n");
    shell(git + "commit -q -am second");
    const fs::path bare = dir / "repo.git";
    shell("git clone -q --bare " + quote(work) + " " + quote(bare));
    shell("git -C " + quote(bare) + " update-server-info");
    return bare;
}

}  // namespace

// ---- local directories ----

TEST_CASE("local directory with the default Dockerfile", "[context]") {
    scratch_dir dir;
    write_file(dir / "ctx/Dockerfile", "FROM scratch\n");
    write_file(dir / "ctx/file.txt", "data");
    const prepared_context context = prepare_context(request_for((dir / "ctx").string(), dir));
    CHECK(context.directory() == fs::canonical(dir / "ctx"));
    CHECK(context.dockerfile_text() == "FROM scratch\n");
    CHECK(context.dockerfile_name() == "Dockerfile");
    CHECK(context.dockerfile_in_context() == std::optional<std::string>("Dockerfile"));
    CHECK_FALSE(context.temporary());
}

TEST_CASE("local directory falls back to lowercase dockerfile", "[context]") {
    scratch_dir dir;
    write_file(dir / "ctx/dockerfile", "FROM lower\n");
    const prepared_context context = prepare_context(request_for((dir / "ctx").string(), dir));
    CHECK(context.dockerfile_name() == "dockerfile");
    CHECK(context.dockerfile_text() == "FROM lower\n");
}

TEST_CASE("local -f is relative to the current directory", "[context]") {
    scratch_dir dir;
    write_file(dir / "ctx/sub/Dockerfile.dev", "FROM dev\n");
    const current_dir_guard guard(dir / "ctx");
    const prepared_context context = prepare_context(request_for(".", dir, "sub/Dockerfile.dev"));
    CHECK(context.directory() == fs::canonical(dir / "ctx"));
    CHECK(context.dockerfile_name() == "sub/Dockerfile.dev");
    CHECK(context.dockerfile_in_context() == std::optional<std::string>("sub/Dockerfile.dev"));
    CHECK(context.dockerfile_text() == "FROM dev\n");
}

TEST_CASE("local Dockerfile outside the context", "[context]") {
    scratch_dir dir;
    write_file(dir / "ctx/file.txt", "data");
    write_file(dir / "other/Dockerfile", "FROM outside\n");
    const current_dir_guard guard(dir.path());
    const prepared_context context = prepare_context(request_for("ctx", dir, "other/Dockerfile"));
    CHECK(context.directory() == fs::canonical(dir / "ctx"));
    CHECK(context.dockerfile_name() == "other/Dockerfile");
    CHECK(context.dockerfile_text() == "FROM outside\n");
    CHECK_FALSE(context.dockerfile_in_context().has_value());
}

TEST_CASE("local default Dockerfile linked outside", "[context]") {
    scratch_dir dir;
    write_file(dir / "shared/Dockerfile", "FROM linked\n");
    fs::create_directories(dir / "ctx");
    fs::create_symlink(dir / "shared/Dockerfile", dir / "ctx/Dockerfile");
    const prepared_context context = prepare_context(request_for((dir / "ctx").string(), dir));
    CHECK(context.dockerfile_name() == "Dockerfile");
    CHECK(context.dockerfile_text() == "FROM linked\n");
    CHECK_FALSE(context.dockerfile_in_context().has_value());
}

TEST_CASE("local -f outside that cannot be opened", "[context]") {
    scratch_dir dir;
    fs::create_directories(dir / "ctx");
    fs::create_directories(dir / "other/Dockerfile");
    const current_dir_guard guard(dir.path());
    CHECK(docker_error(request_for("ctx", dir, "other/Dockerfile")) ==
          "read other/Dockerfile: is a directory");
}

TEST_CASE("local directory with the Dockerfile on stdin", "[context]") {
    scratch_dir dir;
    write_file(dir / "ctx/file.txt", "data");
    const stdin_file input(dir / "stdin", "FROM piped\n");
    auto request = request_for((dir / "ctx").string(), dir, "-");
    request.stdin_fd = input.fd();
    const prepared_context context = prepare_context(request);
    CHECK(context.directory() == fs::canonical(dir / "ctx"));
    CHECK(context.dockerfile_name() == "-");
    CHECK(context.dockerfile_text() == "FROM piped\n");
    CHECK_FALSE(context.dockerfile_in_context().has_value());
}

TEST_CASE("missing context path", "[context]") {
    scratch_dir dir;
    const std::string missing = (dir / "nope").string();
    CHECK(docker_error(request_for(missing, dir)) ==
          "unable to prepare context: path \"" + missing + "\" not found");
    try {
        static_cast<void>(prepare_context(request_for(missing, dir)));
    } catch (const context_error& failure) {
        CHECK(failure.subject() == missing);
        CHECK(std::string(failure.what()) ==
              "unable to prepare context: path \"" + missing +
                  "\" not found (give an existing directory, '-' for stdin, a git URL or an "
                  "http(s) URL)");
    }
}

TEST_CASE("context path that is a file", "[context]") {
    scratch_dir dir;
    write_file(dir / "plain", "x");
    CHECK(docker_error(request_for((dir / "plain").string(), dir)) ==
          "unable to prepare context: context must be a directory: " +
              fs::canonical(dir / "plain").string());
}

TEST_CASE("missing default Dockerfile", "[context]") {
    scratch_dir dir;
    fs::create_directories(dir / "ctx");
    const fs::path root = fs::canonical(dir / "ctx");
    CHECK(docker_error(request_for(root.string(), dir)) ==
          "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat " +
              (root / "Dockerfile").string() + ": no such file or directory");
}

TEST_CASE("missing -f names the first missing folder", "[context]") {
    scratch_dir dir;
    fs::create_directories(dir / "ctx");
    const fs::path root = fs::canonical(dir / "ctx");
    CHECK(docker_error(request_for(root.string(), dir, (root / "nosub/Dockerfile").string())) ==
          "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat " +
              (root / "nosub").string() + ": no such file or directory");
}

TEST_CASE("Dockerfile that is a directory", "[context]") {
    scratch_dir dir;
    fs::create_directories(dir / "ctx/Dockerfile");
    const fs::path root = fs::canonical(dir / "ctx");
    bool from_daemon = false;
    CHECK(docker_error(request_for(root.string(), dir), &from_daemon) ==
          "unexpected error reading Dockerfile: read " + (root / "Dockerfile").string() +
              ": is a directory");
    CHECK(from_daemon);
}

TEST_CASE("empty Dockerfile", "[context]") {
    scratch_dir dir;
    write_file(dir / "ctx/Dockerfile", "");
    bool from_daemon = false;
    CHECK(docker_error(request_for((dir / "ctx").string(), dir), &from_daemon) ==
          "the Dockerfile (Dockerfile) cannot be empty");
    CHECK(from_daemon);
}

TEST_CASE("empty Dockerfile in a subfolder", "[context]") {
    scratch_dir dir;
    write_file(dir / "ctx/build/Dockerfile.ci", "");
    const fs::path root = fs::canonical(dir / "ctx");
    CHECK(docker_error(request_for(root.string(), dir, (root / "build/Dockerfile.ci").string())) ==
          "the Dockerfile (build/Dockerfile.ci) cannot be empty");
}

TEST_CASE("unreadable file in the context", "[context]") {
    scratch_dir dir;
    write_file(dir / "ctx/Dockerfile", "FROM scratch\n");
    write_file(dir / "ctx/secret", "hidden");
    fs::permissions(dir / "ctx/secret", fs::perms::owner_write);
    const fs::path root = fs::canonical(dir / "ctx");
    CHECK(docker_error_as_nobody(request_for(root.string(), dir)) ==
          "error checking context: 'no permission to read from '" + (root / "secret").string() +
              "''.");
}

TEST_CASE("unreadable folder in the context", "[context]") {
    scratch_dir dir;
    write_file(dir / "ctx/Dockerfile", "FROM scratch\n");
    fs::create_directories(dir / "ctx/private");
    // No permission at all, so that the check also fails for an owner that is not root.
    fs::permissions(dir / "ctx/private", fs::perms::none);
    const fs::path root = fs::canonical(dir / "ctx");
    const std::string message = docker_error_as_nobody(request_for(root.string(), dir));
    fs::permissions(dir / "ctx/private", fs::perms::owner_all);
    CHECK(message == "error checking context: 'can't stat '" + (root / "private").string() + "''.");
}

TEST_CASE("unreadable file excluded by .dockerignore", "[context]") {
    scratch_dir dir;
    write_file(dir / "ctx/Dockerfile", "FROM scratch\n");
    write_file(dir / "ctx/.dockerignore", "secret\n");
    write_file(dir / "ctx/secret", "hidden");
    fs::permissions(dir / "ctx/secret", fs::perms::owner_write);
    CHECK(docker_error_as_nobody(request_for(fs::canonical(dir / "ctx").string(), dir)).empty());
}

TEST_CASE(".dockerignore linked outside is not read", "[context]") {
    scratch_dir dir;
    write_file(dir / "host-ignore", "secret\n");
    write_file(dir / "ctx/Dockerfile", "FROM scratch\n");
    write_file(dir / "ctx/secret", "hidden");
    fs::permissions(dir / "ctx/secret", fs::perms::owner_write);
    fs::create_symlink(dir / "host-ignore", dir / "ctx/.dockerignore");
    const fs::path root = fs::canonical(dir / "ctx");
    CHECK(docker_error_as_nobody(request_for(root.string(), dir)) ==
          "error checking context: 'no permission to read from '" + (root / "secret").string() +
              "''.");
}

// ---- stdin ----

TEST_CASE("stdin for both context and Dockerfile", "[context]") {
    scratch_dir dir;
    CHECK(docker_error(request_for("-", dir, "-")) ==
          "invalid argument: can't use stdin for both build context and dockerfile");
}

TEST_CASE("stdin tar in every compression", "[context]") {
    const auto [compressor, suffix] = GENERATE(table<std::string, std::string>({
        {"cat", ""},
        {"gzip -c", ".gz"},
        {"bzip2 -c", ".bz2"},
        {"xz -c", ".xz"},
        {"zstd -q -c", ".zst"},
    }));
    scratch_dir dir;
    write_file(dir / "tree/Dockerfile", "FROM scratch\nCOPY . /\n");
    write_file(dir / "tree/app/run.sh", "#!/bin/sh\necho hi\n");
    fs::permissions(dir / "tree/app/run.sh", fs::perms(0755));
    shell("tar -C " + quote(dir / "tree") + " -cf " + quote(dir / "ctx.tar") + " .");
    const fs::path archive = dir / ("ctx.tar" + suffix);
    if (!suffix.empty()) shell(compressor + " " + quote(dir / "ctx.tar") + " > " + quote(archive));
    INFO("compression " << compressor);

    const stdin_file input(archive);
    auto request = request_for("-", dir);
    request.stdin_fd = input.fd();
    fs::path directory;
    {
        const prepared_context context = prepare_context(request);
        directory = context.directory();
        CHECK(context.temporary());
        CHECK(directory.parent_path() == dir.work());
        CHECK(context.dockerfile_name() == "Dockerfile");
        CHECK(context.dockerfile_text() == "FROM scratch\nCOPY . /\n");
        CHECK(dockwright::test::read_file(directory / "app/run.sh") == "#!/bin/sh\necho hi\n");
        CHECK((fs::status(directory / "app/run.sh").permissions() & fs::perms::all) ==
              fs::perms(0755));
    }
    CHECK_FALSE(fs::exists(directory));
    CHECK(is_empty_dir(dir.work()));
}

TEST_CASE("stdin tar with -f inside the archive", "[context]") {
    scratch_dir dir;
    python_tar(dir / "ctx.tar", "add('build/Dockerfile.ci', b'FROM ci\\n')\nadd('src/a', b'a')");
    const stdin_file input(dir / "ctx.tar");
    auto request = request_for("-", dir, "build/Dockerfile.ci");
    request.stdin_fd = input.fd();
    const prepared_context context = prepare_context(request);
    CHECK(context.dockerfile_name() == "build/Dockerfile.ci");
    CHECK(context.dockerfile_in_context() == std::optional<std::string>("build/Dockerfile.ci"));
    CHECK(context.dockerfile_text() == "FROM ci\n");
}

TEST_CASE("stdin tar -f stays inside the archive root", "[context]") {
    scratch_dir dir;
    python_tar(dir / "ctx.tar", "add('Dockerfile.ci', b'FROM ci\\n')");
    const stdin_file input(dir / "ctx.tar");
    auto request = request_for("-", dir, "../Dockerfile.ci");
    request.stdin_fd = input.fd();
    const prepared_context context = prepare_context(request);
    CHECK(context.dockerfile_name() == "../Dockerfile.ci");
    CHECK(context.dockerfile_in_context() == std::optional<std::string>("Dockerfile.ci"));
    CHECK(context.dockerfile_text() == "FROM ci\n");
}

TEST_CASE("stdin tar keeps modes and times", "[context]") {
    scratch_dir dir;
    python_tar(dir / "ctx.tar",
               "add('Dockerfile', b'FROM scratch\\n', 0o600)\n"
               "info = tarfile.TarInfo('ro')\ninfo.type = tarfile.DIRTYPE\ninfo.mode = 0o555\n"
               "info.mtime = 1600000000\nt.addfile(info)\n"
               "add('ro/inside', b'x', 0o640)");
    const stdin_file input(dir / "ctx.tar");
    auto request = request_for("-", dir);
    request.stdin_fd = input.fd();
    const prepared_context context = prepare_context(request);
    struct stat info {};
    REQUIRE(::stat((context.directory() / "ro").c_str(), &info) == 0);
    CHECK((info.st_mode & 07777) == 0555);
    CHECK(info.st_mtime == 1600000000);
    REQUIRE(::stat((context.directory() / "ro/inside").c_str(), &info) == 0);
    CHECK((info.st_mode & 07777) == 0640);
    CHECK(info.st_mtime == 1700000000);
}

TEST_CASE("stdin tar without a Dockerfile", "[context]") {
    scratch_dir dir;
    python_tar(dir / "ctx.tar", "add('src/a', b'a')");
    const stdin_file input(dir / "ctx.tar");
    auto request = request_for("-", dir);
    request.stdin_fd = input.fd();
    bool from_daemon = false;
    CHECK(docker_error(request, &from_daemon) == "Cannot locate specified Dockerfile: Dockerfile");
    CHECK(from_daemon);
    CHECK(is_empty_dir(dir.work()));
}

TEST_CASE("stdin tar with a lowercase dockerfile", "[context]") {
    scratch_dir dir;
    python_tar(dir / "ctx.tar", "add('dockerfile', b'FROM lower\\n')");
    const stdin_file input(dir / "ctx.tar");
    auto request = request_for("-", dir);
    request.stdin_fd = input.fd();
    const prepared_context context = prepare_context(request);
    CHECK(context.dockerfile_name() == "dockerfile");
    CHECK(context.dockerfile_text() == "FROM lower\n");
}

TEST_CASE("stdin tar Dockerfile symlink stays inside", "[context]") {
    scratch_dir dir;
    write_file(dir / "outside", "FROM leaked\n");
    python_tar(dir / "ctx.tar",
               "special('Dockerfile', tarfile.SYMTYPE, '" + (dir / "outside").string() + "')");
    const stdin_file input(dir / "ctx.tar");
    auto request = request_for("-", dir);
    request.stdin_fd = input.fd();
    CHECK(docker_error(request) == "Cannot locate specified Dockerfile: Dockerfile");
}

TEST_CASE("missing work directory is created", "[context]") {
    scratch_dir dir;
    const stdin_file input(dir / "stdin", "FROM scratch\n");
    auto request = request_for("-", dir);
    request.work_dir = dir / "store/tmp";
    request.stdin_fd = input.fd();
    const prepared_context context = prepare_context(request);
    CHECK(context.directory().parent_path() == dir / "store/tmp");
}

TEST_CASE("stdin Dockerfile becomes a one-file context", "[context]") {
    scratch_dir dir;
    const stdin_file input(dir / "stdin", "FROM scratch\nLABEL a=b\n");
    auto request = request_for("-", dir);
    request.stdin_fd = input.fd();
    const prepared_context context = prepare_context(request);
    CHECK(context.temporary());
    CHECK(context.dockerfile_name() == "Dockerfile");
    CHECK(context.dockerfile_text() == "FROM scratch\nLABEL a=b\n");
    CHECK(dockwright::test::read_file(context.directory() / "Dockerfile") ==
          "FROM scratch\nLABEL a=b\n");
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(context.directory()))
        names.push_back(entry.path().filename().string());
    CHECK(names == std::vector<std::string>{"Dockerfile"});
}

TEST_CASE("empty stdin is an empty Dockerfile", "[context]") {
    scratch_dir dir;
    const stdin_file input(dir / "stdin", "");
    auto request = request_for("-", dir);
    request.stdin_fd = input.fd();
    CHECK(docker_error(request) == "the Dockerfile (Dockerfile) cannot be empty");
    CHECK(is_empty_dir(dir.work()));
}

TEST_CASE("archive detection by content", "[context]") {
    using dockwright::is_archive_header;
    CHECK(is_archive_header("\x1f\x8b\x08rest"));
    CHECK(is_archive_header("BZh91AY"));
    CHECK(is_archive_header(std::string("\xfd\x37\x7a\x58\x5a\x00", 6)));
    CHECK(is_archive_header("\x28\xb5\x2f\xfd"));
    CHECK_FALSE(is_archive_header("FROM scratch\n"));
    CHECK_FALSE(is_archive_header(std::string(512, '\0')));
    CHECK_FALSE(is_archive_header(""));
    scratch_dir dir;
    python_tar(dir / "one.tar", "add('a', b'a')");
    const std::string bytes = dockwright::test::read_file(dir / "one.tar");
    CHECK(is_archive_header(std::string_view(bytes).substr(0, 512)));
    std::string broken = bytes.substr(0, 512);
    broken[0] = 'b';
    CHECK_FALSE(is_archive_header(broken));
    CHECK_FALSE(is_archive_header(std::string_view(bytes).substr(0, 511)));
}

// ---- hostile archives ----

namespace {

std::string hostile_error(const scratch_dir& dir, const std::string& entries) {
    python_tar(dir / "evil.tar", "add('Dockerfile', b'FROM scratch\\n')\n" + entries);
    const stdin_file input(dir / "evil.tar");
    auto request = request_for("-", dir);
    request.stdin_fd = input.fd();
    const std::string message = docker_error(request);
    CHECK(is_empty_dir(dir.work()));
    return message;
}

const std::string unpack_prefix =
    "unable to prepare context: unable to unpack the context archive from stdin: ";

}  // namespace

TEST_CASE("hostile tar with a dot-dot name", "[context][hostile]") {
    scratch_dir dir;
    CHECK(hostile_error(dir, "add('../escaped', b'bad')") ==
          unpack_prefix + "entry \"../escaped\": the name leads outside the context");
    CHECK_FALSE(fs::exists(dir / "escaped"));
    CHECK(hostile_error(dir, "add('a/../../escaped', b'bad')") ==
          unpack_prefix + "entry \"a/../../escaped\": the name leads outside the context");
}

TEST_CASE("hostile tar name with escape codes", "[context][hostile]") {
    scratch_dir dir;
    CHECK(hostile_error(dir, "add('../\\x1b[2J', b'bad')") ==
          unpack_prefix + "entry \"../\\x1b[2J\": the name leads outside the context");
}

TEST_CASE("hostile tar with an absolute name stays inside", "[context][hostile]") {
    scratch_dir dir;
    const fs::path target = dir / "abs-target";
    python_tar(dir / "evil.tar",
               "add('Dockerfile', b'FROM scratch\\n')\nadd('" + target.string() + "', b'inside')");
    const stdin_file input(dir / "evil.tar");
    auto request = request_for("-", dir);
    request.stdin_fd = input.fd();
    const prepared_context context = prepare_context(request);
    CHECK_FALSE(fs::exists(target));
    CHECK(dockwright::test::read_file(context.directory() / target.relative_path()) == "inside");
}

TEST_CASE("hostile tar writing through a symlinked parent", "[context][hostile]") {
    scratch_dir dir;
    fs::create_directories(dir / "outside");
    CHECK(hostile_error(dir, "special('link', tarfile.SYMTYPE, '" + (dir / "outside").string() +
                                 "')\nadd('link/pwned', b'bad')") ==
          unpack_prefix +
              "entry \"link/pwned\": the parent \"link\" is a symbolic link, and no entry is "
              "written through one");
    CHECK_FALSE(fs::exists(dir / "outside/pwned"));
}

TEST_CASE("hostile tar with a relative symlink out", "[context][hostile]") {
    scratch_dir dir;
    CHECK(hostile_error(dir, "special('sub/up', tarfile.SYMTYPE, '../../etc')") ==
          unpack_prefix +
              "entry \"sub/up\": the symbolic link target \"../../etc\" leads outside the "
              "context");
}

TEST_CASE("hostile tar with a hard link to /etc/passwd", "[context][hostile]") {
    scratch_dir dir;
    CHECK(hostile_error(dir, "special('passwd', tarfile.LNKTYPE, '/etc/passwd')") ==
          unpack_prefix +
              "entry \"passwd\": the hard link target \"/etc/passwd\" is not an earlier entry of "
              "the archive");
    CHECK(hostile_error(dir, "special('passwd', tarfile.LNKTYPE, '../../../../etc/passwd')") ==
          unpack_prefix +
              "entry \"passwd\": the hard link target \"../../../../etc/passwd\" leads outside "
              "the context");
}

TEST_CASE("hard link to an earlier entry", "[context]") {
    scratch_dir dir;
    python_tar(dir / "ctx.tar",
               "add('Dockerfile', b'FROM scratch\\n')\nadd('data/one', b'shared')\n"
               "special('two', tarfile.LNKTYPE, 'data/one')");
    const stdin_file input(dir / "ctx.tar");
    auto request = request_for("-", dir);
    request.stdin_fd = input.fd();
    const prepared_context context = prepare_context(request);
    struct stat one {};
    struct stat two {};
    REQUIRE(::stat((context.directory() / "data/one").c_str(), &one) == 0);
    REQUIRE(::stat((context.directory() / "two").c_str(), &two) == 0);
    CHECK(one.st_ino == two.st_ino);
}

TEST_CASE("hostile tar with a device node", "[context][hostile]") {
    scratch_dir dir;
    CHECK(hostile_error(dir, "special('null', tarfile.CHRTYPE)") ==
          unpack_prefix + "entry \"null\": device nodes are not allowed in a build context");
    CHECK(hostile_error(dir, "special('disk', tarfile.BLKTYPE)") ==
          unpack_prefix + "entry \"disk\": device nodes are not allowed in a build context");
}

TEST_CASE("hostile tar replacing a directory with a symlink", "[context][hostile]") {
    scratch_dir dir;
    fs::create_directories(dir / "outside");
    CHECK(hostile_error(dir, "add('d/a', b'a')\nspecial('d', tarfile.SYMTYPE, '" +
                                 (dir / "outside").string() + "')\nadd('d/b', b'bad')") ==
          unpack_prefix +
              "entry \"d/b\": the parent \"d\" is a symbolic link, and no entry is written "
              "through one");
    CHECK(fs::is_empty(dir / "outside"));
}

TEST_CASE("compressed stream that is not a tar", "[context]") {
    scratch_dir dir;
    write_file(dir / "Dockerfile", "FROM scratch\n");
    shell("gzip -c " + quote(dir / "Dockerfile") + " > " + quote(dir / "Dockerfile.gz"));
    const stdin_file input(dir / "Dockerfile.gz");
    auto request = request_for("-", dir);
    request.stdin_fd = input.fd();
    CHECK(docker_error(request).starts_with(
        "unable to prepare context: unable to unpack the context archive from stdin: "));
    CHECK(is_empty_dir(dir.work()));
}

TEST_CASE("hostile tar swapping a directory for a link", "[context][hostile]") {
    scratch_dir dir;
    fs::create_directories(dir / "outside");
    fs::permissions(dir / "outside", fs::perms(0700));
    python_tar(dir / "evil.tar",
               "add('Dockerfile', b'FROM scratch\\n')\n"
               "info = tarfile.TarInfo('d')\ninfo.type = tarfile.DIRTYPE\ninfo.mode = 0o777\n"
               "t.addfile(info)\n"
               "special('d', tarfile.SYMTYPE, '" +
                   (dir / "outside").string() + "')");
    const stdin_file input(dir / "evil.tar");
    auto request = request_for("-", dir);
    request.stdin_fd = input.fd();
    const prepared_context context = prepare_context(request);
    CHECK(fs::is_symlink(context.directory() / "d"));
    CHECK((fs::status(dir / "outside").permissions() & fs::perms::all) == fs::perms(0700));
}

TEST_CASE("archive larger than the disk", "[context][hostile]") {
    scratch_dir dir;
    python_tar(dir / "bomb.tar.gz",
               "add('Dockerfile', b'FROM scratch\\n')\nadd('zeros', bytes(4 << 20))", "w:gz");
    REQUIRE(fs::file_size(dir / "bomb.tar.gz") < 64 * 1024);
    const stdin_file input(dir / "bomb.tar.gz");
    auto request = request_for("-", dir);
    request.stdin_fd = input.fd();
    const std::string result = docker_error_on_small_disk(request);
    if (result.starts_with("skip: ")) {
        WARN("skipped: mounting a tmpfs needs root in a mount namespace");
        return;
    }
    CHECK(result.starts_with(unpack_prefix +
                             "entry \"zeros\": the file needs 4194304 bytes but only "));
    CHECK(result.ends_with(" are free in the work directory|empty"));

    // Files that each fit but together do not: the write that runs out of space fails.
    python_tar(dir / "many.tar.gz",
               "add('Dockerfile', b'FROM scratch\\n')\n"
               "for i in range(4):\n    add('part%d' % i, bytes(600 << 10))",
               "w:gz");
    const stdin_file many(dir / "many.tar.gz");
    request.stdin_fd = many.fd();
    const std::string second = docker_error_on_small_disk(request);
    CHECK(second.starts_with(unpack_prefix + "entry \"part1\": "));
    CHECK(second.ends_with("|empty"));
}

TEST_CASE("truncated archive leaves nothing behind", "[context][hostile]") {
    scratch_dir dir;
    python_tar(dir / "full.tar",
               "add('Dockerfile', b'FROM scratch\\n')\nadd('big', b'x' * 100000)");
    const std::string bytes = dockwright::test::read_file(dir / "full.tar");
    const stdin_file input(dir / "cut.tar", bytes.substr(0, 20000));
    auto request = request_for("-", dir);
    request.stdin_fd = input.fd();
    const std::string message = docker_error(request);
    CHECK(message.starts_with(unpack_prefix + "entry \"big\": "));
    CHECK(is_empty_dir(dir.work()));
}

// ---- git ----

TEST_CASE("git URL detection", "[context][git]") {
    using dockwright::is_git_url;
    CHECK(is_git_url("git://host/repo"));
    CHECK(is_git_url("git@github.com:user/repo.git"));
    CHECK(is_git_url("github.com/user/repo"));
    CHECK(is_git_url("https://host/repo.git"));
    CHECK(is_git_url("https://host/repo.git#main:sub"));
    // Docker's pattern has an unescaped dot, so any character before `git` matches.
    CHECK(is_git_url("https://host/repo-git"));
    CHECK(is_git_url("file:///srv/repo.git"));
    CHECK_FALSE(is_git_url("https://host/context.tar.gz"));
    CHECK_FALSE(is_git_url("https://host/repo.git#"));
    CHECK_FALSE(is_git_url("/srv/repo.git"));
    CHECK(dockwright::is_url("http://host/x"));
    CHECK_FALSE(dockwright::is_url("ftp://host/x"));
}

TEST_CASE("git URL fragments", "[context][git]") {
    using dockwright::git_source;
    using dockwright::parse_git_url;
    CHECK(parse_git_url("https://host/repo.git") == git_source{"https://host/repo.git", "", ""});
    CHECK(parse_git_url("https://host/repo.git#v1") ==
          git_source{"https://host/repo.git", "v1", ""});
    CHECK(parse_git_url("https://host/repo.git#main:app/web") ==
          git_source{"https://host/repo.git", "main", "app/web"});
    CHECK(parse_git_url("https://host/repo.git#:app") ==
          git_source{"https://host/repo.git", "", "app"});
    CHECK(parse_git_url("git@host:user/repo.git#dev:x") ==
          git_source{"git@host:user/repo.git", "dev", "x"});
    CHECK(parse_git_url("github.com/user/repo") ==
          git_source{"https://github.com/user/repo", "", ""});
    scratch_dir dir;
    CHECK(docker_error(request_for("https://host/repo.git#--upload-pack=x", dir)) ==
          "unable to prepare context: unable to 'git clone' to temporary context directory: "
          "invalid refspec: --upload-pack=x");
}

TEST_CASE("git context from a local bare repository", "[context][git]") {
    scratch_dir dir;
    const fs::path bare = make_repository(dir);
    const std::string url = "file://" + bare.string();
    fs::path directory;
    {
        const prepared_context context = prepare_context(request_for(url, dir));
        directory = context.directory();
        CHECK(context.temporary());
        CHECK(context.dockerfile_name() == "Dockerfile");
        CHECK(context.dockerfile_text() == "FROM scratch\nCOPY hello /\n");
        CHECK(dockwright::test::read_file(directory / "hello") == "hello again\n");
        // Docker sends the checkout with its .git folder.
        CHECK(fs::is_directory(directory / ".git"));
    }
    CHECK_FALSE(fs::exists(directory));
    CHECK(is_empty_dir(dir.work()));
}

TEST_CASE("git context at a tag and subfolder", "[context][git]") {
    scratch_dir dir;
    const fs::path bare = make_repository(dir);
    const std::string base = "file://" + bare.string();
    {
        const prepared_context context = prepare_context(request_for(base + "#v1", dir));
        CHECK(dockwright::test::read_file(context.directory() / "hello") == "hello from git\n");
    }
    {
        const prepared_context context = prepare_context(request_for(base + "#master:app", dir));
        CHECK(context.directory().filename() == "app");
        CHECK(context.dockerfile_text() == "FROM scratch\nCOPY main.c /\n");
        CHECK(fs::exists(context.directory() / "main.c"));
    }
    {
        const prepared_context context =
            prepare_context(request_for(base + "#:app", dir, "Dockerfile"));
        CHECK(context.dockerfile_name() == "Dockerfile");
        CHECK(context.dockerfile_text() == "FROM scratch\nCOPY main.c /\n");
    }
    CHECK(is_empty_dir(dir.work()));
}

TEST_CASE("git context at a commit", "[context][git]") {
    scratch_dir dir;
    const fs::path bare = make_repository(dir);
    const fs::path sha_file = dir / "sha";
    shell("git -C " + quote(bare) + " rev-parse v1 > " + quote(sha_file));
    std::string sha = dockwright::test::read_file(sha_file);
    sha.pop_back();
    const prepared_context context =
        prepare_context(request_for("file://" + bare.string() + "#" + sha, dir));
    CHECK(dockwright::test::read_file(context.directory() / "hello") == "hello from git\n");
}

TEST_CASE("git ignores GIT_DIR of the caller", "[context][git]") {
    scratch_dir dir;
    const fs::path bare = make_repository(dir);
    shell("git init -q " + quote(dir / "callers"));
    ::setenv("GIT_DIR", (dir / "callers/.git").c_str(), 1);
    const std::string url = "file://" + bare.string();
    std::string failure;
    try {
        const prepared_context context = prepare_context(request_for(url, dir));
        CHECK(dockwright::test::read_file(context.directory() / "hello") == "hello again\n");
    } catch (const std::exception& error) {
        failure = error.what();
    }
    ::unsetenv("GIT_DIR");
    CHECK(failure.empty());
    CHECK_FALSE(fs::exists(dir / "callers/.git/FETCH_HEAD"));
}

TEST_CASE("git context from git@ with insteadOf", "[context][git]") {
    scratch_dir dir;
    const fs::path bare = make_repository(dir);
    // git rewrites the scp-like address to the local repository, so no SSH server is needed.
    ::setenv("GIT_CONFIG_COUNT", "1", 1);
    ::setenv("GIT_CONFIG_KEY_0", ("url.file://" + dir.path().string() + "/.insteadOf").c_str(), 1);
    ::setenv("GIT_CONFIG_VALUE_0", "git@example.invalid:", 1);
    std::string text;
    std::string failure;
    try {
        const prepared_context context =
            prepare_context(request_for("git@example.invalid:repo.git#master:app", dir));
        text = context.dockerfile_text();
    } catch (const std::exception& error) {
        failure = error.what();
    }
    ::unsetenv("GIT_CONFIG_COUNT");
    ::unsetenv("GIT_CONFIG_KEY_0");
    ::unsetenv("GIT_CONFIG_VALUE_0");
    CHECK(failure.empty());
    CHECK(text == "FROM scratch\nCOPY main.c /\n");
}

TEST_CASE("git context over git:// from git daemon", "[context][git]") {
    scratch_dir dir;
    make_repository(dir);
    // Ask the kernel for a free port, then hand it to git daemon.
    const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(probe >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(probe, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    const int port = ntohs(address.sin_port);
    ::close(probe);

    std::vector<std::string> words{"git",
                                   "daemon",
                                   "--reuseaddr",
                                   "--export-all",
                                   "--listen=127.0.0.1",
                                   "--port=" + std::to_string(port),
                                   "--base-path=" + dir.path().string(),
                                   dir.path().string()};
    std::vector<char*> argv;
    for (auto& word : words)
        argv.push_back(word.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t daemon = -1;
    const int spawned = ::posix_spawnp(&daemon, "git", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(spawned == 0);
    bool ready = false;
    for (int attempt = 0; attempt < 100 && !ready; ++attempt) {
        const int client = ::socket(AF_INET, SOCK_STREAM, 0);
        ready = ::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
        ::close(client);
        if (!ready) ::usleep(50000);
    }

    std::string hello;
    std::string failure;
    if (ready) {
        try {
            const prepared_context context = prepare_context(
                request_for("git://127.0.0.1:" + std::to_string(port) + "/repo.git#v1", dir));
            hello = dockwright::test::read_file(context.directory() / "hello");
        } catch (const std::exception& error) {
            failure = error.what();
        }
    }
    ::kill(daemon, SIGTERM);
    int status = 0;
    ::waitpid(daemon, &status, 0);
    REQUIRE(ready);
    CHECK(failure.empty());
    CHECK(hello == "hello from git\n");
}

TEST_CASE("git context uses HEAD without master", "[context][git]") {
    scratch_dir dir;
    const fs::path bare = make_repository(dir, "main");
    const prepared_context context = prepare_context(request_for("file://" + bare.string(), dir));
    CHECK(dockwright::test::read_file(context.directory() / "hello") == "hello again\n");
}

TEST_CASE("git context errors", "[context][git]") {
    scratch_dir dir;
    const fs::path bare = make_repository(dir);
    const std::string base = "file://" + bare.string();
    const std::string clone =
        "unable to prepare context: unable to 'git clone' to temporary "
        "context directory: ";
    CHECK(docker_error(request_for(base + "#nosuchref", dir)) ==
          clone + "error fetching: fatal: couldn't find remote ref nosuchref\n: exit status 128");
    const std::string not_dir = docker_error(request_for(base + "#master:hello", dir));
    CHECK(not_dir.starts_with(clone + "error setting git context, not a directory: "));
    CHECK(not_dir.ends_with("/hello"));
    const std::string missing = docker_error(request_for(base + "#master:nowhere", dir));
    CHECK(missing.starts_with(clone + "stat "));
    CHECK(missing.ends_with("/nowhere: no such file or directory"));
    CHECK(docker_error(request_for(base + "#master:app", dir, "../Dockerfile")) ==
          "unable to prepare context: the Dockerfile (../Dockerfile) must be within the build "
          "context");
    CHECK(is_empty_dir(dir.work()));
}

TEST_CASE("git context over dumb http with a submodule", "[context][git][http]") {
    scratch_dir dir;
    const fs::path bare = make_repository(dir);
    fs::create_directories(dir / "www");
    fs::rename(bare, dir / "www/repo.git");
    // A second repository, used as a submodule of the first.
    const fs::path lib = dir / "lib";
    write_file(lib / "lib.txt", "library\n");
    const std::string git_lib = "git -C " + quote(lib) + " -c user.name=t -c user.email=t@e ";
    shell("git init -q -b master " + quote(lib));
    shell(git_lib + "add -A");
    shell(git_lib + "commit -q -m lib");
    shell("git clone -q --bare " + quote(lib) + " " + quote(dir / "www/lib.git"));
    shell("git -C " + quote(dir / "www/lib.git") + " update-server-info");
    const http_server server(dir / "www");
    const fs::path work = dir / "source";
    const std::string git = "git -C " + quote(work) + " -c user.name=t -c user.email=t@e ";
    shell(git + "-c protocol.file.allow=always submodule add -q " + server.base() +
          "/lib.git vendor/lib");
    shell(git + "commit -q -m submodule");
    shell(git + "push -q " + quote(dir / "www/repo.git") + " master");
    shell("git -C " + quote(dir / "www/repo.git") + " update-server-info");

    const prepared_context context = prepare_context(request_for(server.base() + "/repo.git", dir));
    CHECK(context.dockerfile_text() == "FROM scratch\nCOPY hello /\n");
    CHECK(dockwright::test::read_file(context.directory() / "vendor/lib/lib.txt") == "library\n");
}

// ---- http(s) URLs ----

TEST_CASE("http URL to a compressed tar", "[context][http]") {
    scratch_dir dir;
    fs::create_directories(dir / "www");
    python_tar(dir / "www/ctx.tar.gz",
               "add('Dockerfile', b'FROM scratch\\nCOPY a /\\n')\nadd('a', b'payload')", "w:gz");
    const http_server server(dir / "www");
    auto request = request_for(server.base() + "/ctx.tar.gz", dir);
    std::uint64_t last_received = 0;
    std::optional<std::uint64_t> last_total;
    request.progress = [&](std::uint64_t received, std::optional<std::uint64_t> total) {
        last_received = received;
        last_total = total;
    };
    fs::path directory;
    {
        const prepared_context context = prepare_context(request);
        directory = context.directory();
        CHECK(context.dockerfile_text() == "FROM scratch\nCOPY a /\n");
        CHECK(dockwright::test::read_file(directory / "a") == "payload");
        CHECK_FALSE(fs::exists(directory.parent_path() / "download"));
    }
    CHECK(last_received == fs::file_size(dir / "www/ctx.tar.gz"));
    CHECK(last_total == std::optional<std::uint64_t>(last_received));
    CHECK_FALSE(fs::exists(directory));
    CHECK(is_empty_dir(dir.work()));
}

TEST_CASE("http URL to a plain Dockerfile", "[context][http]") {
    scratch_dir dir;
    write_file(dir / "www/Dockerfile", "FROM scratch\nCMD [\"x\"]\n");
    const http_server server(dir / "www");
    const prepared_context context =
        prepare_context(request_for(server.base() + "/Dockerfile", dir));
    CHECK(context.dockerfile_name() == "Dockerfile");
    CHECK(context.dockerfile_text() == "FROM scratch\nCMD [\"x\"]\n");
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(context.directory()))
        names.push_back(entry.path().filename().string());
    CHECK(names == std::vector<std::string>{"Dockerfile"});
}

TEST_CASE("http URL errors", "[context][http]") {
    scratch_dir dir;
    write_file(dir / "www/Dockerfile", "FROM scratch\n");
    const http_server server(dir / "www");
    const std::string missing = server.base() + "/missing.tar";
    CHECK(docker_error(request_for(missing, dir)) ==
          "unable to prepare context: unable to download remote context " + missing +
              ": failed to GET " + missing + " with status 404 Not Found: missing /missing.tar");
    CHECK(docker_error(request_for(server.base() + "/Dockerfile", dir, "-")) ==
          "unable to prepare context: build context is not an archive");
    const std::string refused = "http://127.0.0.1:1/ctx.tar";
    const std::string message = docker_error(request_for(refused, dir));
    CHECK(message.starts_with("unable to prepare context: unable to download remote context " +
                              refused + ": Get \"" + refused + "\": "));
    CHECK(is_empty_dir(dir.work()));
}

TEST_CASE("http tar with the Dockerfile on stdin", "[context][http]") {
    scratch_dir dir;
    fs::create_directories(dir / "www");
    python_tar(dir / "www/ctx.tar", "add('a', b'payload')");
    const http_server server(dir / "www");
    const stdin_file input(dir / "stdin", "FROM piped\n");
    auto request = request_for(server.base() + "/ctx.tar", dir, "-");
    request.stdin_fd = input.fd();
    const prepared_context context = prepare_context(request);
    CHECK(context.dockerfile_name() == "-");
    CHECK(context.dockerfile_text() == "FROM piped\n");
    CHECK(fs::exists(context.directory() / "a"));
}
