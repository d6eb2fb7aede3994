// The error thrown by the registry client: HTTP, TLS, authentication and content failures.
#pragma once

#include <string>
#include <utility>

#include "dockwright/core/error.hpp"

namespace dockwright {

/// A registry operation failed. `subject` names what it concerns (a reference, a blob digest,
/// a URL; empty when it concerns no single thing), `reason` says what is wrong, and `status`
/// is the HTTP status code of the response that caused it (0 when there was none, as for a
/// TLS or connection failure or a digest mismatch). The message reads `<subject>: <reason>`.
class registry_error : public error {
  public:
    registry_error(std::string subject, std::string reason, long status = 0)
        : error(subject.empty() ? reason : subject + ": " + reason),
          subject_(std::move(subject)),
          reason_(std::move(reason)),
          status_(status) {}

    [[nodiscard]] const std::string& subject() const noexcept { return subject_; }
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }
    [[nodiscard]] long status() const noexcept { return status_; }

  private:
    std::string subject_;
    std::string reason_;
    long status_;
};

/// The registry rejected the credentials, or demanded credentials that were not given.
class registry_auth_error : public registry_error {
  public:
    using registry_error::registry_error;
};

}  // namespace dockwright
