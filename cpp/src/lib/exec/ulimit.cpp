// Parsing --ulimit values and mapping their names to setrlimit resources.
#include <sys/resource.h>

#include <array>
#include <charconv>
#include <string>
#include <utility>

#include "dockwright/core/error.hpp"
#include "dockwright/exec/run_spec.hpp"
#include "limits.hpp"

namespace dockwright::exec {

namespace {

constexpr std::array<std::pair<std::string_view, int>, 15> resource_names{{
    {"core", RLIMIT_CORE},
    {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},
    {"fsize", RLIMIT_FSIZE},
    {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK},
    {"msgqueue", RLIMIT_MSGQUEUE},
    {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},
    {"nproc", RLIMIT_NPROC},
    {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},
    {"rttime", RLIMIT_RTTIME},
    {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
}};

std::int64_t parse_limit(std::string_view text, std::string_view whole) {
    std::int64_t value = 0;
    const char* first = text.data();
    if (!text.empty() && *first == '+') ++first;
    const auto [end, ec] = std::from_chars(first, text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
        throw invalid_value_error("ulimit", std::string(whole),
                                  "the limit '" + std::string(text) + "' is not an integer");
    return value;
}

}  // namespace

int detail::rlimit_resource(std::string_view name) {
    for (const auto& [known, resource] : resource_names)
        if (known == name) return resource;
    return -1;
}

ulimit parse_ulimit(std::string_view text) {
    const auto equals = text.find('=');
    if (equals == std::string_view::npos)
        throw invalid_value_error("ulimit", std::string(text), "expected name=soft[:hard]");
    ulimit result;
    result.name = std::string(text.substr(0, equals));
    if (detail::rlimit_resource(result.name) < 0)
        throw invalid_value_error("ulimit", std::string(text),
                                  "unknown ulimit type '" + result.name + "'");
    const std::string_view values = text.substr(equals + 1);
    const auto colon = values.find(':');
    if (colon != std::string_view::npos && values.find(':', colon + 1) != std::string_view::npos)
        throw invalid_value_error("ulimit", std::string(text),
                                  "too many limit values, expected soft[:hard]");
    result.soft = parse_limit(values.substr(0, colon), text);
    result.hard =
        colon == std::string_view::npos ? result.soft : parse_limit(values.substr(colon + 1), text);
    if (result.hard != -1 && result.soft > result.hard)
        throw invalid_value_error("ulimit", std::string(text),
                                  "the soft limit must be less than or equal to the hard limit: " +
                                      std::to_string(result.soft) + " > " +
                                      std::to_string(result.hard));
    return result;
}

}  // namespace dockwright::exec
