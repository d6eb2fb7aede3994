// Writing layer tars from a directory tree, an overlayfs upper directory or a change list.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "dockwright/core/digest.hpp"
#include "dockwright/layer/byte_sink.hpp"
#include "dockwright/layer/change.hpp"
#include "dockwright/layer/compression.hpp"
#include "dockwright/layer/data_redirect.hpp"

namespace dockwright::layer {

/// Which extended attributes go into the layer.
enum class xattr_selection {
    /// Every attribute except `security.selinux` (a label of the host, not of the image) and,
    /// for an overlayfs upper directory, overlayfs' own `trusted.overlay.*`/`user.overlay.*`.
    all,
    /// Only `security.capability`. NOTE: Docker 20.10 writes only this one.
    capability_only,
};

/// How a layer is written.
struct write_options {
    compression_options compression;
    xattr_selection xattrs = xattr_selection::all;
    /// For reproducible layers: no entry gets an mtime later than this (Unix seconds).
    std::optional<std::int64_t> clamp_mtime;
    /// Fill uname/gname from the host's passwd and group files, as Docker does. Names depend
    /// on the machine, so reproducible layers leave them empty.
    bool host_names = true;
    /// Placeholder files whose data is read from elsewhere (see data_redirect); null for none.
    /// Only the tree's own regular files are looked up, by device and inode.
    const data_redirects* redirects = nullptr;
};

/// Digests and sizes of a written layer. For an uncompressed layer the compressed digest and
/// size equal the diff ID and the tar size.
struct layer_info {
    digest diff_id;
    std::uint64_t tar_size = 0;
    digest compressed_digest;
    std::uint64_t compressed_size = 0;
    compression kind = compression::none;
};

/// Writes every file under `root` (not `root` itself) as a layer tar to `out`, in the order of
/// a depth-first walk with each directory's names sorted bytewise (Go's filepath.Walk, which
/// Docker uses). Owners are numeric ids plus the names of the host's passwd and group files;
/// hard-linked files after the first become hard links to it; sockets are left out. The diff
/// ID is hashed while the stream is written. Throws layer_error naming the path that failed.
layer_info write_tree_layer(const std::filesystem::path& root, byte_sink& out,
                            const write_options& options = {});

/// Writes an overlayfs upper directory as a layer, as Docker's overlay2 driver does: a 0/0
/// character device becomes the whiteout `.wh.<name>` (a regular file of mode 0600 keeping the
/// device's owner and mtime), and a directory whose `trusted.overlay.opaque` or
/// `user.overlay.opaque` is "y" is followed by `.wh..wh..opq` (its permission bits and owner,
/// mtime 0). Throws layer_error for a redirected directory or a metacopy file, whose data
/// lives in a lower layer, so mount the overlay with redirect_dir=off and metacopy=off.
layer_info write_overlay_layer(const std::filesystem::path& upper, byte_sink& out,
                               const write_options& options = {});

/// Writes the given changes of the tree at `root` as a layer, with every parent directory of a
/// change included as it is now, in the same order as write_tree_layer. A whiteout has mode
/// 0600, owner 0/0 and its parent directory's mtime.
layer_info write_changes_layer(const std::filesystem::path& root, std::vector<change> changes,
                               byte_sink& out, const write_options& options = {});

}  // namespace dockwright::layer
