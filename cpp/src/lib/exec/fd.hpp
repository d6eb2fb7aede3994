// Private RAII owners and error helpers for the executor's system calls.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "dockwright/exec/exec_error.hpp"

namespace dockwright::exec::detail {

/// Owns a file descriptor and closes it on destruction.
class unique_fd {
  public:
    unique_fd() = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    ~unique_fd() { reset(); }

    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }
    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
    explicit operator bool() const noexcept { return fd_ >= 0; }

  private:
    int fd_ = -1;
};

/// Both ends of a pipe, close-on-exec.
struct pipe_pair {
    unique_fd read;
    unique_fd write;
};

pipe_pair make_pipe();

/// An exec_error for `step` with the text of `err` (an errno value).
inline exec_error system_error(std::string step, int err) {
    return exec_error(std::move(step), std::strerror(err));
}

/// Writes all of `text` to the file `path`; throws exec_error naming the path.
void write_file(const std::string& path, std::string_view text);

/// Reads a whole small file; empty when it cannot be read.
std::string read_small_file(const std::string& path);

}  // namespace dockwright::exec::detail
