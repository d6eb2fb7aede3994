// Private helpers of load, save and import: unpacking archives and checking layer tars.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "dockwright/core/digest.hpp"
#include "dockwright/store/archive.hpp"

namespace dockwright::detail {

/// A file, directory or symlink of an input archive or directory.
struct archive_member {
    enum class kind { file, directory, symlink } type = kind::file;
    /// Where the content is: a temporary file (`owned`) or the input directory's file.
    std::filesystem::path location;
    bool owned = false;
    std::optional<digest> content_digest;
    std::uint64_t size = 0;
    std::string link;
};

/// The members of an archive by normalised name (`blobs/sha256/ab...`, no `./`, no `/` at
/// the end).
using archive_members = std::map<std::string, archive_member>;

/// Unpacks the tar `input` (any compression; `-` is standard input) into numbered files under
/// `work`, hashing each file, and returns the members. No archive name becomes a path on disk.
/// Throws store_error naming the entry for absolute names, `..`, devices, duplicate names,
/// hard links to missing entries, sizes beyond the free space, and read errors.
archive_members unpack_archive(const std::filesystem::path& input,
                               const std::filesystem::path& work, const load_limits& limits);

/// Lists the regular files, directories and symlinks below `directory` without copying.
archive_members scan_directory(const std::filesystem::path& directory, const load_limits& limits);

/// Follows symlinks between members (relative to the link's folder) to a regular file.
/// Throws store_error when the name is missing or a link leaves the archive or loops.
const archive_member& resolve_member(const archive_members& members, const std::string& name);

/// The digests and sizes of a layer taken from a possibly compressed file.
struct decompressed_layer {
    digest diff_id;
    std::uint64_t size = 0;
    digest compressed_digest;
    std::uint64_t compressed_size = 0;
    bool compressed = false;
};

/// Writes the decompressed content of `input` (any compression libarchive detects, or none;
/// -1 as fd reads `input` by path) to the new file `output`, hashing both streams.
decompressed_layer decompress_to(const std::filesystem::path& input, int input_fd,
                                 const std::filesystem::path& output, const std::string& subject);

/// Returns whether the file starts with the magic bytes of gzip, zstd, bzip2 or xz.
bool looks_compressed(const std::filesystem::path& path);

/// Fsyncs a regular file so that a later rename of it survives a crash.
void fsync_file(const std::filesystem::path& path);

/// Reads the uncompressed layer tar at `path` and checks every entry: no absolute names or
/// `..`, no entry below a symlink of this layer, hard links only to earlier entries, known
/// types. Returns the entries. Throws store_error `<subject>: layer entry '<name>': <reason>`.
std::vector<layer_file> check_layer(const std::filesystem::path& path, const std::string& subject);

/// Normalises an archive name: strips `./` and trailing `/`; returns nullopt when the name is
/// absolute, empty or has a `..` component.
std::optional<std::string> clean_name(std::string_view name);

}  // namespace dockwright::detail
