// The per-instruction line parsers: how each keyword's argument text becomes argument words.
#include <dockwright/dockerfile/detail/go_text.hpp>
#include <dockwright/dockerfile/detail/line_parsers.hpp>
#include <dockwright/dockerfile/detail/utf8.hpp>
#include <string>
#include <vector>

namespace dockwright::detail {

namespace {

/// ONBUILD may wrap ONBUILD at parse time; deeper chains than this are rejected so that the
/// recursive tree cannot exhaust the stack. Docker rejects any ONBUILD ONBUILD later anyway.
constexpr int max_trigger_depth = 256;

/// Go's unicode.IsSpace applied to a single byte taken as a rune (Latin-1), as Docker's flag
/// and HEALTHCHECK scanners do.
constexpr bool is_space_byte(char c) noexcept {
    return is_space(static_cast<unsigned char>(c));
}

/// Whether `c` is white space for Docker's reWhitespace, `[\t\v\f\r ]`.
constexpr bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/// Returns the end of the run of ASCII bytes from `pos` on for which `ordinary` returns true.
/// The scanners below copy such bytes unchanged, so they append a whole run at once.
template <typename Predicate>
std::size_t ascii_run_end(std::string_view text, std::size_t pos, Predicate ordinary) noexcept {
    while (pos < text.size() && static_cast<unsigned char>(text[pos]) < 0x80 &&
           ordinary(text[pos])) {
        ++pos;
    }
    return pos;
}

/// Estimates the number of words in `text` as one more than its runs of ASCII white space, at
/// most 16, for reserving room. Quotes make the estimate too high and other white space too
/// low, which costs only a spare slot or a reallocation.
std::size_t estimate_word_count(std::string_view text) noexcept {
    constexpr std::size_t max_estimate = 16;
    std::size_t count = 1;
    for (std::size_t i = 1; i < text.size() && count < max_estimate; ++i) {
        if (is_blank(text[i - 1]) && !is_blank(text[i])) ++count;
    }
    return count;
}

std::string ascii_upper(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 0x20);
    }
    return out;
}

/// Splits at runs of `[\t\v\f\r ]`, as Go's regexp Split(text, -1) does on trimmed text.
std::vector<std::string> split_blanks(std::string_view text) {
    std::size_t blank_runs = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (is_blank(text[i]) && (i == 0 || !is_blank(text[i - 1]))) ++blank_runs;
    }
    std::vector<std::string> words;
    words.reserve(blank_runs + 1);
    std::size_t start = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        if (!is_blank(text[i])) {
            ++i;
            continue;
        }
        words.emplace_back(text.substr(start, i - start));
        while (i < text.size() && is_blank(text[i]))
            ++i;
        start = i;
    }
    words.emplace_back(text.substr(start));
    return words;
}

