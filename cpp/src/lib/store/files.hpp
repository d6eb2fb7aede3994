// Private file helpers of the store: fsync, tree removal, unique names.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "dockwright/core/digest.hpp"

namespace dockwright::detail {

/// Fsyncs the directory `path` so a rename or unlink in it survives a crash.
void fsync_directory(const std::filesystem::path& path);

/// Removes `path` and everything below it, first granting the owner write and search
/// permission on each directory (a layer may hold directories of mode 0555).
void remove_tree(const std::filesystem::path& path) noexcept;

/// Returns a name unique across processes and calls: `<prefix><pid>-<random hex>`.
[[nodiscard]] std::string unique_name(std::string_view prefix);

/// Computes the SHA-256 digest and size of a file by reading it in 1 MiB pieces.
[[nodiscard]] std::pair<digest, std::uint64_t> hash_file(const std::filesystem::path& path);

/// Reads a file of at most `limit` bytes; throws store_error naming `subject` when it is
/// larger or unreadable.
[[nodiscard]] std::string read_small_file(const std::filesystem::path& path,
                                          std::string_view subject, std::uint64_t limit);

}  // namespace dockwright::detail
