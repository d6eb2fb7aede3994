// The eventfd behind cancel_token.
#include "dockwright/exec/cancel_token.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "fd.hpp"

namespace dockwright::exec {

cancel_token::cancel_token() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (fd_ < 0) throw detail::system_error("create the cancel token", errno);
}

cancel_token::~cancel_token() {
    ::close(fd_);
}

void cancel_token::cancel() noexcept {
    const std::uint64_t one = 1;
    // A full counter (after 2^64-2 calls) leaves the token readable, which is all that counts.
    [[maybe_unused]] const auto written = ::write(fd_, &one, sizeof one);
}

bool cancel_token::cancelled() const noexcept {
    pollfd entry{fd_, POLLIN, 0};
    return ::poll(&entry, 1, 0) == 1;
}

}  // namespace dockwright::exec