/// Docker's extractBuilderFlags: reads `--flag` words from the start of `line`, byte by byte,
/// and returns the text after them. Quotes group words and a backslash escapes one byte.
std::string_view extract_flags(std::string_view line, std::vector<std::string>& flags) {
    enum class phase { spaces, word, quote } state = phase::spaces;
    std::string word;
    char quote = 0;
    bool blank_ok = false;
    // Go appends each byte as a rune, so bytes from 0x80 up become two-byte UTF-8 (Latin-1).
    const auto append_byte = [&](char c) { append_rune(word, static_cast<unsigned char>(c)); };

    for (std::size_t pos = 0; pos <= line.size(); ++pos) {
        const bool end = pos == line.size();
        const char ch = end ? '\0' : line[pos];
        if (state == phase::spaces) {
            if (end) break;
            if (is_space_byte(ch)) continue;
            if (ch != '-' || pos + 1 == line.size() || line[pos + 1] != '-') {
                return line.substr(pos);
            }
            state = phase::word;
        }
        if (end) {
            if (word != "--" && (blank_ok || !word.empty())) flags.push_back(word);
            break;
        }
        if (state == phase::word) {
            const std::size_t run = ascii_run_end(line, pos, [](char c) {
                return !is_space_byte(c) && c != '\'' && c != '"' && c != '\\';
            });
            if (run > pos) {
                word.append(line.substr(pos, run - pos));
                pos = run - 1;
                continue;
            }
            if (is_space_byte(ch)) {
                state = phase::spaces;
                if (word == "--") return line.substr(pos);
                if (blank_ok || !word.empty()) flags.push_back(word);
                word.clear();
                blank_ok = false;
                continue;
            }
            if (ch == '\'' || ch == '"') {
                quote = ch;
                blank_ok = true;
                state = phase::quote;
                continue;
            }
            if (ch == '\\') {
                if (pos + 1 == line.size()) continue;
                ++pos;
            }
            append_byte(line[pos]);
            continue;
        }
        // Inside quotes.
        const std::size_t run =
            ascii_run_end(line, pos, [quote](char c) { return c != quote && c != '\\'; });
        if (run > pos) {
            word.append(line.substr(pos, run - pos));
            pos = run - 1;
            continue;
        }
        if (ch == quote) {
            state = phase::word;
            continue;
        }
        if (ch == '\\') {
            if (pos + 1 == line.size()) {
                state = phase::word;
                continue;
            }
            ++pos;
        }
        append_byte(line[pos]);
    }
    return {};
}

[[noreturn]] void reject(std::string_view keyword, std::string reason, std::string_view value,
                         std::string docker_message) {
    throw line_error{ascii_upper(keyword), std::move(reason), std::string(value),
                     std::move(docker_message)};
}

const char* const not_string_array_message =
    "when using JSON array syntax, arrays must be comprised of strings only";

/// Shell form or exec form: one word holding the text, or the JSON array's strings.
void parse_maybe_json(ast_node& node, std::string_view rest) {
    if (rest.empty()) return;
    std::vector<std::string> words;
    switch (parse_json_array(rest, words)) {
        case json_array_status::ok:
            node.arguments = std::move(words);
            node.json = true;
            return;
        case json_array_status::not_string_array:
            reject(node.keyword, "JSON array must contain only strings", rest,
                   not_string_array_message);
        case json_array_status::not_json:
            node.arguments.emplace_back(rest);
            return;
    }
}

/// Exec form, or else words split at white space (ADD, COPY, VOLUME).
void parse_maybe_json_to_list(ast_node& node, std::string_view rest) {
    std::vector<std::string> words;
    switch (parse_json_array(rest, words)) {
        case json_array_status::ok:
            node.arguments = std::move(words);
            node.json = true;
            return;
        case json_array_status::not_string_array:
            reject(node.keyword, "JSON array must contain only strings", rest,
                   not_string_array_message);
        case json_array_status::not_json:
            if (!rest.empty()) node.arguments = split_blanks(rest);
            return;
    }
}

/// ENV and LABEL: `key value...` (legacy) or `key=value ...`, as (key, value, separator) triples.
void parse_name_value(ast_node& node, std::string_view rest, char escape) {
    std::vector<std::string> words = split_words(rest, escape);
    if (words.empty()) return;
    const std::string key = ascii_upper(node.keyword) == "ENV" ? "ENV" : "LABEL";

    if (words.front().find('=') == std::string::npos) {
        std::size_t blank = 0;
        while (blank < rest.size() && !is_blank(rest[blank]))
            ++blank;
        if (blank == rest.size()) {
            reject(key, "missing value; expected a name and a value or name=value", rest,
                   key + " must have two arguments");
        }
        std::size_t value = blank;
        while (value < rest.size() && is_blank(rest[value]))
            ++value;
        node.arguments = {std::string(rest.substr(0, blank)), std::string(rest.substr(value)), ""};
        return;
    }
    node.arguments.reserve(words.size() * 3);
    for (std::string& word : words) {
        const std::size_t equals = word.find('=');
        if (equals == std::string::npos) {
            reject(key, "missing '=' in a name=value list", word,
                   "Syntax error - can't find = in " + go_quote(word) +
                       ". Must be of the form: name=value");
        }
        node.arguments.push_back(word.substr(0, equals));
        node.arguments.push_back(word.substr(equals + 1));
        node.arguments.emplace_back("=");
    }
}

