// The variables a Dockerfile word is expanded against, built from `NAME=value` strings.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace dockwright {

/// A set of variables for word expansion, read from an ordered list of `NAME=value` entries as
/// Docker's config `Env` and the build arguments are. An entry without `=` defines the name with
/// an empty value. When a name repeats, the last entry wins, as BuildKit's EnvsFromSlice does.
/// Names are case-sensitive (Docker folds case only on Windows).
class shell_environment {
  public:
    shell_environment() = default;

    /// Reads `NAME=value` entries in order.
    explicit shell_environment(std::span<const std::string> entries) {
        for (const std::string& entry : entries)
            add(entry);
    }

    shell_environment(std::initializer_list<std::string_view> entries) {
        for (std::string_view entry : entries)
            add(entry);
    }

    /// Adds one `NAME=value` entry, replacing an earlier value of the same name.
    void add(std::string_view entry) {
        const std::size_t equals = entry.find('=');
        if (equals == std::string_view::npos) {
            set(std::string(entry), "");
        } else {
            set(std::string(entry.substr(0, equals)), std::string(entry.substr(equals + 1)));
        }
    }

    /// Sets `name` to `value`, replacing an earlier value.
    void set(std::string name, std::string value) {
        values_.insert_or_assign(std::move(name), std::move(value));
    }

    /// The value of `name`, or nothing when it is unset. A set but empty variable has a value.
    [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const {
        const auto found = values_.find(name);
        if (found == values_.end()) return std::nullopt;
        return std::string_view(found->second);
    }

    /// The variables by name.
    [[nodiscard]] const std::map<std::string, std::string, std::less<>>& values() const noexcept {
        return values_;
    }

  private:
    std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace dockwright
