// UTF-8 decoding and encoding with the semantics of Go's unicode/utf8 package, which Docker's
// JSON encoder, word expander and pattern matcher rely on.
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

/// Appends the UTF-8 encoding of `rune`. A value that is not a Unicode scalar value is written
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

}  // namespace dockwright::detail
