// The error thrown when a container cannot be set up, run or cleaned up.
#pragma once

#include <string>
#include <utility>

#include "dockwright/core/error.hpp"

namespace dockwright {

/// A container could not be prepared, started, limited or torn down. `step` names what failed
/// (`mount overlay`, `apply the memory limit`, `exec`) and `reason` says why, usually with the
/// system error text. The message reads `exec: <step>: <reason>`, or only `<reason>` when
/// `step` is empty (Docker's own messages, such as a user missing from /etc/passwd). A command
/// that runs and exits with a non-zero status is not an exec_error: the run result reports it.
class exec_error : public error {
  public:
    exec_error(std::string step, std::string reason)
        : error(step.empty() ? reason : "exec: " + step + ": " + reason),
          step_(std::move(step)),
          reason_(std::move(reason)) {}

    [[nodiscard]] const std::string& step() const noexcept { return step_; }
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

  private:
    std::string step_;
    std::string reason_;
};

}  // namespace dockwright
