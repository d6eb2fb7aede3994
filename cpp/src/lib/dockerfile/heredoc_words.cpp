// Finding `<<WORD` here-document openers in RUN, COPY and ADD lines.
#include <algorithm>
#include <dockwright/dockerfile/detail/heredoc_words.hpp>
#include <dockwright/dockerfile/detail/line_parsers.hpp>
#include <limits>
#include <utility>

namespace dockwright::detail {

namespace {

constexpr bool is_word_break(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/// Copies `${...}` (with nested braces) starting at `pos`; returns the position after it.
std::size_t copy_braced_variable(std::string_view line, std::size_t pos, std::string& word) {
    int depth = 0;
    const std::size_t start = pos;
    for (pos += 1; pos < line.size(); ++pos) {
        if (line[pos] == '{') ++depth;
        if (line[pos] == '}' && --depth == 0) {
            ++pos;
            break;
        }
    }
    word.append(line.substr(start, pos - start));
    return pos;
}

std::size_t count_quotes(std::string_view word) {
    return static_cast<std::size_t>(std::count(word.begin(), word.end(), '\'') +
                                    std::count(word.begin(), word.end(), '"'));
}

/// Splits `line` as split_shell_words does and calls `visit` with each word as it completes,
/// reusing one buffer. Returns false for an unterminated quote; `visit` may have seen the
/// words before it by then.
template <typename Visitor>
bool for_each_shell_word(std::string_view line, bool raw_quotes, bool raw_escapes,
                         Visitor&& visit) {
    std::string word;
    bool in_word = false;
    std::size_t pos = 0;
    while (pos < line.size()) {
        const char c = line[pos];
        if (is_word_break(c)) {
            if (in_word) visit(std::as_const(word));
            word.clear();
            in_word = false;
            ++pos;
            continue;
        }
        in_word = true;
        if (c == '\\') {
            if (raw_escapes) word += c;
            if (pos + 1 < line.size()) word += line[pos + 1];
            pos += 2;
        } else if (c == '$' && pos + 1 < line.size() && line[pos + 1] == '{') {
            pos = copy_braced_variable(line, pos, word);
        } else if (c == '\'' || c == '"') {
            if (raw_quotes) word += c;
            std::size_t end = pos + 1;
            while (end < line.size() && line[end] != c) {
                if (c == '"' && line[end] == '\\' && end + 1 < line.size()) {
                    if (raw_escapes) word += '\\';
                    ++end;
                    word += line[end++];
                    continue;
                }
                const std::size_t stop = line.find_first_of(c == '"' ? "\"\\" : "'", end);
                const std::size_t run_end = stop == std::string_view::npos ? line.size() : stop;
                // A backslash right at the end is copied as it is, like any other character.
                const std::size_t copy_end = run_end == end ? end + 1 : run_end;
                word.append(line.substr(end, copy_end - end));
                end = copy_end;
            }
            if (end == line.size()) return false;
            if (raw_quotes) word += c;
            pos = end + 1;
        } else {
            // Copy the run of characters up to the next one with a meaning of its own.
            std::size_t end = pos + 1;
            while (end < line.size() && !is_word_break(line[end]) && line[end] != '\\' &&
                   line[end] != '$' && line[end] != '\'' && line[end] != '"') {
                ++end;
            }
            word.append(line.substr(pos, end - pos));
            pos = end;
        }
    }
    if (in_word) visit(std::as_const(word));
    return true;
}

/// Counts the leading ASCII digits of `word`.
std::size_t count_leading_digits(std::string_view word) noexcept {
    std::size_t digits = 0;
    while (digits < word.size() && word[digits] >= '0' && word[digits] <= '9')
        ++digits;
    return digits;
}

}  // namespace

std::optional<std::vector<std::string>> split_shell_words(std::string_view line, bool raw_quotes,
                                                          bool raw_escapes) {
    std::vector<std::string> words;
    if (!for_each_shell_word(line, raw_quotes, raw_escapes,
                             [&words](const std::string& word) { words.push_back(word); })) {
        return std::nullopt;
    }
    return words;
}

std::vector<heredoc> find_heredocs(std::string_view line) {
    std::vector<heredoc> found;
    // Only words of the form `<digits><<...` can open a heredoc, so only those are kept. They
    // are examined after the whole line has split, because a line with an unterminated quote
    // opens no heredoc at all.
    std::vector<std::string> candidates;
    const bool split =
        for_each_shell_word(line, true, true, [&candidates](const std::string& word) {
            if (word.compare(count_leading_digits(word), 2, "<<") == 0) candidates.push_back(word);
        });
    if (!split) return found;

    for (const std::string& word : candidates) {
        // The word must read `<digits><<[-]<rest>` where rest has no `<`.
        const std::size_t digits = count_leading_digits(word);
        std::size_t rest_start = digits + 2;
        const bool chomp = rest_start < word.size() && word[rest_start] == '-';
        if (chomp) ++rest_start;
        const std::string_view rest = std::string_view(word).substr(rest_start);
        if (rest.empty() || rest.find('<') != std::string_view::npos) continue;

        const auto plain = split_shell_words(rest, false, false);
        const auto quoted = split_shell_words(rest, true, false);
        if (!plain || !quoted) {
            throw line_error{"", "unterminated quote in heredoc delimiter", std::string(rest),
                             "unterminated quote in heredoc delimiter"};
        }
        if (plain->size() != 1 || quoted->size() != 1) continue;

        heredoc doc;
        doc.name = plain->front();
        doc.expand = count_quotes(plain->front()) == count_quotes(quoted->front());
        doc.chomp = chomp;
        unsigned long long descriptor = 0;
        for (std::size_t i = 0; i < digits; ++i) {
            descriptor = std::min<unsigned long long>(descriptor * 10 + (word[i] - '0'),
                                                      std::numeric_limits<unsigned>::max());
        }
        doc.file_descriptor = static_cast<unsigned>(descriptor);
        found.push_back(std::move(doc));
    }
    return found;
}

}  // namespace dockwright::detail
