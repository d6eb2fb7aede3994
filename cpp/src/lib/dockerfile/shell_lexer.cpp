// Word expansion with the results of BuildKit's shell.Lex: quotes, escapes, `$` substitutions
// and word splitting, one code point at a time.
#include <dockwright/dockerfile/detail/utf8.hpp>
#include <dockwright/dockerfile/shell_lexer.hpp>
#include <optional>
#include <utility>

#include "shell_pattern.hpp"

namespace dockwright {

namespace {

using detail::append_rune;

constexpr char32_t end_of_text = 0xFFFFFFFF;

/// Reads code points from a word. Invalid UTF-8 reads as U+FFFD and a leading byte order mark
/// is skipped, as with Go's text/scanner, which Docker uses.
class rune_scanner {
  public:
    explicit rune_scanner(std::string_view text) : text_(text) {
        if (peek() == U'\uFEFF') next();
    }

    [[nodiscard]] char32_t peek() const noexcept {
        if (position_ >= text_.size()) return end_of_text;
        return detail::decode_rune(text_.substr(position_)).value;
    }

    char32_t next() noexcept {
        if (position_ >= text_.size()) return end_of_text;
        const detail::decoded_rune rune = detail::decode_rune(text_.substr(position_));
        position_ += rune.width;
        return rune.value;
    }

  private:
    std::string_view text_;
    std::size_t position_ = 0;
};

/// Collects the words of ProcessWords: unquoted white space ends a word, and empty words are
/// dropped.
class word_splitter {
  public:
    /// Adds a character that splits when it is white space.
    void add_char(char32_t rune) {
        if (detail::is_space(rune)) {
            if (in_word_ && !current_.empty()) finish_word();
        } else {
            add_raw_char(rune);
        }
    }

    /// Adds a character that never splits (escaped or quoted).
    void add_raw_char(char32_t rune) {
        append_rune(current_, rune);
        in_word_ = true;
    }

    /// Adds the value of a substitution, which splits on its white space.
    void add_string(std::string_view text) {
        while (!text.empty()) {
            const detail::decoded_rune rune = detail::decode_rune(text);
            add_char(rune.value);
            text.remove_prefix(rune.width);
        }
    }

    /// Adds a quoted part, which never splits.
    void add_raw_string(std::string_view text) {
        current_ += text;
        in_word_ = true;
    }

    std::vector<std::string> take_words() {
        if (!current_.empty()) finish_word();
        return std::move(words_);
    }

  private:
    void finish_word() {
        words_.push_back(std::move(current_));
        current_.clear();
        in_word_ = false;
    }

    std::string current_;
    std::vector<std::string> words_;
    bool in_word_ = false;
};

bool is_special_parameter(char32_t rune) {
    switch (rune) {
        case U'@':
        case U'*':
        case U'#':
        case U'?':
        case U'-':
        case U'$':
        case U'!':
        case U'0':
            return true;
        default:
            return false;
    }
}

std::string rune_text(char32_t rune) {
    std::string text;
    append_rune(text, rune == end_of_text ? detail::replacement_char : rune);
    return text;
}

/// One expansion of one word.
class expander {
  public:
    expander(std::string_view word, const shell_environment& env,
             const shell_lexer_options& options)
        : word_(word), env_(env), options_(options), scanner_(word) {}

    expansion_result run() {
        auto [value, words] = process_until(end_of_text, false);
        return {std::move(value), std::move(words), std::move(matched_), std::move(unmatched_)};
    }

  private:
    [[noreturn]] void fail(std::string reason) const {
        throw expansion_error({}, "", std::move(reason), std::string(word_));
    }

