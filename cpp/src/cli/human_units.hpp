// Human-readable durations, sizes and tables as the docker CLI prints them (docker/go-units).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dockwright::cli {

/// Formats an age as go-units' HumanDuration: `Less than a second`, `5 minutes`, `2 days`.
std::string human_duration(std::int64_t seconds);

/// Formats a byte count with decimal units and `precision` significant digits, as go-units'
/// HumanSizeWithPrecision: `2MB`, `1.997MB`, `512B`.
std::string human_size(double bytes, int precision = 3);

/// Parses a size as docker's RAMInBytes: a number with an optional unit b, k, m, g, t or p
/// (binary multiples, case-insensitive, an optional trailing `b` as in `64mb`). Throws
/// invalid_value_error of kind `flag` naming the flag and the text.
std::int64_t parse_ram_size(const std::string& text, const std::string& flag);

/// Shortens `text` to `width` characters (code points), the last one `…`, as docker's
/// Ellipsis does.
std::string ellipsis(const std::string& text, std::size_t width);

/// The number of code points of `text`.
std::size_t display_width(const std::string& text);

/// Prints rows aligned like Go's tabwriter with docker's settings (minimum width 10,
/// padding 3); the last column is not padded.
void print_table(const std::vector<std::vector<std::string>>& rows);

/// Formats the time since `created` (RFC 3339) as `5 minutes ago`, or `N/A`.
std::string age(const std::string& created);

}  // namespace dockwright::cli
