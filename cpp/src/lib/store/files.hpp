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
/// permission on each directory (a layer may hold directories of mode 0555). A tree deeper
/// than std::filesystem::remove_all can open (it keeps a descriptor per level) is removed
/// with a bounded number of descriptors.
void remove_tree(const std::filesystem::path& path) noexcept;

/// Removes `path` and everything below it as std::filesystem::remove_all does, then, if
/// anything is left (a tree deeper than the descriptor limit), with a bounded number of
/// descriptors. Errors are ignored.
void remove_all_deep(const std::filesystem::path& path) noexcept;

/// Returns a name unique across processes and calls: `<prefix><pid>-<random hex>`.
[[nodiscard]] std::string unique_name(std::string_view prefix);

/// Computes the SHA-256 digest and size of a file by reading it in 1 MiB pieces.
[[nodiscard]] std::pair<digest, std::uint64_t> hash_file(const std::filesystem::path& path);

/// Reads a file of at most `limit` bytes; throws store_error naming `subject` when it is
/// larger or unreadable.
[[nodiscard]] std::string read_small_file(const std::filesystem::path& path,
                                          std::string_view subject, std::uint64_t limit);

}  // namespace dockwright::detail
