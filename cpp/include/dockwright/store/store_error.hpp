// The error thrown by the image store and by loading, saving and importing images.
#pragma once

#include <string>
#include <utility>

#include "dockwright/core/error.hpp"

namespace dockwright {

/// A store operation failed. `subject` names what the problem is about (an image reference, a
/// file of an archive, a blob digest; empty when it concerns the store as a whole) and
/// `reason` says what is wrong. The message reads `<subject>: <reason>`, or only the reason.
class store_error : public error {
  public:
    store_error(std::string subject, std::string reason)
        : error(subject.empty() ? reason : subject + ": " + reason),
          subject_(std::move(subject)),
          reason_(std::move(reason)) {}

    [[nodiscard]] const std::string& subject() const noexcept { return subject_; }
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

  private:
    std::string subject_;
    std::string reason_;
};

/// No image matches a reference or ID: `subject` is the text that was looked up.
class image_not_found_error : public store_error {
  public:
    explicit image_not_found_error(std::string reference)
        : store_error("", "no such image: " + reference) {}
};

}  // namespace dockwright