/// HEALTHCHECK: a type word (CMD, NONE) followed by a shell or exec form command.
void parse_health(ast_node& node, std::string_view rest) {
    std::size_t separator = 0;
    while (separator < rest.size() && !is_space_byte(rest[separator]))
        ++separator;
    std::size_t next = separator;
    while (next < rest.size() && is_space_byte(rest[next]))
        ++next;
    if (separator == 0) return;

    ast_node command;
    command.keyword = node.keyword;
    parse_maybe_json(command, rest.substr(next));
    node.arguments.reserve(command.arguments.size() + 1);
    node.arguments.emplace_back(rest.substr(0, separator));
    for (std::string& word : command.arguments)
        node.arguments.push_back(std::move(word));
    node.json = command.json;
}

/// The line parser that Docker's dispatch table assigns to a keyword.
enum class line_parser {
    maybe_json,          ///< Shell form or exec form.
    maybe_json_to_list,  ///< Exec form or words split at blanks.
    name_value,          ///< ENV and LABEL pairs.
    words,               ///< Quote-aware words (ARG).
    blank_split,         ///< Words split at blanks.
    whole_text,          ///< The rest of the line as one word.
    health,              ///< HEALTHCHECK's type word and command.
    onbuild,             ///< A nested instruction.
    unknown,             ///< Not a Dockerfile keyword.
};

struct keyword_parser {
    std::string_view keyword;  ///< Lower case.
    line_parser parser;
};

constexpr keyword_parser keyword_parsers[] = {
    {"run", line_parser::maybe_json},
    {"cmd", line_parser::maybe_json},
    {"entrypoint", line_parser::maybe_json},
    {"shell", line_parser::maybe_json},
    {"add", line_parser::maybe_json_to_list},
    {"copy", line_parser::maybe_json_to_list},
    {"volume", line_parser::maybe_json_to_list},
    {"env", line_parser::name_value},
    {"label", line_parser::name_value},
    {"arg", line_parser::words},
    {"from", line_parser::blank_split},
    {"expose", line_parser::blank_split},
    {"maintainer", line_parser::whole_text},
    {"stopsignal", line_parser::whole_text},
    {"user", line_parser::whole_text},
    {"workdir", line_parser::whole_text},
    {"healthcheck", line_parser::health},
    {"onbuild", line_parser::onbuild},
};

line_parser find_line_parser(std::string_view keyword) {
    const std::string lower = go_to_lower(keyword);
    for (const keyword_parser& entry : keyword_parsers) {
        if (entry.keyword == lower) return entry.parser;
    }
    return line_parser::unknown;
}

ast_node make_node_at_depth(std::string_view line, char escape, int depth);

void parse_arguments(ast_node& node, std::string_view rest, char escape, int depth) {
    switch (find_line_parser(node.keyword)) {
        case line_parser::maybe_json:
            parse_maybe_json(node, rest);
            return;
        case line_parser::maybe_json_to_list:
            parse_maybe_json_to_list(node, rest);
            return;
        case line_parser::name_value:
            parse_name_value(node, rest, escape);
            return;
        case line_parser::words:
            node.arguments = split_words(rest, escape);
            return;
        case line_parser::blank_split:
            if (!rest.empty()) node.arguments = split_blanks(rest);
            return;
        case line_parser::whole_text:
            if (!rest.empty()) node.arguments.emplace_back(rest);
            return;
        case line_parser::health:
            parse_health(node, rest);
            return;
        case line_parser::onbuild:
            if (rest.empty()) return;
            if (depth >= max_trigger_depth) {
                reject(node.keyword, "ONBUILD nested too deeply", rest,
                       "ONBUILD nested too deeply");
            }
            node.trigger.push_back(make_node_at_depth(rest, escape, depth + 1));
            return;
        case line_parser::unknown:
            // Docker keeps an unknown instruction and replaces its arguments by one empty word;
            // the instruction check rejects it later.
            node.arguments.emplace_back();
            return;
    }
}

