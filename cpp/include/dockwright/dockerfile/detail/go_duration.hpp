// Go's time.ParseDuration, for the HEALTHCHECK interval flags.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace dockwright::detail {

/// A parsed duration, or Go's error message when `error` is not empty.
struct go_duration {
    std::chrono::nanoseconds value{0};
    std::string error;
};

/// Parses a duration such as `1h30m`, `-1.5s` or `300ms` as Go's time.ParseDuration does, with
/// the units ns, us, µs, μs, ms, s, m and h.
go_duration parse_go_duration(std::string_view text);

}  // namespace dockwright::detail
