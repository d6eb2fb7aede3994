// Shell patterns (`*`, `?`, `\` escapes) for the `#`, `%` and `/` operators of word expansion.
//
// Docker converts the pattern into a Go regular expression and runs Go's leftmost-first engine,
// so `*` is lazy for `#` and `%` and greedy for `##`, `%%` and `/`, and neither `*` nor `?`
// matches a newline. This file reproduces those results with a memoised backtracking matcher
// over code points instead of a regex library.
#include "shell_pattern.hpp"

#include <algorithm>
#include <cstdint>
#include <dockwright/dockerfile/detail/utf8.hpp>
#include <optional>
#include <utility>
#include <vector>

namespace dockwright::detail {

namespace {

constexpr char32_t end_of_text = 0xFFFFFFFF;
constexpr char32_t byte_order_mark = U'\uFEFF';

/// Decodes `text` into code points; invalid bytes become U+FFFD, as a Go []rune conversion does.
std::vector<char32_t> to_runes(std::string_view text) {
    std::vector<char32_t> runes;
    while (!text.empty()) {
        const decoded_rune rune = decode_rune(text);
        runes.push_back(rune.value);
        text.remove_prefix(rune.width);
    }
    return runes;
}

std::string from_runes(const std::vector<char32_t>& runes) {
    std::string text;
    for (char32_t rune : runes)
        append_rune(text, rune);
    return text;
}

struct token {
    enum class kind { literal, any_rune, any_run } type;
    char32_t rune = 0;
};

/// Converts the pattern text into tokens. A leading byte order mark is dropped, as Go's
/// text/scanner does. `\}` and `\/` stand for `}` and `/`; `\*`, `\?` and `\\` are literals.
std::vector<token> compile(std::string_view pattern) {
    std::vector<char32_t> runes = to_runes(pattern);
    if (!runes.empty() && runes.front() == byte_order_mark) runes.erase(runes.begin());

    std::vector<token> tokens;
    for (std::size_t i = 0; i < runes.size(); ++i) {
        const char32_t rune = runes[i];
        if (rune == U'*') {
            tokens.push_back({token::kind::any_run});
        } else if (rune == U'?') {
            tokens.push_back({token::kind::any_rune});
        } else if (rune == U'\\') {
            const char32_t next = i + 1 < runes.size() ? runes[i + 1] : end_of_text;
            if (next == U'}' || next == U'/') continue;
            ++i;
            if (next != U'*' && next != U'?' && next != U'\\') {
                std::string reason = "invalid escape '\\";
                append_rune(reason, next == end_of_text ? replacement_char : next);
                throw shell_pattern_error(reason + "'");
            }
            tokens.push_back({token::kind::literal, next});
        } else {
            tokens.push_back({token::kind::literal, rune});
        }
    }
    return tokens;
}

/// Finds leftmost-first matches of one token list in one value.
class matcher {
  public:
    matcher(std::vector<token> tokens, std::string_view value, bool greedy)
        : tokens_(std::move(tokens)), greedy_(greedy) {
        std::size_t offset = 0;
        while (offset < value.size()) {
            const decoded_rune rune = decode_rune(value.substr(offset));
            runes_.push_back(rune.value);
            offsets_.push_back(offset);
            offset += rune.width;
        }
        offsets_.push_back(offset);
        memo_.assign((tokens_.size() + 1) * (runes_.size() + 1), unknown);
    }

    /// Finds the code-point range of the first match that starts at or after the code point
    /// `start`; with `anchored` only a match starting exactly there counts.
    std::optional<std::pair<std::size_t, std::size_t>> find(std::size_t start, bool anchored) {
        for (std::size_t first = start; first <= runes_.size(); ++first) {
            const std::int32_t end = match(0, first);
            if (end >= 0) return std::pair{first, static_cast<std::size_t>(end)};
            if (anchored) break;
        }
        return std::nullopt;
    }

    [[nodiscard]] std::size_t rune_count() const noexcept { return runes_.size(); }
    [[nodiscard]] std::size_t offset(std::size_t rune) const noexcept { return offsets_[rune]; }

  private:
    static constexpr std::int32_t unknown = -2;
    static constexpr std::int32_t no_match = -1;

    /// Returns the end of the preferred match of tokens [t, end) at code point i, or no_match.
    std::int32_t match(std::size_t t, std::size_t i) {
        if (t == tokens_.size()) return static_cast<std::int32_t>(i);
        std::int32_t& cached = memo_[t * (runes_.size() + 1) + i];
        if (cached == unknown) cached = match_uncached(t, i);
        return cached;
    }

    std::int32_t match_uncached(std::size_t t, std::size_t i) {
        const token& current = tokens_[t];
        const bool has_rune = i < runes_.size();
        switch (current.type) {
            case token::kind::literal:
                return has_rune && runes_[i] == current.rune ? match(t + 1, i + 1) : no_match;
            case token::kind::any_rune:
                return has_rune && runes_[i] != U'\n' ? match(t + 1, i + 1) : no_match;
            case token::kind::any_run:
                break;
        }

        std::size_t longest = i;
        while (longest < runes_.size() && runes_[longest] != U'\n')
            ++longest;
        for (std::size_t n = 0; n <= longest - i; ++n) {
            const std::size_t end = greedy_ ? longest - n : i + n;
            const std::int32_t found = match(t + 1, end);
            if (found >= 0) return found;
        }
        return no_match;
    }

