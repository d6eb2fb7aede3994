// Private: assembling a container's root filesystem and finding what a command changed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dockwright/layer/change.hpp"

namespace dockwright::exec::detail {

/// The paths the executor mounts over, relative to the root. Docker keeps them in an init
/// layer between the image and the container, so they never reach a committed layer.
const std::vector<std::string>& mount_points();

/// The host path of `relative` in the merged view of overlayfs lower directories (bottom
/// first), or nothing when it is missing or whited out.
std::optional<std::filesystem::path> find_in_layers(
    const std::vector<std::filesystem::path>& lower_dirs, const std::string& relative);

/// One file or directory of the init layer, relative to its root, parents first.
struct init_entry {
    std::string path;
    bool directory = true;
    mode_t mode = 0755;
    /// The owner to give it; only set when the builder runs as root.
    std::optional<std::pair<uid_t, gid_t>> owner;
};

/// The init layer: the mount points missing from the layers, with parent directories that
/// copy the mode and owner of the layers' own (as Docker's init layer does). Mount points
/// under /etc are empty files with mode 0755, the others directories with mode 0755.
std::vector<init_entry> init_layer_entries(const std::vector<std::filesystem::path>& lower_dirs);

/// Copies the lower directories (bottom first) into `target`, applying their overlayfs
/// whiteouts and opaque directories, keeping modes, owners (as root), times, xattrs and hard
/// links.
void copy_layers(const std::vector<std::filesystem::path>& lower_dirs,
                 const std::filesystem::path& target);

/// What the tree comparison looks at for one path. ctime changes with any content or
/// metadata change (xattrs included) and cannot be set by the command.
struct file_state {
    mode_t mode = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    dev_t rdev = 0;
    ino_t ino = 0;
    std::int64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;

    friend bool operator==(const file_state&, const file_state&) = default;
};

using tree_snapshot = std::map<std::string, file_state>;

/// Records every path under `root` except the contents of the mount points in `skip_below`.
tree_snapshot snapshot_tree(const std::filesystem::path& root,
                            const std::vector<std::string>& skip_below);

/// The changes from `before` to the tree now at `root`, leaving out `ignored` paths (the
/// mount points the executor created) and the contents of `skip_below`.
std::vector<layer::change> compare_tree(const tree_snapshot& before,
                                        const std::filesystem::path& root,
                                        const std::vector<std::string>& ignored,
                                        const std::vector<std::string>& skip_below);

}  // namespace dockwright::exec::detail
