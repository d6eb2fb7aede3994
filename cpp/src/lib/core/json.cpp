// The JSON reader and Go's encoder rules.
#include <charconv>
#include <dockwright/core/error.hpp>
#include <dockwright/core/json.hpp>
#include <dockwright/core/utf8.hpp>

namespace dockwright::json {

namespace {

using detail::append_rune;
using detail::replacement_char;

/// Decodes the UTF-8 sequence at `text[i]` (Go's utf8.DecodeRune: U+FFFD, 1 when invalid).
detail::decoded_rune decode_rune(std::string_view text, std::size_t i) {
    return detail::decode_rune(text.substr(i));
}

// Go's decoder has a nesting limit too; this one keeps the recursive reader well inside the
// default 8 MiB stack even under AddressSanitizer.
constexpr int max_depth = 1000;

void append_unicode_escape(std::string& out, unsigned code) {
    static constexpr std::string_view digits = "0123456789abcdef";
    out += "\\u";
    for (int shift = 12; shift >= 0; shift -= 4)
        out += digits[(code >> shift) & 0xF];
}

std::string describe_char(char c) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7F) return std::string("'") + c + "'";
    static constexpr std::string_view digits = "0123456789abcdef";
    return std::string("byte 0x") + digits[b >> 4] + digits[b & 0xF];
}

}  // namespace

/// A recursive-descent reader over the whole text.
class reader {
  public:
    explicit reader(std::string_view text) : text_(text) {}

    value read_document() {
        value result = read_value(0);
        skip_space();
        if (pos_ != text_.size()) {
            fail("unexpected data after the top-level value");
        }
        return result;
    }

  private:
    [[noreturn]] void fail(const std::string& reason) const {
        throw json_error("", reason, pos_ < text_.size() ? excerpt(text_.substr(pos_)) : "", pos_);
    }

    void skip_space() {
        while (pos_ < text_.size()) {
            const char c = text_[pos_];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
            ++pos_;
        }
    }

    bool consume_literal(std::string_view literal) {
        if (text_.substr(pos_, literal.size()) != literal) return false;
        pos_ += literal.size();
        return true;
    }

    value read_value(int depth) {
        skip_space();
        if (pos_ >= text_.size()) fail("unexpected end of JSON input");
        if (depth > max_depth) fail("nesting exceeds the maximum depth of 1000");

        value node;
        node.begin_ = pos_;
        const char c = text_[pos_];
        if (c == '{') {
            read_object(node, depth);
        } else if (c == '[') {
            read_array(node, depth);
        } else if (c == '"') {
            node.kind_ = kind::string;
            node.text_ = read_string();
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            node.kind_ = kind::number;
            node.text_ = read_number();
        } else if (consume_literal("true")) {
            node.kind_ = kind::boolean;
            node.boolean_ = true;
        } else if (consume_literal("false")) {
            node.kind_ = kind::boolean;
        } else if (consume_literal("null")) {
            node.kind_ = kind::null;
        } else {
            fail("invalid character " + describe_char(c) + " looking for the beginning of a value");
        }
        node.end_ = pos_;
        return node;
    }

    void read_object(value& node, int depth) {
        node.kind_ = kind::object;
        ++pos_;
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == '}') {
            ++pos_;
            return;
        }
        while (true) {
            skip_space();
            if (pos_ >= text_.size()) fail("unexpected end of JSON input");
            if (text_[pos_] != '"') {
                fail("invalid character " + describe_char(text_[pos_]) +
                     " looking for the beginning of an object key");
            }
            std::string key = read_string();
            skip_space();
            if (pos_ >= text_.size() || text_[pos_] != ':') fail("expected ':' after object key");
            ++pos_;
            node.members_.emplace_back(std::move(key), read_value(depth + 1));
            skip_space();
            if (pos_ >= text_.size()) fail("unexpected end of JSON input");
            if (text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (text_[pos_] == '}') {
                ++pos_;
                return;
            }
            fail("invalid character " + describe_char(text_[pos_]) +
                 " after object key:value pair");
        }
    }

    void read_array(value& node, int depth) {
        node.kind_ = kind::array;
        ++pos_;
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == ']') {
            ++pos_;
            return;
        }
        while (true) {
            node.items_.push_back(read_value(depth + 1));
            skip_space();
            if (pos_ >= text_.size()) fail("unexpected end of JSON input");
            if (text_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (text_[pos_] == ']') {
                ++pos_;
                return;
            }
            fail("invalid character " + describe_char(text_[pos_]) + " after array element");
        }
    }

