// The init layer, the copy fallback and the tree comparison behind a container's diff.
#include "rootfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <utility>

#include "../core/file_copy.hpp"
#include "fd.hpp"

namespace dockwright::exec::detail {

namespace fs = std::filesystem;

namespace {

bool is_whiteout(const struct stat& info) {
    return S_ISCHR(info.st_mode) && info.st_rdev == makedev(0, 0);
}

bool is_opaque(const std::string& path) {
    for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
        char value[4] = {};
        const auto size = ::lgetxattr(path.c_str(), name, value, sizeof value);
        if (size == 1 && value[0] == 'y') return true;
    }
    return false;
}

bool is_overlay_xattr(std::string_view name) {
    return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

/// The names in a directory, without `.` and `..`; throws exec_error when it cannot be read.
std::vector<std::string> list_directory(const std::string& path) {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) throw system_error("read directory " + path, errno);
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(dir);
    return names;
}

std::string join(const std::string& dir, const std::string& name) {
    return dir.empty() ? name : dir + "/" + name;
}

std::int64_t nanoseconds(const timespec& time) {
    return static_cast<std::int64_t>(time.tv_sec) * 1'000'000'000 + time.tv_nsec;
}

/// Copies one layer onto the target tree, entry by entry.
/// NOTE: this copy fallback and the snapshot walk below work on whole paths and recurse once
/// per level. Without overlayfs, a tree with a path longer than PATH_MAX (4096 bytes) fails
/// with "File name too long", which the overlayfs path does not.
class layer_copier {
  public:
    void copy_directory(const std::string& source, const std::string& target) {
        for (const auto& name : list_directory(source)) {
            const std::string from = source + "/" + name;
            const std::string to = target + "/" + name;
            struct stat info {};
            if (::lstat(from.c_str(), &info) != 0) throw system_error("stat " + from, errno);
            if (is_whiteout(info)) {
                fs::remove_all(to);
                continue;
            }
            struct stat existing {};
            const bool exists = ::lstat(to.c_str(), &existing) == 0;
            if (S_ISDIR(info.st_mode)) {
                if (exists && (!S_ISDIR(existing.st_mode) || is_opaque(from))) fs::remove_all(to);
                if ((!exists || !S_ISDIR(existing.st_mode) || is_opaque(from)) &&
                    ::mkdir(to.c_str(), 0700) != 0)
                    throw system_error("create " + to, errno);
                copy_directory(from, to);
                copy_metadata(from, to, info);
                continue;
            }
            if (exists) fs::remove_all(to);
            copy_file(from, to, info);
        }
    }

  private:
    void copy_file(const std::string& from, const std::string& to, const struct stat& info) {
        const auto key = std::pair(info.st_dev, info.st_ino);
        if (info.st_nlink > 1 && !S_ISDIR(info.st_mode)) {
            if (const auto first = links_.find(key); first != links_.end()) {
                if (::link(first->second.c_str(), to.c_str()) != 0)
                    throw system_error("link " + to, errno);
                return;
            }
            links_.emplace(key, to);
        }
        if (S_ISREG(info.st_mode)) {
            copy_data(from, to);
        } else if (S_ISLNK(info.st_mode)) {
            std::string target(static_cast<std::size_t>(info.st_size) + 1, '\0');
            const auto size = ::readlink(from.c_str(), target.data(), target.size());
            if (size < 0) throw system_error("read link " + from, errno);
            target.resize(static_cast<std::size_t>(size));
            if (::symlink(target.c_str(), to.c_str()) != 0)
                throw system_error("create link " + to, errno);
        } else if (::mknod(to.c_str(), info.st_mode, info.st_rdev) != 0) {
            throw system_error("create special file " + to, errno);
        }
        copy_metadata(from, to, info);
    }

