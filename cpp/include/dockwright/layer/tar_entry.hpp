// One entry of a layer tar: the header fields a layer keeps for a file.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace dockwright::layer {

/// The tar type flags a layer uses, with their byte values from POSIX ustar.
enum class entry_type : char {
    regular = '0',
    hardlink = '1',
    symlink = '2',
    char_device = '3',
    block_device = '4',
    directory = '5',
    fifo = '6',
};

/// The header of one tar entry. `name` has no leading `./` and a directory's name ends with
/// `/`. `mode` is the raw mode field: permission bits plus, as Go's archive/tar and Docker
/// write it, the file-type bits of st_mode (0100644 for a regular file).
struct tar_entry {
    std::string name;
    entry_type type = entry_type::regular;
    std::uint32_t mode = 0;
    std::int64_t uid = 0;
    std::int64_t gid = 0;
    std::string uname;
    std::string gname;
    std::int64_t size = 0;
    /// Modification time in whole seconds since the Unix epoch.
    std::int64_t mtime = 0;
    /// Target of a symlink, or the earlier entry name a hard link points to.
    std::string linkname;
    std::uint32_t devmajor = 0;
    std::uint32_t devminor = 0;
    /// Extended attributes by full name (`security.capability`), written as PAX
    /// `SCHILY.xattr.<name>` records.
    std::map<std::string, std::string> xattrs;

    friend bool operator==(const tar_entry&, const tar_entry&) = default;
};

}  // namespace dockwright::layer
