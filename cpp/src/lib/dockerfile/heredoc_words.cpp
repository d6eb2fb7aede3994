// Finding `<<WORD` here-document openers in RUN, COPY and ADD lines.
#include <algorithm>
#include <dockwright/dockerfile/detail/heredoc_words.hpp>
#include <dockwright/dockerfile/detail/line_parsers.hpp>
#include <limits>

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

}  // namespace

std::optional<std::vector<std::string>> split_shell_words(std::string_view line, bool raw_quotes,
                                                          bool raw_escapes) {
    std::vector<std::string> words;
    std::string word;
    bool in_word = false;
    std::size_t pos = 0;
    while (pos < line.size()) {
        const char c = line[pos];
        if (is_word_break(c)) {
            if (in_word) words.push_back(std::move(word));
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
                }
                word += line[end++];
            }
            if (end == line.size()) return std::nullopt;
            if (raw_quotes) word += c;
            pos = end + 1;
        } else {
            word += c;
            ++pos;
        }
    }
    if (in_word) words.push_back(std::move(word));
    return words;
}

std::vector<heredoc> find_heredocs(std::string_view line) {
    std::vector<heredoc> found;
    const auto words = split_shell_words(line, true, true);
    if (!words) return found;

    for (const std::string& word : *words) {
        // The word must read `<digits><<[-]<rest>` where rest has no `<`.
        std::size_t digits = 0;
        while (digits < word.size() && word[digits] >= '0' && word[digits] <= '9')
            ++digits;
        if (word.compare(digits, 2, "<<") != 0) continue;
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
