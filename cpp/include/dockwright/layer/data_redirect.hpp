// Files of a tree whose data is read from another file when a layer is written.
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <map>
#include <utility>

namespace dockwright::layer {

/// The source of a placeholder file's data. A placeholder has the final name, owner,
/// mode, mtime and size, but no data yet: a COPY of a large file makes one instead of copying
/// the bytes, and the layer writer reads them from `source`. The source must still be the file
/// that was recorded (same device, inode, size and change time) when it is read, else the
/// write fails: a file written to in the meantime has a new change time.
struct data_redirect {
    std::filesystem::path source;
    std::uint64_t source_device = 0;
    std::uint64_t source_inode = 0;
    std::uint64_t size = 0;
    /// The source's st_ctim in nanoseconds since the epoch.
    std::int64_t source_change_ns = 0;
};

/// A file's change time (st_ctim) in nanoseconds since the epoch, as data_redirect keeps it.
[[nodiscard]] inline std::int64_t change_time_ns(const struct timespec& ctime) noexcept {
    return static_cast<std::int64_t>(ctime.tv_sec) * 1000000000 + ctime.tv_nsec;
}

/// Redirects keyed by the placeholder's device and inode numbers (st_dev, st_ino), so every
/// hard link of a placeholder finds its data.
using data_redirects = std::map<std::pair<std::uint64_t, std::uint64_t>, data_redirect>;

}  // namespace dockwright::layer
