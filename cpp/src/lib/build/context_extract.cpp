// Unpacking an untrusted context archive into a temporary directory without letting any entry
// land outside it, plus the temporary-tree helpers of prepare_context().
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "../core/archive_reader.hpp"
#include "../core/unique_fd.hpp"
#include "context_internal.hpp"

namespace dockwright::detail {

namespace fs = std::filesystem;

namespace {

/// The stream libarchive reads: the bytes already taken from the descriptor to detect the
/// format, then the descriptor itself.
struct prefixed_source {
    int fd = -1;
    std::string_view prefix;
    bool prefix_sent = false;
    std::vector<char> buffer = std::vector<char>(1 << 20);
};

la_ssize_t read_source(archive* handle, void* data, const void** block) {
    auto* source = static_cast<prefixed_source*>(data);
    if (!source->prefix_sent) {
        source->prefix_sent = true;
        if (!source->prefix.empty()) {
            *block = source->prefix.data();
            return static_cast<la_ssize_t>(source->prefix.size());
        }
    }
    for (;;) {
        const ssize_t count = ::read(source->fd, source->buffer.data(), source->buffer.size());
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) {
            archive_set_error(handle, errno, "read failed: %s", std::strerror(errno));
            return -1;
        }
        *block = source->buffer.data();
        return count;
    }
}

/// The extraction of one archive: the open root and the checks every entry goes through.
class extractor {
  public:
    extractor(const fs::path& dest, std::string subject)
        : dest_(dest),
          subject_(std::move(subject)),
          root_(::open(dest.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)) {
        if (!root_) fail("", "cannot open the temporary directory: " + errno_text(errno));
    }

    void run(int fd, std::string_view prefix);

  private:
    struct directory_times {
        std::vector<std::string> parts;
        mode_t mode;
        timespec mtime;
    };

    [[noreturn]] void fail(const std::string& entry, const std::string& reason) const {
        std::string message = "unable to prepare context: unable to unpack the context archive";
        if (!subject_.empty()) message += " from " + subject_;
        // Quoted as Go does, so that control characters in a hostile name stay escaped.
        if (!entry.empty()) message += ": entry " + go_quote(entry);
        message += ": " + reason;
        throw context_error(subject_, message,
                            "send a tar archive (plain, gzip, bzip2, xz or zstd) whose entries "
                            "are files, directories and links inside the archive");
    }

    /// Splits an entry name into its parts the way Docker cleans it: a leading `/` goes,
    /// `.` parts go, `..` removes the part before it. Returns nothing when `..` would leave
    /// the root.
    static std::optional<std::vector<std::string>> split_name(std::string_view name) {
        std::vector<std::string> parts;
        std::size_t start = 0;
        while (start <= name.size()) {
            std::size_t end = name.find('/', start);
            if (end == std::string_view::npos) end = name.size();
            const std::string_view part = name.substr(start, end - start);
            start = end + 1;
            if (part.empty() || part == ".") continue;
            if (part == "..") {
                if (parts.empty()) return std::nullopt;
                parts.pop_back();
                continue;
            }
            parts.emplace_back(part);
        }
        return parts;
    }

