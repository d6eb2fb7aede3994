// The local backend: containers as upper directories over the parent's layers, RUN in the
// namespace executor, COPY/ADD with the classic builder's rules, commits into the store.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <dockwright/build/context_hash.hpp>
#include <dockwright/build/local_backend.hpp>
#include <dockwright/build/progress_sink.hpp>
#include <dockwright/core/error.hpp>
#include <dockwright/dockerfile/dockerignore.hpp>
#include <dockwright/exec/container.hpp>
#include <dockwright/exec/exec_error.hpp>
#include <dockwright/exec/shared_namespaces.hpp>
#include <dockwright/image/buildkit_json.hpp>
#include <dockwright/image/image.hpp>
#include <dockwright/layer/data_redirect.hpp>
#include <dockwright/layer/layer_writer.hpp>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "../core/archive_reader.hpp"
#include "../core/file_copy.hpp"
#include "../core/unique_fd.hpp"
#include "../store/files.hpp"
#include "rootfs_view.hpp"

namespace dockwright {

namespace fs = std::filesystem;
using detail::clean_inside_root;
using detail::rootfs_view;
using detail::view_entry;

namespace {

std::string errno_text(int number) {
    return std::error_code(number, std::generic_category()).message();
}

/// The owner files get: a uid/gid pair, or nothing to keep the source's owners.
struct identity {
    uid_t uid = 0;
    gid_t gid = 0;
};

std::string join_rel(const std::string& a, const std::string& b) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    return a + "/" + b;
}

std::string parent_rel(const std::string& rel) {
    const std::size_t slash = rel.rfind('/');
    return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

std::string base_name(const std::string& path) {
    std::string trimmed = path;
    while (trimmed.size() > 1 && trimmed.back() == '/')
        trimmed.pop_back();
    const std::size_t slash = trimmed.rfind('/');
    return slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
}

std::string random_hex() {
    std::random_device device;
    std::string seed;
    for (int i = 0; i < 8; ++i)
        seed += std::to_string(device());
    seed += std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    return std::string(digest::sha256_of(seed).hex());
}

std::optional<std::uint32_t> parse_id(std::string_view text) {
    std::uint32_t value = 0;
    const auto [end, failure] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (failure != std::errc() || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return value;
}

/// Reads a file of the merged root, following symlinks inside it; empty when missing.
std::optional<std::string> read_view_file(const rootfs_view& view, const std::string& path) {
    const std::string resolved = view.resolve(path, true);
    const std::optional<view_entry> entry = view.lookup(resolved);
    if (!entry || !S_ISREG(entry->info.st_mode)) return std::nullopt;
    std::ifstream in(entry->host_path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Finds `name` in the first field of a passwd or group file and returns its third field.
std::optional<std::uint32_t> lookup_id(const std::string& text, const std::string& name) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty() || line.front() == '#') continue;
        std::vector<std::string> fields;
        std::size_t start = 0;
        while (true) {
            const std::size_t colon = line.find(':', start);
            fields.push_back(line.substr(start, colon - start));
            if (colon == std::string::npos) break;
            start = colon + 1;
        }
        if (fields.size() >= 3 && fields[0] == name) {
            if (const auto id = parse_id(fields[2])) return id;
        }
    }
    return std::nullopt;
}

/// `--chown=user[:group]` with names looked up in the image's /etc/passwd and /etc/group, as
/// Docker 20.10's classic builder does (a user alone also names the group).
identity parse_chown(const std::string& chown, const rootfs_view& view) {
    const std::string prefix = "unable to convert uid/gid chown string to host mapping: ";
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t colon = chown.find(':', start);
        parts.push_back(chown.substr(start, colon - start));
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    if (parts.size() > 2) throw error(prefix + "invalid chown string format: " + chown);
    const std::string& user = parts[0];
    const std::string& group = parts.size() == 2 ? parts[1] : parts[0];
    identity result;
    if (const auto uid = parse_id(user)) {
        result.uid = *uid;
    } else {
        const std::optional<std::string> passwd = read_view_file(view, "etc/passwd");
        if (!passwd) {
            throw error(prefix + "can't find uid for user " + user +
                        ": open /etc/passwd: no such file or directory");
        }
        const auto found = lookup_id(*passwd, user);
        if (!found) {
            throw error(prefix + "can't find uid for user " + user + ": no such user: " + user);
        }
        result.uid = *found;
    }
    if (const auto gid = parse_id(group)) {
        result.gid = *gid;
    } else {
        const std::optional<std::string> groups = read_view_file(view, "etc/group");
        if (!groups) {
            throw error(prefix + "can't find gid for group " + group +
                        ": open /etc/group: no such file or directory");
        }
        const auto found = lookup_id(*groups, group);
        if (!found) {
            throw error(prefix + "can't find gid for group " + group + ": no such group: " + group);
        }
        result.gid = *found;
    }
    return result;
}

std::optional<mode_t> parse_chmod(const std::string& text) {
    if (text.empty()) return std::nullopt;
    mode_t value = 0;
    for (const char c : text) {
        if (c < '0' || c > '7' || value > 07777) {
            throw invalid_value_error("chmod", text,
                                      "invalid --chmod value, use octal such as 0755");
        }
        value = value * 8 + static_cast<mode_t>(c - '0');
    }
    if (value > 07777) throw invalid_value_error("chmod", text, "invalid --chmod value");
    return value;
}

void set_times(const fs::path& path, const struct stat& source) {
    const struct timespec times[2] = {{source.st_mtim.tv_sec, 0}, {source.st_mtim.tv_sec, 0}};
    ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

void set_times(const fs::path& path, std::time_t seconds) {
    const struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
    ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

[[noreturn]] void fail(const std::string& what, const fs::path& path, int number) {
    throw error(what + " " + path.string() + ": " + errno_text(number));
}

/// Regular files at least this large are copied lazily (see deferred_copies).
constexpr off_t deferred_copy_threshold = 64 * 1024;

/// The large files a COPY placed in one upper directory without their data: each placeholder
/// has its final name, owner, mode, mtime and size, and the layer writer reads its data from
/// the source (layer::data_redirect). Whatever else reads the directory (a later RUN, COPY
/// --from, a kept container, a COPY replacing the file) fills the placeholders first, so a
/// COPY whose files no later step reads copies each byte once, into the layer.
struct deferred_copies {
    layer::data_redirects redirects;
    std::vector<fs::path> placeholders;

    /// Copies the data of every placeholder from its source and forgets them all. The mode
    /// and mtime are set again afterwards, since a write changes the mtime and may clear
    /// set-user-ID bits.
    void fill() {
        detail::file_copier copier;
        for (const fs::path& path : placeholders) {
            const unique_fd out(::open(path.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC));
            if (!out) fail("cannot open", path, errno);
            struct stat info {};
            if (::fstat(out.get(), &info) != 0) fail("cannot stat", path, errno);
            const auto found = redirects.find(
                {static_cast<std::uint64_t>(info.st_dev), static_cast<std::uint64_t>(info.st_ino)});
            if (found == redirects.end()) continue;
            const layer::data_redirect& redirect = found->second;
            const unique_fd in(::open(redirect.source.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
            if (!in) fail("cannot open", redirect.source, errno);
            check_source(in.get(), redirect);
            try {
                copier.copy_exactly(in.get(), out.get(), redirect.size, redirect.source, path);
            } catch (const detail::file_copy_error& failure) {
                // A source that shrank gets the message that says to build again.
                if (failure.step() == detail::file_copy_step::ended_early) {
                    check_source(in.get(), redirect);
                }
                throw;
            }
            check_source(in.get(), redirect);  // a write during the copy changes the ctime
            if (::fchmod(out.get(), info.st_mode & 07777) != 0) fail("cannot chmod", path, errno);
            const struct timespec times[2] = {info.st_atim, info.st_mtim};
            if (::futimens(out.get(), times) != 0) fail("cannot set the times of", path, errno);
            redirects.erase(found);
        }
        placeholders.clear();
        redirects.clear();
    }

    /// Throws unless the open source is still the file `redirect` recorded.
    static void check_source(int fd, const layer::data_redirect& redirect) {
        struct stat now {};
        if (::fstat(fd, &now) != 0) fail("cannot stat", redirect.source, errno);
        if (static_cast<std::uint64_t>(now.st_dev) != redirect.source_device ||
            static_cast<std::uint64_t>(now.st_ino) != redirect.source_inode ||
            static_cast<std::uint64_t>(now.st_size) != redirect.size ||
            layer::change_time_ns(now.st_ctim) != redirect.source_change_ns) {
            throw error("COPY failed: " + redirect.source.string() +
                        " changed while the build ran; build again");
        }
    }
};

/// One container: an upper directory stacked on its parent's layers.
struct container_record {
    std::optional<digest> parent;
    std::vector<fs::path> lowers;  ///< bottom first
    fs::path dir;
    /// Whether `dir` exists: it is made on first use, so config-only steps never create it.
    bool created = false;
    std::unique_ptr<exec::container> executor;
    bool full_copy = false;  ///< The executor fell back to copying: upper is a whole tree.
    std::optional<layer_record> layer;

    [[nodiscard]] fs::path upper() const { return dir / "upper"; }
    [[nodiscard]] std::vector<fs::path> layers() const {
        if (full_copy) return {upper()};
        std::vector<fs::path> all = lowers;
        all.push_back(upper());
        return all;
    }
};

/// Writes into a container's upper directory with overlayfs' copy-up rules, reading the
/// merged tree through a view.
class upper_writer {
  public:
    /// `deferred` (optional) holds the placeholders of this upper directory; they are filled
    /// before anything in the directory is removed, so no placeholder's inode is ever reused.
    explicit upper_writer(const container_record& record, deferred_copies* deferred = nullptr)
        : upper_(record.upper()), view_(record.layers()), deferred_(deferred) {}

    [[nodiscard]] deferred_copies* deferred() const noexcept { return deferred_; }

    [[nodiscard]] const rootfs_view& view() const { return view_; }
    [[nodiscard]] fs::path host(const std::string& rel) const {
        return rel.empty() ? upper_ : upper_ / rel;
    }

    /// Makes every directory of `rel` exist in the upper directory: an existing directory of
    /// a lower layer is copied up with its mode and owner, a missing one is created with
    /// `mode` and `owner`. Returns whether `rel` itself was created.
    bool ensure_directory(const std::string& rel, mode_t mode, identity owner) {
        // Fast path: a directory already in the upper directory has all its parents there.
        struct stat info {};
        if (!rel.empty() && ::lstat(host(rel).c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
            return false;
        }
        std::string prefix;
        bool created = false;
        std::size_t start = 0;
        while (start <= rel.size() && !rel.empty()) {
            const std::size_t end = std::min(rel.find('/', start), rel.size());
            prefix = rel.substr(0, end);
            start = end + 1;
            created = ensure_one(prefix, mode, owner);
        }
        return created;
    }

    /// Makes `rel` a directory in the upper directory with exactly this metadata.
    void directory_with(const std::string& rel, mode_t mode, identity owner) {
        ensure_directory(parent_rel(rel), 0755, {0, 0});
        const fs::path path = host(rel);
        struct stat info {};
        if (::lstat(path.c_str(), &info) == 0 && !S_ISDIR(info.st_mode)) remove_entry(rel);
        if (::lstat(path.c_str(), &info) != 0 && ::mkdir(path.c_str(), 0700) != 0) {
            fail("cannot create the directory", path, errno);
        }
        if (::lchown(path.c_str(), owner.uid, owner.gid) != 0) fail("cannot chown", path, errno);
        if (::chmod(path.c_str(), mode & 07777) != 0) fail("cannot chmod", path, errno);
    }

    /// Removes whatever the upper directory holds at `rel`.
    void remove_entry(const std::string& rel) {
        struct stat info {};
        if (::lstat(host(rel).c_str(), &info) != 0) return;
        if (deferred_ != nullptr && !deferred_->placeholders.empty()) deferred_->fill();
        std::error_code ignored;
        fs::remove_all(host(rel), ignored);
    }

    /// Whether the merged tree has a directory at `rel` (symlinks not followed).
    [[nodiscard]] bool is_directory(const std::string& rel) const {
        const std::optional<view_entry> entry = view_.lookup(rel);
        return entry && S_ISDIR(entry->info.st_mode);
    }

  private:
    bool ensure_one(const std::string& rel, mode_t mode, identity owner) {
        const fs::path path = host(rel);
        struct stat info {};
        if (::lstat(path.c_str(), &info) == 0) {
            if (S_ISDIR(info.st_mode)) return false;
            throw error("mkdir /" + rel + ": not a directory");
        }
        const std::optional<view_entry> below = view_.lookup(rel);
        if (below && !S_ISDIR(below->info.st_mode) && !S_ISLNK(below->info.st_mode)) {
            throw error("mkdir /" + rel + ": not a directory");
        }
        const bool copy_up = below && S_ISDIR(below->info.st_mode);
        const mode_t bits = copy_up ? below->info.st_mode & 07777 : mode;
        const identity ids = copy_up ? identity{below->info.st_uid, below->info.st_gid} : owner;
        if (::mkdir(path.c_str(), 0700) != 0) fail("cannot create the directory", path, errno);
        if (::lchown(path.c_str(), ids.uid, ids.gid) != 0) fail("cannot chown", path, errno);
        if (::chmod(path.c_str(), bits) != 0) fail("cannot chmod", path, errno);
        if (copy_up) set_times(path, below->info);
        return !copy_up;
    }

    fs::path upper_;
    rootfs_view view_;
    deferred_copies* deferred_;
};

/// Copies one non-directory entry (file, symlink, FIFO, device) from the host path `source`
/// to `rel` in the upper directory, keeping its mode and mtime.
class entry_copier {
  public:
    entry_copier(upper_writer& writer, std::optional<identity> owner, std::optional<mode_t> chmod)
        : writer_(writer), owner_(owner), chmod_(chmod) {}

    /// Whether the sources copied from now on outlive the build's layer writes, so large files
    /// among them may become placeholders (context files and image layers, not downloads).
    void defer_large_files(bool enabled) { defer_ = enabled; }

    /// Copies `source` to `rel`. `context_path` names the source in `context` when it is a
    /// file of the build context: the copy then fails unless the file is still the one that
    /// was hashed, since the layer would otherwise hold other bytes than the cache key names.
    void copy(const fs::path& source, const struct stat& info, const std::string& rel,
              const build_context_index* context = nullptr, const std::string& context_path = {}) {
        writer_.remove_entry(rel);
        const fs::path target = writer_.host(rel);
        const identity ids = owner_.value_or(identity{info.st_uid, info.st_gid});
        const mode_t mode = chmod_.value_or(info.st_mode & 07777);
        if (info.st_nlink > 1 && !S_ISDIR(info.st_mode)) {
            const auto key = std::pair(info.st_dev, info.st_ino);
            if (const auto seen = links_.find(key); seen != links_.end()) {
                if (::link(seen->second.c_str(), target.c_str()) != 0) {
                    fail("cannot link", target, errno);
                }
                return;
            }
            links_.emplace(key, target);
        }
        if (S_ISREG(info.st_mode)) {
            // The open file takes its owner, mode and times without three more path lookups.
            const unique_fd in(::open(source.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
            if (!in) fail("cannot open", source, errno);
            const unique_fd out(
                ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!out) fail("cannot create", target, errno);
            if (!defer(in.get(), out.get(), source, target, info)) {
                try {
                    copier_.copy_exactly(in.get(), out.get(),
                                         static_cast<std::uint64_t>(info.st_size), source, target);
                } catch (const detail::file_copy_error& failure) {
                    // A context file that shrank gets the context's message, which says what to
                    // do next.
                    if (failure.step() == detail::file_copy_step::ended_early &&
                        context != nullptr) {
                        context->check_unchanged(context_path, in.get());
                    }
                    throw;
                }
            }
            // Checked after the copy: the change time only grows, so a file that matches now
            // also matched while it was read, and when the placeholder's source was recorded.
            if (context != nullptr) context->check_unchanged(context_path, in.get());
            if (::fchown(out.get(), ids.uid, ids.gid) != 0) fail("cannot chown", target, errno);
            if (::fchmod(out.get(), mode) != 0) fail("cannot chmod", target, errno);
            const struct timespec times[2] = {{info.st_mtim.tv_sec, 0}, {info.st_mtim.tv_sec, 0}};
            ::futimens(out.get(), times);
            return;
        } else if (S_ISLNK(info.st_mode)) {
            std::string link(static_cast<std::size_t>(info.st_size) + 1, '\0');
            const ssize_t n = ::readlink(source.c_str(), link.data(), link.size());
            if (n < 0) fail("cannot read the symlink", source, errno);
            link.resize(static_cast<std::size_t>(n));
            if (::symlink(link.c_str(), target.c_str()) != 0) {
                fail("cannot create the symlink", target, errno);
            }
        } else if (S_ISFIFO(info.st_mode) || S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode)) {
            if (::mknod(target.c_str(), (info.st_mode & S_IFMT) | 0600, info.st_rdev) != 0) {
                fail("cannot create the node", target, errno);
            }
        } else {
            return;  // sockets are not copied, as Docker's tar leaves them out
        }
        if (::lchown(target.c_str(), ids.uid, ids.gid) != 0) fail("cannot chown", target, errno);
        if (!S_ISLNK(info.st_mode) && ::chmod(target.c_str(), mode) != 0) {
            fail("cannot chmod", target, errno);
        }
        set_times(target, info);
    }

  private:
    /// Makes `out` a placeholder of `info.st_size` bytes whose data stays in `source` (see
    /// deferred_copies) when the writer collects placeholders, this source may be deferred,
    /// the file is large and has one link, and `in` is still the file that was listed.
    bool defer(int in, int out, const fs::path& source, const fs::path& target,
               const struct stat& info) {
        deferred_copies* deferred = writer_.deferred();
        if (!defer_ || deferred == nullptr || info.st_nlink != 1 ||
            info.st_size < deferred_copy_threshold) {
            return false;
        }
        struct stat now {};
        if (::fstat(in, &now) != 0 || now.st_dev != info.st_dev || now.st_ino != info.st_ino ||
            now.st_size != info.st_size) {
            return false;
        }
        if (::ftruncate(out, info.st_size) != 0) fail("cannot size", target, errno);
        struct stat made {};
        if (::fstat(out, &made) != 0) fail("cannot stat", target, errno);
        deferred->redirects.insert_or_assign(
            {static_cast<std::uint64_t>(made.st_dev), static_cast<std::uint64_t>(made.st_ino)},
            layer::data_redirect{source, static_cast<std::uint64_t>(now.st_dev),
                                 static_cast<std::uint64_t>(now.st_ino),
                                 static_cast<std::uint64_t>(now.st_size),
                                 layer::change_time_ns(now.st_ctim)});
        deferred->placeholders.push_back(target);
        return true;
    }

    upper_writer& writer_;
    std::optional<identity> owner_;
    std::optional<mode_t> chmod_;
    std::map<std::pair<dev_t, ino_t>, fs::path> links_;
    /// Remembers which kernel copy calls the file systems of this COPY reject.
    detail::file_copier copier_;
    bool defer_ = false;
};

/// The entries below `rel` of a merged view, parents first, names sorted.
void walk_view(const rootfs_view& view, const std::string& rel, std::vector<std::string>& out) {
    for (const std::string& name : view.list(rel)) {
        const std::string child = join_rel(rel, name);
        out.push_back(child);
        const std::optional<view_entry> entry = view.lookup(child);
        if (entry && S_ISDIR(entry->info.st_mode)) walk_view(view, child, out);
    }
}

/// The entries below `dir` of a plain tree, parents first, names sorted.
void walk_tree(const fs::path& root, const std::string& rel, std::vector<std::string>& out) {
    std::vector<std::string> names;
    for (const auto& child : fs::directory_iterator(rel.empty() ? root : root / rel))
        names.push_back(child.path().filename().string());
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
        const std::string child = join_rel(rel, name);
        out.push_back(child);
        if (fs::is_directory(fs::symlink_status(root / child))) walk_tree(root, child, out);
    }
}

using archive_handle = detail::archive_reader;

archive_handle open_archive(const fs::path& path) {
    archive_handle reader(archive_read_new());
    archive_read_support_filter_all(reader.get());
    archive_read_support_format_tar(reader.get());
    archive_read_support_format_gnutar(reader.get());
    if (archive_read_open_filename(reader.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
        return nullptr;
    }
    return reader;
}

/// Whether ADD extracts `path`: a tar, plain or compressed, whose first header reads.
bool is_archive(const fs::path& path) {
    archive_handle reader = open_archive(path);
    if (!reader) return false;
    struct archive_entry* entry = nullptr;
    return archive_read_next_header(reader.get(), &entry) == ARCHIVE_OK;
}

/// Extracts the archive at `source` into the directory `dest_rel` of the container, keeping
/// the owners, modes and mtimes the archive records.
void extract_archive(const fs::path& source, const std::string& dest_rel, upper_writer& writer) {
    archive_handle reader = open_archive(source);
    if (!reader) throw error("cannot open the archive " + source.string());
    writer.ensure_directory(dest_rel, 0755, {0, 0});
    std::vector<std::pair<fs::path, std::time_t>> directory_times;
    struct archive_entry* entry = nullptr;
    while (true) {
        const int status = archive_read_next_header(reader.get(), &entry);
        if (status == ARCHIVE_EOF) break;
        if (status < ARCHIVE_WARN) {
            throw error("cannot read the archive " + source.string() + ": " +
                        archive_error_string(reader.get()));
        }
        const char* raw = archive_entry_pathname(entry);
        const std::string name = raw ? raw : "";
        if (name.find("..") != std::string::npos) {
            std::string check = "/" + name + "/";
            if (check.find("/../") != std::string::npos) {
                throw error("invalid archive entry " + name + " in " + source.filename().string() +
                            ": its path leaves the destination");
            }
        }
        const std::string clean = clean_inside_root(name);
        if (clean.empty()) continue;
        const std::string parent =
            writer.view().resolve(join_rel(dest_rel, parent_rel(clean)), true);
        const std::string rel = join_rel(parent, base_name(clean));
        writer.ensure_directory(parent, 0755, {0, 0});
        const auto type = archive_entry_filetype(entry);
        const identity ids{static_cast<uid_t>(archive_entry_uid(entry)),
                           static_cast<gid_t>(archive_entry_gid(entry))};
        const mode_t mode = archive_entry_perm(entry) & 07777;
        const fs::path target = writer.host(rel);
        const std::time_t mtime = archive_entry_mtime(entry);
        if (type == AE_IFDIR) {
            writer.directory_with(rel, mode, ids);
            directory_times.emplace_back(target, mtime);
            continue;
        }
        writer.remove_entry(rel);
        if (const char* hard = archive_entry_hardlink(entry)) {
            // Resolve the link target's directory inside the root, so a symlink the archive
            // made earlier cannot point the link at a file of the host.
            const std::string link_clean = clean_inside_root(hard);
            const std::string link_parent =
                writer.view().resolve(join_rel(dest_rel, parent_rel(link_clean)), true);
            const fs::path existing = writer.host(join_rel(link_parent, base_name(link_clean)));
            struct stat link_info {};
            if (::lstat(existing.c_str(), &link_info) != 0 || S_ISDIR(link_info.st_mode)) {
                throw error("invalid hard link " + name + " -> " + hard + " in " +
                            source.filename().string() +
                            ": the target is not an earlier file "
                            "of the archive");
            }
            if (::linkat(AT_FDCWD, existing.c_str(), AT_FDCWD, target.c_str(), 0) != 0) {
                fail("cannot link " + std::string(hard) + " to", target, errno);
            }
            continue;
        }
        if (type == AE_IFREG) {
            const unique_fd out(
                ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            if (!out) fail("cannot create", target, errno);
            const void* block = nullptr;
            std::size_t size = 0;
            la_int64_t offset = 0;
            int read = ARCHIVE_OK;
            while ((read = archive_read_data_block(reader.get(), &block, &size, &offset)) ==
                   ARCHIVE_OK) {
                if (::pwrite(out.get(), block, size, offset) != static_cast<ssize_t>(size)) {
                    fail("cannot write", target, errno);
                }
            }
            if (read != ARCHIVE_EOF) {
                throw error("cannot read " + name + " from " + source.string() + ": " +
                            archive_error_string(reader.get()));
            }
            if (::ftruncate(out.get(), archive_entry_size(entry)) != 0) {
                fail("cannot size", target, errno);
            }
        } else if (type == AE_IFLNK) {
            const char* link = archive_entry_symlink(entry);
            if (::symlink(link ? link : "", target.c_str()) != 0) {
                fail("cannot create the symlink", target, errno);
            }
        } else if (type == AE_IFIFO) {
            if (::mkfifo(target.c_str(), 0600) != 0) fail("cannot create the FIFO", target, errno);
        } else if (type == AE_IFCHR || type == AE_IFBLK) {
            const dev_t device =
                ::makedev(archive_entry_rdevmajor(entry), archive_entry_rdevminor(entry));
            if (::mknod(target.c_str(), type | 0600, device) != 0) {
                fail("cannot create the device", target, errno);
            }
        } else {
            continue;
        }
        if (::lchown(target.c_str(), ids.uid, ids.gid) != 0) fail("cannot chown", target, errno);
        if (type != AE_IFLNK && ::chmod(target.c_str(), mode) != 0) {
            fail("cannot chmod", target, errno);
        }
        set_times(target, mtime);
    }
    for (auto it = directory_times.rbegin(); it != directory_times.rend(); ++it)
        set_times(it->first, it->second);
}

/// Docker's container-config comparison for the classic cache (image/cache/compare.go).
std::string cache_difference(const config& a, const config& b) {
    if (a.open_stdin || b.open_stdin) return "OpenStdin is set";
    if (a.attach_stdout != b.attach_stdout || a.attach_stderr != b.attach_stderr) {
        return "Attach settings differ";
    }
    if (a.user != b.user) return "User differs (" + b.user + ")";
    if (a.tty != b.tty) return "Tty differs";
    if (a.cmd.value_or(std::vector<std::string>{}) != b.cmd.value_or(std::vector<std::string>{})) {
        return "the command differs";
    }
    if (a.env.value_or(std::vector<std::string>{}) != b.env.value_or(std::vector<std::string>{})) {
        return "Env differs";
    }
    if (a.labels.value_or(std::map<std::string, std::string>{}) !=
        b.labels.value_or(std::map<std::string, std::string>{})) {
        return "Labels differ";
    }
    if (a.exposed_ports.value_or(std::set<std::string>{}) !=
        b.exposed_ports.value_or(std::set<std::string>{})) {
        return "ExposedPorts differ";
    }
    if (a.entrypoint.value_or(std::vector<std::string>{}) !=
        b.entrypoint.value_or(std::vector<std::string>{})) {
        return "Entrypoint differs";
    }
    if (a.volumes.value_or(std::set<std::string>{}) !=
        b.volumes.value_or(std::set<std::string>{})) {
        return "Volumes differ";
    }
    return {};
}

const digest& empty_tar_digest() {
    static const digest value = digest::sha256_of(std::string(1024, '\0'));
    return value;
}

std::string short_id(const digest& id) {
    return std::string(id.hex().substr(0, 12));
}

}  // namespace

/// Where containers' upper directories go: `requested` when set, else a tmpfs (/dev/shm) with
/// room to spare, where creating many files costs far less than on a disk, else the store's
/// tmp/. Layers are streamed into the store, so nothing here has to outlive the build.
fs::path scratch_directory(const store& images, const fs::path& requested) {
    fs::path parent = requested;
    if (const char* env = std::getenv("DOCKWRIGHT_SCRATCH"); parent.empty() && env && *env) {
        parent = env;
    }
    if (parent.empty()) {
        struct statfs fs_info {};
        constexpr std::uint64_t enough = 4ULL << 30;
        if (::statfs("/dev/shm", &fs_info) == 0 && fs_info.f_type == TMPFS_MAGIC &&
            static_cast<std::uint64_t>(fs_info.f_bavail) * fs_info.f_bsize >= enough) {
            parent = "/dev/shm";
        }
    }
    if (parent.empty()) return images.make_temp_dir("build-");
    std::string pattern = (parent / "dockwright-build-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return images.make_temp_dir("build-");
    return pattern;
}

/// Names a scratch directory outside the store by a symlink `tmp/scratch-*` in the store, so
/// that `prune` removes the directory when a killed build leaves it behind. Returns the
/// symlink, or an empty path for a directory inside the store's tmp/ (prune removes those).
fs::path register_scratch(const store& images, const fs::path& dir) {
    const fs::path tmp = images.root() / "tmp";
    if (dir.parent_path() == tmp) return {};
    const fs::path link = tmp / ("scratch-" + random_hex().substr(0, 16));
    std::error_code failure;
    fs::create_directory_symlink(fs::absolute(dir), link, failure);
    if (failure) {
        throw error("cannot create the symlink " + link.string() +
                    " to the build directory: " + failure.message());
    }
    return link;
}

/// Removes a build's scratch directory, then the symlink that names it.
void remove_scratch(const fs::path& dir, const fs::path& link) {
    detail::remove_all_deep(dir);
    std::error_code ignored;
    if (!link.empty()) fs::remove(link, ignored);
}

/// An image stored by this build but not yet recorded in the store's database.
struct pending_image {
    image_commit request;
    digest id;
};

struct local_backend::state {
    state(store& s, local_backend_options o)
        : images(s),
          gc_lock(s.lock_for_writing()),
          options(std::move(o)),
          build_dir(scratch_directory(s, options.scratch)),
          scratch_link(register_scratch(s, build_dir)),
          context(options.context) {}

    store& images;
    /// Held shared for the whole build, because the layer blobs written so far are named by
    /// no database row until publish(), and garbage collection would remove them.
    store::writer_lock gc_lock;
    local_backend_options options;
    fs::path build_dir;
    /// The symlink in the store's tmp/ that names build_dir, when build_dir is outside it.
    fs::path scratch_link;
    fs::path context;
    std::map<std::string, container_record> containers;
    /// Layer directories (bottom first) of the images this build made.
    std::map<std::string, std::vector<fs::path>> image_layers;
    std::map<std::string, layer_record> new_layers;
    std::string last_committed;
    unsigned long counter = 0;
    /// What a kept container's record says, by container ID, until the container is removed.
    std::map<std::string, container_info> container_infos;
    /// The user and network namespaces that every RUN of this build joins; created on the
    /// first RUN.
    std::shared_ptr<exec::shared_namespaces> namespaces =
        std::make_shared<exec::shared_namespaces>();
    /// Images in build order (parents first); publish() records them in one transaction.
    std::vector<pending_image> pending;
    /// Placeholders of large COPY files, by the upper directory that holds them.
    std::map<fs::path, deferred_copies> deferred;
    /// Removes build_dir once the build is published; joined by the destructor.
    std::thread remover;

    /// Fills the placeholders in any of `dirs`, before something other than the layer writer
    /// reads their files.
    void fill_deferred(const std::vector<fs::path>& dirs) {
        if (deferred.empty()) return;
        for (const fs::path& dir : dirs) {
            if (const auto found = deferred.find(dir); found != deferred.end()) {
                found->second.fill();
                deferred.erase(found);
            }
        }
    }

    container_record& get(const std::string& id) {
        const auto found = containers.find(id);
        if (found == containers.end()) throw error("no such build container: " + id);
        return found->second;
    }

    /// The container, with its directories created on first use.
    container_record& materialized(const std::string& id) {
        container_record& record = get(id);
        if (!record.created) {
            fs::create_directories(record.upper());
            fs::create_directories(record.dir / "work");
            record.created = true;
        }
        return record;
    }

    const pending_image* find_pending(const digest& id) const {
        for (const pending_image& image : pending) {
            if (image.id == id) return &image;
        }
        return nullptr;
    }

    /// Records the pending images, with `tags` on `target` when it is one of them, and
    /// returns whether `target` was among them.
    bool publish(const std::optional<digest>& target, const std::vector<reference>& tags) {
        if (pending.empty()) return false;
        std::vector<image_commit> requests;
        bool tagged = false;
        for (pending_image& image : pending) {
            if (target && image.id == *target && !tagged) {
                image.request.references = tags;
                tagged = true;
            }
            requests.push_back(image.request);
        }
        images.commit_images(requests);
        pending.clear();
        return tagged;
    }

    /// Makes `image` visible in the store when it is still pending, for the store functions
    /// (unpack) that read images through the database.
    void make_visible(const std::optional<digest>& image) {
        if (image && find_pending(*image)) publish(std::nullopt, {});
    }

    std::vector<fs::path> layers_of(const std::optional<digest>& image) {
        if (!image) return {};
        if (const auto found = image_layers.find(image->str()); found != image_layers.end()) {
            return found->second;
        }
        make_visible(image);
        const image_record record = images.get(*image);
        if (record.diff_ids.empty()) return {};
        std::vector<fs::path> layers{images.unpack(*image)};
        image_layers.emplace(image->str(), layers);
        exact_layers.insert(image->str());
        return layers;
    }

    /// Whether the layer directories of `image` show exactly its files (true without one).
    bool has_exact_layers(const std::optional<digest>& image) {
        if (!image) return true;
        return layers_of(image).empty() || exact_layers.contains(image->str());
    }

    /// Directories (bottom first) that show exactly the files of `image`: the build's own
    /// layer directories when they do, else the image's unpacked snapshot. Empty for an
    /// image without files.
    std::vector<fs::path> readable_layers(const digest& image) {
        std::vector<fs::path> layers = layers_of(image);
        fill_deferred(layers);
        if (layers.empty() || exact_layers.contains(image.str())) return layers;
        make_visible(image);
        return {images.unpack(image)};
    }

    /// Images whose entry in image_layers shows exactly the files of the image, so that
    /// COPY --from can read them there without unpacking the image. An upper directory
    /// is exact when the process is root and the executor used overlayfs: rootless
    /// containers leave files owned by mapped IDs, and the copying fallback leaves a whole
    /// tree with mount points.
    std::set<std::string> exact_layers;
};

local_backend::local_backend(store& images, local_backend_options options)
    : state_(std::make_unique<state>(images, std::move(options))) {}

local_backend::~local_backend() {
    // A build that failed or was cancelled still records the images of the steps that
    // finished, so the next build finds them in the cache.
    try {
        state_->publish(std::nullopt, {});
    } catch (const std::exception&) {
        // NOTE: the destructor cannot report the error. The blobs stay in the store without
        // rows, and prune removes them.
    }
    state_->containers.clear();
    if (state_->remover.joinable()) {
        state_->remover.join();
    } else {
        remove_scratch(state_->build_dir, state_->scratch_link);
    }
}

void local_backend::publish(const digest& target, const std::vector<reference>& tags) {
    // Nothing reads the containers' directories after this point, so they are removed on a
    // thread while the blobs are made durable and the images recorded.
    if (!state_->remover.joinable()) {
        state_->containers.clear();
        state_->deferred.clear();
        state_->remover = std::thread(
            [dir = state_->build_dir, link = state_->scratch_link] { remove_scratch(dir, link); });
    }
    if (state_->publish(target, tags)) return;
    for (const reference& tag : tags)
        state_->images.tag(target, tag);
}

std::optional<base_image> local_backend::lookup_image(const std::string& reference) {
    if (reference.starts_with("sha256:")) {
        for (const pending_image& image : state_->pending) {
            if (image.id.str() == reference) {
                return base_image{image.id, image_from_json(image.request.config)};
            }
        }
    }
    std::optional<image_record> record;
    const auto& pull = state_->options.pull;
    try {
        if (pull && state_->options.pull_always && !reference.starts_with("sha256:")) {
            const digest id = pull(reference);
            return base_image{id, state_->images.config(id)};
        }
        record = state_->images.find(reference);
    } catch (const invalid_value_error&) {
        return std::nullopt;
    }
    if (!record && pull && !reference.starts_with("sha256:")) {
        const digest id = pull(reference);
        return base_image{id, state_->images.config(id)};
    }
    if (!record) return std::nullopt;
    return base_image{record->id, state_->images.config(record->id)};
}

std::optional<std::string> local_backend::source_hash(const copy_source& source) {
    if (!source.image_id) return std::nullopt;
    // An image ID fixes the image's files, so the hash of the same paths in it never changes.
    // NOTE: the hash also holds owner names from the host's /etc/passwd and /etc/group, and
    // a cached hash keeps the names of the moment it was computed.
    std::string key = source.image_id->str();
    for (const std::string& path : source.paths)
        key += "\n" + path;
    const fs::path cache_dir = state_->images.root() / "cache" / "source-hashes";
    const fs::path cache_file = cache_dir / std::string(digest::sha256_of(key).hex());
    if (std::ifstream in(cache_file); in) {
        std::string known;
        std::getline(in, known);
        if (known.starts_with("file:") || known.starts_with("dir:") ||
            known.starts_with("multi:")) {
            return known;
        }
    }
    const std::vector<fs::path> layers = state_->readable_layers(*source.image_id);
    const rootfs_view view(layers);
    const auto host_of = [&](const std::string& rel) {
        const std::optional<view_entry> entry = view.lookup(rel);
        return entry ? entry->host_path : fs::path();
    };
    const auto names_in = [&](const std::string& rel) { return view.list(rel); };
    std::vector<copy_source_info> infos;
    for (const std::string& path : source.paths) {
        const std::string rel = view.resolve(clean_inside_root(path), true);
        if (layers.empty() || !view.lookup(rel)) {
            throw error("COPY failed: stat " + fs::path("/" + clean_inside_root(path)).string() +
                        ": file does not exist");
        }
        infos.push_back(tree_source_info(rel, host_of, names_in));
    }
    std::string hash = combined_source_hash(infos);
    // The cache only saves time, so a failure to write it is ignored.
    std::error_code ignored;
    fs::create_directories(cache_dir, ignored);
    const fs::path temporary = cache_file.string() + "." + random_hex().substr(0, 12);
    if (std::ofstream out(temporary, std::ios::binary | std::ios::trunc); out) {
        out << hash << '\n';
        out.close();
        if (out) fs::rename(temporary, cache_file, ignored);
    }
    fs::remove(temporary, ignored);
    return hash;
}

std::string local_backend::create_container(const std::optional<digest>& parent,
                                            const config& settings) {
    std::string id;
    if (state_->options.reproducible) {
        std::string seed = "dockwright container " + std::to_string(++state_->counter);
        if (parent) seed += " " + parent->str();
        for (const std::string& word : settings.cmd.value_or(std::vector<std::string>{}))
            seed += " " + word;
        id = std::string(digest::sha256_of(seed).hex());
    } else {
        id = random_hex();
    }
    container_record record;
    record.parent = parent;
    record.lowers = state_->layers_of(parent);
    record.dir = state_->build_dir / id.substr(0, 16);
    state_->containers.emplace(id, std::move(record));
    if (state_->options.keep_container) {
        container_info& info = state_->container_infos[id];
        info.id = id;
        info.image = parent;
        info.command = settings.cmd.value_or(std::vector<std::string>{});
        info.created = timestamp::now().str();
        info.config = to_json(settings);
    }
    return id;
}

namespace {

/// The directory of a cache mount, kept in the store across builds.
fs::path cache_directory(store& images, const run_mount& mount) {
    const fs::path dir =
        images.root() / "cache-mounts" / std::string(digest::sha256_of(mount.id).hex());
    if (!fs::exists(dir)) {
        fs::create_directories(dir);
        if (::chmod(dir.c_str(), mount.mode.value_or(0755)) != 0 ||
            ::chown(dir.c_str(), mount.uid.value_or(0), mount.gid.value_or(0)) != 0) {
            fail("cannot prepare the cache mount", dir, errno);
        }
    }
    return dir;
}

/// A host path for `source` inside `root`, symlinks resolved beneath it.
fs::path source_in(const fs::path& root, const std::string& source, const std::string& text) {
    const rootfs_view view(std::vector{root});
    const std::string rel = view.resolve(clean_inside_root(source), true);
    if (!view.lookup(rel)) {
        throw error("RUN --mount " + text + ": source " + source + " does not exist");
    }
    return rel.empty() ? root : root / rel;
}

std::vector<fs::path> add_mounts(local_backend::state& s, const run_spec& spec,
                                 exec::run_spec& plan) {
    std::vector<fs::path> temporary;
    for (const auto& entry : spec.mounts) {
        // Plain references: clang 14 cannot capture structured bindings in the lambda below.
        const run_mount& mount = entry.first;
        const std::optional<digest>& from = entry.second;
        exec::extra_mount out;
        out.target = mount.target;
        out.readonly = mount.readonly;
        switch (mount.type) {
            case run_mount::kind::bind: {
                fs::path root = s.context;
                if (from) {
                    if (s.layers_of(from).empty()) {
                        throw error("RUN --mount from=" + mount.from + ": the image has no files");
                    }
                    s.make_visible(from);
                    root = s.images.unpack(*from);
                }
                if (root.empty()) throw error("RUN --mount type=bind needs a build context");
                out.source = source_in(root, mount.source, mount.target);
                if (!mount.readonly) {
                    // Writes to a read-write bind mount are discarded, as BuildKit does.
                    const fs::path copy = s.images.make_temp_dir("bind-");
                    temporary.push_back(copy);
                    fs::copy(out.source, copy / "data",
                             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
                    out.source = copy / "data";
                }
                break;
            }
            case run_mount::kind::cache:
                out.source = cache_directory(s.images, mount);
                if (!mount.source.empty()) {
                    out.source /= clean_inside_root(mount.source);
                    fs::create_directories(out.source);
                }
                break;
            case run_mount::kind::tmpfs:
                out.type = exec::extra_mount::kind::tmpfs;
                out.readonly = false;
                out.options = "mode=1777";
                if (!mount.size.empty()) out.options += ",size=" + mount.size;
                break;
            case run_mount::kind::secret: {
                const auto found =
                    std::find_if(s.options.secrets.begin(), s.options.secrets.end(),
                                 [&](const build_secret& secret) { return secret.id == mount.id; });
                if (found == s.options.secrets.end()) {
                    if (mount.required) {
                        throw error("secret " + mount.id +
                                    ": not found (pass it with --secret id=" + mount.id +
                                    ",src=FILE)");
                    }
                    continue;
                }
                // A private copy on tmpfs carries the mode and owner the mount asks for.
                const fs::path dir = fs::path("/dev/shm") / ("dockwright-secret-" + random_hex());
                fs::create_directories(dir);
                ::chmod(dir.c_str(), 0700);
                temporary.push_back(dir);
                const fs::path file = dir / "secret";
                std::error_code failure;
                fs::copy_file(found->source, file, failure);
                if (failure) {
                    throw error("secret " + mount.id + ": cannot read " + found->source.string() +
                                ": " + failure.message());
                }
                if (::chown(file.c_str(), mount.uid.value_or(0), mount.gid.value_or(0)) != 0 ||
                    ::chmod(file.c_str(), mount.mode.value_or(0400)) != 0) {
                    fail("cannot prepare the secret", file, errno);
                }
                out.source = file;
                out.readonly = true;
                break;
            }
            case run_mount::kind::ssh:
                throw error(
                    "RUN --mount=type=ssh needs an SSH agent, which dockwright does not "
                    "forward; fetch with a secret mount instead");
        }
        plan.mounts.push_back(std::move(out));
    }
    return temporary;
}

void remove_mount_points(const container_record& record, const run_spec& spec) {
    // Mount points the executor had to create are not part of the step's changes: remove
    // them, and the directories above them that hold nothing else, from the upper directory.
    for (const auto& [mount, from] : spec.mounts) {
        std::string rel = clean_inside_root(mount.target);
        while (!rel.empty()) {
            const fs::path path = record.upper() / rel;
            struct stat info {};
            if (::lstat(path.c_str(), &info) != 0) break;
            if (S_ISDIR(info.st_mode)) {
                if (!fs::is_empty(path) || detail::is_opaque(path)) break;
            } else if (!(S_ISREG(info.st_mode) && info.st_size == 0 &&
                         rel == clean_inside_root(mount.target))) {
                break;
            }
            std::error_code ignored;
            fs::remove(path, ignored);
            rel = parent_rel(rel);
        }
    }
}

}  // namespace

run_outcome local_backend::run(const std::string& container_id, const run_spec& spec,
                               const build_event_sink& sink) {
    container_record& record = state_->materialized(container_id);
    state_->fill_deferred(record.layers());
    exec::run_spec plan;
    plan.lower_dirs = record.lowers;
    if (plan.lower_dirs.empty()) {
        const fs::path empty = record.dir / "empty";
        fs::create_directories(empty);
        plan.lower_dirs.push_back(empty);
    }
    plan.upper_dir = record.upper();
    plan.work_dir = record.dir / "work";
    plan.argv = spec.argv;
    plan.env = spec.env;
    plan.user = spec.user;
    plan.working_dir = spec.working_dir.empty() ? "/" : spec.working_dir;
    plan.hostname = container_id.substr(0, 12);
    plan.namespaces = state_->namespaces;
    plan.network = state_->options.network;
    if (spec.network == "none") plan.network = exec::network_mode::none;
    if (spec.network == "host") plan.network = exec::network_mode::host;
    const std::vector<fs::path> temporary = add_mounts(*state_, spec, plan);
    struct remove_later {
        const std::vector<fs::path>& paths;
        ~remove_later() {
            for (const fs::path& path : paths) {
                std::error_code ignored;
                fs::remove_all(path, ignored);
            }
        }
    } cleanup{temporary};
    plan.limits = state_->options.limits;
    const fs::path state_dir = state_->options.exec_state_dir.empty()
                                   ? exec::default_state_dir()
                                   : state_->options.exec_state_dir;
    if (!spec.volumes.empty()) {
        // Docker mounts a volume on every VOLUME path, so the directories exist during RUN.
        upper_writer writer(record);
        for (const std::string& volume : spec.volumes) {
            const std::string rel = writer.view().resolve(clean_inside_root(volume), true);
            if (!rel.empty() && !writer.is_directory(rel)) writer.ensure_directory(rel, 0755, {});
        }
    }
    record.executor = std::make_unique<exec::container>(plan, state_dir);
    const exec::run_result result = record.executor->run(
        [&](exec::output_stream stream, std::string_view line) {
            build_event e;
            e.kind = build_event_kind::output;
            e.container_id = container_id;
            e.text = std::string(line);
            e.is_stderr = stream != exec::output_stream::out;
            emit(sink, e);
        },
        state_->options.cancel);
    record.full_copy = result.rootfs == exec::rootfs_kind::copy;
    if (const auto info = state_->container_infos.find(container_id);
        info != state_->container_infos.end()) {
        info->second.exit_code = result.exit_code;
    }
    if (!record.full_copy) remove_mount_points(record, spec);
    if (!record.full_copy && state_->options.buildkit_config && result.succeeded()) {
        // BuildKit's runc leaves its mount points in the layer: /etc is always touched (for
        // hosts and resolv.conf), /dev, /proc and /sys appear when the image lacks them.
        upper_writer writer(record);
        writer.ensure_directory("etc", 0755, {});
        for (const char* name : {"dev", "proc", "sys"}) {
            if (!writer.view().lookup(name)) writer.ensure_directory(name, 0755, {});
        }
    }
    if (result.cancelled) throw error("the build was cancelled during RUN " + plan.argv.back());
    if (result.succeeded() && !record.full_copy) {
        // The classic builder mounts a fresh volume on every VOLUME path, so writes there are
        // lost and only the mount points remain in the layer.
        upper_writer writer(record);
        for (const std::string& volume : spec.volumes) {
            const std::string rel = writer.view().resolve(clean_inside_root(volume), true);
            if (rel.empty()) continue;
            writer.remove_entry(rel);
            writer.ensure_directory(rel, 0755, {0, 0});
        }
    }
    return {result.exit_code, true};
}

void local_backend::copy(const std::string& container_id, const copy_spec& spec) {
    container_record& record = state_->materialized(container_id);
    // Only a process that may write any file fills placeholders later (set-user-ID files and
    // read-only modes), so other processes copy every byte at once.
    deferred_copies* deferred = ::geteuid() == 0 ? &state_->deferred[record.upper()] : nullptr;
    upper_writer writer(record, deferred);
    std::optional<identity> owner = identity{0, 0};
    if (!spec.chown.empty()) {
        state_->fill_deferred(record.lowers);  // the passwd and group files are read below
        owner = parse_chown(spec.chown, writer.view());
    } else if (spec.source.image_id) {
        owner.reset();  // COPY --from keeps the owners the files have in the image
    }
    const std::optional<mode_t> chmod = parse_chmod(spec.chmod);
    entry_copier copier(writer, owner, chmod);
    const identity new_dirs = owner.value_or(identity{0, 0});

    // Each source as (host root, resolved path, name as given, directory?).
    struct source_item {
        fs::path root;
        std::string path;
        std::string name;
        bool directory = false;
    };
    std::vector<source_item> items;
    // COPY --from reads the image through a view of its layer directories (see
    // readable_layers), so a source item's root is unused and host paths come from the view.
    std::vector<fs::path> image_layers;
    if (spec.source.image_id) image_layers = state_->readable_layers(*spec.source.image_id);
    const rootfs_view image_view(image_layers);
    const bool from_image = spec.source.image_id.has_value();
    const auto source_host_of = [&](const source_item& item, const std::string& rel) {
        if (!from_image) return rel.empty() ? item.root : item.root / rel;
        const std::optional<view_entry> entry = image_view.lookup(rel);
        if (!entry) throw error("COPY failed: stat /" + rel + ": file does not exist");
        return entry->host_path;
    };
    if (!spec.source.image_id) {
        for (const copy_source_info& info : spec.context_sources) {
            const fs::path root = !info.root.empty() ? info.root
                                  : spec.context     ? spec.context->root()
                                                     : fs::path();
            items.push_back({root, info.path == "." ? "" : info.path, info.name, info.directory});
        }
    } else {
        for (const std::string& path : spec.source.paths) {
            const std::string clean = clean_inside_root(path);
            if (contains_wildcards(clean)) {
                std::vector<std::string> all;
                if (!image_layers.empty()) walk_view(image_view, "", all);
                for (const std::string& candidate : all) {
                    if (!go_path_match(clean, candidate)) continue;
                    const std::optional<view_entry> found = image_view.lookup(candidate);
                    items.push_back(
                        {fs::path(), candidate, candidate, found && S_ISDIR(found->info.st_mode)});
                }
                continue;
            }
            const std::string rel = image_view.resolve(clean, true);
            const std::optional<view_entry> found =
                image_layers.empty() ? std::nullopt : image_view.lookup(rel);
            if (!found) {
                throw error("COPY failed: stat " + ("/" + clean) + ": file does not exist");
            }
            items.push_back({fs::path(), rel, clean, S_ISDIR(found->info.st_mode)});
        }
        if (items.empty()) throw error("COPY failed: no source files were specified");
    }

    const std::string& dest_text = spec.destination;
    const bool dest_slash = !dest_text.empty() && dest_text.back() == '/';
    const dockerignore excluded(spec.excludes);
    for (const source_item& item : items) {
        if (!spec.excludes.empty() && !item.directory &&
            (excluded.matches(clean_inside_root(item.name)) ||
             excluded.matches(base_name(item.name)))) {
            continue;
        }
        std::string dest_rel = writer.view().resolve(clean_inside_root(dest_text), true);
        if (spec.parents) {
            // --parents keeps the source's own path below the destination.
            const std::string kept = clean_inside_root(item.name);
            const std::string parent = item.directory ? kept : parent_rel(kept);
            if (!parent.empty()) {
                dest_rel = writer.view().resolve(join_rel(dest_rel, parent), true);
                writer.ensure_directory(dest_rel, 0755, new_dirs);
            }
        }
        const fs::path source_host = source_host_of(item, item.path);
        const bool in_context =
            !from_image && item.root == (spec.context ? spec.context->root() : fs::path());
        copier.defer_large_files(from_image || in_context);
        // Directory entries are listed relative to the context root only with an index.
        const build_context_index* context_index = in_context ? spec.context : nullptr;
        if (item.directory) {
            const bool existed = writer.is_directory(dest_rel);
            writer.ensure_directory(dest_rel, 0755, {0, 0});
            if (!existed && !dest_rel.empty()) {
                if (::lchown(writer.host(dest_rel).c_str(), new_dirs.uid, new_dirs.gid) != 0) {
                    fail("cannot chown", writer.host(dest_rel), errno);
                }
            }
            std::vector<std::string> entries;
            if (spec.context) {
                entries = spec.context->entries_below(item.path);
            } else if (from_image) {
                walk_view(image_view, item.path, entries);
            } else {
                walk_tree(source_host, "", entries);
                for (std::string& e : entries)
                    e = join_rel(item.path, e);
            }
            std::vector<std::pair<fs::path, struct stat>> directories;
            const std::size_t strip = item.path.empty() ? 0 : item.path.size() + 1;
            std::vector<std::string> skipped_dirs;
            for (const std::string& entry : entries) {
                if (!spec.excludes.empty()) {
                    const std::string rel = entry.substr(strip);
                    const bool below_skipped =
                        std::any_of(skipped_dirs.begin(), skipped_dirs.end(),
                                    [&](const std::string& d) { return rel.starts_with(d + "/"); });
                    if (below_skipped) continue;
                    if (excluded.matches(rel)) {
                        skipped_dirs.push_back(rel);
                        continue;
                    }
                }
                const fs::path host = source_host_of(item, entry);
                struct stat info {};
                if (::lstat(host.c_str(), &info) != 0) fail("cannot stat", host, errno);
                const std::string target = join_rel(dest_rel, entry.substr(strip));
                if (S_ISDIR(info.st_mode)) {
                    const identity ids = owner.value_or(identity{info.st_uid, info.st_gid});
                    writer.directory_with(target, chmod.value_or(info.st_mode & 07777), ids);
                    directories.emplace_back(writer.host(target), info);
                } else {
                    writer.ensure_directory(parent_rel(target), 0755, {0, 0});
                    copier.copy(host, info, target, context_index, entry);
                }
            }
            for (auto it = directories.rbegin(); it != directories.rend(); ++it)
                set_times(it->first, it->second);
            continue;
        }
        struct stat info {};
        if (::stat(source_host.c_str(), &info) != 0) fail("cannot stat", source_host, errno);
        // Remote files are never extracted, as in Docker.
        const bool remote =
            from_image || item.root != (spec.context ? spec.context->root() : fs::path());
        if (spec.extract_archives && !remote && S_ISREG(info.st_mode) && is_archive(source_host)) {
            const unique_fd archive(::open(source_host.c_str(), O_RDONLY | O_CLOEXEC));
            if (!archive) fail("cannot open", source_host, errno);
            extract_archive(source_host, dest_rel, writer);
            if (spec.context != nullptr) spec.context->check_unchanged(item.path, archive.get());
            continue;
        }
        std::string target = dest_rel;
        if (dest_slash || spec.parents || writer.is_directory(dest_rel)) {
            target = join_rel(dest_rel, base_name(item.name));
        }
        writer.ensure_directory(parent_rel(target), 0755, new_dirs);
        if (::lstat(source_host.c_str(), &info) != 0) fail("cannot stat", source_host, errno);
        if (S_ISLNK(info.st_mode)) {
            // A symlink named as the source is followed: its target's content is copied.
            if (::stat(source_host.c_str(), &info) != 0) fail("cannot stat", source_host, errno);
        }
        copier.copy(source_host, info, target, remote ? nullptr : spec.context, item.path);
    }
}

void local_backend::make_directory(const std::string& container_id, const std::string& path) {
    container_record& record = state_->materialized(container_id);
    upper_writer writer(record);
    const std::string rel = writer.view().resolve(clean_inside_root(path), true);
    const std::optional<view_entry> existing = writer.view().lookup(rel);
    if (existing && !S_ISDIR(existing->info.st_mode)) {
        throw error("Cannot mkdir: " + path + " is not a directory");
    }
    if (!existing) writer.ensure_directory(rel, 0755, {0, 0});
}

layer_outcome local_backend::commit_layer(const std::string& container_id) {
    if (const container_record& untouched = state_->get(container_id);
        !untouched.created && !untouched.executor && !state_->options.buildkit_config) {
        // Nothing ran and nothing was copied (ENV, LABEL and the other config steps): the diff
        // is the empty tar, which Docker records as no layer.
        state_->last_committed = container_id;
        return {layer_outcome::state::empty, std::nullopt, std::nullopt};
    }
    container_record& record = state_->materialized(container_id);
    const auto lock = state_->images.lock_for_writing();
    // publish() fsyncs the blob before a row names it. The layer writer computes the diff ID
    // from the bytes it hands over, so the blob writer need not hash them again.
    blob_writer blob(state_->images, blob_durability::deferred, blob_hashing::supplied);
    layer::write_options options;
    options.xattrs = layer::xattr_selection::capability_only;
    if (state_->options.reproducible) {
        options.clamp_mtime = state_->options.source_date_epoch.value_or(0);
        options.host_names = false;
    }
    if (const auto found = state_->deferred.find(record.upper());
        found != state_->deferred.end() && !found->second.redirects.empty()) {
        options.redirects = &found->second.redirects;
    }
    progress_sink counted(blob, state_->options.progress, "layer");
    const layer::layer_info info =
        record.executor ? record.executor->write_layer(counted, options)
                        : layer::write_overlay_layer(record.upper(), counted, options);
    // Docker's image commit treats a diff without entries (the 1024-byte empty tar) as no
    // layer at all: nothing is appended to rootfs and the history says empty_layer.
    if (info.diff_id == empty_tar_digest() && !state_->options.buildkit_config) {
        state_->last_committed = container_id;
        return {layer_outcome::state::empty, std::nullopt, std::nullopt};
    }
    blob.commit(info.diff_id);
    record.layer = layer_record{info.diff_id, info.tar_size, std::nullopt, 0};
    state_->new_layers.insert_or_assign(info.diff_id.str(), *record.layer);
    state_->last_committed = container_id;
    return {layer_outcome::state::layer, info.diff_id, static_cast<std::int64_t>(info.tar_size)};
}

void local_backend::remove_container(const std::string& container_id) {
    // --rm and --force-rm: a kept container's upper directory is copied into the store.
    if (auto info = state_->container_infos.extract(container_id);
        !info.empty() && state_->options.keep_container(info.mapped())) {
        const fs::path upper = state_->build_dir / container_id.substr(0, 16) / "upper";
        state_->fill_deferred({upper});
        save_container(state_->images, info.mapped(), upper);
    }
    const auto found = state_->containers.find(container_id);
    if (found == state_->containers.end()) return;
    const bool keep_dirs = found->second.layer.has_value();
    found->second.executor.reset();
    if (!found->second.created) {
        // Nothing was made on disk for this container.
    } else if (!keep_dirs) {
        state_->deferred.erase(found->second.upper());
        std::error_code ignored;
        fs::remove_all(found->second.dir, ignored);
    } else {
        std::error_code ignored;
        fs::remove_all(found->second.dir / "work", ignored);
    }
    if (state_->last_committed != container_id) state_->containers.erase(found);
}

digest local_backend::store_image(const image& value) {
    image_commit request;
    request.config = state_->options.buildkit_config ? to_buildkit_json(value) : to_json(value);
    if (!value.config || value.config->image.empty()) {
        request.parent.reset();
    } else {
        request.parent = digest::parse(value.config->image);
    }
    if (value.rootfs) {
        for (const digest& diff_id : value.rootfs->diff_ids) {
            const auto fresh = state_->new_layers.find(diff_id.str());
            request.layers.push_back(
                fresh != state_->new_layers.end() ? fresh->second : state_->images.layer(diff_id));
        }
    }
    // The image is recorded by publish(), with the others of this build in one transaction.
    const digest id = digest::sha256_of(request.config);
    const std::optional<digest> parent = request.parent;
    if (!state_->find_pending(id)) state_->pending.push_back({std::move(request), id});
    std::vector<fs::path> layers;
    bool exact = false;
    if (!state_->last_committed.empty()) {
        container_record& record = state_->get(state_->last_committed);
        layers = record.layer || record.full_copy ? record.layers() : record.lowers;
        exact = state_->has_exact_layers(record.parent) && !record.full_copy &&
                (!record.layer || ::geteuid() == 0);
        std::error_code ignored;
        fs::remove_all(record.dir / "work", ignored);
        state_->containers.erase(state_->last_committed);
        state_->last_committed.clear();
    } else {
        layers = state_->layers_of(parent);
        exact = state_->has_exact_layers(parent);
    }
    if (exact) state_->exact_layers.insert(id.str());
    state_->image_layers.insert_or_assign(id.str(), std::move(layers));
    return id;
}

void local_backend::tag(const digest& id, const std::string& name) {
    state_->make_visible(id);
    state_->images.tag(id, reference::parse_tagged(name));
}

cache_probe local_backend::probe_cache(const std::optional<digest>& parent,
                                       const config& container_config) {
    std::vector<digest> candidates;
    if (parent) {
        if (!state_->find_pending(*parent)) candidates = state_->images.children(*parent);
    } else {
        for (const image_record& record : state_->images.images()) {
            if (!record.parent) candidates.push_back(record.id);
        }
    }
    for (const pending_image& image : state_->pending) {
        const bool listed =
            std::find(candidates.begin(), candidates.end(), image.id) != candidates.end();
        if (image.request.parent == parent && !listed) candidates.push_back(image.id);
    }
    if (candidates.empty()) {
        return {std::nullopt, parent ? "no image built from " + short_id(*parent) + " yet"
                                     : "no image built from scratch yet"};
    }
    std::optional<base_image> best;
    std::string reason;
    for (const digest& candidate : candidates) {
        const pending_image* fresh = state_->find_pending(candidate);
        image found =
            fresh ? image_from_json(fresh->request.config) : state_->images.config(candidate);
        const std::string difference = cache_difference(found.container_config, container_config);
        if (!difference.empty()) {
            if (reason.empty()) reason = "cached image " + short_id(candidate) + ": " + difference;
            continue;
        }
        if (!best || best->config.created.str() < found.created.str()) {
            best = base_image{candidate, std::move(found)};
        }
    }
    if (best) return {std::move(best), "same parent and same container_config"};
    return {std::nullopt, reason};
}

}  // namespace dockwright
