// Applying (extracting) a layer tar onto a directory, with whiteouts and without escapes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "dockwright/core/digest.hpp"
#include "dockwright/layer/compression.hpp"

namespace dockwright::layer {

/// A contiguous range of ids mapped from the layer (container side) to the host, as a line
/// of /proc/PID/uid_map: container ids [container_id, container_id + count) become
/// [host_id, host_id + count).
struct id_range {
    std::uint32_t container_id = 0;
    std::uint32_t host_id = 0;
    std::uint32_t count = 0;
};

/// How entries are owned after extraction.
enum class ownership {
    /// Keep the layer's uid/gid when running as root, else leave files to the current user.
    automatic,
    keep,
    ignore,
};

/// How a layer is applied.
struct apply_options {
    ownership owners = ownership::automatic;
    /// When not empty, every uid (gid) of the layer is translated through this map and an
    /// id outside it is an error; used when unpacking rootless into a user namespace's range.
    std::vector<id_range> uid_map;
    std::vector<id_range> gid_map;
    /// Whether character and block device entries may be created. When they may but mknod(2)
    /// fails with EPERM (rootless), they are left out with a warning, as rootless podman does.
    bool allow_devices = true;
    /// Rejects a regular file whose size exceeds this many bytes (0: no limit).
    std::uint64_t max_file_size = 0;
    /// Receives each warning, one line without a trailing newline. When empty, warnings are
    /// written to standard error as `warning: layer: <message>`.
    std::function<void(const std::string&)> warn;
};

/// What applying a layer found: digests of the stream as read, computed in the same pass.
struct apply_result {
    digest diff_id;
    std::uint64_t tar_size = 0;
    digest compressed_digest;
    std::uint64_t compressed_size = 0;
    compression kind = compression::none;
    std::uint64_t entries = 0;
    /// Names of the device node entries left out because mknod(2) was not permitted.
    std::vector<std::string> skipped_devices;
};

/// Extracts the layer tar in `layer` (uncompressed, gzip or zstd, detected from its first
/// bytes) onto the existing directory `target`. AUFS whiteouts delete the named path and an
/// opaque marker empties its directory of everything this layer did not add.
///
/// Parent directories and hard-link targets are resolved with `target` as the root, as
/// Docker's chroot'ed unpacking does: a symlinked directory, such as `lib -> usr/lib` of a
/// lower layer, is followed, and an absolute symlink starts again at `target`. Every component
/// is opened without following symlinks after it was checked, so no write leaves `target`.
///
/// An entry is rejected with a layer_error naming it when its name or hard-link target is
/// absolute or contains `..`. It is also rejected when a symlink on its path loops or would
/// climb above `target`, where Docker would stop such a `..` at the root. A hard link that names a missing
/// entry or a directory is rejected too, and so are types a layer cannot hold. Directory
/// mtimes are set after the last entry. On error, entries extracted before it stay.
apply_result apply_layer(const std::filesystem::path& layer, const std::filesystem::path& target,
                         const apply_options& options = {});

/// Same as above, reading the layer from the open file descriptor `fd` (not closed).
apply_result apply_layer(int fd, const std::filesystem::path& target,
                         const apply_options& options = {});

}  // namespace dockwright::layer
