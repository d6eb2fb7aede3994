// Directory chains with a bounded number of open descriptors, and a tree removal built on one.
#include "directory_path.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <utility>

#include "dockwright/layer/layer_error.hpp"

namespace dockwright::layer::detail {

void directory_path::push(std::string name, unique_fd fd, std::optional<directory_id> id) {
    const bool is_open = static_cast<bool>(fd);
    levels_.push_back({std::move(name), std::move(fd), id});
    if (is_open) add_open(levels_.size() - 1);
}

void directory_path::pop() noexcept {
    if (levels_.empty()) return;
    if (levels_.back().fd) open_.pop_back();
    levels_.pop_back();
}

void directory_path::clear() noexcept {
    levels_.clear();
    open_.clear();
}

void directory_path::close_top() noexcept {
    if (levels_.empty() || !levels_.back().fd) return;
    levels_.back().fd.reset();
    open_.pop_back();
}

int directory_path::top(const std::string& entry) {
    if (levels_.empty()) return root_;
    if (!levels_.back().fd) reopen(entry);
    return levels_.back().fd.get();
}

std::string directory_path::joined(std::size_t count) const {
    std::string path;
    for (std::size_t i = 0; i < count && i < levels_.size(); ++i) {
        if (i > 0) path += '/';
        path += levels_[i].name;
    }
    return path;
}

void directory_path::reopen(const std::string& entry) {
    std::size_t first = levels_.size() - 1;
    while (first > 0 && !levels_[first - 1].fd)
        --first;
    for (std::size_t i = first; i < levels_.size(); ++i) {
        const int parent = i == 0 ? root_ : levels_[i - 1].fd.get();
        level& current = levels_[i];
        unique_fd fd(
            ::openat(parent, current.name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) throw layer_error(entry, syscall_reason("open") + ": '" + joined(i + 1) + "'");
        if (current.id) {
            struct stat info {};
            if (::fstat(fd.get(), &info) != 0) {
                throw layer_error(entry, syscall_reason("stat") + ": '" + joined(i + 1) + "'");
            }
            if (info.st_dev != current.id->device || info.st_ino != current.id->inode) {
                throw layer_error(entry, "directory '" + joined(i + 1) +
                                             "' was replaced while the tree was read");
            }
        }
        current.fd = std::move(fd);
        add_open(i);
    }
}

void directory_path::add_open(std::size_t index) noexcept {
    open_.push_back(index);
    while (open_.size() > max_open_) {
        levels_[open_.front()].fd.reset();
        open_.pop_front();
    }
}

std::vector<std::string> list_names(int fd, const std::string& entry) {
    unique_fd copy(::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!copy) throw layer_error(entry, syscall_reason("open"));
    unique_dir stream(::fdopendir(copy.get()));
    if (stream.get() == nullptr) throw layer_error(entry, syscall_reason("fdopendir"));
    (void)copy.release();
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* item = ::readdir(stream.get())) {
        const std::string_view name = item->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    if (errno != 0) throw layer_error(entry, syscall_reason("readdir"));
    return names;
}

namespace {

void unlink_entry(int dirfd, const std::string& name, int flags, const std::string& entry) {
    if (::unlinkat(dirfd, name.c_str(), flags) != 0 && errno != ENOENT) {
        throw layer_error(entry, syscall_reason("unlink") + ": '" + name + "'");
    }
}

}  // namespace

void remove_tree(int dirfd, const std::string& name, const std::string& entry,
                 std::size_t max_open) {
    struct stat info {};
    if (::fstatat(dirfd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return;
        throw layer_error(entry, syscall_reason("stat") + ": '" + name + "'");
    }
    if (!S_ISDIR(info.st_mode)) {
        unlink_entry(dirfd, name, 0, entry);
        return;
    }

    // One list of the children still to remove per level below `dirfd`; a level is removed
    // from its parent once its list is empty.
    directory_path path(dirfd, max_open);
    std::vector<std::vector<std::string>> pending;
    std::string child = name;
    while (true) {
        const int parent = path.top(entry);
        if (::fstatat(parent, child.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) {
                throw layer_error(entry, syscall_reason("stat") + ": '" + child + "'");
            }
        } else if (!S_ISDIR(info.st_mode)) {
            unlink_entry(parent, child, 0, entry);
        } else {
            unique_fd fd(
                ::openat(parent, child.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!fd) throw layer_error(entry, syscall_reason("open") + ": '" + child + "'");
            std::vector<std::string> children = list_names(fd.get(), entry);
            if (children.empty()) {
                fd.reset();
                unlink_entry(parent, child, AT_REMOVEDIR, entry);
            } else {
                path.push(std::move(child), std::move(fd), directory_id{info.st_dev, info.st_ino});
                pending.push_back(std::move(children));
            }
        }

        // Leave every level whose children are all gone, removing it from its parent.
        while (!pending.empty() && pending.back().empty()) {
            pending.pop_back();
            const std::string done = path.name(path.depth() - 1);
            path.pop();
            unlink_entry(path.top(entry), done, AT_REMOVEDIR, entry);
        }
        if (pending.empty()) return;
        child = std::move(pending.back().back());
        pending.back().pop_back();
    }
}

}  // namespace dockwright::layer::detail
