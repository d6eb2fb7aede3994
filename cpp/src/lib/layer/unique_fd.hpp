// Private RAII owners for the file descriptors and directory streams of the layer code.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "../core/unique_fd.hpp"
#include "dockwright/layer/layer_error.hpp"

namespace dockwright::layer::detail {

using dockwright::unique_fd;

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
