// The exec (JSON array) form of an instruction, decoded as Go's encoding/json decodes it into
// []interface{}: strict JSON syntax, first value only, invalid UTF-8 replaced by U+FFFD.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <dockwright/dockerfile/detail/line_parsers.hpp>
#include <dockwright/dockerfile/detail/utf8.hpp>
#include <string>
#include <vector>

namespace dockwright::detail {

namespace {

/// Go's json package rejects documents nested deeper than this.
constexpr std::size_t max_json_depth = 10000;

class json_array_reader {
  public:
    explicit json_array_reader(std::string_view text) : text_(text) {}

    json_array_status read(std::vector<std::string>& words);

  private:
    [[nodiscard]] bool at_end() const noexcept { return pos_ >= text_.size(); }
    [[nodiscard]] char peek() const noexcept { return text_[pos_]; }

    void skip_space() noexcept {
        while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
            ++pos_;
    }

    bool read_string(std::string* decoded);
    bool read_escape(std::string* decoded);
    bool read_number();
    bool read_literal(std::string_view word);
    int read_hex4(std::size_t at) const noexcept;

    std::string_view text_;
    std::size_t pos_ = 0;
    bool overflow_ = false;
};

int json_array_reader::read_hex4(std::size_t at) const noexcept {
    if (at + 6 > text_.size() || text_[at] != '\\' || text_[at + 1] != 'u') return -1;
    int value = 0;
    for (std::size_t i = at + 2; i < at + 6; ++i) {
        const char c = text_[i];
        value <<= 4;
        if (c >= '0' && c <= '9') {
            value |= c - '0';
        } else if (c >= 'a' && c <= 'f') {
            value |= c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            value |= c - 'A' + 10;
        } else {
            return -1;
        }
    }
    return value;
}

bool json_array_reader::read_escape(std::string* decoded) {
    // pos_ is at the backslash.
    if (pos_ + 1 >= text_.size()) return false;
    const char kind = text_[pos_ + 1];
    const auto put = [&](char c) {
        if (decoded) *decoded += c;
        pos_ += 2;
        return true;
    };
    switch (kind) {
        case '"':
            return put('"');
        case '\\':
            return put('\\');
        case '/':
            return put('/');
        case 'b':
            return put('\b');
        case 'f':
            return put('\f');
        case 'n':
            return put('\n');
        case 'r':
            return put('\r');
        case 't':
            return put('\t');
        case 'u':
            break;
        default:
            return false;
    }
    const int first = read_hex4(pos_);
    if (first < 0) return false;
    pos_ += 6;
    char32_t rune = static_cast<char32_t>(first);
    if (rune >= 0xD800 && rune < 0xE000) {
        const int second = read_hex4(pos_);
        if (rune < 0xDC00 && second >= 0xDC00 && second < 0xE000) {
            rune = 0x10000 + ((rune - 0xD800) << 10) + (static_cast<char32_t>(second) - 0xDC00);
            pos_ += 6;
        } else {
            rune = replacement_char;
        }
    }
    if (decoded) append_rune(*decoded, rune);
    return true;
}

bool json_array_reader::read_string(std::string* decoded) {
    ++pos_;  // the opening quote
    while (!at_end()) {
        const auto byte = static_cast<unsigned char>(peek());
        if (byte == '"') {
            ++pos_;
            return true;
        }
        if (byte < 0x20) return false;
        if (byte == '\\') {
            if (!read_escape(decoded)) return false;
            continue;
        }
        if (byte < 0x80) {
            // Copy the whole run of plain ASCII characters at once.
            std::size_t end = pos_ + 1;
            while (end < text_.size()) {
                const auto next = static_cast<unsigned char>(text_[end]);
                if (next < 0x20 || next >= 0x80 || next == '"' || next == '\\') break;
                ++end;
            }
            if (decoded) decoded->append(text_.substr(pos_, end - pos_));
            pos_ = end;
            continue;
        }
        const decoded_rune rune = decode_rune(text_.substr(pos_));
        if (decoded) append_rune(*decoded, rune.value);
        pos_ += rune.width;
    }
    return false;
}

bool json_array_reader::read_number() {
    const std::size_t start = pos_;
    const auto digits = [&] {
        const std::size_t from = pos_;
        while (!at_end() && peek() >= '0' && peek() <= '9')
            ++pos_;
        return pos_ > from;
    };
    if (peek() == '-') ++pos_;
    if (at_end()) return false;
    if (peek() == '0') {
        ++pos_;
    } else if (!digits()) {
        return false;
    }
    if (!at_end() && peek() == '.') {
        ++pos_;
        if (!digits()) return false;
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
        ++pos_;
        if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
        if (!digits()) return false;
    }
    // Go decodes numbers into float64 and reports a type error when the value is out of range.
    const std::string number(text_.substr(start, pos_ - start));
    if (std::isinf(std::strtod(number.c_str(), nullptr))) overflow_ = true;
    return true;
}

bool json_array_reader::read_literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
}

json_array_status json_array_reader::read(std::vector<std::string>& words) {
    // The caller has checked that the text starts with '['. Containers are tracked on an
    // explicit stack so that deep nesting cannot exhaust the call stack. A string keeps a
    // shallow stack in its inline buffer, without a heap allocation.
    std::string open(1, '[');
    ++pos_;
    bool only_strings = true;
    std::vector<std::string> result;
    // Reserve one element more than the commas before the first `]`, up to 16. That is exact
    // for a flat array of strings without commas in them and only a hint otherwise.
    const std::size_t first_close = std::min(text_.find(']'), text_.size());
    const auto commas = std::count(text_.begin(), text_.begin() + first_close, ',');
    result.reserve(std::min<std::size_t>(static_cast<std::size_t>(commas) + 1, 16));

    enum class expect { first_or_close, value, after_value } state = expect::first_or_close;
    while (true) {
        skip_space();
        if (at_end()) return json_array_status::not_json;
        char c = peek();

        if (state == expect::after_value) {
            if (open.empty()) break;
            const char closer = open.back() == '[' ? ']' : '}';
            if (c == closer) {
                ++pos_;
                open.pop_back();
                if (open.empty()) break;
                continue;
            }
            if (c != ',') return json_array_status::not_json;
            ++pos_;
            state = expect::value;
            if (open.back() == '{') {
                skip_space();
                if (at_end() || peek() != '"' || !read_string(nullptr)) {
                    return json_array_status::not_json;
                }
                skip_space();
                if (at_end() || peek() != ':') return json_array_status::not_json;
                ++pos_;
            }
            continue;
        }

        if (state == expect::first_or_close) {
            const char closer = open.back() == '[' ? ']' : '}';
            if (c == closer) {
                ++pos_;
                open.pop_back();
                state = expect::after_value;
                if (open.empty()) break;
                continue;
            }
            if (open.back() == '{') {
                if (c != '"' || !read_string(nullptr)) return json_array_status::not_json;
                skip_space();
                if (at_end() || peek() != ':') return json_array_status::not_json;
                ++pos_;
                skip_space();
                if (at_end()) return json_array_status::not_json;
                c = peek();
            }
        }

        // A value starts here.
        const bool element = open.size() == 1;
        if (c == '[' || c == '{') {
            if (open.size() >= max_json_depth) return json_array_status::not_json;
            if (element) only_strings = false;
            open.push_back(c);
            ++pos_;
            state = expect::first_or_close;
            continue;
        }
        bool ok = false;
        if (c == '"') {
            std::string decoded;
            ok = read_string(element ? &decoded : nullptr);
            if (ok && element) result.push_back(std::move(decoded));
        } else {
            if (element) only_strings = false;
            if (c == '-' || (c >= '0' && c <= '9')) {
                ok = read_number();
            } else if (c == 't') {
                ok = read_literal("true");
            } else if (c == 'f') {
                ok = read_literal("false");
            } else if (c == 'n') {
                ok = read_literal("null");
            }
        }
        if (!ok) return json_array_status::not_json;
        state = expect::after_value;
    }

    if (overflow_) return json_array_status::not_json;
    if (!only_strings) return json_array_status::not_string_array;
    words = std::move(result);
    return json_array_status::ok;
}

}  // namespace

json_array_status parse_json_array(std::string_view text, std::vector<std::string>& words) {
    while (!text.empty()) {
        const decoded_rune rune = decode_rune(text);
        if (!is_space(rune.value)) break;
        text.remove_prefix(rune.width);
    }
    if (text.empty() || text.front() != '[') return json_array_status::not_json;
    return json_array_reader(text).read(words);
}

}  // namespace dockwright::detail
