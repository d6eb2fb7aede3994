// RFC 3339 timestamps and Go durations.
#include <array>
#include <dockwright/core/error.hpp>
#include <dockwright/core/time.hpp>

namespace dockwright {

namespace {

// Civil-date conversions on the proleptic Gregorian calendar (days since 1970-01-01).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
    year -= month <= 2 ? 1 : 0;
    const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
    const auto year_of_era = static_cast<unsigned>(year - era * 400);
    const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    const unsigned day_of_era =
        year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

struct civil_date {
    std::int64_t year;
    unsigned month;
    unsigned day;
};

civil_date civil_from_days(std::int64_t days) {
    days += 719468;
    const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const auto day_of_era = static_cast<unsigned>(days - era * 146097);
    const unsigned year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    const unsigned day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const unsigned mp = (5 * day_of_year + 2) / 153;
    const unsigned day = day_of_year - (153 * mp + 2) / 5 + 1;
    const unsigned month = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

unsigned days_in_month(std::int64_t year, unsigned month) {
    static constexpr std::array<unsigned, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/// Reads a fixed-width decimal field of a timestamp.
class field_reader {
  public:
    explicit field_reader(std::string_view text) : text_(text) {}

    unsigned digits(std::size_t width, const char* what) {
        if (pos_ + width > text_.size()) fail(std::string("missing ") + what);
        unsigned number = 0;
        for (std::size_t i = 0; i < width; ++i) {
            const char c = text_[pos_ + i];
            if (c < '0' || c > '9') fail(std::string("invalid ") + what);
            number = number * 10 + static_cast<unsigned>(c - '0');
        }
        pos_ += width;
        return number;
    }

    void expect(char c, const char* what) {
        if (pos_ >= text_.size() || text_[pos_] != c) fail(std::string("expected ") + what);
        ++pos_;
    }

    bool accept(char c) {
        if (pos_ < text_.size() && text_[pos_] == c) {
            ++pos_;
            return true;
        }
        return false;
    }

    [[nodiscard]] bool at_digit() const {
        return pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9';
    }
    [[nodiscard]] bool done() const { return pos_ == text_.size(); }

    [[noreturn]] void fail(const std::string& reason) const {
        throw invalid_value_error("timestamp", std::string(text_),
                                  reason + " (expected RFC 3339, e.g. 2023-11-14T22:13:20Z)");
    }

  private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

// Wide enough that a duration's partial sums cannot overflow before they are checked.
__extension__ using wide_uint = unsigned __int128;

void append_padded(std::string& out, std::int64_t number, int width) {
    std::string digits = std::to_string(number);
    if (static_cast<int>(digits.size()) < width) out.append(width - digits.size(), '0');
    out += digits;
}

}  // namespace

timestamp timestamp::parse(std::string_view text) {
    field_reader in(text);
    const std::int64_t year = in.digits(4, "year");
    in.expect('-', "'-' after the year");
    const unsigned month = in.digits(2, "month");
    in.expect('-', "'-' after the month");
    const unsigned day = in.digits(2, "day");
    in.expect('T', "'T' between date and time");
    const unsigned hour = in.digits(2, "hour");
    in.expect(':', "':' after the hour");
    const unsigned minute = in.digits(2, "minute");
    in.expect(':', "':' after the minute");
    const unsigned second = in.digits(2, "second");
    if (month < 1 || month > 12) in.fail("month out of range");
    if (day < 1 || day > days_in_month(year, month)) in.fail("day out of range");
    if (hour > 23) in.fail("hour out of range");
    if (minute > 59) in.fail("minute out of range");
    if (second > 59) in.fail("second out of range");

    std::int32_t nanos = 0;
    if (in.accept('.') || in.accept(',')) {
        if (!in.at_digit()) in.fail("missing digits after the decimal point");
        int count = 0;
        while (in.at_digit()) {
            const unsigned digit = in.digits(1, "fraction");
            // Digits past nanoseconds are accepted and dropped, as Go does.
            if (count++ < 9) nanos = nanos * 10 + static_cast<std::int32_t>(digit);
        }
        for (; count < 9; ++count)
            nanos *= 10;
    }

    std::int32_t offset = 0;
    if (!in.accept('Z')) {
        int sign = 1;
        if (in.accept('-')) {
            sign = -1;
        } else {
            in.expect('+', "'Z' or a UTC offset such as +02:00");
        }
        const unsigned offset_hours = in.digits(2, "offset hours");
        in.expect(':', "':' in the UTC offset");
        const unsigned offset_minutes = in.digits(2, "offset minutes");
        if (offset_hours > 23 || offset_minutes > 59) in.fail("UTC offset out of range");
        offset = sign * static_cast<std::int32_t>(offset_hours * 3600 + offset_minutes * 60);
    }
    if (!in.done()) in.fail("unexpected text after the timestamp");

    timestamp result;
    result.seconds_ =
        days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
    result.nanos_ = nanos;
    result.offset_ = offset;
    return result;
}

timestamp timestamp::from_unix(std::int64_t unix_seconds, std::int32_t nanoseconds) {
    timestamp result;
    result.seconds_ = unix_seconds + nanoseconds / 1'000'000'000;
    result.nanos_ = nanoseconds % 1'000'000'000;
    if (result.nanos_ < 0) {
        result.nanos_ += 1'000'000'000;
        result.seconds_ -= 1;
    }
    return result;
}

timestamp timestamp::now() {
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count();
    return from_unix(nanos / 1'000'000'000, static_cast<std::int32_t>(nanos % 1'000'000'000));
}

std::string timestamp::str() const {
    const std::int64_t local = seconds_ + offset_;
    std::int64_t days = local / 86400;
    std::int64_t seconds_of_day = local % 86400;
    if (seconds_of_day < 0) {
        seconds_of_day += 86400;
        days -= 1;
    }
    const civil_date date = civil_from_days(days);
    if (date.year < 0 || date.year > 9999) {
        throw invalid_value_error("timestamp", std::to_string(seconds_) + "s since 1970",
                                  "year " + std::to_string(date.year) +
                                      " is outside the range 0..9999 that RFC 3339 can write");
    }

    std::string out;
    append_padded(out, date.year, 4);
    out += '-';
    append_padded(out, date.month, 2);
    out += '-';
    append_padded(out, date.day, 2);
    out += 'T';
    append_padded(out, seconds_of_day / 3600, 2);
    out += ':';
    append_padded(out, seconds_of_day / 60 % 60, 2);
    out += ':';
    append_padded(out, seconds_of_day % 60, 2);
    if (nanos_ != 0) {
        std::string fraction;
        append_padded(fraction, nanos_, 9);
        fraction.erase(fraction.find_last_not_of('0') + 1);
        out += '.' + fraction;
    }
    if (offset_ == 0) {
        out += 'Z';
    } else {
        const std::int32_t magnitude = offset_ < 0 ? -offset_ : offset_;
        out += offset_ < 0 ? '-' : '+';
        append_padded(out, magnitude / 3600, 2);
        out += ':';
        append_padded(out, magnitude / 60 % 60, 2);
    }
    return out;
}

std::string format_go_duration(std::int64_t nanoseconds) {
    if (nanoseconds == 0) return "0s";
    const bool negative = nanoseconds < 0;
    // The magnitude as unsigned, so that the minimum int64 does not overflow.
    const std::uint64_t magnitude =
        negative ? ~static_cast<std::uint64_t>(nanoseconds) + 1 : nanoseconds;

    const auto with_fraction = [](std::uint64_t value, int precision) {
        std::uint64_t scale = 1;
        for (int i = 0; i < precision; ++i)
            scale *= 10;
        std::string out = std::to_string(value / scale);
        std::string fraction = std::to_string(value % scale);
        fraction.insert(0, precision - fraction.size(), '0');
        fraction.erase(fraction.find_last_not_of('0') + 1);
        if (!fraction.empty()) out += '.' + fraction;
        return out;
    };

    std::string out;
    if (magnitude < 1'000) {
        out = std::to_string(magnitude) + "ns";
    } else if (magnitude < 1'000'000) {
        out = with_fraction(magnitude, 3) + "\u00b5s";
    } else if (magnitude < 1'000'000'000) {
        out = with_fraction(magnitude, 6) + "ms";
    } else {
        const std::uint64_t total_seconds = magnitude / 1'000'000'000;
        const std::uint64_t minutes = total_seconds / 60;
        std::string seconds = with_fraction(magnitude % 60'000'000'000, 9) + "s";
        if (minutes == 0) {
            out = seconds;
        } else if (minutes < 60) {
            out = std::to_string(minutes) + "m" + seconds;
        } else {
            out = std::to_string(minutes / 60) + "h" + std::to_string(minutes % 60) + "m" + seconds;
        }
    }
    return negative ? "-" + out : out;
}

std::int64_t parse_go_duration(std::string_view text) {
    const auto fail = [&](const std::string& reason) -> std::int64_t {
        throw invalid_value_error("duration", std::string(text),
                                  reason + " (expected e.g. 30s, 1m30s, 1.5h or 300ms)");
    };
    std::string_view rest = text;
    bool negative = false;
    if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
        negative = rest[0] == '-';
        rest.remove_prefix(1);
    }
    if (rest == "0") return 0;
    if (rest.empty()) return fail("empty duration");

    struct unit {
        std::string_view name;
        std::uint64_t nanoseconds;
    };
    static constexpr std::array<unit, 8> units{{{"ns", 1},
                                                {"us", 1'000},
                                                {"\u00b5s", 1'000},
                                                {"\u03bcs", 1'000},
                                                {"ms", 1'000'000},
                                                {"s", 1'000'000'000},
                                                {"m", 60'000'000'000},
                                                {"h", 3'600'000'000'000}}};
    const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };

    wide_uint total = 0;
    constexpr wide_uint limit = static_cast<wide_uint>(INT64_MAX) + 1;
    while (!rest.empty()) {
        wide_uint whole = 0;
        wide_uint fraction = 0;
        wide_uint scale = 1;
        std::size_t i = 0;
        for (; i < rest.size() && is_digit(rest[i]); ++i) {
            whole = whole * 10 + static_cast<unsigned>(rest[i] - '0');
            if (whole > limit) return fail("duration out of range");
        }
        const bool had_whole = i > 0;
        bool had_fraction = false;
        if (i < rest.size() && rest[i] == '.') {
            ++i;
            for (; i < rest.size() && is_digit(rest[i]); ++i) {
                had_fraction = true;
                if (scale < 1'000'000'000'000'000'000ULL) {
                    fraction = fraction * 10 + static_cast<unsigned>(rest[i] - '0');
                    scale *= 10;
                }
            }
        }
        if (!had_whole && !had_fraction) return fail("a number must precede each unit");
        std::size_t unit_end = i;
        while (unit_end < rest.size() && rest[unit_end] != '.' && !is_digit(rest[unit_end])) {
            ++unit_end;
        }
        const std::string_view name = rest.substr(i, unit_end - i);
        if (name.empty()) return fail("missing unit");
        const unit* found = nullptr;
        for (const auto& candidate : units) {
            if (candidate.name == name) found = &candidate;
        }
        if (found == nullptr) return fail("unknown unit '" + std::string(name) + "'");
        total += whole * found->nanoseconds + fraction * found->nanoseconds / scale;
        if (total > limit) return fail("duration out of range");
        rest.remove_prefix(unit_end);
    }
    if (!negative && total == limit) return fail("duration out of range");
    const auto magnitude = static_cast<std::int64_t>(total == limit ? limit - 1 : total);
    if (negative) return total == limit ? INT64_MIN : -magnitude;
    return magnitude;
}

}  // namespace dockwright
