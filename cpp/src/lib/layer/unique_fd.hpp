// Private RAII owners for the file descriptors and directory streams of the layer code.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "dockwright/layer/layer_error.hpp"

namespace dockwright::layer::detail {

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

/// Owns a directory stream opened with fdopendir.
class unique_dir {
  public:
    explicit unique_dir(DIR* dir) noexcept : dir_(dir) {}
    unique_dir(const unique_dir&) = delete;
    unique_dir& operator=(const unique_dir&) = delete;
    ~unique_dir() {
        if (dir_ != nullptr) ::closedir(dir_);
    }
    [[nodiscard]] DIR* get() const noexcept { return dir_; }

  private:
    DIR* dir_;
};

/// Returns "<call> failed: <strerror(errno)>", the reason of a failed system call.
inline std::string syscall_reason(const char* call, int error_number = errno) {
    return std::string(call) + " failed: " + std::strerror(error_number);
}

}  // namespace dockwright::layer::detail
