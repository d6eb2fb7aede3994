// Go's time.ParseDuration: a signed sequence of decimal numbers, each with a unit.
#include <cstdint>
#include <dockwright/dockerfile/detail/go_duration.hpp>
#include <dockwright/dockerfile/detail/go_text.hpp>
#include <utility>

namespace dockwright::detail {

namespace {

constexpr std::pair<std::string_view, std::uint64_t> units[] = {
    {"ns", 1ULL},       {"us", 1000ULL},      {"\xC2\xB5s", 1000ULL}, {"\xCE\xBCs", 1000ULL},
    {"ms", 1000000ULL}, {"s", 1000000000ULL}, {"m", 60000000000ULL},  {"h", 3600000000000ULL},
};

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

}  // namespace

go_duration parse_go_duration(std::string_view text) {
    const std::string original(text);
    const auto invalid = [&] {
        return go_duration{{}, "time: invalid duration " + go_quote(original)};
    };

    bool negative = false;
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
        negative = text[0] == '-';
        text.remove_prefix(1);
    }
    if (text == "0") return {};
    if (text.empty()) return invalid();

    // Accumulate in nanoseconds; Go rejects totals above 2^63 - 1.
    constexpr std::uint64_t limit = 1ULL << 63;
    std::uint64_t total = 0;
    while (!text.empty()) {
        if (!(text[0] == '.' || is_digit(text[0]))) return invalid();
        std::uint64_t whole = 0;
        std::size_t pos = 0;
        bool overflow = false;
        while (pos < text.size() && is_digit(text[pos])) {
            if (whole > (limit - 1) / 10) overflow = true;
            whole = whole * 10 + static_cast<std::uint64_t>(text[pos] - '0');
            if (whole > limit) overflow = true;
            ++pos;
        }
        if (overflow) return invalid();
        const bool had_whole = pos > 0;
        std::uint64_t fraction = 0;
        double scale = 1;
        bool had_fraction = false;
        if (pos < text.size() && text[pos] == '.') {
            ++pos;
            while (pos < text.size() && is_digit(text[pos])) {
                if (fraction < (1ULL << 53)) {
                    fraction = fraction * 10 + static_cast<std::uint64_t>(text[pos] - '0');
                    scale *= 10;
                }
                had_fraction = true;
                ++pos;
            }
        }
        if (!had_whole && !had_fraction) return invalid();

        std::size_t unit_end = pos;
        while (unit_end < text.size() && text[unit_end] != '.' && !is_digit(text[unit_end]))
            ++unit_end;
        const std::string_view unit = text.substr(pos, unit_end - pos);
        if (unit.empty()) {
            return {{}, "time: missing unit in duration " + go_quote(original)};
        }
        std::uint64_t multiplier = 0;
        for (const auto& [name, nanos] : units) {
            if (name == unit) multiplier = nanos;
        }
        if (multiplier == 0) {
            return {{},
                    "time: unknown unit " + go_quote(unit) + " in duration " + go_quote(original)};
        }
        if (whole > (limit - 1) / multiplier) return invalid();
        std::uint64_t value = whole * multiplier;
        if (had_fraction) {
            value += static_cast<std::uint64_t>(static_cast<double>(fraction) *
                                                (static_cast<double>(multiplier) / scale));
        }
        total += value;
        if (total > limit) return invalid();
        text.remove_prefix(unit_end);
    }
    if (!negative && total == limit) return invalid();
    // total <= 2^63 here; the negative limit is the only value that needs the unsigned wrap.
    const auto magnitude = static_cast<std::int64_t>(total == limit ? 0 : total);
    const std::int64_t signed_total =
        total == limit ? INT64_MIN : (negative ? -magnitude : magnitude);
    return {std::chrono::nanoseconds{signed_total}, {}};
}

}  // namespace dockwright::detail
