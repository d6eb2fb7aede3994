// The file descriptor sink.
#include "dockwright/layer/byte_sink.hpp"

#include <unistd.h>

#include <cerrno>

#include "dockwright/layer/layer_error.hpp"
#include "unique_fd.hpp"

namespace dockwright::layer {

void fd_sink::write_through(std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw layer_error("", detail::syscall_reason("write"));
        }
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
}

void fd_sink::write(std::span<const std::byte> bytes) {
    if (buffer_.size() + bytes.size() > buffer_size) {
        write_through(buffer_);
        buffer_.clear();
    }
    if (bytes.size() >= buffer_size) {
        write_through(bytes);
        return;
    }
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

void fd_sink::finish() {
    write_through(buffer_);
    buffer_.clear();
}

}  // namespace dockwright::layer
