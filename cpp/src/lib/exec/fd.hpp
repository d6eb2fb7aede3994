// Private RAII owners and error helpers for the executor's system calls.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "../core/unique_fd.hpp"
#include "dockwright/exec/exec_error.hpp"

namespace dockwright::exec::detail {

using dockwright::unique_fd;

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
