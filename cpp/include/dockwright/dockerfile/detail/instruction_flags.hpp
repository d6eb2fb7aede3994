// Docker's BFlags for the instruction check: the `--name[=value]` flags an instruction accepts,
// and the exception a failed check throws before the caller adds the file and line.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dockwright::detail {

/// A failed check before the line prefix is added.
struct check_failure {
    std::string reason;
    std::string value;
    std::string docker_message;
};

/// Throws check_failure with the three texts.
[[noreturn]] void reject(std::string reason, std::string value, std::string docker_message);

/// Docker's BFlags: the flags an instruction accepts, filled from the node's raw flag words.
class flag_set {
  public:
    enum class kind { boolean, string, strings };

    explicit flag_set(std::vector<std::string> words) : words_(std::move(words)) {}

    void add(std::string name, kind type) { flags_[std::move(name)].type = type; }

    void parse();

    [[nodiscard]] std::string string(const std::string& name) const {
        const auto found = flags_.find(name);
        return found == flags_.end() ? std::string() : found->second.value;
    }
    [[nodiscard]] std::vector<std::string> strings(const std::string& name) const {
        const auto found = flags_.find(name);
        return found == flags_.end() ? std::vector<std::string>() : found->second.values;
    }
    [[nodiscard]] std::optional<bool> boolean(const std::string& name) const {
        const auto found = flags_.find(name);
        if (found == flags_.end() || !found->second.used) return std::nullopt;
        return found->second.value == "true";
    }

  private:
    struct entry {
        kind type = kind::string;
        bool used = false;
        std::string value;
        std::vector<std::string> values;
    };

    std::vector<std::string> words_;
    std::map<std::string, entry> flags_;
};

}  // namespace dockwright::detail
