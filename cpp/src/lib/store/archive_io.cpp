// Unpacking input archives into numbered temporary files, decompression and layer checks.
#include "archive_io.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <set>
#include <vector>

#include "../core/archive_reader.hpp"
#include "dockwright/store/store_error.hpp"

namespace dockwright::detail {

namespace fs = std::filesystem;

namespace {

/// An owned file descriptor.
class file_handle {
  public:
    explicit file_handle(int fd) noexcept : fd_(fd) {}
    file_handle(const file_handle&) = delete;
    file_handle& operator=(const file_handle&) = delete;
    ~file_handle() {
        if (fd_ >= 0) ::close(fd_);
    }
    [[nodiscard]] int get() const noexcept { return fd_; }

  private:
    int fd_;
};

void write_all(int fd, const void* data, std::size_t size, const std::string& subject) {
    const char* bytes = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t count = ::write(fd, bytes, size);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0)
            throw store_error(subject, std::string("write failed: ") + std::strerror(errno));
        bytes += count;
        size -= static_cast<std::size_t>(count);
    }
}

std::uint64_t free_bytes(const fs::path& path) {
    struct statvfs info {};
    if (::statvfs(path.c_str(), &info) != 0) return UINT64_MAX;
    return static_cast<std::uint64_t>(info.f_bavail) * info.f_frsize;
}

std::string archive_reason(archive* handle) {
    const char* text = archive_error_string(handle);
    return text ? text : "unknown libarchive error";
}

/// Source state for libarchive's read callback: hashes the raw bytes as they pass.
struct raw_source {
    int fd = -1;
    hasher raw_hash;
    std::uint64_t raw_size = 0;
    std::vector<char> buffer = std::vector<char>(1 << 20);
};

la_ssize_t read_callback(archive* handle, void* data, const void** block) {
    auto* source = static_cast<raw_source*>(data);
    for (;;) {
        const ssize_t count = ::read(source->fd, source->buffer.data(), source->buffer.size());
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) {
            archive_set_error(handle, errno, "read failed: %s", std::strerror(errno));
            return -1;
        }
        source->raw_hash.update(source->buffer.data(), static_cast<std::size_t>(count));
        source->raw_size += static_cast<std::uint64_t>(count);
        *block = source->buffer.data();
        return count;
    }
}

int open_input(const fs::path& input, const std::string& subject) {
    if (input == "-") return ::dup(STDIN_FILENO);
    const int fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw store_error(subject, std::string("cannot open: ") + std::strerror(errno));
    return fd;
}

}  // namespace

std::optional<std::string> clean_name(std::string_view name) {
    if (name.empty() || name.front() == '/') return std::nullopt;
    std::string result;
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t end = name.find('/', start);
        if (end == std::string_view::npos) end = name.size();
        const std::string_view part = name.substr(start, end - start);
        start = end + 1;
        if (part.empty() || part == ".") continue;
        if (part == "..") return std::nullopt;
        if (!result.empty()) result += '/';
        result += part;
    }
    if (result.empty()) return std::nullopt;
    return result;
}

