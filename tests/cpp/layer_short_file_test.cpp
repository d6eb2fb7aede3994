// A file whose stat size is larger than what a read returns: the layer writer must fail instead
// of filling the rest of the entry from its reused, uninitialised 1 MiB chunks.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <dockwright/layer/byte_sink.hpp>
#include <dockwright/layer/layer_writer.hpp>
#include <string>

#include "layer_support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;

namespace {

/// A sysfs attribute: its stat size is a page, its content a short line.
constexpr const char* short_source = "/sys/kernel/mm/transparent_hugepage/enabled";

/// In a child process with its own mount namespace, binds `source` over `target` and writes
/// the tree at `root` as a layer. Returns the error message, or "no error" and the tar size.
std::string write_layer_over_bind(const fs::path& root, const fs::path& target) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(fds[0]);
        std::string message;
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount(short_source, target.c_str(), nullptr, MS_BIND, nullptr) != 0) {
            message = std::string("cannot bind the file: ") + std::strerror(errno);
        } else {
            try {
                layer::string_sink sink;
                (void)layer::write_tree_layer(root, sink);
                message = "no error, " + std::to_string(sink.data().size()) + " bytes";
            } catch (const std::exception& e) {
                message = e.what();
            }
        }
        (void)!::write(fds[1], message.data(), message.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string message;
    char buffer[512];
    ssize_t count = 0;
    while ((count = ::read(fds[0], buffer, sizeof buffer)) > 0)
        message.append(buffer, static_cast<std::size_t>(count));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(child, &status, 0);
    return message;
}

}  // namespace

TEST_CASE("layer of a file shorter than its size fails", "[layer]") {
    struct stat info {};
    if (::geteuid() != 0 || ::stat(short_source, &info) != 0 || info.st_size < 1024) {
        WARN("skipped: needs root and " << short_source << " with a stat size of a page");
        return;
    }
    test::temp_dir dir;
    test::write_text(dir / "big", std::string(3 << 20, 'x'));  // fills and reuses chunks
    test::write_text(dir / "short", "");
    const std::string message = write_layer_over_bind(dir.path(), dir / "short");
    if (message.starts_with("cannot bind the file")) {
        WARN("skipped: " << message);
        return;
    }
    CHECK(message == "layer entry 'short': file shrank while it was being read");
}
