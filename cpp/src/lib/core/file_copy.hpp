// Copying file data from one descriptor to another, in the kernel where it accepts the pair.
#pragma once

#include <cstddef>
#include <cstdint>
#include <dockwright/core/error.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace dockwright::detail {

/// The part of a copy that failed.
enum class file_copy_step {
    read,         ///< read() on the source
    write,        ///< write() on the target
    copy,         ///< copy_file_range() or sendfile(), which read and write in one call
    ended_early,  ///< the source ended before the requested number of bytes
};

/// A copy between two files failed. `path` is the file the failure concerns: the target for
/// a failed write, else the source. `reason` is the message without that path, for callers
/// that rethrow with their own error type and the path as its subject.
class file_copy_error : public error {
  public:
    file_copy_error(file_copy_step step, std::filesystem::path path, std::string reason,
                    const std::string& message)
        : error(message), step_(step), path_(std::move(path)), reason_(std::move(reason)) {}

    [[nodiscard]] file_copy_step step() const noexcept { return step_; }
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

  private:
    file_copy_step step_;
    std::filesystem::path path_;
    std::string reason_;
};

/// Receives the number of bytes that one piece of a copy added. An exception it throws stops
/// the copy and propagates to the caller, so it is also the place to check for cancellation.
using file_copy_progress = std::function<void(std::uint64_t bytes)>;

/// Copies file data between descriptors with copy_file_range(), else sendfile(), else read()
/// and write() through a 1 MiB buffer. The kernel calls skip the trip through user space, and
/// copy_file_range() may share extents (btrfs, XFS). One copier remembers which calls the
/// kernel rejected (EXDEV, EINVAL, ENOSYS, EOPNOTSUPP), so later copies between the same file
/// systems skip them, and keeps its buffer. A copier is meant for one series of copies
/// between the same two file systems; it is not thread-safe.
///
/// Copies start at the descriptors' current offsets and advance them. EINTR is retried. The
/// descriptors must be in blocking mode. Holes in a sparse source are written as zeros unless
/// the file system shares the extents.
class file_copier {
  public:
    /// Copies exactly `size` bytes from `source_fd` to `target_fd`. Bytes the source gains
    /// during the copy are left out. `source` and `target` name the files in messages.
    /// Throws file_copy_error when a call fails or when the source ends early, with the
    /// message `<source> shrank while it was copied: expected <size> bytes, got <copied>`.
    void copy_exactly(int source_fd, int target_fd, std::uint64_t size,
                      const std::filesystem::path& source, const std::filesystem::path& target,
                      const file_copy_progress& progress = {});

    /// Copies from `source_fd` to `target_fd` until the end of the source and returns the
    /// number of bytes copied. Whether bytes appended during the copy are included depends on
    /// when they arrive. Throws file_copy_error when a call fails.
    std::uint64_t copy_to_end(int source_fd, int target_fd, const std::filesystem::path& source,
                              const std::filesystem::path& target,
                              const file_copy_progress& progress = {});

    /// Whether the kernel rejected copy_file_range() for a copy of this copier.
    [[nodiscard]] bool copy_file_range_rejected() const noexcept {
        return copy_file_range_rejected_;
    }
    /// Whether the kernel rejected sendfile() for a copy of this copier.
    [[nodiscard]] bool sendfile_rejected() const noexcept { return sendfile_rejected_; }

  private:
    struct job;
    enum class kernel_result;

    std::uint64_t copy(job& task);
    template <typename Call>
    kernel_result copy_in_kernel(job& task, Call call);
    void copy_through_buffer(job& task);

    bool copy_file_range_rejected_ = false;
    bool sendfile_rejected_ = false;
    std::unique_ptr<std::byte[]> buffer_;
};

}  // namespace dockwright::detail
