// The content hashes the classic builder writes into COPY and ADD history (`file:<hex>`,
// `dir:<hex>`, `multi:<hex>`), computed over a build context directory.
#pragma once

#include <cstdint>
#include <dockwright/build/build_event.hpp>
#include <dockwright/dockerfile/dockerignore.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockwright {

/// One source that a COPY or ADD source path resolved to.
struct copy_source_info {
    std::string path;  ///< Relative to the context root, slash-separated, symlinks followed.
    std::string hash;  ///< `file:<hex>` or `dir:<hex>`.
    /// The source as matched, before a symlink given as the source was followed; its base
    /// name names the copy.
    std::string name;
    bool directory = false;
    /// Where the source lives when not in the context (a downloaded ADD URL); empty for the
    /// context root.
    std::filesystem::path root;
};

/// A build context as the classic builder sees it after the CLI sent it: the files not
/// excluded by .dockerignore, each with its tarsum (v1) digest.
///
/// Docker hashes every context entry as the SHA-256 of its tar header fields (name, mode
/// permission bits, uid and gid 0, size, type flag, link name, empty user and group names,
/// device numbers) followed by the file content. A file source is `file:` + its entry hash; a
/// directory is `dir:` + the SHA-256 of the sorted entry hashes below it (itself included),
/// joined by commas; several sources are `multi:` + the SHA-256 of their hashes joined by
/// commas in source order.
class build_context_index {
  public:
    /// Indexes `root`, leaving out what `ignore` excludes.
    build_context_index(std::filesystem::path root, const dockerignore& ignore);
    /// Indexes `root`, reading its .dockerignore if there is one. With `hash_cache`, file
    /// hashes are read from and written back to that file, keyed by each file's path, size,
    /// mtime, ctime, inode and mode (as git's index is), so an unchanged file is not read
    /// again. `progress` receives `context` progress events in bytes of regular files hashed.
    explicit build_context_index(std::filesystem::path root, std::filesystem::path hash_cache = {},
                                 const build_event_sink& progress = {});

    /// Resolves one COPY/ADD source path (wildcards allowed) into the sources it names.
    /// Throws dockwright::error with Docker's text (`file not found in build context or
    /// excluded by .dockerignore: stat <path>: file does not exist`) for a missing path.
    [[nodiscard]] std::vector<copy_source_info> resolve(std::string_view source) const;

    /// The hash of a single entry, as Docker's tarsum gives it (hex, no prefix); the path
    /// itself when the entry was not sent.
    [[nodiscard]] std::string entry_hash(const std::string& path) const;

    [[nodiscard]] const std::filesystem::path& root() const noexcept { return root_; }

    /// The entries the context holds below the directory `path` ("" for the root), in walk
    /// order, relative to the root; entries .dockerignore excludes are left out.
    [[nodiscard]] std::vector<std::string> entries_below(const std::string& path) const;

    /// Checks that the open file `fd`, the regular file `path` (relative to the root), still
    /// has the device, inode, size and change time (st_ctim) it had when the index listed it,
    /// so that its hash still describes its bytes. Any write, rename over or chmod changes one
    /// of them. Throws dockwright::error naming the file when it changed. Paths the index does
    /// not list as regular files are not checked.
    // NOTE: kernels before 6.13 keep ctime in clock ticks, so a same-size write within the
    // tick of the file's previous change goes unnoticed.
    void check_unchanged(const std::string& path, int fd) const;

  private:
    /// What a regular file's stat returned when the walk listed it.
    struct file_state {
        std::uint64_t device = 0;
        std::uint64_t inode = 0;
        std::uint64_t size = 0;
        std::int64_t change_ns = 0;
    };
    struct entry {
        std::string path;
        std::string hash;
        bool directory = false;
        bool excluded = false;
        /// Set for regular files only.
        std::optional<file_state> state{};
    };

    void walk(const std::filesystem::path& dir, const std::string& prefix,
              const dockerignore& ignore);
    /// The entry's hash: from the cache when `key` (see the walk) is known there, else
    /// computed from the file. An empty key means the entry is not cached.
    [[nodiscard]] std::string entry_sum(const std::filesystem::path& full, const std::string& rel,
                                        std::string key);

    /// An entry whose hash is computed after the walk, with its size in bytes and cache key.
    struct pending_hash {
        std::size_t index;
        std::uint64_t size;
        std::string key;
    };
    std::vector<pending_hash> pending_;
    bool defer_hashing_ = false;

    /// Hashes known from earlier builds, by cache key; filled from and saved to the file.
    std::map<std::string, std::string> known_;
    std::map<std::string, std::string> seen_;
    bool caching_ = false;
    /// Hashes computed from file contents during this scan (not taken from the cache).
    std::size_t computed_ = 0;
    [[nodiscard]] copy_source_info info_for(const std::string& path) const;

    std::filesystem::path root_;
    std::vector<entry> entries_;  ///< In the order Go's filepath.Walk visits them.
    std::map<std::string, std::size_t> by_path_;
};

/// The hash of `path` (relative, symlinks in it already resolved) in the tree at `root`, as
/// the classic builder hashes a COPY --from source inside an image: like a context entry, but
/// with the owners the files have on disk. `dir:` covers everything below a directory.
[[nodiscard]] copy_source_info tree_source_info(const std::filesystem::path& root,
                                                const std::string& path);

/// The same hash as tree_source_info() for a tree whose entries live at different host
/// paths, as in a stack of layer directories: `host_of` returns the host path of an entry
/// (relative path, "" for the root) and `names_in` the names in a directory of the tree.
[[nodiscard]] copy_source_info tree_source_info(
    const std::string& path,
    const std::function<std::filesystem::path(const std::string&)>& host_of,
    const std::function<std::vector<std::string>(const std::string&)>& names_in);

/// The history hash of a whole COPY/ADD: the one source's hash, or `multi:` over several.
[[nodiscard]] std::string combined_source_hash(const std::vector<copy_source_info>& sources);

/// Go's filepath.Match on slash-separated names; a malformed pattern matches nothing.
[[nodiscard]] bool go_path_match(std::string_view pattern, std::string_view name);

/// Whether a COPY source contains `*`, `?` or `[` not escaped by a backslash.
[[nodiscard]] bool contains_wildcards(std::string_view path);

}  // namespace dockwright
