// Character classes with the semantics of Go's unicode package, which Docker's word expander
// and pattern matcher use, plus the UTF-8 helpers of core/utf8.hpp.
#pragma once

#include <dockwright/core/utf8.hpp>
#include <string_view>

namespace dockwright::detail {

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