    /// Processes text up to `stop` (consumed) or the end of the word. `raw_escapes` keeps
    /// escape characters in the output, for patterns that interpret them later.
    std::pair<std::string, std::vector<std::string>> process_until(char32_t stop,
                                                                   bool raw_escapes) {
        const bool saved_raw_escapes = std::exchange(raw_escapes_, raw_escapes);
        std::string result;
        word_splitter words;
        const char32_t escape = static_cast<unsigned char>(options_.escape);

        while (scanner_.peek() != end_of_text) {
            char32_t rune = scanner_.peek();
            if (stop != end_of_text && rune == stop) {
                scanner_.next();
                raw_escapes_ = saved_raw_escapes;
                return {std::move(result), words.take_words()};
            }
            if (rune == U'$') {
                const std::string value = process_dollar();
                result += value;
                words.add_string(value);
                continue;
            }
            if (rune == U'\'' || rune == U'"') {
                const std::string value =
                    rune == U'\'' ? process_single_quote() : process_double_quote();
                result += value;
                words.add_raw_string(value);
                continue;
            }

            scanner_.next();
            if (rune == escape) {
                if (raw_escapes_) {
                    words.add_raw_char(rune);
                    append_rune(result, rune);
                }
                rune = scanner_.next();
                if (rune == end_of_text) break;  // a trailing escape character is dropped
                words.add_raw_char(rune);
            } else {
                words.add_char(rune);
            }
            append_rune(result, rune);
        }

        raw_escapes_ = saved_raw_escapes;
        if (stop != end_of_text) {
            fail("unexpected end of statement while looking for matching " + rune_text(stop));
        }
        return {std::move(result), words.take_words()};
    }

    std::string process_single_quote() {
        scanner_.next();
        std::string result;
        while (true) {
            const char32_t rune = scanner_.next();
            if (rune == end_of_text) {
                fail("unexpected end of statement while looking for matching single-quote");
            }
            if (rune == U'\'') return result;
            append_rune(result, rune);
        }
    }

    std::string process_double_quote() {
        scanner_.next();
        std::string result;
        const char32_t escape = static_cast<unsigned char>(options_.escape);
        while (true) {
            const char32_t next = scanner_.peek();
            if (next == end_of_text) {
                fail("unexpected end of statement while looking for matching double-quote");
            }
            if (next == U'"') {
                scanner_.next();
                return result;
            }
            if (next == U'$') {
                result += process_dollar();
                continue;
            }

            char32_t rune = scanner_.next();
            if (rune == escape) {
                if (raw_escapes_) append_rune(result, rune);
                const char32_t escaped = scanner_.peek();
                if (escaped == end_of_text) continue;  // reported as an unterminated quote
                // Only `"`, `$` and the escape character itself can be escaped in quotes.
                if (escaped == U'"' || escaped == U'$' || escaped == escape) {
                    rune = scanner_.next();
                }
            }
            append_rune(result, rune);
        }
    }

    std::string process_name() {
        std::string name;
        while (scanner_.peek() != end_of_text) {
            const char32_t rune = scanner_.peek();
            if (name.empty() && detail::is_digit(rune)) {
                // A positional parameter: all its digits form the name.
                while (detail::is_digit(scanner_.peek()))
                    append_rune(name, scanner_.next());
                return name;
            }
            if (name.empty() && is_special_parameter(rune)) {
                append_rune(name, scanner_.next());
                return name;
            }
            if (!detail::is_letter(rune) && !detail::is_digit(rune) && rune != U'_') break;
            append_rune(name, scanner_.next());
        }
        return name;
    }

    std::optional<std::string_view> lookup(const std::string& name) {
        const auto value = env_.find(name);
        (value ? matched_ : unmatched_).insert(name);
        return value;
    }

    std::string process_dollar() {
        scanner_.next();
        if (scanner_.peek() != U'{') {
            const std::string name = process_name();
            if (name.empty()) return "$";
            return std::string(lookup(name).value_or(""));
        }

        scanner_.next();
        const char32_t first = scanner_.peek();
        if (first == end_of_text) fail("syntax error: missing '}'");
        if (first == U'{' || first == U'}' || first == U':') fail("syntax error: bad substitution");

        const std::string name = process_name();
        const char32_t modifier = scanner_.next();
        switch (modifier) {
            case U'}':
                return std::string(lookup(name).value_or(""));
            case U':':
            case U'+':
            case U'-':
            case U'?':
            case U'#':
            case U'%':
                return process_modifier(name, modifier);
            case U'/':
                return process_replacement(name);
            case end_of_text:
                // NOTE: Docker reports `unsupported modifier (\uFFFD) in substitution` here.
                fail("syntax error: missing '}'");
            default:
                fail("unsupported modifier (" + rune_text(modifier) + ") in substitution");
        }
    }

