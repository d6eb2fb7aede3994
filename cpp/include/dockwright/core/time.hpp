// Timestamps as Go's time.Time marshals them (RFC 3339 with nanoseconds) and Go durations.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace dockwright {

/// An instant with nanosecond precision and the UTC offset it was written with, as Go's
/// time.Time carries them through JSON. The default value is Go's zero time,
/// 0001-01-01T00:00:00Z, which Docker writes for an unset `created`.
class timestamp {
  public:
    timestamp() = default;

    /// Parses RFC 3339 (`2023-11-14T22:13:20.5Z`, `...+02:00`), accepting what Go's
    /// time.Time.UnmarshalJSON accepts. Throws invalid_value_error of kind "timestamp".
    [[nodiscard]] static timestamp parse(std::string_view text);
    /// The instant `unix_seconds` + `nanoseconds` after 1970-01-01T00:00:00Z, in UTC.
    [[nodiscard]] static timestamp from_unix(std::int64_t unix_seconds,
                                             std::int32_t nanoseconds = 0);
    /// The current time in UTC, with the system clock's precision.
    [[nodiscard]] static timestamp now();

    /// Formats as Go's RFC3339Nano: trailing zeros of the fraction trimmed, `Z` for UTC.
    /// Throws invalid_value_error when the year is outside 0..9999, as Go's MarshalJSON fails.
    [[nodiscard]] std::string str() const;

    [[nodiscard]] std::int64_t unix_seconds() const noexcept { return seconds_; }
    [[nodiscard]] std::int32_t nanoseconds() const noexcept { return nanos_; }
    /// Offset from UTC in seconds that the text carried (0 for `Z`).
    [[nodiscard]] std::int32_t utc_offset() const noexcept { return offset_; }
    [[nodiscard]] bool is_zero() const noexcept { return seconds_ == zero_seconds && nanos_ == 0; }

    friend bool operator==(const timestamp&, const timestamp&) = default;
    friend auto operator<=>(const timestamp&, const timestamp&) = default;
    friend std::ostream& operator<<(std::ostream& out, const timestamp& t) {
        return out << t.str();
    }

  private:
    /// Seconds from 1970-01-01 back to Go's zero time, 0001-01-01T00:00:00Z.
    static constexpr std::int64_t zero_seconds = -62135596800;

    std::int64_t seconds_ = zero_seconds;
    std::int32_t nanos_ = 0;
    std::int32_t offset_ = 0;
};

/// Formats nanoseconds as Go's time.Duration.String does: `1m30s`, `5s`, `1.5s`, `300ms`,
/// `0s`; Docker writes HEALTHCHECK durations into history this way.
[[nodiscard]] std::string format_go_duration(std::int64_t nanoseconds);

/// Parses a Go duration (`30s`, `1m30s`, `1.5h`, `300ms`, `2us`, `-1s`) into nanoseconds, as
/// time.ParseDuration does. Throws invalid_value_error of kind "duration".
[[nodiscard]] std::int64_t parse_go_duration(std::string_view text);

}  // namespace dockwright
