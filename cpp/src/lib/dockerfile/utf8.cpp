// Unicode character classes for the word expander, backed by the C library's C.UTF-8 locale.
#include <locale.h>  // newlocale, iswalpha_l (POSIX)

#include <clocale>
#include <cwctype>
#include <dockwright/dockerfile/detail/utf8.hpp>

namespace dockwright::detail {

namespace {

/// The C.UTF-8 locale, created once and kept for the life of the process; null when the C
/// library lacks it, in which case only ASCII letters are recognised.
locale_t utf8_locale() noexcept {
    static const locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
    return locale;
}

}  // namespace

bool is_letter(char32_t rune) noexcept {
    if (rune < 0x80) return (rune >= U'a' && rune <= U'z') || (rune >= U'A' && rune <= U'Z');
    const locale_t locale = utf8_locale();
    if (locale == locale_t{} || rune > 0x10FFFF) return false;
    return iswalpha_l(static_cast<wint_t>(rune), locale) != 0;
}

std::string_view trim_space(std::string_view text) noexcept {
    while (!text.empty()) {
        const decoded_rune first = decode_rune(text);
        if (!is_space(first.value)) break;
        text.remove_prefix(first.width);
    }
    while (!text.empty()) {
        // Step back to the start of the last code point: at most 4 bytes, skipping continuation
        // bytes, then check that it decodes to exactly the remaining bytes.
        std::size_t start = text.size() - 1;
        while (start > 0 && text.size() - start < 4 &&
               (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
            --start;
        }
        const decoded_rune last = decode_rune(text.substr(start));
        if (start + last.width != text.size() || !is_space(last.value)) break;
        text.remove_suffix(last.width);
    }
    return text;
}

}  // namespace dockwright::detail