    /// Handles `${NAME<op>word}` for the operators `-`, `+`, `?`, their `:` forms, `#` and `%`.
    std::string process_modifier(const std::string& name, char32_t modifier) {
        std::string spelling = rune_text(modifier);
        const bool null_is_unset = modifier == U':';
        if (null_is_unset) {
            modifier = scanner_.next();
            spelling += rune_text(modifier);
        }
        const bool is_pattern = modifier == U'#' || modifier == U'%';
        if ((null_is_unset && is_pattern) || (is_pattern && !options_.pattern_operators)) {
            fail("unsupported modifier (" + spelling + ") in substitution");
        }
        std::string word = process_argument(U'}', is_pattern, "syntax error: missing '}'");

        const auto value = lookup(name);
        const bool empty_or_unset = !value || (null_is_unset && value->empty());
        switch (modifier) {
            case U'-':
                return empty_or_unset ? word : std::string(*value);
            case U'+':
                return empty_or_unset ? std::string() : word;
            case U'?':
                if (empty_or_unset) {
                    const char* fallback =
                        value ? "is not allowed to be empty" : "is not allowed to be unset";
                    fail(name + ": " + (word.empty() ? fallback : word));
                }
                return std::string(*value);
            case U'#':
            case U'%':
                return trim(word, std::string(value.value_or("")), modifier);
            default:
                fail("unsupported modifier (" + spelling + ") in substitution");
        }
    }

    std::string trim(std::string pattern, const std::string& value, char32_t modifier) {
        // `##` and `%%` remove the longest match, `#` and `%` the shortest.
        const bool greedy = !pattern.empty() && static_cast<char32_t>(pattern[0]) == modifier;
        if (greedy) pattern.erase(0, 1);
        try {
            return modifier == U'%' ? detail::trim_suffix(pattern, value, greedy)
                                    : detail::trim_prefix(pattern, value, greedy);
        } catch (const detail::shell_pattern_error& e) {
            fail("invalid pattern (" + pattern + ") in substitution: " + e.what());
        }
    }

    /// Handles `${NAME/pattern/replacement}` and `${NAME//pattern/replacement}`.
    std::string process_replacement(const std::string& name) {
        if (!options_.pattern_operators) fail("unsupported modifier (/) in substitution");
        const bool replace_all = scanner_.peek() == U'/';
        if (replace_all) scanner_.next();

        const std::string pattern =
            process_argument(U'/', true, "syntax error: missing '/' in ${}");
        const std::string replacement = process_argument(U'}', true, "syntax error: missing '}'");
        const std::string value(lookup(name).value_or(""));
        try {
            return replace_all ? detail::replace_all(pattern, value, replacement)
                               : detail::replace_first(pattern, value, replacement);
        } catch (const detail::shell_pattern_error& e) {
            fail("invalid pattern (" + pattern + ") in substitution: " + e.what());
        }
    }

    /// Processes the word inside `${...}` up to `stop`. Reaching the end of the word gives
    /// `missing`, while an error from a nested quote or substitution passes unchanged.
    std::string process_argument(char32_t stop, bool raw_escapes, const char* missing) {
        try {
            return process_until(stop, raw_escapes).first;
        } catch (const expansion_error&) {
            if (scanner_.peek() == end_of_text) fail(missing);
            throw;
        }
    }

    std::string_view word_;
    const shell_environment& env_;
    const shell_lexer_options& options_;
    rune_scanner scanner_;
    bool raw_escapes_ = false;
    std::set<std::string> matched_;
    std::set<std::string> unmatched_;
};

}  // namespace

std::string shell_lexer::expand(std::string_view word, const shell_environment& env) const {
    return expand_with_matches(word, env).value;
}

std::vector<std::string> shell_lexer::expand_words(std::string_view word,
                                                   const shell_environment& env) const {
    return expand_with_matches(word, env).words;
}

expansion_result shell_lexer::expand_with_matches(std::string_view word,
                                                  const shell_environment& env) const {
    return expander(word, env, options_).run();
}

}  // namespace dockwright
