// File helpers of the store.
#include "files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

#include "../core/unique_fd.hpp"
#include "../layer/directory_path.hpp"
#include "dockwright/store/store_error.hpp"

namespace dockwright::detail {

namespace {

std::string system_reason() {
    return std::strerror(errno);
}

}  // namespace

void fsync_directory(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw store_error(path.string(), "cannot open directory: " + system_reason());
    const int status = ::fsync(fd);
    const int saved = errno;
    ::close(fd);
    if (status != 0)
        throw store_error(path.string(), std::string("fsync failed: ") + std::strerror(saved));
}

void remove_tree(const std::filesystem::path& path) noexcept {
    std::error_code ignored;
    if (!std::filesystem::exists(std::filesystem::symlink_status(path, ignored))) return;
    if (std::filesystem::is_directory(std::filesystem::symlink_status(path, ignored))) {
        ::chmod(path.c_str(), 0700);
        for (auto it = std::filesystem::recursive_directory_iterator(
                 path, std::filesystem::directory_options::none, ignored);
             !ignored && it != std::filesystem::recursive_directory_iterator();
             it.increment(ignored)) {
            if (it->is_directory(ignored) && !it->is_symlink(ignored)) {
                ::chmod(it->path().c_str(), 0700);
            }
        }
    }
    remove_all_deep(path);
}

void remove_all_deep(const std::filesystem::path& path) noexcept {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
    if (!ignored || !std::filesystem::exists(std::filesystem::symlink_status(path, ignored))) {
        return;
    }
    // remove_all keeps a descriptor per level, so it stops with EMFILE in a tree that a RUN
    // made deep enough. What it left is removed with at most 64 descriptors open.
    const unique_fd parent(::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent) return;
    try {
        layer::detail::remove_tree(parent.get(), path.filename().string(), path.string(), 64);
    } catch (...) {
        // Errors are ignored, as remove_all's are; prune retries a build's scratch directory.
    }
}

std::string unique_name(std::string_view prefix) {
    static thread_local std::mt19937_64 generator(std::random_device{}());
    char suffix[17];
    std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(generator()));
    return std::string(prefix) + std::to_string(::getpid()) + "-" + suffix;
}

std::pair<digest, std::uint64_t> hash_file(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw store_error(path.string(), "cannot open: " + system_reason());
    hasher hash;
    std::vector<char> buffer(1 << 20);
    std::uint64_t size = 0;
    for (;;) {
        const ssize_t count = ::read(fd, buffer.data(), buffer.size());
        if (count < 0) {
            if (errno == EINTR) continue;
            const std::string reason = system_reason();
            ::close(fd);
            throw store_error(path.string(), "read failed: " + reason);
        }
        if (count == 0) break;
        hash.update(buffer.data(), static_cast<std::size_t>(count));
        size += static_cast<std::uint64_t>(count);
    }
    ::close(fd);
    return {hash.finish(), size};
}

std::string read_small_file(const std::filesystem::path& path, std::string_view subject,
                            std::uint64_t limit) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw store_error(std::string(subject), "cannot open: " + system_reason());
    struct stat info {};
    if (::fstat(fd, &info) != 0 || static_cast<std::uint64_t>(info.st_size) > limit) {
        ::close(fd);
        throw store_error(std::string(subject),
                          "file is larger than " + std::to_string(limit) + " bytes");
    }
    std::string text(static_cast<std::size_t>(info.st_size), '\0');
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t count = ::read(fd, text.data() + done, text.size() - done);
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) break;
        done += static_cast<std::size_t>(count);
    }
    ::close(fd);
    text.resize(done);
    return text;
}

}  // namespace dockwright::detail
