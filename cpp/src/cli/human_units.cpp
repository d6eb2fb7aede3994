// Human-readable durations and sizes as the docker CLI prints them.
#include "human_units.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <dockwright/core/error.hpp>
#include <dockwright/core/time.hpp>
#include <iostream>
#include <map>

namespace dockwright::cli {

std::string human_duration(std::int64_t seconds) {
    if (seconds < 1) return "Less than a second";
    if (seconds == 1) return "1 second";
    if (seconds < 60) return std::to_string(seconds) + " seconds";
    const std::int64_t minutes = seconds / 60;
    if (minutes == 1) return "About a minute";
    if (minutes < 60) return std::to_string(minutes) + " minutes";
    const auto hours = static_cast<std::int64_t>(static_cast<double>(seconds) / 3600.0 + 0.5);
    if (hours == 1) return "About an hour";
    if (hours < 48) return std::to_string(hours) + " hours";
    if (hours < 24 * 7 * 2) return std::to_string(hours / 24) + " days";
    if (hours < 24 * 30 * 2) return std::to_string(hours / 24 / 7) + " weeks";
    if (hours < 24 * 365 * 2) return std::to_string(hours / 24 / 30) + " months";
    return std::to_string(seconds / 3600 / 24 / 365) + " years";
}

std::string human_size(double bytes, int precision) {
    static constexpr std::array<const char*, 9> units = {"B",  "kB", "MB", "GB", "TB",
                                                         "PB", "EB", "ZB", "YB"};
    std::size_t unit = 0;
    while (bytes >= 1000.0 && unit + 1 < units.size()) {
        bytes /= 1000.0;
        ++unit;
    }
    char text[64];
    std::snprintf(text, sizeof text, "%.*g%s", precision, bytes, units[unit]);
    return text;
}

std::string ellipsis(const std::string& text, std::size_t width) {
    std::size_t count = 0;
    std::size_t cut = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
        if (count == width - 1) cut = i;
        ++count;
    }
    if (count <= width) return text;
    return text.substr(0, cut) + "…";
}

std::int64_t parse_ram_size(const std::string& text, const std::string& flag) {
    std::size_t digits = 0;
    while (digits < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
        ++digits;
    }
    std::string unit = text.substr(digits);
    for (char& c : unit)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (unit.size() == 2 && unit[1] == 'b' && unit[0] != 'b') unit.pop_back();
    static const std::map<std::string, double> units{{"", 1.0},
                                                     {"b", 1.0},
                                                     {"k", 1024.0},
                                                     {"m", 1024.0 * 1024},
                                                     {"g", 1024.0 * 1024 * 1024},
                                                     {"t", 1024.0 * 1024 * 1024 * 1024},
                                                     {"p", 1024.0 * 1024 * 1024 * 1024 * 1024}};
    const auto found = units.find(unit);
    if (digits == 0 || found == units.end()) {
        throw invalid_value_error(
            "flag", text,
            "invalid size for --" + flag + ": use a number with an optional unit b, k, m or g");
    }
    return static_cast<std::int64_t>(std::stod(text.substr(0, digits)) * found->second);
}

std::size_t display_width(const std::string& text) {
    std::size_t count = 0;
    for (unsigned char c : text)
        count += (c & 0xC0) != 0x80;
    return count;
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> widths;
    for (const auto& row : rows) {
        for (std::size_t i = 0; i + 1 < row.size(); ++i) {
            if (widths.size() <= i) widths.push_back(10);
            widths[i] = std::max(widths[i], display_width(row[i]) + 3);
        }
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) line.append(widths[i] - display_width(row[i]), ' ');
        }
        std::cout << line << '\n';
    }
}

std::string age(const std::string& created) {
    try {
        const auto then = timestamp::parse(created);
        return human_duration(timestamp::now().unix_seconds() - then.unix_seconds()) + " ago";
    } catch (const error&) {
        return "N/A";
    }
}

}  // namespace dockwright::cli
