// The error thrown by the layer tar writer and by layer extraction.
#pragma once

#include <string>
#include <utility>

#include "dockwright/core/error.hpp"

namespace dockwright {

/// A layer could not be written or applied. `entry` is the tar entry or file path the problem
/// is about (empty when it concerns the whole stream) and `reason` says what is wrong. The
/// message reads `layer entry '<entry>': <reason>`, or `layer: <reason>` without an entry.
class layer_error : public error {
  public:
    layer_error(std::string entry, std::string reason)
        : error(format(entry, reason)), entry_(std::move(entry)), reason_(std::move(reason)) {}

    [[nodiscard]] const std::string& entry() const noexcept { return entry_; }
    [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

  private:
    static std::string format(const std::string& entry, const std::string& reason) {
        if (entry.empty()) return "layer: " + reason;
        return "layer entry '" + entry + "': " + reason;
    }

    std::string entry_;
    std::string reason_;
};

}  // namespace dockwright
