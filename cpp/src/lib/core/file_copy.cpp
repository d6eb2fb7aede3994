// file_copier: copy_file_range(), then sendfile(), then read() and write().
#include "file_copy.hpp"

#include <sys/sendfile.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <system_error>

namespace dockwright::detail {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t buffer_size = std::size_t{1} << 20;

/// Bytes asked of one kernel call. Without a progress callback one call may copy a whole
/// large file. With one, 8 MiB pieces keep the reports frequent.
constexpr std::uint64_t unreported_piece = std::uint64_t{1} << 30;
constexpr std::uint64_t reported_piece = std::uint64_t{8} << 20;

/// Whether `number` (an errno value) means that the kernel does not do this copy for this pair
/// of files, so a slower method may. EXDEV comes between file systems that cannot copy to each
/// other, EINVAL for a descriptor that is not a regular file (a pipe). ENOSYS and EOPNOTSUPP
/// mean that the kernel or the file system lacks the call.
bool rejected_by_kernel(int number) {
    return number == EXDEV || number == EINVAL || number == ENOSYS || number == EOPNOTSUPP;
}

std::string errno_text(int number) {
    return std::error_code(number, std::generic_category()).message();
}

}  // namespace

/// One call of copy_exactly() or copy_to_end().
struct file_copier::job {
    int source_fd;
    int target_fd;
    const fs::path& source;
    const fs::path& target;
    std::optional<std::uint64_t> size;  ///< empty: until the end of the source
    const file_copy_progress& progress;
    std::uint64_t copied = 0;

    [[nodiscard]] bool done() const { return size && copied == *size; }

    /// Returns `piece`, or less where the requested size ends sooner.
    [[nodiscard]] std::uint64_t next_request(std::uint64_t piece) const {
        return size ? std::min(piece, *size - copied) : piece;
    }

    void add(std::uint64_t bytes) {
        copied += bytes;
        if (progress) progress(bytes);
    }

    [[noreturn]] void fail(file_copy_step step, int number) const {
        const std::string text = errno_text(number);
        if (step == file_copy_step::read) {
            throw file_copy_error(step, source, "cannot read: " + text,
                                  "cannot read " + source.string() + ": " + text);
        }
        if (step == file_copy_step::write) {
            throw file_copy_error(step, target, "cannot write: " + text,
                                  "cannot write " + target.string() + ": " + text);
        }
        throw file_copy_error(
            file_copy_step::copy, source, "cannot copy to " + target.string() + ": " + text,
            "cannot copy " + source.string() + " to " + target.string() + ": " + text);
    }

    [[noreturn]] void fail_ended_early() const {
        const std::string reason = "shrank while it was copied: expected " +
                                   std::to_string(size.value_or(0)) + " bytes, got " +
                                   std::to_string(copied);
        throw file_copy_error(file_copy_step::ended_early, source, reason,
                              source.string() + " " + reason);
    }
};

/// The outcome of a run of copy_file_range() or sendfile() calls.
enum class file_copier::kernel_result {
    finished,         ///< the job is done
    rejected,         ///< the kernel rejects this call for these files
    unconfirmed_end,  ///< the call returned 0 where the end of the source was not expected
};

void file_copier::copy_exactly(int source_fd, int target_fd, std::uint64_t size,
                               const fs::path& source, const fs::path& target,
                               const file_copy_progress& progress) {
    job task{source_fd, target_fd, source, target, size, progress};
    copy(task);
}

std::uint64_t file_copier::copy_to_end(int source_fd, int target_fd, const fs::path& source,
                                       const fs::path& target, const file_copy_progress& progress) {
    job task{source_fd, target_fd, source, target, std::nullopt, progress};
    return copy(task);
}

std::uint64_t file_copier::copy(job& task) {
    if (task.done()) return 0;
    kernel_result result = kernel_result::rejected;
    if (!copy_file_range_rejected_) {
        result = copy_in_kernel(task, [&](std::uint64_t request) {
            return ::copy_file_range(task.source_fd, nullptr, task.target_fd, nullptr, request, 0);
        });
        if (result == kernel_result::finished) return task.copied;
        if (result == kernel_result::rejected) copy_file_range_rejected_ = true;
    }
    // sendfile() copies between any two file systems in the kernel (splice), whereas
    // copy_file_range() copies across file systems only of one type since Linux 5.12.
    if (result == kernel_result::rejected && !sendfile_rejected_) {
        result = copy_in_kernel(task, [&](std::uint64_t request) {
            return ::sendfile(task.target_fd, task.source_fd, nullptr, request);
        });
        if (result == kernel_result::finished) return task.copied;
        if (result == kernel_result::rejected) sendfile_rejected_ = true;
    }
    copy_through_buffer(task);
    return task.copied;
}

template <typename Call>
file_copier::kernel_result file_copier::copy_in_kernel(job& task, Call call) {
    const std::uint64_t piece = task.progress ? reported_piece : unreported_piece;
    while (!task.done()) {
        const ssize_t count = call(task.next_request(piece));
        if (count > 0) {
            task.add(static_cast<std::uint64_t>(count));
            continue;
        }
        if (count == 0) {
            // Linux 5.3 to 5.11 could return 0 at once for files of /proc and /sys, whose size
            // does not match their data. So read() decides where the source ends whenever 0
            // comes before any data or before the requested size.
            if (task.size || task.copied == 0) return kernel_result::unconfirmed_end;
            return kernel_result::finished;
        }
        if (errno == EINTR) continue;
        if (rejected_by_kernel(errno)) return kernel_result::rejected;
        task.fail(file_copy_step::copy, errno);
    }
    return kernel_result::finished;
}

void file_copier::copy_through_buffer(job& task) {
    if (!buffer_) buffer_ = std::make_unique_for_overwrite<std::byte[]>(buffer_size);
    while (!task.done()) {
        const ssize_t count = ::read(task.source_fd, buffer_.get(), task.next_request(buffer_size));
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) task.fail(file_copy_step::read, errno);
        if (count == 0) break;
        for (ssize_t written = 0; written < count;) {
            const ssize_t result = ::write(task.target_fd, buffer_.get() + written,
                                           static_cast<std::size_t>(count - written));
            if (result < 0 && errno == EINTR) continue;
            if (result < 0) task.fail(file_copy_step::write, errno);
            written += result;
        }
        task.add(static_cast<std::uint64_t>(count));
    }
    if (task.size && !task.done()) task.fail_ended_early();
}

}  // namespace dockwright::detail