archive_members unpack_archive(const fs::path& input, const fs::path& work,
                               const load_limits& limits) {
    const std::string archive_name = input.string();
    file_handle fd(open_input(input, archive_name));
    raw_source source;
    source.fd = fd.get();
    archive_reader reader(archive_read_new());
    archive_read_support_filter_all(reader.get());
    archive_read_support_format_tar(reader.get());
    archive_read_support_format_gnutar(reader.get());
    if (archive_read_open(reader.get(), &source, nullptr, read_callback, nullptr) != ARCHIVE_OK) {
        throw store_error(archive_name, "not a tar archive: " + archive_reason(reader.get()));
    }
    archive_members members;
    std::vector<char> buffer(1 << 20);
    std::uint64_t count = 0;
    for (;;) {
        archive_entry* entry = nullptr;
        const int status = archive_read_next_header(reader.get(), &entry);
        if (status == ARCHIVE_EOF) break;
        if (status < ARCHIVE_WARN) {
            throw store_error(archive_name,
                              "cannot read the archive: " + archive_reason(reader.get()));
        }
        if (++count > limits.max_entries) {
            throw store_error(archive_name, "archive has more than " +
                                                std::to_string(limits.max_entries) + " entries");
        }
        const char* raw_name = archive_entry_pathname(entry);
        const std::string shown = raw_name ? raw_name : "";
        if (shown == "." || shown == "./") continue;
        const auto name = clean_name(shown);
        if (!name) {
            throw store_error("archive entry '" + shown + "'",
                              "absolute names and '..' are not allowed");
        }
        if (members.contains(*name)) {
            throw store_error("archive entry '" + shown + "'", "name appears twice");
        }
        archive_member member;
        if (const char* hardlink = archive_entry_hardlink(entry)) {
            const auto target = clean_name(hardlink);
            if (!target || !members.contains(*target) ||
                members.at(*target).type != archive_member::kind::file) {
                throw store_error(
                    "archive entry '" + shown + "'",
                    std::string("hard link to a missing or non-file entry '") + hardlink + "'");
            }
            members[*name] = members.at(*target);
            members[*name].owned = false;
            continue;
        }
        switch (archive_entry_filetype(entry)) {
            case AE_IFDIR:
                member.type = archive_member::kind::directory;
                break;
            case AE_IFLNK:
                member.type = archive_member::kind::symlink;
                member.link = archive_entry_symlink(entry) ? archive_entry_symlink(entry) : "";
                break;
            case AE_IFREG: {
                const auto declared = static_cast<std::uint64_t>(archive_entry_size(entry));
                const std::uint64_t available = free_bytes(work);
                if (archive_entry_size_is_set(entry) && declared > available) {
                    throw store_error("archive entry '" + shown + "'",
                                      "declares " + std::to_string(declared) +
                                          " bytes, more than the " + std::to_string(available) +
                                          " bytes free for the store");
                }
                member.location = work / ("member-" + std::to_string(count));
                member.owned = true;
                file_handle out(
                    ::open(member.location.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
                if (out.get() < 0) {
                    throw store_error(member.location.string(),
                                      std::string("cannot create: ") + std::strerror(errno));
                }
                hasher content;
                for (;;) {
                    const la_ssize_t got =
                        archive_read_data(reader.get(), buffer.data(), buffer.size());
                    if (got < 0) {
                        throw store_error("archive entry '" + shown + "'",
                                          "cannot read: " + archive_reason(reader.get()));
                    }
                    if (got == 0) break;
                    content.update(buffer.data(), static_cast<std::size_t>(got));
                    write_all(out.get(), buffer.data(), static_cast<std::size_t>(got),
                              member.location.string());
                    member.size += static_cast<std::uint64_t>(got);
                }
                member.content_digest = content.finish();
                break;
            }
            default:
                throw store_error("archive entry '" + shown + "'",
                                  "devices, fifos and sockets are not allowed in an image "
                                  "archive");
        }
        members[*name] = std::move(member);
    }
    return members;
}

archive_members scan_directory(const fs::path& directory, const load_limits& limits) {
    archive_members members;
    std::uint64_t count = 0;
    std::error_code failure;
    for (auto it = fs::recursive_directory_iterator(directory, failure);
         !failure && it != fs::recursive_directory_iterator(); it.increment(failure)) {
        if (++count > limits.max_entries) {
            throw store_error(
                directory.string(),
                "layout has more than " + std::to_string(limits.max_entries) + " entries");
        }
        const std::string name = fs::relative(it->path(), directory).generic_string();
        archive_member member;
        member.location = it->path();
        const auto status = it->symlink_status();
        if (fs::is_symlink(status)) {
            member.type = archive_member::kind::symlink;
            member.link = fs::read_symlink(it->path()).string();
        } else if (fs::is_directory(status)) {
            member.type = archive_member::kind::directory;
        } else if (fs::is_regular_file(status)) {
            member.size = it->file_size();
        } else {
            throw store_error(it->path().string(), "not a regular file, directory or symlink");
        }
        members[name] = std::move(member);
    }
    if (failure) throw store_error(directory.string(), "cannot read: " + failure.message());
    return members;
}

const archive_member& resolve_member(const archive_members& members, const std::string& name) {
    std::string current = name;
    for (int hops = 0; hops < 16; ++hops) {
        const auto found = members.find(current);
        if (found == members.end()) {
            throw store_error("archive member '" + name + "'", "is missing");
        }
        if (found->second.type == archive_member::kind::file) return found->second;
        if (found->second.type == archive_member::kind::directory) {
            throw store_error("archive member '" + name + "'", "is a directory");
        }
        const std::string& link = found->second.link;
        const auto slash = current.rfind('/');
        const std::string base = slash == std::string::npos ? "" : current.substr(0, slash + 1);
        // Resolve `..` against the link's folder; climbing above the archive root fails.
        std::vector<std::string> parts;
        std::string joined = link.starts_with('/') ? link : base + link;
        if (link.starts_with('/')) {
            throw store_error("archive member '" + name + "'",
                              "symlink to '" + link + "' leaves the archive");
        }
        std::size_t start = 0;
        while (start <= joined.size()) {
            std::size_t end = joined.find('/', start);
            if (end == std::string::npos) end = joined.size();
            const std::string part = joined.substr(start, end - start);
            start = end + 1;
            if (part.empty() || part == ".") continue;
            if (part == "..") {
                if (parts.empty()) {
                    throw store_error("archive member '" + name + "'",
                                      "symlink to '" + link + "' leaves the archive");
                }
                parts.pop_back();
                continue;
            }
            parts.push_back(part);
        }
        current.clear();
        for (const auto& part : parts)
            current += (current.empty() ? "" : "/") + part;
    }
    throw store_error("archive member '" + name + "'", "too many levels of symlinks");
}

decompressed_layer decompress_to(const fs::path& input, int input_fd, const fs::path& output,
                                 const std::string& subject) {
    std::optional<file_handle> owned;
    if (input_fd < 0) {
        owned.emplace(open_input(input, subject));
        input_fd = owned->get();
    }
    raw_source source;
    source.fd = input_fd;
    archive_reader reader(archive_read_new());
    archive_read_support_filter_all(reader.get());
    archive_read_support_format_raw(reader.get());
    archive_read_support_format_empty(reader.get());
    if (archive_read_open(reader.get(), &source, nullptr, read_callback, nullptr) != ARCHIVE_OK) {
        throw store_error(subject, "cannot read: " + archive_reason(reader.get()));
    }
    file_handle out(::open(output.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (out.get() < 0) {
        throw store_error(output.string(), std::string("cannot create: ") + std::strerror(errno));
    }
    hasher content;
    std::uint64_t size = 0;
    archive_entry* entry = nullptr;
    const int status = archive_read_next_header(reader.get(), &entry);
    if (status == ARCHIVE_OK || status == ARCHIVE_WARN) {
        std::vector<char> buffer(1 << 20);
        std::uint64_t since_check = 0;
        for (;;) {
            const la_ssize_t got = archive_read_data(reader.get(), buffer.data(), buffer.size());
            if (got < 0) {
                throw store_error(subject, "decompression failed: " + archive_reason(reader.get()));
            }
            if (got == 0) break;
            content.update(buffer.data(), static_cast<std::size_t>(got));
            write_all(out.get(), buffer.data(), static_cast<std::size_t>(got), output.string());
            size += static_cast<std::uint64_t>(got);
            since_check += static_cast<std::uint64_t>(got);
            if (since_check >= (64u << 20)) {
                since_check = 0;
                if (free_bytes(output.parent_path()) < (64u << 20)) {
                    throw store_error(subject, "decompressed layer fills the store's disk (" +
                                                   std::to_string(size) + " bytes so far)");
                }
            }
        }
    } else if (status != ARCHIVE_EOF) {
        throw store_error(subject, "cannot read: " + archive_reason(reader.get()));
    }
    if (size == 0) throw store_error(subject, "layer is empty, not a tar archive");
    const bool compressed = archive_filter_count(reader.get()) > 1;
    // Hash what libarchive did not need, so the compressed digest covers the whole input.
    for (;;) {
        const ssize_t count = ::read(input_fd, source.buffer.data(), source.buffer.size());
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) break;
        source.raw_hash.update(source.buffer.data(), static_cast<std::size_t>(count));
        source.raw_size += static_cast<std::uint64_t>(count);
    }
    if (::fsync(out.get()) != 0) {
        throw store_error(output.string(), std::string("fsync failed: ") + std::strerror(errno));
    }
    return decompressed_layer{content.finish(), size, source.raw_hash.finish(), source.raw_size,
                              compressed};
}

bool looks_compressed(const fs::path& path) {
    const file_handle fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return true;
    unsigned char magic[6] = {};
    const ssize_t count = ::read(fd.get(), magic, sizeof magic);
    if (count < 6) return true;
    const auto starts = [&](std::initializer_list<unsigned char> prefix) {
        return std::equal(prefix.begin(), prefix.end(), magic);
    };
    return starts({0x1f, 0x8b}) || starts({0x28, 0xb5, 0x2f, 0xfd}) || starts({'B', 'Z', 'h'}) ||
           starts({0xfd, '7', 'z', 'X', 'Z', 0x00});
}

void fsync_file(const fs::path& path) {
    const file_handle fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
        throw store_error(path.string(), std::string("fsync failed: ") + std::strerror(errno));
    }
}

std::vector<layer_file> check_layer(const fs::path& path, const std::string& subject) {
    archive_reader reader(archive_read_new());
    archive_read_support_format_tar(reader.get());
    archive_read_support_format_gnutar(reader.get());
    archive_read_support_format_empty(reader.get());
    if (archive_read_open_filename(reader.get(), path.c_str(), 1 << 20) != ARCHIVE_OK) {
        throw store_error(subject, "layer is not a tar archive: " + archive_reason(reader.get()));
    }
    std::vector<layer_file> files;
    std::set<std::string> seen;
    std::set<std::string> symlinks;
    for (;;) {
        archive_entry* entry = nullptr;
        const int status = archive_read_next_header(reader.get(), &entry);
        if (status == ARCHIVE_EOF) break;
        if (status < ARCHIVE_WARN) {
            throw store_error(subject,
                              "layer is not a valid tar archive: " + archive_reason(reader.get()));
        }
        const char* raw_name = archive_entry_pathname(entry);
        const std::string shown = raw_name ? raw_name : "";
        auto reject = [&](const std::string& reason) {
            throw store_error(subject, "layer entry '" + shown + "': " + reason);
        };
        if (shown == "." || shown == "./") continue;
        const auto name = clean_name(shown);
        if (!name) reject("absolute names and '..' are not allowed");
        for (std::size_t slash = name->find('/'); slash != std::string::npos;
             slash = name->find('/', slash + 1)) {
            if (symlinks.contains(name->substr(0, slash))) {
                reject("path goes through the symlink '" + name->substr(0, slash) +
                       "' of the same layer");
            }
        }
        layer_file file;
        file.path = *name;
        file.size = static_cast<std::uint64_t>(archive_entry_size(entry));
        file.mode = static_cast<std::uint32_t>(archive_entry_perm(entry));
        file.uid = archive_entry_uid(entry);
        file.gid = archive_entry_gid(entry);
        file.mtime = archive_entry_mtime(entry);
        if (const char* hardlink = archive_entry_hardlink(entry)) {
            const auto target = clean_name(hardlink);
            if (!target) reject(std::string("hard link to '") + hardlink + "' leaves the layer");
            if (!seen.contains(*target)) {
                reject(std::string("hard link to '") + hardlink + "', which the layer lacks");
            }
            file.type = "hardlink";
            file.link = *target;
        } else {
            switch (archive_entry_filetype(entry)) {
                case AE_IFREG:
                    file.type = "file";
                    break;
                case AE_IFDIR:
                    file.type = "dir";
                    break;
                case AE_IFLNK:
                    file.type = "symlink";
                    file.link = archive_entry_symlink(entry) ? archive_entry_symlink(entry) : "";
                    symlinks.insert(*name);
                    break;
                case AE_IFCHR:
                    file.type = "char";
                    break;
                case AE_IFBLK:
                    file.type = "block";
                    break;
                case AE_IFIFO:
                    file.type = "fifo";
                    break;
                default:
                    reject("type is not allowed in a layer");
            }
        }
        if (file.type != "symlink") symlinks.erase(*name);
        seen.insert(*name);
        if (archive_read_data_skip(reader.get()) != ARCHIVE_OK) {
            reject("data is truncated: " + archive_reason(reader.get()));
        }
        files.push_back(std::move(file));
    }
    return files;
}

}  // namespace dockwright::detail

namespace dockwright {

std::vector<layer_file> list_layer(const std::filesystem::path& tar) {
    return detail::check_layer(tar, tar.string());
}

}  // namespace dockwright
