// Go's strconv.Quote, strings.ToLower and argument-less Sprintf, as Docker's output uses them.
#include <algorithm>
#include <dockwright/dockerfile/detail/go_text.hpp>
#include <dockwright/dockerfile/detail/utf8.hpp>

namespace dockwright::detail {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex(std::string& out, char32_t value, int digits) {
    for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
        out += hex_digits[(value >> shift) & 0xF];
    }
}

bool is_ascii(std::string_view text) noexcept {
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

char32_t lower_rune(char32_t rune) noexcept {
    if (rune >= U'A' && rune <= U'Z') return rune + 0x20;
    if (rune == 0x130) return U'i';
    if (rune == 0x212A) return U'k';
    if ((rune >= 0xC0 && rune <= 0xDE && rune != 0xD7) ||
        (rune >= 0x391 && rune <= 0x3AB && rune != 0x3A2)) {
        return rune + 0x20;
    }
    if (rune >= 0x410 && rune <= 0x42F) return rune + 0x20;
    if (rune >= 0x400 && rune <= 0x40F) return rune + 0x50;
    return rune;
}

}  // namespace

bool is_go_printable(char32_t rune) noexcept {
    if (rune < 0x80) return rune >= 0x20 && rune < 0x7F;
    if (rune > 0x10FFFF) return false;
    const rune_range* begin = nonprintable_ranges;
    const rune_range* end = nonprintable_ranges + nonprintable_range_count;
    const rune_range* found =
        std::upper_bound(begin, end, rune,
                         [](char32_t value, const rune_range& range) { return value < range.low; });
    return found == begin || rune > (found - 1)->high;
}

void append_go_quoted(std::string& out, std::string_view text) {
    out += '"';
    while (!text.empty()) {
        const decoded_rune rune = decode_rune(text);
        if (rune.width == 1 && rune.value == replacement_char) {
            out += "\\x";
            append_hex(out, static_cast<unsigned char>(text[0]), 2);
            text.remove_prefix(1);
            continue;
        }
        const char32_t r = rune.value;
        if (r == U'"' || r == U'\\') {
            out += '\\';
            out += static_cast<char>(r);
        } else if (is_go_printable(r)) {
            out.append(text.substr(0, rune.width));
        } else {
            switch (r) {
                case U'\a':
                    out += "\\a";
                    break;
                case U'\b':
                    out += "\\b";
                    break;
                case U'\f':
                    out += "\\f";
                    break;
                case U'\n':
                    out += "\\n";
                    break;
                case U'\r':
                    out += "\\r";
                    break;
                case U'\t':
                    out += "\\t";
                    break;
                case U'\v':
                    out += "\\v";
                    break;
                default:
                    if (r < U' ' || r == 0x7F) {
                        out += "\\x";
                        append_hex(out, r, 2);
                    } else if (r < 0x10000) {
                        out += "\\u";
                        append_hex(out, r, 4);
                    } else {
                        out += "\\U";
                        append_hex(out, r, 8);
                    }
            }
        }
        text.remove_prefix(rune.width);
    }
    out += '"';
}

std::string go_quote(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    append_go_quoted(out, text);
    return out;
}

std::string go_to_lower(std::string_view text) {
    if (is_ascii(text)) {
        std::string out(text);
        for (char& c : out) {
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 0x20);
        }
        return out;
    }
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        const decoded_rune rune = decode_rune(text);
        append_rune(out, lower_rune(rune.value));
        text.remove_prefix(rune.width);
    }
    return out;
}

std::string go_sprintf_no_args(std::string_view format) {
    std::string out;
    out.reserve(format.size());
    std::size_t i = 0;
    while (i < format.size()) {
        if (format[i] != '%') {
            out += format[i++];
            continue;
        }
        ++i;
        // Flags, then width and precision, each a number or `*` (which needs a missing argument).
        std::string bad;
        while (i < format.size() &&
               std::string_view("#0+- ").find(format[i]) != std::string_view::npos) {
            ++i;
        }
        const auto skip_number = [&](const char* missing) {
            if (i < format.size() && format[i] == '*') {
                ++i;
                if (bad.empty()) bad = missing;
                return;
            }
            while (i < format.size() && format[i] >= '0' && format[i] <= '9')
                ++i;
        };
        skip_number("%!(BADWIDTH)");
        if (i < format.size() && format[i] == '.') {
            ++i;
            skip_number("%!(BADPREC)");
        }
        out += bad;
        if (i >= format.size()) {
            out += "%!(NOVERB)";
            break;
        }
        const decoded_rune verb = decode_rune(format.substr(i));
        if (verb.value == U'%') {
            out += '%';
        } else {
            out += "%!";
            append_rune(out, verb.value);
            out += "(MISSING)";
        }
        i += verb.width;
    }
    return out;
}

}  // namespace dockwright::detail
