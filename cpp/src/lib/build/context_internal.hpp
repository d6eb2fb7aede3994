// Pieces of prepare_context() shared by its source files: temporary trees, safe tar
// extraction, git checkouts and http(s) downloads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "dockwright/build/context_source.hpp"
#include "dockwright/dockerfile/detail/go_text.hpp"

namespace dockwright::detail {

/// A directory created under a work directory with mode 0700 and removed with everything in
/// it when the owner goes away, unless release() handed it on.
class temp_tree {
  public:
    /// Creates `<work_dir>/<prefix>XXXXXX`, and `work_dir` first when it does not exist (the
    /// system's temporary directory when it is empty). Throws context_error when that fails.
    temp_tree(const std::filesystem::path& work_dir, std::string_view prefix);
    temp_tree(const temp_tree&) = delete;
    temp_tree& operator=(const temp_tree&) = delete;
    ~temp_tree();

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
    /// Gives up ownership: the destructor then leaves the tree in place.
    std::filesystem::path release() noexcept;

  private:
    std::filesystem::path path_;
};

/// Returns the text of an errno value as Go's syscall.Errno prints it: glibc's text with a
/// lower-case first letter.
std::string errno_text(int code);

/// Removes a tree without following symbolic links; errors are ignored.
void remove_tree_quietly(const std::filesystem::path& path) noexcept;

/// Reads up to `size` bytes from `fd`, fewer only at the end of the stream.
std::string read_prefix(int fd, std::size_t size, const std::string& subject);

/// Unpacks a tar stream (plain, gzip, bzip2, xz or zstd) into the empty directory `dest`.
/// The stream is `prefix` followed by what remains to be read from `fd`. Every entry is kept
/// inside `dest`: a leading `/` is dropped, names that lead out with `..` are rejected, no
/// entry is written through a symbolic link, hard links may name only earlier entries, and
/// device nodes are rejected. Each file must fit the free space of the filesystem. Throws
/// context_error naming `subject` and the entry.
void extract_context_archive(int fd, std::string_view prefix, const std::filesystem::path& dest,
                             const std::string& subject);

/// Fetches `source` into the empty directory `dest` with the git command, as Docker 20.10's
/// CLI does: `git init`, `remote add origin`, a shallow fetch of the ref where the server
/// allows it, checkout, then the submodules. Returns the context directory (`dest` or its
/// subdirectory). Throws context_error with Docker's messages.
std::filesystem::path clone_git_context(const git_source& source,
                                        const std::filesystem::path& dest);

/// Downloads `url` into the file `target` (created by this call) and returns the time the
/// response's Last-Modified header names (Unix seconds), if it had one libcurl could parse.
/// Throws context_error with Docker's message for a transport failure or an HTTP status of
/// 400 or more.
std::optional<std::int64_t> download_context(
    const std::string& url, const std::filesystem::path& target,
    const std::function<void(std::uint64_t, std::optional<std::uint64_t>)>& progress);

/// Whether the http(s) git server at `remote` speaks git's smart protocol, checked as Docker
/// does: `<remote>/info/refs?service=git-upload-pack` answers 200 with the content type
/// `application/x-git-upload-pack-advertisement` (HEAD first, then GET).
bool is_smart_git_server(const std::string& remote);

}  // namespace dockwright::detail
