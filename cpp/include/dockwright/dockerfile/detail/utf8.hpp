// UTF-8 decoding and character classes with the semantics of Go's unicode/utf8 and unicode
// packages, which Docker's word expander and pattern matcher use.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dockwright::detail {

/// U+FFFD, which Go substitutes for each byte of an invalid UTF-8 sequence.
inline constexpr char32_t replacement_char = U'\uFFFD';

/// One decoded code point and the number of bytes it took.
struct decoded_rune {
    char32_t value;
    std::size_t width;
};

/// Decodes the code point at the start of `text` as Go's utf8.DecodeRuneInString does: an
/// invalid, overlong or surrogate sequence yields U+FFFD with width 1. `text` must not be empty.
constexpr decoded_rune decode_rune(std::string_view text) noexcept {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    if (lead < 0x80) return {lead, 1};

    std::size_t width = 0;
    char32_t value = 0;
    char32_t min_value = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
        width = 2, value = lead & 0x1F, min_value = 0x80;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        width = 3, value = lead & 0x0F, min_value = 0x800;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        width = 4, value = lead & 0x07, min_value = 0x10000;
    } else {
        return {replacement_char, 1};
    }
    if (text.size() < width) return {replacement_char, 1};
    for (std::size_t i = 1; i < width; ++i) {
        if ((byte(i) & 0xC0) != 0x80) return {replacement_char, 1};
        value = (value << 6) | (byte(i) & 0x3F);
    }
    const bool surrogate = value >= 0xD800 && value <= 0xDFFF;
    if (value < min_value || value > 0x10FFFF || surrogate) return {replacement_char, 1};
    return {value, width};
}

/// Appends the UTF-8 encoding of `rune`; values that are not Unicode scalar values are written
/// as U+FFFD, as Go's utf8.AppendRune does.
inline void append_rune(std::string& out, char32_t rune) {
    if (rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF)) rune = replacement_char;
    if (rune < 0x80) {
        out += static_cast<char>(rune);
    } else if (rune < 0x800) {
        out += static_cast<char>(0xC0 | (rune >> 6));
        out += static_cast<char>(0x80 | (rune & 0x3F));
    } else if (rune < 0x10000) {
        out += static_cast<char>(0xE0 | (rune >> 12));
        out += static_cast<char>(0x80 | ((rune >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (rune & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (rune >> 18));
        out += static_cast<char>(0x80 | ((rune >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((rune >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (rune & 0x3F));
    }
}

/// Whether `rune` is white space by Go's unicode.IsSpace (the Unicode White_Space property).
constexpr bool is_space(char32_t rune) noexcept {
    switch (rune) {
        case U'\t':
        case U'\n':
        case U'\v':
        case U'\f':
        case U'\r':
        case U' ':
        case U'\u0085':
        case U'\u00A0':
        case U'\u1680':
        case U'\u2028':
        case U'\u2029':
        case U'\u202F':
        case U'\u205F':
        case U'\u3000':
            return true;
        default:
            return rune >= U'\u2000' && rune <= U'\u200A';
    }
}

/// Whether `rune` is a letter (Go's unicode.IsLetter). ASCII is exact; other code points use the
/// C library's Unicode tables, which differ from Go's in a few scripts.
bool is_letter(char32_t rune) noexcept;

/// Whether `rune` is an ASCII decimal digit.
/// NOTE: Go's unicode.IsDigit also accepts the other Unicode decimal digits; the C library files
/// those under letters, so is_letter() accepts them instead.
constexpr bool is_digit(char32_t rune) noexcept {
    return rune >= U'0' && rune <= U'9';
}

/// Removes leading and trailing white space as Go's strings.TrimSpace does.
std::string_view trim_space(std::string_view text) noexcept;

}  // namespace dockwright::detail