    /// Opens the directory that `parts` names below the root, one part at a time without
    /// following symbolic links. Missing directories are created when `create` is set, else
    /// the result is empty.
    unique_fd open_directory(const std::vector<std::string>& parts, std::size_t count, bool create,
                             const std::string& entry) const {
        unique_fd current(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
        for (std::size_t i = 0; i < count; ++i) {
            const std::string& part = parts[i];
            struct stat info {};
            if (::fstatat(current.get(), part.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno == ENOENT && !create) return {};
                if (errno != ENOENT) {
                    fail(entry, "cannot find the parent directory \"" + join(parts, i + 1) +
                                    "\": " + errno_text(errno));
                }
                if (::mkdirat(current.get(), part.c_str(), 0700) != 0) {
                    fail(entry, "cannot create the directory \"" + join(parts, i + 1) +
                                    "\": " + errno_text(errno));
                }
            } else if (S_ISLNK(info.st_mode)) {
                fail(entry, "the parent \"" + join(parts, i + 1) +
                                "\" is a symbolic link, and no entry is written through one");
            } else if (!S_ISDIR(info.st_mode)) {
                fail(entry, "the parent \"" + join(parts, i + 1) + "\" is not a directory");
            }
            unique_fd next(::openat(current.get(), part.c_str(),
                                    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!next) {
                fail(entry, "cannot open the directory \"" + join(parts, i + 1) +
                                "\": " + errno_text(errno));
            }
            current = std::move(next);
        }
        return current;
    }

    static std::string join(const std::vector<std::string>& parts, std::size_t count) {
        std::string text;
        for (std::size_t i = 0; i < count; ++i) {
            if (i) text += '/';
            text += parts[i];
        }
        return text;
    }

    /// Makes room for a new entry: an existing directory stays when the entry is a directory
    /// too, anything else that exists is removed, as tar replaces earlier members.
    void clear_place(int parent, const std::vector<std::string>& parts, bool directory,
                     const std::string& entry) {
        const std::string& base = parts.back();
        struct stat info {};
        if (::fstatat(parent, base.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) return;
        if (S_ISDIR(info.st_mode)) {
            if (directory) return;
            remove_tree_quietly(dest_ / join(parts, parts.size()));
            forget_directories(parts);
        } else if (::unlinkat(parent, base.c_str(), 0) != 0) {
            fail(entry, "cannot replace the earlier entry: " + errno_text(errno));
        }
    }

    /// Drops the pending mode and time of the directory `parts` and of everything below it,
    /// after a later entry replaced it.
    void forget_directories(const std::vector<std::string>& parts) {
        std::erase_if(directories_, [&](const directory_times& item) {
            return item.parts.size() >= parts.size() &&
                   std::equal(parts.begin(), parts.end(), item.parts.begin());
        });
    }

    void write_file(archive* reader, int parent, const std::string& base, std::int64_t size,
                    const std::string& entry) {
        struct statvfs space {};
        if (::fstatvfs(root_.get(), &space) == 0) {
            const auto free_bytes = static_cast<std::uint64_t>(space.f_bavail) * space.f_frsize;
            if (size > 0 && static_cast<std::uint64_t>(size) > free_bytes) {
                fail(entry, "the file needs " + std::to_string(size) + " bytes but only " +
                                std::to_string(free_bytes) + " are free in the work directory");
            }
        }
        unique_fd file(::openat(parent, base.c_str(),
                                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!file) fail(entry, "cannot create the file: " + errno_text(errno));
        for (;;) {
            const void* block = nullptr;
            std::size_t length = 0;
            la_int64_t offset = 0;
            const int status = archive_read_data_block(reader, &block, &length, &offset);
            if (status == ARCHIVE_EOF) break;
            if (status < ARCHIVE_WARN) fail(entry, reason(reader));
            const char* bytes = static_cast<const char*>(block);
            while (length > 0) {
                const ssize_t count = ::pwrite(file.get(), bytes, length, offset);
                if (count < 0 && errno == EINTR) continue;
                if (count < 0) fail(entry, "cannot write the file: " + errno_text(errno));
                bytes += count;
                offset += count;
                length -= static_cast<std::size_t>(count);
            }
        }
        // Sparse archives leave holes at the end that pwrite did not reach.
        if (size > 0 && ::ftruncate(file.get(), size) != 0)
            fail(entry, "cannot write the file: " + errno_text(errno));
        file_ = std::move(file);
    }

    static std::string reason(archive* reader) {
        const char* text = archive_error_string(reader);
        return text ? text : "unknown libarchive error";
    }

    void finish_directories() const;

    fs::path dest_;
    std::string subject_;
    unique_fd root_;
    unique_fd file_;  ///< The file just written, so that its mode and time are set by fd.
    std::vector<directory_times> directories_;
};

void extractor::run(int fd, std::string_view prefix) {
    archive_reader reader(archive_read_new());
    archive_read_support_filter_gzip(reader.get());
    archive_read_support_filter_bzip2(reader.get());
    archive_read_support_filter_xz(reader.get());
    archive_read_support_filter_zstd(reader.get());
    archive_read_support_format_tar(reader.get());
    prefixed_source source;
    source.fd = fd;
    source.prefix = prefix;
    if (archive_read_open(reader.get(), &source, nullptr, read_source, nullptr) != ARCHIVE_OK) {
        fail("", "not a tar archive: " + reason(reader.get()));
    }
    for (;;) {
        archive_entry* header = nullptr;
        const int status = archive_read_next_header(reader.get(), &header);
        if (status == ARCHIVE_EOF) break;
        if (status < ARCHIVE_WARN) fail("", "cannot read the archive: " + reason(reader.get()));
        const char* raw = archive_entry_pathname(header);
        const std::string entry = raw ? raw : "";
        const auto parts = split_name(entry);
        if (!parts) fail(entry, "the name leads outside the context");
        if (parts->empty()) continue;  // The root itself.
        const mode_t type = archive_entry_filetype(header);
        const char* hardlink = archive_entry_hardlink(header);
        if (!hardlink && (type == AE_IFCHR || type == AE_IFBLK)) {
            fail(entry, "device nodes are not allowed in a build context");
        }
        if (!hardlink && type == AE_IFSOCK)
            fail(entry, "sockets are not allowed in a build context");
        if (!hardlink && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK &&
            type != AE_IFIFO) {
            fail(entry, "unsupported entry type");
        }
        const bool directory = !hardlink && type == AE_IFDIR;
        unique_fd parent = open_directory(*parts, parts->size() - 1, true, entry);
        const std::string& base = parts->back();
        clear_place(parent.get(), *parts, directory, entry);
        const mode_t mode = archive_entry_perm(header) & 07777;
        timespec mtime{};
        mtime.tv_sec = archive_entry_mtime(header);
        mtime.tv_nsec = archive_entry_mtime_nsec(header);
        const timespec times[2] = {mtime, mtime};
        if (hardlink) {
            const auto target = split_name(hardlink);
            if (!target || target->empty()) {
                fail(entry, std::string("the hard link target \"") + hardlink +
                                "\" leads outside the context");
            }
            unique_fd target_parent = open_directory(*target, target->size() - 1, false, entry);
            struct stat info {};
            if (!target_parent || ::fstatat(target_parent.get(), target->back().c_str(), &info,
                                            AT_SYMLINK_NOFOLLOW) != 0) {
                fail(entry, std::string("the hard link target \"") + hardlink +
                                "\" is not an earlier entry of the archive");
            }
            if (S_ISDIR(info.st_mode)) {
                fail(entry,
                     std::string("the hard link target \"") + hardlink + "\" is a directory");
            }
            if (::linkat(target_parent.get(), target->back().c_str(), parent.get(), base.c_str(),
                         0) != 0) {
                fail(entry, "cannot create the hard link: " + errno_text(errno));
            }
        } else if (type == AE_IFDIR) {
            if (::mkdirat(parent.get(), base.c_str(), 0700) != 0 && errno != EEXIST) {
                fail(entry, "cannot create the directory: " + errno_text(errno));
            }
            directories_.push_back({*parts, mode, mtime});
        } else if (type == AE_IFLNK) {
            const char* raw_target = archive_entry_symlink(header);
            const std::string target = raw_target ? raw_target : "";
            // As Docker, reject a relative target that climbs above the root. An absolute
            // target is kept, because it means a path inside the context's root.
            if (!target.starts_with("/")) {
                std::string joined = join(*parts, parts->size() - 1);
                if (!joined.empty()) joined += '/';
                if (!split_name(joined + target)) {
                    fail(entry,
                         "the symbolic link target \"" + target + "\" leads outside the context");
                }
            }
            if (::symlinkat(target.c_str(), parent.get(), base.c_str()) != 0) {
                fail(entry, "cannot create the symbolic link: " + errno_text(errno));
            }
            ::utimensat(parent.get(), base.c_str(), times, AT_SYMLINK_NOFOLLOW);
        } else if (type == AE_IFIFO) {
            if (::mknodat(parent.get(), base.c_str(), S_IFIFO | (mode & 0777), 0) != 0) {
                fail(entry, "cannot create the named pipe: " + errno_text(errno));
            }
            ::utimensat(parent.get(), base.c_str(), times, AT_SYMLINK_NOFOLLOW);
        } else {
            write_file(reader.get(), parent.get(), base, archive_entry_size(header), entry);
            if (::fchmod(file_.get(), mode) != 0 || ::futimens(file_.get(), times) != 0) {
                fail(entry, "cannot set the file's mode and time: " + errno_text(errno));
            }
            file_.reset();
        }
    }
    finish_directories();
}

/// Gives directories their archive mode and time last, deepest first, because writing the
/// entries inside changed their times and a read-only mode would have blocked the writes.
void extractor::finish_directories() const {
    std::vector<const directory_times*> order;
    for (const auto& item : directories_)
        order.push_back(&item);
    std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
        return a->parts.size() > b->parts.size();
    });
    for (const auto* item : order) {
        const std::string entry = join(item->parts, item->parts.size());
        unique_fd parent = open_directory(item->parts, item->parts.size() - 1, false, entry);
        if (!parent) fail(entry, "the directory was removed by a later entry");
        const timespec times[2] = {item->mtime, item->mtime};
        // Through a descriptor opened without following links, so that a symbolic link that
        // replaced the directory cannot redirect the chmod.
        unique_fd directory(::openat(parent.get(), item->parts.back().c_str(),
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!directory || ::fchmod(directory.get(), item->mode) != 0 ||
            ::futimens(directory.get(), times) != 0) {
            fail(entry, "cannot set the directory's mode and time: " + errno_text(errno));
        }
    }
}

}  // namespace

std::string errno_text(int code) {
    std::string text = std::strerror(code);
    if (!text.empty())
        text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    return text;
}

temp_tree::temp_tree(const fs::path& work_dir, std::string_view prefix) {
    std::error_code code;
    const fs::path base = work_dir.empty() ? fs::temp_directory_path(code) : work_dir;
    // A fresh store may not have its temporary directory yet; mkdtemp() reports what fails.
    fs::create_directories(base, code);
    std::string pattern = (base / std::string(prefix)).string() + "XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw context_error(base.string(),
                            "unable to prepare context: unable to create temporary context "
                            "directory: mkdir " +
                                pattern + ": " + errno_text(errno),
                            "check that the work directory exists and is writable");
    }
    path_ = pattern;
}

temp_tree::~temp_tree() {
    if (!path_.empty()) remove_tree_quietly(path_);
}

fs::path temp_tree::release() noexcept {
    return std::exchange(path_, {});
}

void remove_tree_quietly(const fs::path& path) noexcept {
    std::error_code code;
    fs::remove_all(path, code);
    if (!code) return;
    // A directory without the owner's write bit blocks removal for a user without
    // CAP_DAC_OVERRIDE: open every directory up, then try again.
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add | fs::perm_options::nofollow,
                    code);
    for (auto it = fs::recursive_directory_iterator(path, code);
         !code && it != fs::recursive_directory_iterator(); it.increment(code)) {
        std::error_code ignored;
        if (it->is_directory(ignored) && !it->is_symlink(ignored)) {
            fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ignored);
        }
    }
    fs::remove_all(path, code);
}

std::string read_prefix(int fd, std::size_t size, const std::string& subject) {
    std::string data(size, '\0');
    std::size_t filled = 0;
    while (filled < size) {
        const ssize_t count = ::read(fd, data.data() + filled, size - filled);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) {
            throw context_error(subject,
                                "unable to prepare context: failed to peek context header from " +
                                    std::string(subject == "stdin" ? "STDIN" : subject) + ": " +
                                    errno_text(errno),
                                "check that the input is readable");
        }
        if (count == 0) break;
        filled += static_cast<std::size_t>(count);
    }
    data.resize(filled);
    return data;
}

void extract_context_archive(int fd, std::string_view prefix, const fs::path& dest,
                             const std::string& subject) {
    extractor(dest, subject).run(fd, prefix);
}

}  // namespace dockwright::detail