    std::string read_number() {
        const std::size_t start = pos_;
        const auto digit = [&] {
            return pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9';
        };
        if (text_[pos_] == '-') ++pos_;
        if (!digit()) fail("invalid number: a digit must follow '-'");
        if (text_[pos_] == '0') {
            ++pos_;
        } else {
            while (digit())
                ++pos_;
        }
        if (pos_ < text_.size() && text_[pos_] == '.') {
            ++pos_;
            if (!digit()) fail("invalid number: a digit must follow the decimal point");
            while (digit())
                ++pos_;
        }
        if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
            ++pos_;
            if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
            if (!digit()) fail("invalid number: a digit must follow the exponent");
            while (digit())
                ++pos_;
        }
        return std::string(text_.substr(start, pos_ - start));
    }

    unsigned read_hex4() {
        if (pos_ + 4 > text_.size()) fail("unexpected end of JSON input in a \\u escape");
        unsigned code = 0;
        const auto* first = text_.data() + pos_;
        const auto [end, ec] = std::from_chars(first, first + 4, code, 16);
        if (ec != std::errc() || end != first + 4) fail("invalid \\u escape in a string");
        pos_ += 4;
        return code;
    }

    std::string read_string() {
        ++pos_;  // the opening quote
        std::string out;
        while (true) {
            if (pos_ >= text_.size()) fail("unexpected end of JSON input in a string");
            const char c = text_[pos_];
            const auto b = static_cast<unsigned char>(c);
            if (c == '"') {
                ++pos_;
                return out;
            }
            if (b < 0x20) fail("invalid control character " + describe_char(c) + " in a string");
            if (c == '\\') {
                read_escape(out);
                continue;
            }
            if (b < 0x80) {
                out += c;
                ++pos_;
                continue;
            }
            const auto [rune, length] = decode_rune(text_, pos_);
            append_rune(out, rune);
            pos_ += length;
        }
    }

    void read_escape(std::string& out) {
        ++pos_;
        if (pos_ >= text_.size()) fail("unexpected end of JSON input in a string");
        const char c = text_[pos_++];
        switch (c) {
            case '"':
                out += '"';
                return;
            case '\\':
                out += '\\';
                return;
            case '/':
                out += '/';
                return;
            case 'b':
                out += '\b';
                return;
            case 'f':
                out += '\f';
                return;
            case 'n':
                out += '\n';
                return;
            case 'r':
                out += '\r';
                return;
            case 't':
                out += '\t';
                return;
            case 'u':
                break;
            default:
                --pos_;
                fail("invalid escape character " + describe_char(c) + " in a string");
        }
        char32_t rune = read_hex4();
        if (rune >= 0xD800 && rune < 0xDC00) {
            // A high surrogate forms one code point with a following low surrogate escape;
            // alone it decodes to U+FFFD, as in Go.
            if (text_.substr(pos_, 2) == "\\u") {
                const std::size_t saved = pos_;
                pos_ += 2;
                const unsigned low = read_hex4();
                if (low >= 0xDC00 && low < 0xE000) {
                    append_rune(out, 0x10000 + ((rune - 0xD800) << 10) + (low - 0xDC00));
                    return;
                }
                pos_ = saved;
            }
            rune = replacement_char;
        } else if (rune >= 0xDC00 && rune < 0xE000) {
            rune = replacement_char;
        }
        append_rune(out, rune);
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

std::string_view kind_name(kind k) noexcept {
    switch (k) {
        case kind::null:
            return "null";
        case kind::boolean:
            return "bool";
        case kind::number:
            return "number";
        case kind::string:
            return "string";
        case kind::array:
            return "array";
        case kind::object:
            return "object";
    }
    return "value";
}

value parse(std::string_view text) {
    return reader(text).read_document();
}

void append_string(std::string& out, std::string_view text) {
    out += '"';
    std::size_t i = 0;
    while (i < text.size()) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80) {
            switch (b) {
                case '"':
                    out += "\\\"";
                    break;
                case '\\':
                    out += "\\\\";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                case '<':
                case '>':
                case '&':
                    append_unicode_escape(out, b);
                    break;
                default:
                    if (b < 0x20) {
                        append_unicode_escape(out, b);
                    } else {
                        out += static_cast<char>(b);
                    }
            }
            ++i;
            continue;
        }
        const auto [rune, length] = decode_rune(text, i);
        if (rune == 0x2028 || rune == 0x2029) {
            append_unicode_escape(out, static_cast<unsigned>(rune));
        } else if (rune == replacement_char && length == 1) {
            // NOTE: Go's encoder alone would write the escape \ufffd here. Docker's strings
            // reach the config after a JSON decode, which already replaced invalid bytes by
            // the raw character, so the bytes Docker writes are EF BF BD; so are ours.
            append_rune(out, replacement_char);
        } else {
            out.append(text.substr(i, length));
        }
        i += length;
    }
    out += '"';
}

void append_integer(std::string& out, std::int64_t number) {
    out += std::to_string(number);
}

std::string sanitize_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const auto [rune, length] = decode_rune(text, i);
        if (rune == replacement_char && length == 1) {
            append_rune(out, replacement_char);
        } else {
            out.append(text.substr(i, length));
        }
        i += length;
    }
    return out;
}

std::string compact(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    bool in_string = false;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (!in_string) {
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
            if (c == '"') in_string = true;
            out += c;
            continue;
        }
        if (c == '\\') {
            out += c;
            if (i + 1 < raw.size()) out += raw[++i];
            continue;
        }
        if (c == '"') in_string = false;
        if (c == '<' || c == '>' || c == '&') {
            append_unicode_escape(out, static_cast<unsigned char>(c));
            continue;
        }
        if (c == '\xE2' && i + 2 < raw.size() && raw[i + 1] == '\x80' &&
            (raw[i + 2] == '\xA8' || raw[i + 2] == '\xA9')) {
            append_unicode_escape(out, raw[i + 2] == '\xA8' ? 0x2028 : 0x2029);
            i += 2;
            continue;
        }
        out += c;
    }
    return out;
}

std::string excerpt(std::string_view text, std::size_t limit) {
    std::string out;
    for (char c : text.substr(0, limit)) {
        const auto b = static_cast<unsigned char>(c);
        out += (b < 0x20 || b == 0x7F) ? '?' : c;
    }
    if (text.size() > limit) out += "...";
    return out;
}

}  // namespace dockwright::json