ast_node make_node_at_depth(std::string_view line, char escape, int depth) {
    split_line parts = split_command(line);
    ast_node node;
    node.keyword = std::move(parts.keyword);
    node.flags = std::move(parts.flags);
    node.original = std::string(line);
    parse_arguments(node, parts.arguments, escape, depth);
    return node;
}

}  // namespace

std::vector<std::string> split_words(std::string_view text, char escape) {
    enum class phase { spaces, word, quote } state = phase::spaces;
    std::vector<std::string> words;
    words.reserve(estimate_word_count(text));
    std::string word;
    char32_t quote = 0;
    bool blank_ok = false;
    const auto escape_rune = static_cast<char32_t>(escape);

    std::size_t pos = 0;
    decoded_rune ch{0, 0};
    while (pos <= text.size()) {
        const bool end = pos == text.size();
        if (!end) ch = decode_rune(text.substr(pos));
        if (state == phase::spaces) {
            if (end) break;
            if (is_space(ch.value)) {
                pos += ch.width;
                continue;
            }
            state = phase::word;
        }
        if (end) {
            if (blank_ok || !word.empty()) words.push_back(std::move(word));
            break;
        }
        if (state == phase::word) {
            const std::size_t run = ascii_run_end(text, pos, [escape](char c) {
                return !is_space(static_cast<unsigned char>(c)) && c != '\'' && c != '"' &&
                       c != escape;
            });
            if (run > pos) {
                word.append(text.substr(pos, run - pos));
                pos = run;
                continue;
            }
            if (is_space(ch.value)) {
                state = phase::spaces;
                if (blank_ok || !word.empty()) words.push_back(word);
                word.clear();
                blank_ok = false;
                pos += ch.width;
                continue;
            }
            if (ch.value == U'\'' || ch.value == U'"') {
                quote = ch.value;
                blank_ok = true;
                state = phase::quote;
            }
            if (ch.value == escape_rune) {
                if (pos + ch.width == text.size()) {
                    pos += ch.width;
                    continue;
                }
                // An escape outside quotes keeps itself and the next rune, even a quote.
                append_rune(word, ch.value);
                pos += ch.width;
                ch = decode_rune(text.substr(pos));
            }
            append_rune(word, ch.value);
            pos += ch.width;
            continue;
        }
        // Inside quotes; the escape character has no effect inside single quotes.
        const std::size_t run = ascii_run_end(text, pos, [quote, escape](char c) {
            return static_cast<char32_t>(c) != quote && c != escape;
        });
        if (run > pos) {
            word.append(text.substr(pos, run - pos));
            pos = run;
            continue;
        }
        if (ch.value == quote) state = phase::word;
        if (ch.value == escape_rune && quote != U'\'') {
            if (pos + ch.width == text.size()) {
                state = phase::word;
                pos += ch.width;
                continue;
            }
            pos += ch.width;
            append_rune(word, ch.value);
            ch = decode_rune(text.substr(pos));
        }
        append_rune(word, ch.value);
        pos += ch.width;
    }
    return words;
}

split_line split_command(std::string_view line) {
    const std::string_view trimmed = trim_space(line);
    std::size_t blank = 0;
    while (blank < trimmed.size() && !is_blank(trimmed[blank]))
        ++blank;

    split_line parts;
    parts.keyword = std::string(trimmed.substr(0, blank));
    if (blank == trimmed.size()) return parts;
    std::size_t rest = blank;
    while (rest < trimmed.size() && is_blank(trimmed[rest]))
        ++rest;
    parts.arguments = trim_space(extract_flags(trimmed.substr(rest), parts.flags));
    return parts;
}

ast_node make_node(std::string_view line, char escape) {
    return make_node_at_depth(line, escape, 0);
}

}  // namespace dockwright::detail
