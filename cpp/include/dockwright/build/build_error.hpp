// Errors a build step fails with, carrying the text Docker 20.10 ends the build with.
#pragma once

#include <dockwright/core/error.hpp>
#include <string>

namespace dockwright {

/// A step that failed while the build ran (not while parsing). `docker_message()` is what
/// Docker's classic builder prints, e.g. `COPY failed: no source files were specified`, and
/// `exit_code()` the status `docker build` exits with.
class build_step_error : public instruction_error {
  public:
    build_step_error(source_location where, std::string keyword, std::string reason,
                     std::string value, std::string docker_message, int exit_code = 1,
                     bool parse_phase = false)
        : instruction_error(std::move(where), std::move(keyword), std::move(reason),
                            std::move(value)),
          docker_message_(std::move(docker_message)),
          exit_code_(exit_code),
          parse_phase_(parse_phase) {}

    [[nodiscard]] const std::string& docker_message() const noexcept { return docker_message_; }
    [[nodiscard]] int exit_code() const noexcept { return exit_code_; }
    /// Whether Docker reports it before building, as `Error response from daemon: ...`.
    [[nodiscard]] bool parse_phase() const noexcept { return parse_phase_; }

  private:
    std::string docker_message_;
    int exit_code_;
    bool parse_phase_;
};

/// The line Docker's CLI ends a failed classic build with, for any error dockwright throws:
/// parse-phase errors get the `Error response from daemon: ` prefix.
[[nodiscard]] std::string classic_error_text(const std::exception& failure);

}  // namespace dockwright
