// Writes layer tars from a directory tree, an overlayfs upper directory or a change list.
#include "dockwright/layer/layer_writer.hpp"

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
#include <climits>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "directory_path.hpp"
#include "dockwright/layer/layer_error.hpp"
#include "dockwright/layer/tar_writer.hpp"
#include "pipelined_sink.hpp"
#include "unique_fd.hpp"

namespace dockwright::layer {
namespace {

using detail::syscall_reason;
using detail::unique_dir;
using detail::unique_fd;
using detail::walk_order_less;

constexpr std::string_view whiteout_prefix = ".wh.";
constexpr std::string_view opaque_marker = ".wh..wh..opq";
constexpr std::size_t copy_buffer_size = 1024 * 1024;
// Directory descriptors a tree walk keeps open at most, so that any depth stays far below the
// usual limit of 1,024 descriptors per process.
constexpr std::size_t max_open_directories = 64;

// A directory entry's name and its type from readdir (DT_UNKNOWN when the file system does
// not report it).
struct dir_entry {
    std::string name;
    unsigned char type = DT_UNKNOWN;
    bool operator<(const dir_entry& other) const { return name < other.name; }
};

enum class source { tree, overlay };

// User and group names from the host's databases, looked up once per id.
class owner_names {
  public:
    const std::string& user(std::int64_t uid) {
        auto [it, inserted] = users_.try_emplace(uid);
        if (inserted) it->second = lookup_user(static_cast<uid_t>(uid));
        return it->second;
    }
    const std::string& group(std::int64_t gid) {
        auto [it, inserted] = groups_.try_emplace(gid);
        if (inserted) it->second = lookup_group(static_cast<gid_t>(gid));
        return it->second;
    }

  private:
    static std::string lookup_user(uid_t uid) {
        std::vector<char> buffer(16384);
        passwd entry{};
        passwd* found = nullptr;
        if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
            return "";
        }
        return found->pw_name;
    }
    static std::string lookup_group(gid_t gid) {
        std::vector<char> buffer(16384);
        struct group entry {};
        struct group* found = nullptr;
        if (getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
            return "";
        }
        return found->gr_name;
    }

