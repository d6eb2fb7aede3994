// Kept build containers: records under <store>/containers/<id>/.
#include "dockwright/store/containers.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "../core/file_copy.hpp"
#include "../core/unique_fd.hpp"
#include "files.hpp"

namespace dockwright {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t max_record_size = 4 << 20;

[[noreturn]] void fail(const std::string& what, const std::string& path, int number) {
    throw store_error(path, what + ": " + std::strerror(number));
}

void copy_xattrs(const std::string& from, const std::string& to) {
    std::string names(4096, '\0');
    const ssize_t size = ::llistxattr(from.c_str(), names.data(), names.size());
    if (size <= 0) return;
    names.resize(static_cast<std::size_t>(size));
    for (std::size_t at = 0; at < names.size();) {
        const std::string name = names.c_str() + at;
        at += name.size() + 1;
        std::string value(65536, '\0');
        const ssize_t length = ::lgetxattr(from.c_str(), name.c_str(), value.data(), value.size());
        if (length < 0) continue;
        // Best effort: trusted.* needs CAP_SYS_ADMIN, and the overlay opaque marks are the
        // only attributes an upper directory needs.
        (void)::lsetxattr(to.c_str(), name.c_str(), value.data(), static_cast<std::size_t>(length),
                          0);
    }
}

void copy_metadata(const std::string& from, const std::string& to, const struct stat& info) {
    // Owners are kept where the process may set them (as root), else the copy is ours.
    (void)::lchown(to.c_str(), info.st_uid, info.st_gid);
    copy_xattrs(from, to);
    if (!S_ISLNK(info.st_mode) && ::chmod(to.c_str(), info.st_mode & 07777) != 0) {
        fail("change the mode", to, errno);
    }
    const timespec times[2] = {info.st_atim, info.st_mtim};
    (void)::utimensat(AT_FDCWD, to.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

void copy_data(const std::string& from, const std::string& to) {
    const unique_fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!in) fail("open", from, errno);
    const unique_fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!out) fail("create", to, errno);
    try {
        detail::file_copier().copy_to_end(in.get(), out.get(), from, to);
    } catch (const detail::file_copy_error& failure) {
        throw store_error(failure.path().string(), failure.reason());
    }
}

/// Copies a container's upper directory as it is: whiteouts (0/0 character devices) stay
/// whiteouts and opaque directories keep their mark where the process may set it, and files
/// linked to each other stay linked.
/// NOTE: the copy works on whole paths and recurses once per level, so a kept container whose
/// upper directory contains a path longer than PATH_MAX (4096 bytes) fails to copy with
/// "File name too long", although its layer could be written.
class tree_copier {
  public:
    void copy(const std::string& from, const std::string& to) {
        struct stat info {};
        if (::lstat(from.c_str(), &info) != 0) fail("stat", from, errno);
        // overlayfs may give every whiteout of a directory tree one shared inode. Each whiteout
        // is copied on its own, because a refused mknod turns it into a `.wh.` file.
        const bool whiteout = S_ISCHR(info.st_mode) && info.st_rdev == 0;
        if (!S_ISDIR(info.st_mode) && !whiteout && info.st_nlink > 1) {
            const auto [first, added] = links_.try_emplace({info.st_dev, info.st_ino}, to);
            if (!added) {
                if (::link(first->second.c_str(), to.c_str()) != 0) fail("link", to, errno);
                return;
            }
        }
        if (S_ISDIR(info.st_mode)) {
            if (::mkdir(to.c_str(), 0700) != 0) fail("create", to, errno);
            DIR* dir = ::opendir(from.c_str());
            if (dir == nullptr) fail("read directory", from, errno);
            std::vector<std::string> names;
            while (const dirent* entry = ::readdir(dir)) {
                const std::string_view name = entry->d_name;
                if (name != "." && name != "..") names.emplace_back(name);
            }
            ::closedir(dir);
            for (const std::string& name : names)
                copy(from + "/" + name, to + "/" + name);
        } else if (S_ISREG(info.st_mode)) {
            copy_data(from, to);
        } else if (S_ISLNK(info.st_mode)) {
            std::string target(static_cast<std::size_t>(info.st_size) + 1, '\0');
            const ssize_t size = ::readlink(from.c_str(), target.data(), target.size());
            if (size < 0) fail("read link", from, errno);
            target.resize(static_cast<std::size_t>(size));
            if (::symlink(target.c_str(), to.c_str()) != 0) fail("create link", to, errno);
        } else if (::mknod(to.c_str(), info.st_mode, info.st_rdev) != 0) {
            if (errno != EPERM || !S_ISCHR(info.st_mode) || info.st_rdev != 0) {
                fail("create special file", to, errno);
            }
            // A process that may not make device nodes keeps a whiteout as a layer tar
            // writes it: an empty file named `.wh.<name>`.
            const std::size_t slash = to.rfind('/');
            const std::string marker = to.substr(0, slash + 1) + ".wh." + to.substr(slash + 1);
            const unique_fd out(
                ::open(marker.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
            if (!out) fail("create", marker, errno);
            return;
        }
        copy_metadata(from, to, info);
    }

  private:
    std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

bool is_container_id(std::string_view text) {
    return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::string encode(const container_info& info) {
    nlohmann::json out;
    out["Id"] = info.id;
    out["Image"] = info.image ? info.image->str() : "";
    out["Cmd"] = info.command;
    out["Created"] = info.created;
    out["ExitCode"] = info.exit_code ? nlohmann::json(*info.exit_code) : nlohmann::json();
    out["Committed"] = info.committed ? info.committed->str() : "";
    out["Config"] = nlohmann::json::parse(info.config.empty() ? "{}" : info.config);
    return out.dump(4) + "\n";
}

container_info decode(const std::string& text, const std::string& subject) {
    try {
        const nlohmann::json in = nlohmann::json::parse(text);
        container_info info;
        info.id = in.at("Id").get<std::string>();
        if (const auto image = in.at("Image").get<std::string>(); !image.empty()) {
            info.image = digest::parse(image);
        }
        info.command = in.at("Cmd").get<std::vector<std::string>>();
        info.created = in.at("Created").get<std::string>();
        if (!in.at("ExitCode").is_null()) info.exit_code = in.at("ExitCode").get<int>();
        if (const auto image = in.at("Committed").get<std::string>(); !image.empty()) {
            info.committed = digest::parse(image);
        }
        info.config = in.at("Config").dump();
        return info;
    } catch (const nlohmann::json::exception& e) {
        throw store_error(subject, std::string("invalid container record: ") + e.what());
    } catch (const invalid_value_error& e) {
        throw store_error(subject, std::string("invalid container record: ") + e.what());
    }
}

fs::path containers_dir(const store& target) {
    return target.root() / "containers";
}

}  // namespace

fs::path container_path(const store& target, std::string_view id) {
    return containers_dir(target) / std::string(id);
}

void save_container(const store& target, const container_info& info, const fs::path& upper) {
    if (!is_container_id(info.id)) {
        throw store_error(info.id, "a container ID has 64 lowercase hex digits");
    }
    const fs::path staging = target.make_temp_dir("container-");
    try {
        if (fs::exists(fs::symlink_status(upper))) {
            tree_copier().copy(upper.string(), (staging / "upper").string());
        } else {
            fs::create_directory(staging / "upper");
        }
        {
            std::ofstream out(staging / "container.json", std::ios::binary | std::ios::trunc);
            out << encode(info);
            if (!out.flush()) fail("write", (staging / "container.json").string(), EIO);
        }
        fs::create_directories(containers_dir(target));
        const fs::path destination = container_path(target, info.id);
        if (::rename(staging.c_str(), destination.c_str()) != 0) {
            fail("move the container record to", destination.string(), errno);
        }
        detail::fsync_directory(containers_dir(target));
    } catch (...) {
        detail::remove_tree(staging);
        throw;
    }
}

std::vector<container_info> list_containers(const store& target) {
    std::vector<container_info> out;
    std::error_code missing;
    for (const auto& entry : fs::directory_iterator(containers_dir(target), missing)) {
        const std::string name = entry.path().filename().string();
        if (!is_container_id(name)) continue;
        const fs::path file = entry.path() / "container.json";
        out.push_back(
            decode(detail::read_small_file(file, file.string(), max_record_size), file.string()));
    }
    std::sort(out.begin(), out.end(), [](const container_info& a, const container_info& b) {
        return a.created != b.created ? a.created > b.created : a.id < b.id;
    });
    return out;
}

container_info find_container(const store& target, std::string_view id) {
    std::vector<container_info> matches;
    for (container_info& info : list_containers(target)) {
        if (!id.empty() && info.id.starts_with(id)) matches.push_back(std::move(info));
    }
    if (matches.empty()) throw store_error(std::string(id), "no such container");
    if (matches.size() > 1) {
        throw store_error(std::string(id), "container ID prefix is ambiguous (" +
                                               std::to_string(matches.size()) +
                                               " containers match)");
    }
    return std::move(matches.front());
}

std::string remove_container(const store& target, std::string_view id) {
    const container_info found = find_container(target, id);
    detail::remove_tree(container_path(target, found.id));
    return found.id;
}

std::vector<std::string> remove_all_containers(const store& target) {
    std::vector<std::string> removed;
    for (const container_info& info : list_containers(target)) {
        detail::remove_tree(container_path(target, info.id));
        removed.push_back(info.id);
    }
    return removed;
}

}  // namespace dockwright
