// Text functions of Go's standard library that Docker's parser output depends on: quoting
// (strconv.Quote), lower-casing (strings.ToLower) and printf without arguments.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dockwright::detail {

/// An inclusive range of code points.
struct rune_range {
    char32_t low;
    char32_t high;
};

/// The non-printable code points above U+007F, sorted (generated table).
extern const rune_range nonprintable_ranges[];
/// The number of entries in nonprintable_ranges.
extern const std::size_t nonprintable_range_count;

/// Whether Go's unicode.IsPrint accepts `rune`: letters, marks, numbers, punctuation, symbols
/// and the ASCII space.
bool is_go_printable(char32_t rune) noexcept;

/// Appends `text` quoted as Go's strconv.Quote does: double quotes, `\"`, `\\`, the C escapes,
/// `\xNN` for control and invalid bytes, `\uXXXX` or `\UXXXXXXXX` for other non-printable runes.
void append_go_quoted(std::string& out, std::string_view text);

/// Returns `text` quoted as Go's strconv.Quote does.
std::string go_quote(std::string_view text);

/// Lower-cases `text` as Go's strings.ToLower does for ASCII, Latin-1, Greek and Cyrillic, and
/// for the two non-ASCII letters whose lower case is ASCII (U+0130, U+212A). Invalid UTF-8
/// becomes U+FFFD when the text is not pure ASCII, as in Go.
/// NOTE: other scripts keep their case, where Go would lower-case them.
std::string go_to_lower(std::string_view text);

/// Formats `format` as Go's fmt.Sprintf(format) with no arguments: `%%` becomes `%`, and every
/// other verb becomes `%!v(MISSING)`. Docker 20.10 prints its parser warnings this way.
std::string go_sprintf_no_args(std::string_view format);

}  // namespace dockwright::detail