    std::unordered_map<std::int64_t, std::string> users_;
    std::unordered_map<std::int64_t, std::string> groups_;
};

bool is_overlay_attribute(std::string_view name) {
    return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

// Reads extended attributes either through an open descriptor or, for entries that cannot be
// opened for reading (symlinks, devices, FIFOs), through the path without following it.
class xattr_reader {
  public:
    xattr_reader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

    std::map<std::string, std::string> read_all(const std::string& entry) const {
        std::map<std::string, std::string> attributes;
        std::string names = list(entry);
        for (std::size_t start = 0; start < names.size();) {
            const std::size_t end = names.find('\0', start);
            std::string name = names.substr(start, end - start);
            start = end == std::string::npos ? names.size() : end + 1;
            if (name.empty()) continue;
            if (auto value = get(name, entry)) attributes.emplace(std::move(name), *value);
        }
        return attributes;
    }

    std::optional<std::string> get(const std::string& name, const std::string& entry) const {
        std::string value(256, '\0');
        while (true) {
            const ssize_t n =
                fd_ >= 0 ? ::fgetxattr(fd_, name.c_str(), value.data(), value.size())
                         : ::lgetxattr(path_.c_str(), name.c_str(), value.data(), value.size());
            if (n >= 0) {
                value.resize(static_cast<std::size_t>(n));
                return value;
            }
            if (errno == ENODATA || errno == ENOTSUP) return std::nullopt;
            if (errno != ERANGE) {
                throw layer_error(entry, syscall_reason("getxattr") + ": '" + name + "'");
            }
            value.resize(value.size() * 4);
        }
    }

  private:
    std::string list(const std::string& entry) const {
        std::string names(1024, '\0');
        while (true) {
            const ssize_t n = fd_ >= 0 ? ::flistxattr(fd_, names.data(), names.size())
                                       : ::llistxattr(path_.c_str(), names.data(), names.size());
            if (n >= 0) {
                names.resize(static_cast<std::size_t>(n));
                return names;
            }
            if (errno == ENOTSUP) return "";
            if (errno != ERANGE) throw layer_error(entry, syscall_reason("listxattr"));
            names.resize(names.size() * 4);
        }
    }

    int fd_;
    std::string path_;
};

// Turns files into tar entries and writes them; shared by the three kinds of layer.
class entry_writer {
  public:
    entry_writer(const std::filesystem::path& root, source kind, const write_options& options,
                 tar_writer& tar)
        : root_path_(root.string()), kind_(kind), options_(options), tar_(tar) {
        root_.reset(::open(root_path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!root_) throw layer_error(root_path_, syscall_reason("open"));
    }

    [[nodiscard]] int root_fd() const noexcept { return root_.get(); }

    void walk();

    // Writes the entry `name` of directory `dirfd`, whose path in the layer is `path`, and
    // returns an open descriptor when it is a directory. `type_hint` is the entry's type from
    // readdir; for DT_REG the file is opened first and its descriptor stat'ed, which saves
    // a second path lookup.
    unique_fd write(int dirfd, const char* name, const std::string& path, bool is_opaque_change,
                    unsigned char type_hint = DT_UNKNOWN);

    // Writes the whiteout of `path` with the owner and mtime of `info`.
    void write_whiteout(const std::string& path, const struct stat& info) {
        const std::size_t slash = path.rfind('/');
        const std::size_t base = slash == std::string::npos ? 0 : slash + 1;
        tar_entry entry;
        entry.name = path.substr(0, base) + std::string(whiteout_prefix) + path.substr(base);
        entry.mode = 0600;
        fill_owner(entry, info);
        entry.mtime = mtime_of(info);
        tar_.write_header(entry);
    }

    struct stat stat_at(int dirfd, const char* name, const std::string& path) const {
        struct stat info {};
        if (::fstatat(dirfd, name, &info, AT_SYMLINK_NOFOLLOW) != 0) {
            throw layer_error(path, syscall_reason("stat"));
        }
        return info;
    }

  private:
    // Opens a regular file for reading without following a symlink, with O_NOATIME while the
    // process may use it (the file's owner or CAP_FOWNER), and O_NONBLOCK so that a file
    // replaced by a FIFO since readdir cannot block the walk. Returns an empty descriptor
    // when the open fails; the caller then stats the path.
    unique_fd open_regular(int dirfd, const char* name) {
        constexpr int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
        if (use_noatime_) {
            unique_fd fd(::openat(dirfd, name, flags | O_NOATIME));
            if (fd || errno != EPERM) return fd;
            use_noatime_ = false;
        }
        return unique_fd(::openat(dirfd, name, flags));
    }

    static std::vector<dir_entry> sorted_entries(int dirfd, const std::string& prefix) {
        unique_fd copy(::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!copy) throw layer_error(prefix, syscall_reason("open"));
        unique_dir dir(::fdopendir(copy.get()));
        if (dir.get() == nullptr) throw layer_error(prefix, syscall_reason("fdopendir"));
        (void)copy.release();

        std::vector<dir_entry> names;
        errno = 0;
        while (const dirent* item = ::readdir(dir.get())) {
            const std::string_view name = item->d_name;
            if (name != "." && name != "..") names.push_back({std::string(name), item->d_type});
        }
        if (errno != 0) throw layer_error(prefix, syscall_reason("readdir"));
        std::sort(names.begin(), names.end());
        return names;
    }

    void fill_owner(tar_entry& entry, const struct stat& info) {
        entry.uid = info.st_uid;
        entry.gid = info.st_gid;
        if (options_.host_names) {
            entry.uname = names_.user(info.st_uid);
            entry.gname = names_.group(info.st_gid);
        }
    }

    [[nodiscard]] std::int64_t mtime_of(const struct stat& info) const {
        const std::int64_t seconds = info.st_mtim.tv_sec;
        return options_.clamp_mtime ? std::min(seconds, *options_.clamp_mtime) : seconds;
    }

    std::map<std::string, std::string> read_xattrs(const xattr_reader& reader,
                                                   const std::string& path) const {
        std::map<std::string, std::string> attributes;
        if (options_.xattrs == xattr_selection::capability_only && kind_ == source::tree) {
            if (auto value = reader.get("security.capability", path)) {
                attributes.emplace("security.capability", *value);
            }
            return attributes;
        }
        attributes = reader.read_all(path);
        if (kind_ == source::overlay) check_overlay_attributes(attributes, path);
        std::erase_if(attributes, [this](const auto& item) {
            const std::string& name = item.first;
            if (is_overlay_attribute(name) && kind_ == source::overlay) {
                return name != "trusted.overlay.opaque" && name != "user.overlay.opaque";
            }
            if (options_.xattrs == xattr_selection::capability_only) {
                return name != "security.capability";
            }
            return name == "security.selinux";
        });
        return attributes;
    }

    static void check_overlay_attributes(const std::map<std::string, std::string>& attributes,
                                         const std::string& path) {
        for (const char* name : {"trusted.overlay.redirect", "user.overlay.redirect"}) {
            if (attributes.contains(name)) {
                throw layer_error(path,
                                  "renamed directory (overlayfs redirect_dir) cannot be "
                                  "written as a layer; mount with redirect_dir=off");
            }
        }
        for (const char* name : {"trusted.overlay.metacopy", "user.overlay.metacopy"}) {
            if (attributes.contains(name)) {
                throw layer_error(path,
                                  "metadata-only copy (overlayfs metacopy) cannot be "
                                  "written as a layer; mount with metacopy=off");
            }
        }
    }

    // Removes the opaque flag from the attributes and returns whether it was set.
    static bool take_opaque_flag(std::map<std::string, std::string>& attributes) {
        bool opaque = false;
        for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
            auto it = attributes.find(name);
            if (it == attributes.end()) continue;
            opaque = opaque || it->second == "y";
            attributes.erase(it);
        }
        return opaque;
    }

    // The file holding the data of the placeholder `info`, when options_.redirects names it.
    // Throws when the source is no longer the file that was recorded.
    [[nodiscard]] unique_fd open_redirect(const struct stat& info, const std::string& path) const {
        if (options_.redirects == nullptr) return {};
        const auto found = options_.redirects->find(
            {static_cast<std::uint64_t>(info.st_dev), static_cast<std::uint64_t>(info.st_ino)});
        if (found == options_.redirects->end()) return {};
        const data_redirect& redirect = found->second;
        unique_fd source(::open(redirect.source.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!source) {
            throw layer_error(path,
                              syscall_reason("open") + ": '" + redirect.source.string() + "'");
        }
        if (static_cast<std::uint64_t>(info.st_size) != redirect.size) {
            throw layer_error(path, "its source " + redirect.source.string() +
                                        " changed while the build ran; build again");
        }
        check_redirect_source(source.get(), redirect, path);
        return source;
    }

    // Throws unless the open `source` is still the file `redirect` recorded. Checked again
    // after the data is read, because a write during the read changes the change time.
    static void check_redirect_source(int source, const data_redirect& redirect,
                                      const std::string& path) {
        struct stat now {};
        if (::fstat(source, &now) != 0) {
            throw layer_error(path,
                              syscall_reason("stat") + ": '" + redirect.source.string() + "'");
        }
        if (static_cast<std::uint64_t>(now.st_dev) != redirect.source_device ||
            static_cast<std::uint64_t>(now.st_ino) != redirect.source_inode ||
            static_cast<std::uint64_t>(now.st_size) != redirect.size ||
            change_time_ns(now.st_ctim) != redirect.source_change_ns) {
            throw layer_error(path, "its source " + redirect.source.string() +
                                        " changed while the build ran; build again");
        }
    }

    // Reads the file's data straight into the output's buffer when it has one, so a file
    // that fits the free space takes a single read(2).
    void copy_data(int fd, const tar_entry& entry) {
        std::uint64_t remaining = static_cast<std::uint64_t>(entry.size);
        if (remaining > copy_buffer_size) ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        while (remaining > 0) {
            std::span<std::byte> space = tar_.data_space();
            const bool in_place = !space.empty();
            if (!in_place) {
                if (buffer_.empty()) buffer_.resize(copy_buffer_size);
                space =
                    std::span(buffer_).first(std::min<std::uint64_t>(remaining, buffer_.size()));
            }
            const ssize_t n = ::read(fd, space.data(), space.size());
            if (n < 0) {
                if (errno == EINTR) continue;
                throw layer_error(entry.name, syscall_reason("read"));
            }
            if (n == 0) throw layer_error(entry.name, "file shrank while it was being read");
            const auto count = static_cast<std::size_t>(n);
            if (in_place) {
                tar_.commit_data(count);
            } else {
                tar_.write_data(std::span(buffer_.data(), count));
            }
            remaining -= count;
        }
    }

    // A path for the l*xattr calls on the entry `name` of `dirfd`, whose path in the layer is
    // `path`. Past PATH_MAX the lookup goes through the directory's /proc/self/fd link.
    std::string xattr_path(int dirfd, const char* name, const std::string& path) const {
        if (root_path_.size() + 1 + path.size() < PATH_MAX) return root_path_ + "/" + path;
        return "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
    }

    std::string root_path_;
    source kind_;
    const write_options& options_;
    tar_writer& tar_;
    unique_fd root_;
    owner_names names_;
    std::map<std::pair<dev_t, ino_t>, std::string> first_links_;
    // Used only when the output has no buffer to read into; allocated on first use.
    std::vector<std::byte> buffer_;
    bool use_noatime_ = true;
};

unique_fd entry_writer::write(int dirfd, const char* name, const std::string& path,
                              bool is_opaque_change, unsigned char type_hint) {
    unique_fd fd;
    struct stat info {};
    if (type_hint == DT_REG) fd = open_regular(dirfd, name);
    if (fd && ::fstat(fd.get(), &info) != 0) throw layer_error(path, syscall_reason("stat"));
    if (fd && !S_ISREG(info.st_mode)) fd.reset();  // replaced since readdir
    if (!fd) info = stat_at(dirfd, name, path);
    const mode_t type = info.st_mode & S_IFMT;
    if (type == S_IFSOCK) return {};
    if (kind_ == source::overlay && type == S_IFCHR && info.st_rdev == 0) {
        write_whiteout(path, info);
        return {};
    }

    tar_entry entry;
    entry.name = path;
    entry.mode = info.st_mode & (S_IFMT | 07777);
    fill_owner(entry, info);
    entry.mtime = mtime_of(info);

    if (!fd && (type == S_IFREG || type == S_IFDIR)) {
        const int flags = (type == S_IFDIR ? O_DIRECTORY : 0) | O_RDONLY | O_NOFOLLOW | O_CLOEXEC;
        fd.reset(::openat(dirfd, name, flags));
        if (!fd) throw layer_error(path, syscall_reason("open"));
    }
    // Entries without a descriptor (symlinks, devices, FIFOs) are read through their path.
    auto attributes = read_xattrs(
        xattr_reader(fd.get(), fd ? std::string() : xattr_path(dirfd, name, path)), path);
    const bool opaque = take_opaque_flag(attributes) || is_opaque_change;
    entry.xattrs = std::move(attributes);

    switch (type) {
        case S_IFDIR:
            entry.type = entry_type::directory;
            entry.name += '/';
            break;
        case S_IFREG:
            entry.size = info.st_size;
            break;
        case S_IFLNK: {
            entry.type = entry_type::symlink;
            entry.linkname.resize(static_cast<std::size_t>(info.st_size) + 1);
            const ssize_t n =
                ::readlinkat(dirfd, name, entry.linkname.data(), entry.linkname.size());
            if (n < 0) throw layer_error(path, syscall_reason("readlink"));
            entry.linkname.resize(static_cast<std::size_t>(n));
            break;
        }
        case S_IFCHR:
        case S_IFBLK:
            entry.type = type == S_IFCHR ? entry_type::char_device : entry_type::block_device;
            entry.devmajor = major(info.st_rdev);
            entry.devminor = minor(info.st_rdev);
            break;
        case S_IFIFO:
            entry.type = entry_type::fifo;
            break;
        default:
            throw layer_error(path, "unsupported file type");
    }

    // Every non-directory with several links is recorded once; later names link to the first.
    if (type != S_IFDIR && info.st_nlink > 1) {
        auto [it, first] = first_links_.try_emplace({info.st_dev, info.st_ino}, entry.name);
        if (!first) {
            entry.type = entry_type::hardlink;
            entry.linkname = it->second;
            entry.size = 0;
        }
    }

    tar_.write_header(entry);
    if (entry.type == entry_type::regular) {
        const unique_fd redirected = open_redirect(info, path);
        copy_data(redirected ? redirected.get() : fd.get(), entry);
        if (redirected) {
            const data_redirect& redirect = options_.redirects->at(
                {static_cast<std::uint64_t>(info.st_dev), static_cast<std::uint64_t>(info.st_ino)});
            check_redirect_source(redirected.get(), redirect, path);
        }
    }
    if (type != S_IFDIR) return {};
    if (opaque) {
        tar_entry marker;
        marker.name = path + "/" + std::string(opaque_marker);
        marker.mode = info.st_mode & 0777;
        fill_owner(marker, info);
        tar_.write_header(marker);
    }
    return fd;
}

// Writes every entry below the root in walk order without recursion. Each directory's sorted
// names are read when the walk enters it. Its descriptor goes into a directory_path, which
// bounds the open descriptors however deep the tree is and reopens a level when needed.
void entry_writer::walk() {
    struct frame {
        std::vector<dir_entry> entries;
        std::size_t next = 0;
        // The length of the layer path of this directory, with its trailing '/'.
        std::size_t prefix_size = 0;
    };
    detail::directory_path directories(root_.get(), max_open_directories);
    std::vector<frame> frames;
    frames.push_back({sorted_entries(root_.get(), ""), 0, 0});
    std::string prefix;
    while (!frames.empty()) {
        frame& current = frames.back();
        if (current.next == current.entries.size()) {
            frames.pop_back();
            if (frames.empty()) break;
            directories.pop();
            prefix.resize(frames.back().prefix_size);
            continue;
        }
        const dir_entry& item = current.entries[current.next++];
        const bool is_last = current.next == current.entries.size();
        std::string path = prefix + item.name;
        const int dirfd = directories.top(path);
        unique_fd child = write(dirfd, item.name.c_str(), path, false, item.type);
        if (!child) continue;

        path += '/';
        std::vector<dir_entry> entries = sorted_entries(child.get(), path);
        if (entries.empty()) continue;
        struct stat info {};
        if (::fstat(child.get(), &info) != 0) throw layer_error(path, syscall_reason("stat"));
        // A directory whose last entry is being entered needs no descriptor any more.
        if (is_last) directories.close_top();
        directories.push(item.name, std::move(child),
                         detail::directory_id{info.st_dev, info.st_ino});
        prefix = std::move(path);
        frames.push_back({std::move(entries), 0, prefix.size()});
    }
}

// Validates a change path: relative, no empty, `.` or `..` components.
void check_change_path(const std::string& path) {
    if (path.empty() || path.front() == '/' || path.back() == '/') {
        throw layer_error(path, "change path must be relative, without a trailing slash");
    }
    for (std::size_t start = 0; start <= path.size();) {
        std::size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        const std::string_view part(path.data() + start, end - start);
        if (part.empty() || part == "." || part == "..") {
            throw layer_error(path, "change path has an empty, '.' or '..' component");
        }
        start = end + 1;
    }
}

// Runs `body` on a thread of its own, which walks the files and encodes the tar, while the
// calling thread hashes, compresses and writes the stream, so reading overlaps with the rest.
template <typename Body>
void write_tar_pipelined(byte_sink& tar_bytes, Body& body) {
    detail::run_pipelined(tar_bytes, [&body](byte_sink& sink) {
        tar_writer tar(sink);
        body(tar);
        tar.close();
    });
}

template <typename Body>
layer_info write_layer(byte_sink& out, const write_options& options, Body body) {
    if (options.compression.kind == compression::none) {
        digesting_sink tar_bytes(out);
        write_tar_pipelined(tar_bytes, body);
        const digest diff_id = *tar_bytes.result();
        return {diff_id, tar_bytes.size(), diff_id, tar_bytes.size(), compression::none};
    }
    digesting_sink compressed_bytes(out);
    const auto compressor = make_compressor(options.compression, compressed_bytes);
    digesting_sink tar_bytes(*compressor);
    write_tar_pipelined(tar_bytes, body);
    return {*tar_bytes.result(), tar_bytes.size(), *compressed_bytes.result(),
            compressed_bytes.size(), options.compression.kind};
}

}  // namespace

layer_info write_tree_layer(const std::filesystem::path& root, byte_sink& out,
                            const write_options& options) {
    return write_layer(out, options, [&](tar_writer& tar) {
        entry_writer(root, source::tree, options, tar).walk();
    });
}

layer_info write_overlay_layer(const std::filesystem::path& upper, byte_sink& out,
                               const write_options& options) {
    return write_layer(out, options, [&](tar_writer& tar) {
        entry_writer(upper, source::overlay, options, tar).walk();
    });
}

layer_info write_changes_layer(const std::filesystem::path& root, std::vector<change> changes,
                               byte_sink& out, const write_options& options) {
    for (const change& item : changes)
        check_change_path(item.path);
    std::sort(changes.begin(), changes.end(),
              [](const change& a, const change& b) { return walk_order_less(a.path, b.path); });
    const auto same_path = [](const change& a, const change& b) { return a.path == b.path; };
    if (std::adjacent_find(changes.begin(), changes.end(), same_path) != changes.end()) {
        throw layer_error(std::adjacent_find(changes.begin(), changes.end(), same_path)->path,
                          "path listed twice in the changes");
    }

    return write_layer(out, options, [&](tar_writer& tar) {
        entry_writer writer(root, source::tree, options, tar);
        const int root_fd = writer.root_fd();
        // Directories already written, outermost first, that contain the current change.
        std::vector<std::string> open_dirs;
        for (const change& item : changes) {
            const auto inside = [&](const std::string& dir) {
                return item.path.starts_with(dir) && item.path[dir.size()] == '/';
            };
            while (!open_dirs.empty() && !inside(open_dirs.back()))
                open_dirs.pop_back();
            for (std::size_t slash = item.path.find('/'); slash != std::string::npos;
                 slash = item.path.find('/', slash + 1)) {
                const std::string parent = item.path.substr(0, slash);
                if (!open_dirs.empty() && open_dirs.back().size() >= parent.size()) continue;
                if (!writer.write(root_fd, parent.c_str(), parent, false)) {
                    throw layer_error(parent, "parent of a change is not a directory");
                }
                open_dirs.push_back(parent);
            }

            if (item.kind == change_kind::deleted) {
                const std::size_t slash = item.path.rfind('/');
                const std::string parent =
                    slash == std::string::npos ? "." : item.path.substr(0, slash);
                struct stat info = writer.stat_at(root_fd, parent.c_str(), parent);
                info.st_uid = 0;
                info.st_gid = 0;
                writer.write_whiteout(item.path, info);
                continue;
            }
            const bool opaque = item.kind == change_kind::opaque;
            if (writer.write(root_fd, item.path.c_str(), item.path, opaque)) {
                open_dirs.push_back(item.path);
            } else if (opaque) {
                throw layer_error(item.path, "opaque change is not a directory");
            }
        }
    });
}

}  // namespace dockwright::layer