    static void copy_data(const std::string& from, const std::string& to) {
        const unique_fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
        if (!in) throw system_error("open " + from, errno);
        const unique_fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
        if (!out) throw system_error("create " + to, errno);
        if (::ioctl(out.get(), FICLONE, in.get()) == 0) return;
        try {
            dockwright::detail::file_copier().copy_to_end(in.get(), out.get(), from, to);
        } catch (const dockwright::detail::file_copy_error& failure) {
            throw exec_error("copy file data", failure.what());
        }
    }

    void copy_metadata(const std::string& from, const std::string& to, const struct stat& info) {
        if (root_ && ::lchown(to.c_str(), info.st_uid, info.st_gid) != 0)
            throw system_error("change the owner of " + to, errno);
        copy_xattrs(from, to);
        if (!S_ISLNK(info.st_mode) && ::chmod(to.c_str(), info.st_mode & 07777) != 0)
            throw system_error("change the mode of " + to, errno);
        const timespec times[2] = {info.st_atim, info.st_mtim};
        if (::utimensat(AT_FDCWD, to.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
            throw system_error("set the times of " + to, errno);
    }

    void copy_xattrs(const std::string& from, const std::string& to) const {
        const auto size = ::llistxattr(from.c_str(), nullptr, 0);
        if (size <= 0) return;
        std::string names(static_cast<std::size_t>(size), '\0');
        const auto listed = ::llistxattr(from.c_str(), names.data(), names.size());
        if (listed < 0) return;
        names.resize(static_cast<std::size_t>(listed));
        for (std::size_t start = 0; start < names.size();) {
            const std::string name = names.c_str() + start;
            start += name.size() + 1;
            if (is_overlay_xattr(name)) continue;
            const auto length = ::lgetxattr(from.c_str(), name.c_str(), nullptr, 0);
            if (length < 0) continue;
            std::string value(static_cast<std::size_t>(length), '\0');
            const auto read = ::lgetxattr(from.c_str(), name.c_str(), value.data(), value.size());
            if (read < 0) continue;
            if (::lsetxattr(to.c_str(), name.c_str(), value.data(), static_cast<std::size_t>(read),
                            0) != 0 &&
                (root_ || !name.starts_with("user.")))
                // Without root, only user.* attributes can be set; the others are skipped.
                if (root_) throw system_error("set attribute " + name + " on " + to, errno);
        }
    }

    std::map<std::pair<dev_t, ino_t>, std::string> links_;
    bool root_ = ::geteuid() == 0;
};

bool is_below(const std::string& path, const std::vector<std::string>& prefixes) {
    for (const auto& prefix : prefixes)
        if (path.size() > prefix.size() && path.starts_with(prefix) && path[prefix.size()] == '/')
            return true;
    return false;
}

bool is_listed(const std::string& path, const std::vector<std::string>& paths) {
    for (const auto& entry : paths)
        if (entry == path) return true;
    return false;
}

file_state state_of(const struct stat& info) {
    return {info.st_mode,
            info.st_uid,
            info.st_gid,
            info.st_rdev,
            info.st_ino,
            info.st_size,
            nanoseconds(info.st_mtim),
            nanoseconds(info.st_ctim)};
}

void walk(const std::string& root, const std::string& relative,
          const std::vector<std::string>& skip_below, tree_snapshot& out) {
    for (const auto& name : list_directory(relative.empty() ? root : root + "/" + relative)) {
        const std::string path = join(relative, name);
        struct stat info {};
        if (::lstat((root + "/" + path).c_str(), &info) != 0)
            throw system_error("stat " + root + "/" + path, errno);
        out.emplace(path, state_of(info));
        if (S_ISDIR(info.st_mode) && !is_listed(path, skip_below))
            walk(root, path, skip_below, out);
    }
}

}  // namespace

const std::vector<std::string>& mount_points() {
    static const std::vector<std::string> paths{"proc",      "sys",          "dev",
                                                "etc/hosts", "etc/hostname", "etc/resolv.conf"};
    return paths;
}

std::optional<fs::path> find_in_layers(const std::vector<fs::path>& lower_dirs,
                                       const std::string& relative) {
    std::vector<std::string> parts;
    for (std::size_t start = 0; start < relative.size();) {
        auto slash = relative.find('/', start);
        if (slash == std::string::npos) slash = relative.size();
        parts.push_back(relative.substr(start, slash - start));
        start = slash + 1;
    }
    for (auto layer = lower_dirs.rbegin(); layer != lower_dirs.rend(); ++layer) {
        std::string path = layer->string();
        bool hidden_below = false;
        for (std::size_t i = 0; i < parts.size(); ++i) {
            path += "/" + parts[i];
            struct stat info {};
            if (::lstat(path.c_str(), &info) != 0) break;
            if (is_whiteout(info)) return std::nullopt;
            if (i + 1 == parts.size()) return fs::path(path);
            if (!S_ISDIR(info.st_mode)) return std::nullopt;
            if (is_opaque(path)) hidden_below = true;
        }
        if (hidden_below) return std::nullopt;
    }
    return std::nullopt;
}

std::vector<init_entry> init_layer_entries(const std::vector<fs::path>& lower_dirs) {
    const bool root = ::geteuid() == 0;
    std::vector<init_entry> entries;
    std::set<std::string> parents;
    for (const auto& point : mount_points()) {
        if (find_in_layers(lower_dirs, point)) continue;
        // Parent directories take the mode and owner they have in the layers.
        for (std::size_t slash = point.find('/'); slash != std::string::npos;
             slash = point.find('/', slash + 1)) {
            const std::string parent = point.substr(0, slash);
            if (!parents.insert(parent).second) continue;
            init_entry entry{parent, true, 0755, std::nullopt};
            struct stat info {};
            const auto original = find_in_layers(lower_dirs, parent);
            if (original && ::stat(original->c_str(), &info) == 0) {
                entry.mode = info.st_mode & 07777;
                if (root) entry.owner = std::pair(info.st_uid, info.st_gid);
            }
            entries.push_back(std::move(entry));
        }
        entries.push_back({point, !point.starts_with("etc/"), 0755, std::nullopt});
    }
    return entries;
}

void copy_layers(const std::vector<fs::path>& lower_dirs, const fs::path& target) {
    for (const auto& layer : lower_dirs) {
        layer_copier copier;
        copier.copy_directory(layer.string(), target.string());
    }
}

tree_snapshot snapshot_tree(const fs::path& root, const std::vector<std::string>& skip_below) {
    tree_snapshot snapshot;
    walk(root.string(), "", skip_below, snapshot);
    return snapshot;
}

std::vector<layer::change> compare_tree(const tree_snapshot& before, const fs::path& root,
                                        const std::vector<std::string>& ignored,
                                        const std::vector<std::string>& skip_below) {
    const tree_snapshot now = snapshot_tree(root, skip_below);
    std::vector<layer::change> changes;
    // As in Docker's tree comparison, a directory present before and after is "modified" and
    // each removed child gets a whiteout. It never becomes opaque, not even when it was removed
    // and made again, because whether its inode number changed depends on the file system.
    for (const auto& [path, state] : now) {
        if (is_listed(path, ignored) || is_below(path, ignored)) continue;
        const auto old = before.find(path);
        if (old != before.end() && old->second == state) continue;
        changes.push_back({path, layer::change_kind::modified});
    }
    for (const auto& [path, state] : before) {
        if (now.contains(path) || is_listed(path, ignored) || is_below(path, ignored)) continue;
        // Only the topmost deleted path gets a whiteout.
        const auto slash = path.rfind('/');
        if (slash != std::string::npos) {
            const auto parent = now.find(path.substr(0, slash));
            if (parent == now.end() || !S_ISDIR(parent->second.mode)) continue;
        }
        changes.push_back({path, layer::change_kind::deleted});
    }
    return changes;
}

}  // namespace dockwright::exec::detail
