// Private: a read view of a container's root filesystem made of overlayfs-style layer
// directories, the way the kernel would merge them, without mounting anything.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dockwright::detail {

/// One entry found in the merged tree: where it lives on the host and its lstat(2).
struct view_entry {
    std::filesystem::path host_path;
    struct stat info {};
};

/// Layer directories merged top-first as overlayfs merges them: a 0/0 character device hides
/// the path below it, a directory with an `overlay.opaque` attribute of "y" hides what lower
/// layers hold under it, and a non-directory hides everything below it. Paths are relative to
/// the root, slash-separated, without `.` or `..` components.
class rootfs_view {
  public:
    /// `layers` bottom first, as overlayfs' lowerdir lists them reversed.
    explicit rootfs_view(std::vector<std::filesystem::path> layers);

    /// The entry at `path`, or nothing when no layer has it or a layer above hides it. The
    /// last component is not followed when it is a symlink.
    [[nodiscard]] std::optional<view_entry> lookup(const std::string& path) const;

    /// The names in the merged directory `path`, sorted bytewise.
    [[nodiscard]] std::vector<std::string> list(const std::string& path) const;

    /// Resolves symlinks in `path` as if the root were `/`: absolute link targets start at the
    /// root and `..` never climbs above it. With `follow_last`, a symlink in the last
    /// component is followed too. Missing components are kept as written. Throws
    /// dockwright::error after 255 links (a loop).
    [[nodiscard]] std::string resolve(const std::string& path, bool follow_last) const;

  private:
    std::vector<std::filesystem::path> layers_;  ///< top first
};

/// Whether the directory `dir` is marked opaque (`trusted.overlay.opaque` or
/// `user.overlay.opaque` is "y"), hiding what lower layers hold under it.
bool is_opaque(const std::filesystem::path& dir);

/// Normalises a path inside a root: drops empty, `.` and leading `/` components and applies
/// `..` without climbing above the root. Returns "" for the root itself.
std::string clean_inside_root(const std::string& path);

}  // namespace dockwright::detail
