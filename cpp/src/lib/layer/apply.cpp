// Extracts layer tars onto a directory with libarchive, resolving every path one component at
// a time from a descriptor of the target, so that no entry can write outside it.
#include "dockwright/layer/apply.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "../core/archive_reader.hpp"
#include "directory_path.hpp"
#include "dockwright/layer/layer_error.hpp"
#include "layer_stream.hpp"
#include "unique_fd.hpp"

namespace dockwright::layer {
namespace {

using detail::layer_stream;
using detail::syscall_reason;
using detail::unique_fd;

constexpr std::string_view whiteout_prefix = ".wh.";
constexpr std::string_view whiteout_meta_prefix = ".wh..wh.";
constexpr std::string_view opaque_marker = ".wh..wh..opq";

// Linux's limit on symlinks followed in one path lookup (MAXSYMLINKS in the kernel).
constexpr int max_symlinks = 40;

// Splits an entry name into clean components: no leading "./", no empty or "." parts.
// Rejects absolute names and "..".
std::vector<std::string> split_name(const std::string& raw, const std::string& entry,
                                    const std::string& what) {
    if (!raw.empty() && raw.front() == '/') {
        throw layer_error(entry, what + " is an absolute path");
    }
    std::vector<std::string> parts;
    for (std::size_t start = 0; start <= raw.size();) {
        std::size_t end = raw.find('/', start);
        if (end == std::string::npos) end = raw.size();
        std::string part = raw.substr(start, end - start);
        start = end + 1;
        if (part.empty() || part == ".") continue;
        if (part == "..") throw layer_error(entry, what + " contains '..'");
        parts.push_back(std::move(part));
    }
    return parts;
}

std::string join(const std::vector<std::string>& parts, std::size_t count) {
    std::string path;
    for (std::size_t i = 0; i < count; ++i) {
        if (i > 0) path += '/';
        path += parts[i];
    }
    return path;
}

// Directory descriptors that one lookup or removal keeps open at most.
constexpr std::size_t max_open_directories = 64;

void remove_tree(int dirfd, const std::string& name, const std::string& entry) {
    detail::remove_tree(dirfd, name, entry, max_open_directories);
}

std::uint32_t map_id(std::uint32_t id, const std::vector<id_range>& map, const std::string& entry,
                     const char* kind) {
    if (map.empty()) return id;
    for (const id_range& range : map) {
        if (id >= range.container_id && id - range.container_id < range.count) {
            return range.host_id + (id - range.container_id);
        }
    }
    throw layer_error(entry,
                      std::string(kind) + " " + std::to_string(id) + " is outside the id map");
}

class extractor {
  public:
    extractor(int layer_fd, const std::filesystem::path& target, const apply_options& options)
        : stream_(layer_fd), options_(options) {
        root_.reset(::open(target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!root_) throw layer_error(target.string(), syscall_reason("open"));
        parent_stack_.emplace(root_.get(), max_open_directories);
        keep_owners_ = options.owners == ownership::keep ||
                       (options.owners == ownership::automatic && ::geteuid() == 0);
    }

    apply_result run() {
        dockwright::detail::archive_reader reader(archive_read_new());
        if (!reader) throw layer_error("", "libarchive: out of memory");
        archive_read_support_format_tar(reader.get());
        // Names are bytes; no conversion through the process locale.
        archive_read_set_options(reader.get(), "hdrcharset=BINARY");
        if (archive_read_open(reader.get(), this, nullptr, &extractor::read_callback, nullptr) !=
            ARCHIVE_OK) {
            fail(reader.get(), "");
        }

        archive_entry* entry = nullptr;
        std::uint64_t entries = 0;
        while (true) {
            const int status = archive_read_next_header(reader.get(), &entry);
            if (status == ARCHIVE_EOF) break;
            if (status < ARCHIVE_WARN) fail(reader.get(), "");
            const char* name = archive_entry_pathname(entry);
            current_ = name != nullptr ? name : "";
            extract(reader.get(), entry);
            ++entries;
        }
        set_directory_times();
        stream_.drain();
        warn_skipped_devices();
        return {stream_.finish_tar_digest(),
                stream_.tar_size(),
                stream_.finish_blob_digest(),
                stream_.blob_size(),
                stream_.kind(),
                entries,
                skipped_devices_};
    }

  private:
    struct directory_time {
        std::string path;
        timespec times[2];
    };

    static la_ssize_t read_callback(archive* handle, void* self, const void** buffer) {
        try {
            const auto bytes = static_cast<extractor*>(self)->stream_.read();
            *buffer = bytes.data();
            return static_cast<la_ssize_t>(bytes.size());
        } catch (const layer_error& e) {
            archive_set_error(handle, EIO, "%s", e.reason().c_str());
            return -1;
        }
    }

    [[noreturn]] void fail(archive* handle, const std::string& entry) const {
        const char* message = archive_error_string(handle);
        throw layer_error(entry.empty() ? current_ : entry,
                          message != nullptr ? message : "unreadable tar stream");
    }

    void extract(archive* handle, archive_entry* entry) {
        const std::vector<std::string> parts = split_name(current_, current_, "name");
        const mode_t type = archive_entry_filetype(entry);
        const char* hardlink = archive_entry_hardlink(entry);
        if (parts.empty()) {
            if (type != AE_IFDIR || hardlink != nullptr) {
                throw layer_error(current_, "entry would replace the target directory");
            }
            apply_metadata(root_.get(), "", entry, "", true);
            return;
        }

        const std::string& base = parts.back();
        if (base.starts_with(whiteout_prefix)) {
            whiteout(parts);
            return;
        }
        const int parent = open_parent(parts);
        const std::string physical_path = resolved_path(base);
        remove_existing(parent, base, type == AE_IFDIR && hardlink == nullptr);

        bool created = true;
        if (hardlink != nullptr) {
            link(parent, base, hardlink);
        } else {
            created = create(handle, entry, parent, base, type);
        }
        if (!created) return;
        unpacked_.insert(physical_path);
        if (hardlink == nullptr) {
            apply_metadata(parent, base, entry, physical_path, type == AE_IFDIR);
        }
    }

    // A directory found by resolve_directory(): its descriptor and its path below the target
    // with every symlink resolved.
    struct resolved_directory {
        unique_fd fd;
        std::string path;
    };

    // The reason resolve_directory() found no directory.
    enum class resolve_failure { none, missing, not_directory, escapes, loop };

    // Resolves the first `count` components of `parts` to a directory below the target, as
    // a lookup with the target as the root directory would (chroot(2), openat2's
    // RESOLVE_IN_ROOT): symlinks are followed, and an absolute symlink starts again at the
    // target. Docker unpacks layers in a chroot, so a layer may write through a symlinked
    // directory of a lower layer, such as `lib -> usr/lib`. Unlike a chroot, a symlink whose
    // `..` would climb above the target is an error (resolve_failure::escapes), not clamped.
    // Missing directories are created with mode 0755 when `create` is set. Each component is
    // opened with O_NOFOLLOW after its lstat, so no lookup leaves the target.
    //
    // `stack` is the state of the lookup: on entry it contains the first `skip` components,
    // already resolved without a symlink, and on success it ends at the directory found.
    // `followed_symlink` is set when the lookup followed one.
    resolved_directory resolve_directory(const std::vector<std::string>& parts, std::size_t count,
                                         bool create, resolve_failure& failure,
                                         detail::directory_path& stack, std::size_t skip,
                                         bool& followed_symlink) {
        failure = resolve_failure::none;
        followed_symlink = false;
        std::deque<std::string> pending(parts.begin() + static_cast<std::ptrdiff_t>(skip),
                                        parts.begin() + static_cast<std::ptrdiff_t>(count));
        int symlinks = 0;
        while (!pending.empty()) {
            const std::string part = std::move(pending.front());
            pending.pop_front();
            if (part.empty() || part == ".") continue;
            if (part == "..") {
                if (stack.depth() == 0) {
                    failure = resolve_failure::escapes;
                    return {};
                }
                stack.pop();
                continue;
            }
            const int dir = stack.top(current_);
            struct stat info {};
            if (::fstatat(dir, part.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno != ENOENT) throw layer_error(current_, syscall_reason("stat"));
                if (!create) {
                    failure = resolve_failure::missing;
                    return {};
                }
                const std::string created = join_path(stack, part);
                if (::mkdirat(dir, part.c_str(), 0755) != 0) {
                    throw layer_error(current_, syscall_reason("mkdir") + ": '" + created + "'");
                }
                unpacked_.insert(created);
                info.st_mode = S_IFDIR;
            }
            if (S_ISLNK(info.st_mode)) {
                followed_symlink = true;
                if (++symlinks > max_symlinks) {
                    failure = resolve_failure::loop;
                    return {};
                }
                std::string target = read_link(dir, part);
                if (!target.empty() && target.front() == '/') stack.clear();
                std::vector<std::string> target_parts;
                for (std::size_t begin = 0; begin <= target.size();) {
                    std::size_t end = target.find('/', begin);
                    if (end == std::string::npos) end = target.size();
                    target_parts.push_back(target.substr(begin, end - begin));
                    begin = end + 1;
                }
                pending.insert(pending.begin(), target_parts.begin(), target_parts.end());
                continue;
            }
            if (!S_ISDIR(info.st_mode)) {
                failure = resolve_failure::not_directory;
                return {};
            }
            unique_fd next(
                ::openat(dir, part.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!next) throw layer_error(current_, syscall_reason("open") + ": '" + part + "'");
            stack.push(part, std::move(next));
        }
        unique_fd found(::dup(stack.top(current_)));
        if (!found) throw layer_error(current_, syscall_reason("dup"));
        return {std::move(found), stack.joined(stack.depth())};
    }

    // Resolves a path with a lookup state of its own; see resolve_directory().
    resolved_directory resolve_directory(const std::vector<std::string>& parts, std::size_t count,
                                         bool create, resolve_failure& failure) {
        detail::directory_path stack(root_.get(), max_open_directories);
        bool followed_symlink = false;
        return resolve_directory(parts, count, create, failure, stack, 0, followed_symlink);
    }

    static std::string join_path(const detail::directory_path& stack, const std::string& last) {
        const std::string path = stack.joined(stack.depth());
        return path.empty() ? last : path + "/" + last;
    }

    std::string read_link(int dir, const std::string& name) const {
        std::string target(256, '\0');
        while (true) {
            const ssize_t n = ::readlinkat(dir, name.c_str(), target.data(), target.size());
            if (n < 0) throw layer_error(current_, syscall_reason("readlink") + ": '" + name + "'");
            if (static_cast<std::size_t>(n) < target.size()) {
                target.resize(static_cast<std::size_t>(n));
                return target;
            }
            target.resize(target.size() * 2);
        }
    }

    // The error for the path `subject` (a quoted description) that resolve_directory() could
    // not resolve.
    layer_error resolve_error(const std::string& subject, resolve_failure failure) const {
        switch (failure) {
            case resolve_failure::escapes:
                return layer_error(current_, subject + " leads outside the target directory");
            case resolve_failure::loop:
                return layer_error(current_, subject + " has too many levels of symbolic links");
            case resolve_failure::not_directory:
                return layer_error(current_, subject + " is not a directory");
            case resolve_failure::missing:
            case resolve_failure::none:
                break;
        }
        return layer_error(current_, subject + " not found");
    }

    // Returns a descriptor of the entry's parent directory, following symlinks inside the
    // target and creating missing directories with mode 0755. Sets parent_path_ to the
    // parent's resolved path.
    int open_parent(const std::vector<std::string>& parts) {
        const std::string parent_path = join(parts, parts.size() - 1);
        if (parent_ && parent_path == parent_name_) return parent_.get();
        parent_.reset();
        // Continue from the components this parent shares with the previous one when that was
        // found without a symlink, so each entry of a deep tree costs a component or two
        // instead of its whole path.
        std::size_t skip = 0;
        if (parent_stack_plain_) {
            const std::size_t count = parts.size() - 1;
            while (skip < parent_stack_->depth() && skip < count &&
                   parent_stack_->name(skip) == parts[skip]) {
                ++skip;
            }
            while (parent_stack_->depth() > skip)
                parent_stack_->pop();
        } else {
            parent_stack_->clear();
        }
        parent_stack_plain_ = false;
        resolve_failure failure{};
        bool followed_symlink = false;
        resolved_directory parent = resolve_directory(parts, parts.size() - 1, true, failure,
                                                      *parent_stack_, skip, followed_symlink);
        if (failure != resolve_failure::none) {
            throw resolve_error("parent '" + parent_path + "'", failure);
        }
        parent_stack_plain_ = !followed_symlink;
        parent_ = std::move(parent.fd);
        parent_name_ = parent_path;
        parent_path_ = std::move(parent.path);
        return parent_.get();
    }

    // The resolved path of `base` in the directory open_parent() returned last.
    std::string resolved_path(const std::string& base) const {
        return parent_path_.empty() ? base : parent_path_ + "/" + base;
    }

    // Removes what is in the way, keeping an existing directory when a directory comes.
    void remove_existing(int parent, const std::string& base, bool is_directory) {
        struct stat info {};
        if (::fstatat(parent, base.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) return;
        if (is_directory && S_ISDIR(info.st_mode)) return;
        remove_tree(parent, base, current_);
    }

    void whiteout(const std::vector<std::string>& parts) {
        const std::string& base = parts.back();
        const std::string parent_path = join(parts, parts.size() - 1);
        if (base == opaque_marker) {
            const int parent = open_parent(parts);
            empty_directory(parent, parent_path_);
            return;
        }
        // Other ".wh..wh." names are AUFS bookkeeping, not part of the image.
        if (base.starts_with(whiteout_meta_prefix)) return;
        const std::string name = base.substr(whiteout_prefix.size());
        if (name.empty() || name == "." || name == "..") {
            throw layer_error(current_, "whiteout names no file");
        }
        // The deletion may remove the cached parent of later entries.
        parent_.reset();
        parent_stack_plain_ = false;
        resolve_failure failure{};
        resolved_directory parent = resolve_directory(parts, parts.size() - 1, false, failure);
        if (failure == resolve_failure::missing) return;  // nothing to delete
        if (failure != resolve_failure::none) {
            throw resolve_error("parent '" + parent_path + "'", failure);
        }
        remove_tree(parent.fd.get(), name, current_);
    }

    // Opaque marker: removes everything below the directory this layer did not unpack. The
    // walk keeps one list of unvisited children and one layer path per level.
    void empty_directory(int dirfd, const std::string& dir_path) {
        detail::directory_path stack(dirfd, max_open_directories);
        std::vector<std::vector<std::string>> pending{detail::list_names(dirfd, current_)};
        std::vector<std::string> paths{dir_path};
        while (!pending.empty()) {
            if (pending.back().empty()) {
                pending.pop_back();
                paths.pop_back();
                stack.pop();
                continue;
            }
            std::string child = std::move(pending.back().back());
            pending.back().pop_back();
            std::string child_path = paths.back().empty() ? child : paths.back() + "/" + child;
            const int dir = stack.top(current_);
            if (!unpacked_.contains(child_path)) {
                remove_tree(dir, child, current_);
                continue;
            }
            unique_fd sub(
                ::openat(dir, child.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!sub) continue;
            pending.push_back(detail::list_names(sub.get(), current_));
            paths.push_back(std::move(child_path));
            stack.push(std::move(child), std::move(sub));
        }
    }

    void link(int parent, const std::string& base, const char* raw_target) {
        const std::string target_name = raw_target;
        const std::vector<std::string> parts =
            split_name(target_name, current_, "hard link target '" + target_name + "'");
        if (parts.empty()) throw layer_error(current_, "hard link to the target directory");
        resolve_failure failure{};
        const resolved_directory target_parent =
            resolve_directory(parts, parts.size() - 1, false, failure);
        if (failure == resolve_failure::missing) {
            throw layer_error(current_, "hard link target '" + target_name + "' not found");
        }
        if (failure != resolve_failure::none) {
            throw resolve_error("hard link target '" + target_name + "'", failure);
        }
        struct stat info {};
        if (::fstatat(target_parent.fd.get(), parts.back().c_str(), &info, AT_SYMLINK_NOFOLLOW) !=
            0) {
            throw layer_error(current_, "hard link target '" + target_name + "' not found");
        }
        if (S_ISDIR(info.st_mode)) {
            throw layer_error(current_, "hard link target '" + target_name + "' is a directory");
        }
        if (::linkat(target_parent.fd.get(), parts.back().c_str(), parent, base.c_str(), 0) != 0) {
            throw layer_error(current_, syscall_reason("link"));
        }
    }

    // Creates the entry and returns true, or returns false for a device node that the
    // process may not create.
    bool create(archive* handle, archive_entry* entry, int parent, const std::string& base,
                mode_t type) {
        const char* name = base.c_str();
        switch (type) {
            case AE_IFDIR:
                if (::mkdirat(parent, name, 0700) != 0 && errno != EEXIST) {
                    throw layer_error(current_, syscall_reason("mkdir"));
                }
                return true;
            case AE_IFREG:
                write_file(handle, entry, parent, name);
                return true;
            case AE_IFLNK: {
                const char* target = archive_entry_symlink(entry);
                if (::symlinkat(target != nullptr ? target : "", parent, name) != 0) {
                    throw layer_error(current_, syscall_reason("symlink"));
                }
                return true;
            }
            case AE_IFCHR:
            case AE_IFBLK: {
                if (!options_.allow_devices) {
                    throw layer_error(current_, "device nodes are not allowed");
                }
                const dev_t device =
                    makedev(archive_entry_rdevmajor(entry), archive_entry_rdevminor(entry));
                if (::mknodat(parent, name, type | 0600, device) == 0) return true;
                // Without CAP_MKNOD in the initial user namespace (rootless, or an unprivileged
                // user) mknod(2) fails with EPERM. Rootless podman (containers/storage) and
                // Docker in a user namespace leave such device nodes out; so does this.
                if (errno != EPERM) throw layer_error(current_, syscall_reason("mknod"));
                skipped_devices_.push_back(current_);
                return false;
            }
            case AE_IFIFO:
                if (::mkfifoat(parent, name, 0600) != 0) {
                    throw layer_error(current_, syscall_reason("mkfifo"));
                }
                return true;
            default:
                throw layer_error(current_, "unsupported entry type");
        }
    }

    // One warning per layer for the device nodes create() left out.
    void warn_skipped_devices() const {
        if (skipped_devices_.empty()) return;
        std::string message = "skipped " + std::to_string(skipped_devices_.size()) +
                              " device node(s) because mknod is not permitted (rootless): '" +
                              skipped_devices_.front() + "'";
        if (skipped_devices_.size() > 1) message += " and others";
        if (options_.warn) {
            options_.warn(message);
        } else {
            std::fprintf(stderr, "warning: layer: %s\n", message.c_str());
        }
    }

    void write_file(archive* handle, archive_entry* entry, int parent, const char* name) {
        const la_int64_t size = archive_entry_size(entry);
        if (size < 0) throw layer_error(current_, "negative file size");
        if (options_.max_file_size != 0 &&
            static_cast<std::uint64_t>(size) > options_.max_file_size) {
            throw layer_error(current_, "file size " + std::to_string(size) +
                                            " exceeds the limit of " +
                                            std::to_string(options_.max_file_size) + " bytes");
        }
        unique_fd file(
            ::openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!file) throw layer_error(current_, syscall_reason("open"));
        const void* block = nullptr;
        std::size_t length = 0;
        la_int64_t offset = 0;
        while (true) {
            const int status = archive_read_data_block(handle, &block, &length, &offset);
            if (status == ARCHIVE_EOF) break;
            if (status < ARCHIVE_WARN) fail(handle, "");
            if (offset < 0 || offset + static_cast<la_int64_t>(length) > size) {
                throw layer_error(current_, "data beyond the file size");
            }
            const char* bytes = static_cast<const char*>(block);
            while (length > 0) {
                const ssize_t n = ::pwrite(file.get(), bytes, length, offset);
                if (n < 0 && errno == EINTR) continue;
                if (n < 0) throw layer_error(current_, syscall_reason("write"));
                bytes += n;
                length -= static_cast<std::size_t>(n);
                offset += n;
            }
        }
        // Sparse files end in a hole that no data block covers.
        if (::ftruncate(file.get(), size) != 0) {
            throw layer_error(current_, syscall_reason("ftruncate"));
        }
    }

    // Sets owner, mode, extended attributes and times. Directory times wait until the end,
    // because extracting children changes them.
    void apply_metadata(int parent, const std::string& base, archive_entry* entry,
                        const std::string& path, bool is_directory) {
        const char* name = base.empty() ? "." : base.c_str();
        const bool is_symlink = archive_entry_filetype(entry) == AE_IFLNK;
        if (keep_owners_) {
            const auto uid = map_id(static_cast<std::uint32_t>(archive_entry_uid(entry)),
                                    options_.uid_map, current_, "uid");
            const auto gid = map_id(static_cast<std::uint32_t>(archive_entry_gid(entry)),
                                    options_.gid_map, current_, "gid");
            if (::fchownat(parent, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
                throw layer_error(current_, syscall_reason("chown"));
            }
        }
        // chmod after chown, which clears the set-user-ID and set-group-ID bits.
        if (!is_symlink && ::fchmodat(parent, name, archive_entry_perm(entry) & 07777, 0) != 0) {
            throw layer_error(current_, syscall_reason("chmod"));
        }
        set_xattrs(parent, name, entry);

        timespec times[2];
        times[1] = {archive_entry_mtime(entry), archive_entry_mtime_nsec(entry)};
        times[0] = archive_entry_atime_is_set(entry)
                       ? timespec{archive_entry_atime(entry), archive_entry_atime_nsec(entry)}
                       : times[1];
        if (is_directory) {
            directory_times_.push_back({path, {times[0], times[1]}});
            return;
        }
        if (::utimensat(parent, name, times, AT_SYMLINK_NOFOLLOW) != 0) {
            throw layer_error(current_, syscall_reason("utimensat"));
        }
    }

    void set_xattrs(int parent, const char* name, archive_entry* entry) {
        if (archive_entry_xattr_reset(entry) == 0) return;
        // The /proc/self/fd path reaches the entry through the parent descriptor, so the
        // l*xattr call cannot be redirected by a symlink on the way.
        const std::string path = "/proc/self/fd/" + std::to_string(parent) + "/" + name;
        const char* key = nullptr;
        const void* value = nullptr;
        std::size_t size = 0;
        while (archive_entry_xattr_next(entry, &key, &value, &size) == ARCHIVE_OK) {
            if (::lsetxattr(path.c_str(), key, value, size, 0) == 0) continue;
            // NOTE: as Docker does, attributes the filesystem or the caller's privileges do
            // not allow (ENOTSUP, EPERM) are skipped silently.
            if (errno == ENOTSUP || errno == EPERM) continue;
            throw layer_error(current_, syscall_reason("setxattr") + ": '" + key + "'");
        }
    }

    // Sets the times of the directories in walk order, so that consecutive paths share the
    // open descriptors of their common ancestors and no lookup takes a whole long path.
    void set_directory_times() {
        std::stable_sort(directory_times_.begin(), directory_times_.end(),
                         [](const directory_time& a, const directory_time& b) {
                             return detail::walk_order_less(a.path, b.path);
                         });
        detail::directory_path stack(root_.get(), max_open_directories);
        for (const directory_time& item : directory_times_) {
            std::vector<std::string> parts;
            for (std::size_t start = 0; start < item.path.size();) {
                std::size_t end = item.path.find('/', start);
                if (end == std::string::npos) end = item.path.size();
                parts.push_back(item.path.substr(start, end - start));
                start = end + 1;
            }
            std::size_t common = 0;
            while (common < stack.depth() && common < parts.size() &&
                   stack.name(common) == parts[common]) {
                ++common;
            }
            while (stack.depth() > common)
                stack.pop();
            bool found = true;
            for (std::size_t i = common; i < parts.size() && found; ++i) {
                unique_fd next(::openat(stack.top(item.path), parts[i].c_str(),
                                        O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
                found = static_cast<bool>(next);  // removed by a later whiteout
                if (found) stack.push(parts[i], std::move(next));
            }
            if (!found) continue;
            if (::utimensat(stack.top(item.path), "", item.times, AT_EMPTY_PATH) != 0) {
                throw layer_error(item.path, syscall_reason("utimensat"));
            }
        }
    }

    layer_stream stream_;
    const apply_options& options_;
    unique_fd root_;
    bool keep_owners_ = false;
    std::string current_;
    // The parent directory of the last entry: its name in the layer and its resolved path.
    unique_fd parent_;
    std::string parent_name_;
    std::string parent_path_;
    // The lookup state that found parent_, and whether it followed no symlink, so that its
    // names are the entry's own components and the next entry may continue from it.
    std::optional<detail::directory_path> parent_stack_;
    bool parent_stack_plain_ = false;
    std::unordered_set<std::string> unpacked_;
    std::vector<std::string> skipped_devices_;
    std::vector<directory_time> directory_times_;
};

}  // namespace

apply_result apply_layer(int fd, const std::filesystem::path& target,
                         const apply_options& options) {
    return extractor(fd, target, options).run();
}

apply_result apply_layer(const std::filesystem::path& layer, const std::filesystem::path& target,
                         const apply_options& options) {
    unique_fd fd(::open(layer.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw layer_error(layer.string(), syscall_reason("open"));
    return apply_layer(fd.get(), target, options);
}

}  // namespace dockwright::layer
