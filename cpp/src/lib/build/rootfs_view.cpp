// A merged read view of overlayfs-style layer directories.
#include "rootfs_view.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <dockwright/core/error.hpp>
#include <memory>
#include <set>

namespace dockwright::detail {

namespace fs = std::filesystem;

namespace {

bool is_whiteout(const struct stat& info) {
    return S_ISCHR(info.st_mode) && ::major(info.st_rdev) == 0 && ::minor(info.st_rdev) == 0;
}

std::vector<std::string> split(const std::string& path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        if (end > start) parts.push_back(path.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

// lstat(2) of a path in a layer directory. Returns false when the path is missing and throws
// when it is longer than PATH_MAX, so that a tree deeper than that is not taken for missing.
// NOTE: the view works on whole host paths, so a file whose path with the layer directory's
// exceeds PATH_MAX (4096 bytes) cannot be read through it; the layer writer and layer apply
// have no such limit.
bool stat_host(const fs::path& host, struct stat& info) {
    if (::lstat(host.c_str(), &info) == 0) return true;
    if (errno != ENAMETOOLONG) return false;
    constexpr std::size_t shown = 200;
    const std::string& text = host.native();
    throw error("cannot read a path longer than PATH_MAX (" + std::to_string(PATH_MAX) +
                " bytes) from a layer: '" + text.substr(0, shown) +
                (text.size() > shown ? "...'" : "'"));
}

}  // namespace

bool is_opaque(const fs::path& dir) {
    for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
        char value[2] = {};
        if (::lgetxattr(dir.c_str(), name, value, sizeof value) == 1 && value[0] == 'y') {
            return true;
        }
    }
    return false;
}

std::string clean_inside_root(const std::string& path) {
    std::vector<std::string> out;
    for (std::string& part : split(path)) {
        if (part == ".") continue;
        if (part == "..") {
            if (!out.empty()) out.pop_back();
            continue;
        }
        out.push_back(std::move(part));
    }
    std::string joined;
    for (const std::string& part : out)
        joined += (joined.empty() ? "" : "/") + part;
    return joined;
}

rootfs_view::rootfs_view(std::vector<fs::path> layers) : layers_(std::move(layers)) {
    std::reverse(layers_.begin(), layers_.end());
}

std::optional<view_entry> rootfs_view::lookup(const std::string& path) const {
    const std::vector<std::string> parts = split(path);
    if (parts.empty()) {
        for (const fs::path& layer : layers_) {
            view_entry entry{layer, {}};
            if (::lstat(layer.c_str(), &entry.info) == 0) return entry;
        }
        return std::nullopt;
    }
    for (const fs::path& layer : layers_) {
        // Walk the parents first: a whiteout, a non-directory or an opaque directory on the
        // way ends the search in the layers below. Each lstat only passes through components
        // already seen to be real directories, so no host symlink is ever followed.
        fs::path host = layer;
        bool hidden_below = false;
        bool parents_here = true;
        for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
            host /= parts[i];
            struct stat info {};
            if (!stat_host(host, info)) {
                parents_here = false;
                break;
            }
            if (!S_ISDIR(info.st_mode)) return std::nullopt;
            if (is_opaque(host)) hidden_below = true;
        }
        if (parents_here) {
            view_entry entry{host / parts.back(), {}};
            if (stat_host(entry.host_path, entry.info)) {
                if (is_whiteout(entry.info)) return std::nullopt;
                return entry;
            }
        }
        if (hidden_below) return std::nullopt;
    }
    return std::nullopt;
}

std::vector<std::string> rootfs_view::list(const std::string& path) const {
    std::set<std::string> names;
    std::set<std::string> hidden;
    const std::vector<std::string> parts = split(path);
    for (const fs::path& layer : layers_) {
        fs::path host = layer;
        bool usable = true;
        bool stop = false;
        bool opaque = false;
        for (const std::string& part : parts) {
            host /= part;
            struct stat info {};
            if (!stat_host(host, info)) {
                usable = false;
                break;
            }
            if (is_whiteout(info) || !S_ISDIR(info.st_mode)) {
                usable = false;
                stop = true;
                break;
            }
            opaque = opaque || is_opaque(host);
        }
        if (stop) break;
        if (!usable) continue;
        const std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(host.c_str()), ::closedir);
        if (!dir) continue;
        while (const dirent* entry = ::readdir(dir.get())) {
            const std::string name = entry->d_name;
            if (name == "." || name == ".." || hidden.contains(name)) continue;
            struct stat info {};
            if (!stat_host(host / name, info)) continue;
            if (is_whiteout(info)) {
                hidden.insert(name);
                continue;
            }
            names.insert(name);
            if (!S_ISDIR(info.st_mode)) hidden.insert(name);
        }
        if (opaque) break;
    }
    return {names.begin(), names.end()};
}

std::string rootfs_view::resolve(const std::string& path, bool follow_last) const {
    std::vector<std::string> pending = split(path);
    std::reverse(pending.begin(), pending.end());
    std::vector<std::string> done;
    int links = 0;
    while (!pending.empty()) {
        std::string part = std::move(pending.back());
        pending.pop_back();
        if (part == ".") continue;
        if (part == "..") {
            if (!done.empty()) done.pop_back();
            continue;
        }
        done.push_back(part);
        if (pending.empty() && !follow_last) break;
        std::string current;
        for (const std::string& p : done)
            current += (current.empty() ? "" : "/") + p;
        const std::optional<view_entry> entry = lookup(current);
        if (!entry || !S_ISLNK(entry->info.st_mode)) continue;
        if (++links > 255) throw error("too many levels of symbolic links in " + path);
        std::string target(static_cast<std::size_t>(entry->info.st_size) + 1, '\0');
        const ssize_t n = ::readlink(entry->host_path.c_str(), target.data(), target.size());
        if (n < 0) throw error("cannot read the symlink " + current);
        target.resize(static_cast<std::size_t>(n));
        done.pop_back();
        if (!target.empty() && target.front() == '/') done.clear();
        std::vector<std::string> more = split(target);
        for (auto it = more.rbegin(); it != more.rend(); ++it)
            pending.push_back(*it);
    }
    std::string joined;
    for (const std::string& part : done)
        joined += (joined.empty() ? "" : "/") + part;
    return joined;
}

}  // namespace dockwright::detail
