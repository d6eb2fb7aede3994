// Files of a tree whose data is read from another file when a layer is written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <utility>

namespace dockwright::layer {

/// The source of a placeholder file's data. A placeholder has the final name, owner,
/// mode, mtime and size, but no data yet: a COPY of a large file makes one instead of copying
/// the bytes, and the layer writer reads them from `source`. The source must still be the file
/// that was recorded (same device, inode and size) when it is read, else the write fails.
struct data_redirect {
    std::filesystem::path source;
    std::uint64_t source_device = 0;
    std::uint64_t source_inode = 0;
    std::uint64_t size = 0;
};

/// Redirects keyed by the placeholder's device and inode numbers (st_dev, st_ino), so every
/// hard link of a placeholder finds its data.
using data_redirects = std::map<std::pair<std::uint64_t, std::uint64_t>, data_redirect>;

}  // namespace dockwright::layer