    std::vector<token> tokens_;
    bool greedy_;
    std::vector<char32_t> runes_;
    std::vector<std::size_t> offsets_;
    std::vector<std::int32_t> memo_;
};

/// Reverses a pattern by code points, keeping each `\x` pair in order (`a\*c` becomes `c\*a`).
std::string reverse_pattern(std::string_view pattern) {
    const std::vector<char32_t> runes = to_runes(pattern);
    std::vector<char32_t> reversed(runes.size());
    const std::size_t last = runes.size() - 1;
    for (std::size_t i = 0; i < runes.size();) {
        if (runes[i] == U'\\' && i != last) {
            reversed[last - i - 1] = U'\\';
            reversed[last - i] = runes[i + 1];
            i += 2;
        } else {
            reversed[last - i] = runes[i];
            ++i;
        }
    }
    return from_runes(reversed);
}

std::string reverse_runes(std::string_view text) {
    std::vector<char32_t> runes = to_runes(text);
    std::reverse(runes.begin(), runes.end());
    return from_runes(runes);
}

/// Reads a Go regexp template reference after `$`: `name`, `{name}`. Returns the name and the
/// text after it, or nothing when the reference is malformed.
std::optional<std::pair<std::string_view, std::string_view>> template_name(std::string_view text) {
    const bool braced = !text.empty() && text.front() == '{';
    if (braced) text.remove_prefix(1);
    std::size_t length = 0;
    while (length < text.size()) {
        const decoded_rune rune = decode_rune(text.substr(length));
        if (!is_letter(rune.value) && !is_digit(rune.value) && rune.value != U'_') break;
        length += rune.width;
    }
    if (length == 0) return std::nullopt;
    std::string_view name = text.substr(0, length);
    text.remove_prefix(length);
    if (braced) {
        if (text.empty() || text.front() != '}') return std::nullopt;
        text.remove_prefix(1);
    }
    return std::pair{name, text};
}

/// Expands a Go regexp template for one match. The patterns have no groups, so only group 0
/// (the whole match) has text.
void append_template(std::string& out, std::string_view replacement, std::string_view matched) {
    while (true) {
        const std::size_t dollar = replacement.find('$');
        out += replacement.substr(0, dollar);
        if (dollar == std::string_view::npos) return;
        replacement.remove_prefix(dollar + 1);

        if (!replacement.empty() && replacement.front() == '$') {
            out += '$';
            replacement.remove_prefix(1);
            continue;
        }
        const auto reference = template_name(replacement);
        if (!reference) {
            out += '$';
            continue;
        }
        if (reference->first == "0") out += matched;
        replacement = reference->second;
    }
}

}  // namespace

std::string trim_prefix(std::string_view pattern, std::string_view value, bool greedy) {
    matcher search(compile(pattern), value, greedy);
    const auto found = search.find(0, true);
    if (!found) return std::string(value);
    return std::string(value.substr(search.offset(found->second)));
}

std::string trim_suffix(std::string_view pattern, std::string_view value, bool greedy) {
    // Docker reverses both strings to turn the rightmost search into a leftmost one; a
    // reversal by code points also replaces invalid UTF-8 in `value` with U+FFFD.
    const std::string reversed_value = reverse_runes(value);
    return reverse_runes(trim_prefix(reverse_pattern(pattern), reversed_value, greedy));
}

std::string replace_first(std::string_view pattern, std::string_view value,
                          std::string_view replacement) {
    matcher search(compile(pattern), value, true);
    const auto found = search.find(0, false);
    if (!found) return std::string(value);
    const std::size_t begin = search.offset(found->first);
    const std::size_t end = search.offset(found->second);
    std::string out(value.substr(0, begin));
    out += replacement;
    out += value.substr(end);
    return out;
}

std::string replace_all(std::string_view pattern, std::string_view value,
                        std::string_view replacement) {
    matcher search(compile(pattern), value, true);
    std::string out;
    std::size_t last_end = 0;  // code point index where the previous match ended
    std::size_t position = 0;
    while (position <= search.rune_count()) {
        const auto found = search.find(position, false);
        if (!found) break;
        const auto [begin, end] = *found;
        out +=
            value.substr(search.offset(last_end), search.offset(begin) - search.offset(last_end));
        // As Go's ReplaceAll: no replacement for an empty match right after a previous match.
        if (end > last_end || begin == 0) {
            const std::size_t match_begin = search.offset(begin);
            append_template(out, replacement,
                            value.substr(match_begin, search.offset(end) - match_begin));
        }
        last_end = end;
        position = std::max(position + 1, end);
    }
    out += value.substr(search.offset(last_end));
    return out;
}

}  // namespace dockwright::detail
