// export_image(): the `-o type=docker|oci|tar|local` outputs of a build, with progress totals.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dockwright/build/image_export.hpp>
#include <dockwright/build/progress_sink.hpp>
#include <dockwright/core/error.hpp>
#include <dockwright/layer/byte_sink.hpp>
#include <dockwright/layer/layer_writer.hpp>
#include <dockwright/layer/tar_writer.hpp>
#include <dockwright/store/archive.hpp>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "../core/file_copy.hpp"
#include "../core/unique_fd.hpp"

namespace dockwright {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void throw_system(const std::string& what, const fs::path& path) {
    throw error(what + " " + path.string() + ": " + std::strerror(errno));
}

/// Returns the bytes `entry` takes in a tar: its header blocks, PAX records included, and its
/// data padded to whole 512-byte blocks.
std::uint64_t tar_entry_size(const layer::tar_entry& entry) {
    layer::string_sink header;
    layer::tar_writer measure(header);
    measure.write_header(entry);
    const auto data = static_cast<std::uint64_t>(entry.size);
    return header.data().size() + (data + 511) / 512 * 512;
}

/// Returns the names in the directory `fd`, sorted bytewise as the layer writer walks them.
std::vector<std::string> sorted_names(int fd, const fs::path& path) {
    const int copy = ::dup(fd);
    if (copy < 0) throw_system("cannot read the directory", path);
    DIR* dir = ::fdopendir(copy);
    if (dir == nullptr) {
        ::close(copy);
        throw_system("cannot read the directory", path);
    }
    std::vector<std::string> names;
    ::rewinddir(dir);
    errno = 0;
    while (const dirent* item = ::readdir(dir)) {
        const std::string_view name = item->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    const int read_error = errno;
    ::closedir(dir);
    if (read_error != 0) {
        errno = read_error;
        throw_system("cannot read the directory", path);
    }
    std::sort(names.begin(), names.end());
    return names;
}

unique_fd open_directory(int parent, const std::string& name, const fs::path& path) {
    unique_fd fd(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) throw_system("cannot open the directory", path);
    return fd;
}

/// Adds up the tar sizes of a tree's entries, making each header as the layer writer does.
class tree_measure {
  public:
    explicit tree_measure(const fs::path& root) : root_(root) {}

    std::uint64_t walk() {
        const unique_fd fd(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd) throw_system("cannot open the directory", root_);
        walk_directory(fd.get(), "");
        return total_ + 1024;  // the two zero blocks that end the archive
    }

  private:
    void walk_directory(int fd, const std::string& prefix) {
        for (const std::string& name : sorted_names(fd, root_ / prefix)) {
            const std::string path = prefix + name;
            struct stat info {};
            if (::fstatat(fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
                throw_system("cannot stat", root_ / path);
            }
            const mode_t type = info.st_mode & S_IFMT;
            if (type == S_IFSOCK) continue;  // the layer writer leaves sockets out
            total_ += tar_entry_size(header(fd, name, path, info));
            if (type == S_IFDIR)
                walk_directory(open_directory(fd, name, root_ / path).get(), path + "/");
        }
    }

    layer::tar_entry header(int fd, const std::string& name, const std::string& path,
                            const struct stat& info) {
        layer::tar_entry entry;
        entry.name = path;
        entry.mode = info.st_mode & (S_IFMT | 07777);
        entry.uid = info.st_uid;
        entry.gid = info.st_gid;
        entry.uname = user(info.st_uid);
        entry.gname = group(info.st_gid);
        entry.mtime = info.st_mtim.tv_sec;
        entry.xattrs = xattrs(root_ / path);
        switch (info.st_mode & S_IFMT) {
            case S_IFDIR:
                entry.type = layer::entry_type::directory;
                entry.name += '/';
                break;
            case S_IFREG:
                entry.size = info.st_size;
                break;
            case S_IFLNK: {
                entry.type = layer::entry_type::symlink;
                std::string target(static_cast<std::size_t>(info.st_size) + 1, '\0');
                const ssize_t n = ::readlinkat(fd, name.c_str(), target.data(), target.size());
                if (n < 0) throw_system("cannot read the symlink", root_ / path);
                target.resize(static_cast<std::size_t>(n));
                entry.linkname = target;
                break;
            }
            case S_IFCHR:
            case S_IFBLK:
                entry.type = S_ISCHR(info.st_mode) ? layer::entry_type::char_device
                                                   : layer::entry_type::block_device;
                entry.devmajor = major(info.st_rdev);
                entry.devminor = minor(info.st_rdev);
                break;
            default:
                entry.type = layer::entry_type::fifo;
                break;
        }
        if (!S_ISDIR(info.st_mode) && info.st_nlink > 1) {
            auto [first, inserted] = first_links_.try_emplace({info.st_dev, info.st_ino}, path);
            if (!inserted) {
                entry.type = layer::entry_type::hardlink;
                entry.linkname = first->second;
                entry.size = 0;
            }
        }
        return entry;
    }

    /// The extended attributes the layer writer keeps by default: all but `security.selinux`.
    static std::map<std::string, std::string> xattrs(const fs::path& path) {
        std::map<std::string, std::string> out;
        std::string names(1024, '\0');
        for (;;) {
            const ssize_t n = ::llistxattr(path.c_str(), names.data(), names.size());
            if (n >= 0) {
                names.resize(static_cast<std::size_t>(n));
                break;
            }
            if (errno == ENOTSUP) return out;
            if (errno != ERANGE) throw_system("cannot list the extended attributes of", path);
            names.resize(names.size() * 4);
        }
        for (std::size_t start = 0; start < names.size();) {
            const std::size_t end = std::min(names.find('\0', start), names.size());
            const std::string name = names.substr(start, end - start);
            start = end + 1;
            if (name.empty() || name == "security.selinux") continue;
            std::string value(256, '\0');
            for (;;) {
                const ssize_t n =
                    ::lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
                if (n >= 0) {
                    value.resize(static_cast<std::size_t>(n));
                    out.emplace(name, value);
                    break;
                }
                if (errno == ENODATA || errno == ENOTSUP) break;
                if (errno != ERANGE) throw_system("cannot read the extended attributes of", path);
                value.resize(value.size() * 4);
            }
        }
        return out;
    }

    const std::string& user(uid_t uid) {
        auto [found, inserted] = users_.try_emplace(uid);
        if (inserted) {
            std::vector<char> buffer(16384);
            passwd record{};
            passwd* result = nullptr;
            if (::getpwuid_r(uid, &record, buffer.data(), buffer.size(), &result) == 0 && result) {
                found->second = result->pw_name;
            }
        }
        return found->second;
    }

    const std::string& group(gid_t gid) {
        auto [found, inserted] = groups_.try_emplace(gid);
        if (inserted) {
            std::vector<char> buffer(16384);
            struct group record {};
            struct group* result = nullptr;
            if (::getgrgid_r(gid, &record, buffer.data(), buffer.size(), &result) == 0 && result) {
                found->second = result->gr_name;
            }
        }
        return found->second;
    }

    fs::path root_;
    std::uint64_t total_ = 0;
    std::map<std::pair<dev_t, ino_t>, std::string> first_links_;
    std::unordered_map<uid_t, std::string> users_;
    std::unordered_map<gid_t, std::string> groups_;
};

/// Returns the bytes of the regular files under the directory `fd`, which `copy_tree` copies.
std::uint64_t regular_file_bytes(int fd, const fs::path& path) {
    std::uint64_t total = 0;
    for (const std::string& name : sorted_names(fd, path)) {
        struct stat info {};
        if (::fstatat(fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
            throw_system("cannot stat", path / name);
        }
        if (S_ISREG(info.st_mode)) total += static_cast<std::uint64_t>(info.st_size);
        if (S_ISDIR(info.st_mode)) {
            total += regular_file_bytes(open_directory(fd, name, path / name).get(), path / name);
        }
    }
    return total;
}

/// Copies a root filesystem into a directory. Every name is opened relative to its parent's
/// descriptor without following symlinks, so a symlink in the destination cannot send a write
/// outside of it.
class tree_copy {
  public:
    explicit tree_copy(progress_reporter& reporter) : reporter_(reporter) {}

    /// The bytes of regular files copied so far.
    [[nodiscard]] std::uint64_t copied() const noexcept { return copied_; }

    void copy(int source, int target, const fs::path& source_path, const fs::path& target_path) {
        for (const std::string& name : sorted_names(source, source_path)) {
            const fs::path from = source_path / name;
            const fs::path to = target_path / name;
            struct stat info {};
            if (::fstatat(source, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
                throw_system("cannot stat", from);
            }
            switch (info.st_mode & S_IFMT) {
                case S_IFDIR:
                    copy_directory(source, target, name, info, from, to);
                    break;
                case S_IFREG:
                    copy_file(source, target, name, info, from, to);
                    break;
                case S_IFLNK:
                    copy_symlink(source, target, name, info, from, to);
                    break;
                case S_IFSOCK:
                    break;  // as in a layer tar, sockets are left out
                default:
                    remove_existing(target, name, to);
                    if (::mknodat(target, name.c_str(), info.st_mode & (S_IFMT | 07777),
                                  info.st_rdev) != 0) {
                        throw_system("cannot create", to);
                    }
                    break;
            }
        }
    }

  private:
    static void remove_existing(int target, const std::string& name, const fs::path& to) {
        struct stat info {};
        if (::fstatat(target, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) return;
        if (S_ISDIR(info.st_mode)) {
            std::error_code failed;
            fs::remove_all(to, failed);
            if (failed) throw error("cannot replace " + to.string() + ": " + failed.message());
        } else if (::unlinkat(target, name.c_str(), 0) != 0) {
            throw_system("cannot replace", to);
        }
    }

    void copy_directory(int source, int target, const std::string& name, const struct stat& info,
                        const fs::path& from, const fs::path& to) {
        struct stat existing {};
        if (::fstatat(target, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0 &&
            !S_ISDIR(existing.st_mode)) {
            remove_existing(target, name, to);
        }
        if (::mkdirat(target, name.c_str(), 0700) != 0 && errno != EEXIST) {
            throw_system("cannot create", to);
        }
        const unique_fd child_source = open_directory(source, name, from);
        const unique_fd child_target = open_directory(target, name, to);
        // Owner-writable while it fills, so a read-only directory still receives its files.
        if (::fchmod(child_target.get(), 0700) != 0) throw_system("cannot set the mode of", to);
        copy(child_source.get(), child_target.get(), from, to);
        if (::fchmod(child_target.get(), info.st_mode & 07777) != 0) {
            throw_system("cannot set the mode of", to);
        }
        const timespec times[2] = {info.st_atim, info.st_mtim};
        if (::futimens(child_target.get(), times) != 0) throw_system("cannot set the times of", to);
    }

    void copy_file(int source, int target, const std::string& name, const struct stat& info,
                   const fs::path& from, const fs::path& to) {
        const unique_fd input(::openat(source, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!input) throw_system("cannot open", from);
        remove_existing(target, name, to);
        const unique_fd output(::openat(
            target, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!output) throw_system("cannot create", to);
        copier_.copy_to_end(input.get(), output.get(), from, to, [this](std::uint64_t bytes) {
            copied_ += bytes;
            reporter_.update(copied_);
        });
        if (::fchmod(output.get(), info.st_mode & 07777) != 0) {
            throw_system("cannot set the mode of", to);
        }
        const timespec times[2] = {info.st_atim, info.st_mtim};
        if (::futimens(output.get(), times) != 0) throw_system("cannot set the times of", to);
    }

    static void copy_symlink(int source, int target, const std::string& name,
                             const struct stat& info, const fs::path& from, const fs::path& to) {
        std::string link(static_cast<std::size_t>(info.st_size) + 1, '\0');
        const ssize_t n = ::readlinkat(source, name.c_str(), link.data(), link.size());
        if (n < 0) throw_system("cannot read the symlink", from);
        link.resize(static_cast<std::size_t>(n));
        remove_existing(target, name, to);
        if (::symlinkat(link.c_str(), target, name.c_str()) != 0) throw_system("cannot create", to);
        const timespec times[2] = {info.st_atim, info.st_mtim};
        ::utimensat(target, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
    }

    progress_reporter& reporter_;
    detail::file_copier copier_;
    std::uint64_t copied_ = 0;
};

/// Splits a `key=value,key=value` flag value; a field without `=` has an empty value.
std::vector<std::pair<std::string, std::string>> fields_of(const std::string& text) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const std::string field = text.substr(start, comma - start);
        const std::size_t equals = field.find('=');
        out.emplace_back(field.substr(0, equals),
                         equals == std::string::npos ? "" : field.substr(equals + 1));
        start = comma + 1;
    }
    return out;
}

std::uint64_t export_archive(const store& images, const digest& id, const export_request& request,
                             const build_event_sink& events) {
    const std::string name = id.str();
    std::optional<progress_reporter> reporter;
    std::uint64_t written = 0;
    const save_progress progress = [&](std::uint64_t done, std::uint64_t total) {
        if (!reporter) reporter.emplace(events, export_task_name(request), total);
        reporter->update(done);
        written = done;
    };
    save_archive(images, std::span(&name, 1), request.dest,
                 request.type == "oci" ? archive_format::oci : archive_format::docker,
                 layer::compression::none, progress);
    if (reporter) reporter->finish();
    return written;
}

std::uint64_t export_rootfs_tar(store& images, const digest& id, const export_request& request,
                                const build_event_sink& events) {
    const bool empty = images.get(id).diff_ids.empty();
    const std::optional<fs::path> root =
        empty ? std::nullopt : std::optional<fs::path>(images.unpack(id));
    const std::uint64_t total = root ? tree_tar_size(*root) : 0;
    const unique_fd fd(
        ::open(request.dest.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) throw_system("cannot create", request.dest);
    if (!root) {
        // An image without layers has an empty root filesystem and gives an empty file.
        progress_reporter(events, export_task_name(request), 0).finish();
        return 0;
    }
    layer::fd_sink file(fd.get());
    progress_sink sink(file, events, export_task_name(request), total);
    const layer::layer_info written = layer::write_tree_layer(*root, sink);
    sink.finish();
    return written.tar_size;
}

std::uint64_t export_directory(store& images, const digest& id, const export_request& request,
                               const build_event_sink& events) {
    fs::create_directories(request.dest);
    if (images.get(id).diff_ids.empty()) {
        progress_reporter(events, export_task_name(request), 0).finish();
        return 0;
    }
    const fs::path root = images.unpack(id);
    const unique_fd source(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!source) throw_system("cannot open the directory", root);
    const unique_fd target(::open(request.dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!target) throw_system("cannot open the directory", request.dest);
    progress_reporter reporter(events, export_task_name(request),
                               regular_file_bytes(source.get(), root));
    tree_copy copier(reporter);
    copier.copy(source.get(), target.get(), root, request.dest);
    reporter.finish();
    return copier.copied();
}

}  // namespace

export_request parse_export_request(const std::string& text) {
    export_request out;
    if (text.find('=') == std::string::npos) {
        out.type = "local";
        out.dest = text;
        return out;
    }
    for (const auto& [key, value] : fields_of(text)) {
        if (key == "type") {
            out.type = value;
        } else if (key == "dest") {
            out.dest = value;
        } else {
            throw invalid_value_error("output", text,
                                      "unknown key " + key +
                                          " (use type=docker|oci|tar|local|registry,"
                                          "dest=PATH)");
        }
    }
    static const std::set<std::string> types{"docker", "oci", "tar", "local"};
    if (!types.contains(out.type)) {
        throw invalid_value_error("output", text,
                                  "unknown output type " + out.type +
                                      " (use docker, oci, tar, local, registry or image)");
    }
    if (out.type != "docker" && out.dest.empty()) {
        throw invalid_value_error("output", text, "type=" + out.type + " needs dest=PATH");
    }
    return out;
}

std::string export_task_name(const export_request& request) {
    return "export " + request.type;
}

std::uint64_t export_image(store& images, const digest& id, const export_request& request,
                           const build_event_sink& events) {
    if (request.type == "docker" && request.dest.empty()) return 0;
    if (request.type == "docker" || request.type == "oci") {
        return export_archive(images, id, request, events);
    }
    if (request.type == "tar") return export_rootfs_tar(images, id, request, events);
    if (request.type == "local") return export_directory(images, id, request, events);
    throw invalid_value_error("output type", request.type, "use docker, oci, tar or local");
}

std::uint64_t tree_tar_size(const fs::path& root) {
    return tree_measure(root).walk();
}

}  // namespace dockwright
