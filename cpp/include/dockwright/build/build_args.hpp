// Build arguments as the classic builder tracks them: the --build-arg values, the ARGs each
// stage declares, the ARGs before the first FROM, and which of them were ever referenced.
#pragma once

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace dockwright {

/// The proxy variables Docker accepts as --build-arg without an ARG line. They reach RUN
/// but stay out of the `|N` history prefix unless the Dockerfile declares them.
inline constexpr std::array<std::string_view, 8> predefined_build_args{
    "FTP_PROXY", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY",
    "ftp_proxy", "https_proxy", "http_proxy", "no_proxy",
};

[[nodiscard]] inline bool is_predefined_build_arg(std::string_view name) {
    return std::find(predefined_build_args.begin(), predefined_build_args.end(), name) !=
           predefined_build_args.end();
}

/// Docker's BuildArgs. One instance lives for the whole build (the meta args and the
/// referenced set); each stage works on a copy whose declared args were reset.
class build_args {
  public:
    build_args() = default;
    explicit build_args(std::map<std::string, std::string> from_options)
        : from_options_(std::move(from_options)) {}

    /// A copy for a new stage: everything kept except the args declared so far.
    [[nodiscard]] build_args for_stage() const {
        build_args copy = *this;
        copy.allowed_.clear();
        return copy;
    }

    /// `ARG name[=default]` in a stage.
    void declare(const std::string& name, std::optional<std::string> default_value) {
        allowed_[name] = std::move(default_value);
        referenced_.insert(name);
    }

    /// `ARG name[=default]` before the first FROM.
    void declare_meta(const std::string& name, std::optional<std::string> default_value) {
        declare(name, default_value);
        meta_[name] = std::move(default_value);
    }

    /// Keeps the names another stage referenced, for the unconsumed-args warning.
    void merge_referenced(const build_args& other) {
        referenced_.insert(other.referenced_.begin(), other.referenced_.end());
    }

    /// The value of a meta arg: the --build-arg value, else its default.
    [[nodiscard]] std::map<std::string, std::string> meta_values() const {
        std::map<std::string, std::string> values;
        for (const auto& [name, value] : meta_) {
            if (auto found = from_options_.find(name); found != from_options_.end()) {
                values[name] = found->second;
            } else if (value) {
                values[name] = *value;
            }
        }
        return values;
    }

    /// Every declared or predefined arg that has a value, by name (GetAllAllowed).
    [[nodiscard]] std::map<std::string, std::string> allowed_values() const {
        std::map<std::string, std::string> values;
        auto consider = [&](const std::string& name, const std::optional<std::string>* fallback) {
            if (auto found = from_options_.find(name); found != from_options_.end()) {
                values[name] = found->second;
            } else if (fallback && *fallback) {
                values[name] = **fallback;
            } else if (auto meta = meta_.find(name); meta != meta_.end() && meta->second) {
                values[name] = *meta->second;
            }
        };
        for (const auto& [name, value] : allowed_)
            consider(name, &value);
        for (std::string_view name : predefined_build_args) {
            const std::string key(name);
            if (!allowed_.contains(key)) consider(key, nullptr);
        }
        return values;
    }

    /// `NAME=value` for every allowed arg whose name `env` does not define (FilterAllowed).
    [[nodiscard]] std::vector<std::string> filter_allowed(
        const std::vector<std::string>& env) const {
        std::set<std::string> defined;
        for (const std::string& entry : env)
            defined.insert(entry.substr(0, entry.find('=')));
        std::vector<std::string> out;
        for (const auto& [name, value] : allowed_values()) {
            if (!defined.contains(name)) out.push_back(name + "=" + value);
        }
        return out;
    }

    /// Whether `name` goes into the `|N` prefix: declared, or not a predefined proxy arg.
    [[nodiscard]] bool referenced_or_not_builtin(const std::string& name) const {
        return allowed_.contains(name) || !is_predefined_build_arg(name);
    }

    /// The --build-arg names that no ARG consumed, sorted; predefined ones excluded.
    [[nodiscard]] std::vector<std::string> unconsumed() const {
        std::vector<std::string> names;
        for (const auto& [name, value] : from_options_) {
            if (!referenced_.contains(name) && !is_predefined_build_arg(name))
                names.push_back(name);
        }
        return names;
    }

    /// Docker 20.10's warning for unconsumed args, without the line feed; empty if none.
    [[nodiscard]] std::string unconsumed_warning() const {
        const std::vector<std::string> names = unconsumed();
        if (names.empty()) return {};
        std::string text = "[Warning] One or more build-args [";
        for (std::size_t i = 0; i < names.size(); ++i)
            text += (i ? " " : "") + names[i];
        return text + "] were not consumed";
    }

    [[nodiscard]] const std::map<std::string, std::string>& from_options() const noexcept {
        return from_options_;
    }

  private:
    std::map<std::string, std::string> from_options_;
    std::map<std::string, std::optional<std::string>> allowed_;
    std::map<std::string, std::optional<std::string>> meta_;
    std::set<std::string> referenced_;
};

}  // namespace dockwright
