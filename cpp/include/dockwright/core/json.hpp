// A JSON document tree with Go encoding/json semantics, and Go's exact encoder rules.
//
// Docker writes image configs with Go's encoding/json; an image ID is the SHA-256 of those
// bytes, so the encoder here reproduces Go's output byte for byte: HTML-safe escaping of
// `<`, `>` and `&`, `\u2028`/`\u2029`, `\u00XX` for control characters other than \n, \r and
// \t, no insignificant whitespace. The reader accepts exactly what Go's decoder accepts
// (RFC 8259 JSON) and replaces invalid UTF-8 in strings by U+FFFD as Go does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dockwright::json {

enum class kind { null, boolean, number, string, array, object };

/// Returns the Go name of a JSON kind as it appears in Go's type errors ("string", "number",
/// "object", "array", "bool", "null").
[[nodiscard]] std::string_view kind_name(kind k) noexcept;

/// One node of a parsed document. Numbers keep their source text so that integers of any size
/// and floats round-trip exactly; every node remembers the byte range it came from.
class value {
  public:
    using member = std::pair<std::string, value>;

    [[nodiscard]] json::kind kind() const noexcept { return kind_; }
    [[nodiscard]] bool is_null() const noexcept { return kind_ == json::kind::null; }
    [[nodiscard]] bool boolean() const noexcept { return boolean_; }
    /// The decoded text of a string, or the source text of a number.
    [[nodiscard]] const std::string& text() const noexcept { return text_; }
    [[nodiscard]] const std::vector<value>& items() const noexcept { return items_; }
    /// Object members in document order; a repeated key appears once per occurrence.
    [[nodiscard]] const std::vector<member>& members() const noexcept { return members_; }
    /// Byte offsets of this node in the parsed text: [begin, end).
    [[nodiscard]] std::size_t begin() const noexcept { return begin_; }
    [[nodiscard]] std::size_t end() const noexcept { return end_; }

  private:
    friend class reader;

    json::kind kind_ = json::kind::null;
    bool boolean_ = false;
    std::string text_;
    std::vector<value> items_;
    std::vector<member> members_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
};

/// Parses a complete JSON document. Throws json_error naming the byte offset and the
/// offending text on malformed input, including trailing data after the value.
[[nodiscard]] value parse(std::string_view text);

/// Returns `raw` (one JSON value) compacted and escaped as Go re-encodes a json.RawMessage:
/// whitespace outside strings removed, `<`, `>`, `&`, U+2028 and U+2029 escaped. The input
/// must be valid JSON (for example a range of a document parse() accepted).
[[nodiscard]] std::string compact(std::string_view raw);

/// Appends `text` as a Go-encoded JSON string literal, quotes included. Invalid UTF-8 becomes
/// U+FFFD written as its raw UTF-8 bytes (see the NOTE in json.cpp).
void append_string(std::string& out, std::string_view text);
/// Appends a Go-encoded integer.
void append_integer(std::string& out, std::int64_t number);

/// Returns `text` with every invalid UTF-8 sequence replaced by U+FFFD, as Go's decoder does.
[[nodiscard]] std::string sanitize_utf8(std::string_view text);

/// Returns a short, printable excerpt of `text` for error messages (at most `limit` bytes).
[[nodiscard]] std::string excerpt(std::string_view text, std::size_t limit = 60);

}  // namespace dockwright::json
