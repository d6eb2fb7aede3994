// The Dockerfile parser: physical lines to logical lines to syntax-tree nodes, in one pass.
#include <algorithm>
#include <dockwright/dockerfile/detail/go_text.hpp>
#include <dockwright/dockerfile/detail/heredoc_words.hpp>
#include <dockwright/dockerfile/detail/line_parsers.hpp>
#include <dockwright/dockerfile/detail/utf8.hpp>
#include <dockwright/dockerfile/parser.hpp>

namespace dockwright {

namespace {

using detail::decode_rune;
using detail::is_space;

/// Hands out physical lines, each with its line feed, and stops at a line longer than Go's
/// bufio.Scanner accepts (64 KiB including the line feed).
class line_scanner {
  public:
    explicit line_scanner(std::string_view text) : text_(text) {}

    bool next(std::string_view& line) {
        if (pos_ >= text_.size() || too_long_) return false;
        const std::size_t newline = text_.find('\n', pos_);
        const std::size_t end = newline == std::string_view::npos ? text_.size() : newline + 1;
        const std::size_t limit =
            newline == std::string_view::npos ? max_dockerfile_line : max_dockerfile_line + 1;
        if (end - pos_ > limit) {
            too_long_ = true;
            return false;
        }
        line = text_.substr(pos_, end - pos_);
        pos_ = end;
        return true;
    }

    [[nodiscard]] bool too_long() const noexcept { return too_long_; }

  private:
    std::string_view text_;
    std::size_t pos_ = 0;
    bool too_long_ = false;
};

std::string_view trim_left_space(std::string_view text) noexcept {
    while (!text.empty()) {
        const auto rune = decode_rune(text);
        if (!is_space(rune.value)) break;
        text.remove_prefix(rune.width);
    }
    return text;
}

/// Removes the line ending: every trailing CR and LF for BuildKit, and the LF with one CR
/// before it for Docker 20.10 (Go's bufio.ScanLines).
std::string_view trim_newline(std::string_view line, dockerfile_dialect dialect) noexcept {
    if (dialect == dockerfile_dialect::buildkit) {
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
            line.remove_suffix(1);
        return line;
    }
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

bool is_comment(std::string_view line, dockerfile_dialect dialect) noexcept {
    const std::string_view trimmed = trim_left_space(trim_newline(line, dialect));
    return !trimmed.empty() && trimmed.front() == '#';
}

/// Whether `c` is white space for Go's regexp `\s`, `[\t\n\f\r ]`.
constexpr bool is_regexp_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

constexpr bool is_ascii_letter(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/// Matches `^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$` and returns the name and value.
bool match_directive(std::string_view line, std::string& name, std::string& value) {
    std::size_t pos = 0;
    if (line.empty() || line[0] != '#') return false;
    ++pos;
    while (pos < line.size() && is_regexp_space(line[pos]))
        ++pos;
    if (pos >= line.size() || !is_ascii_letter(line[pos])) return false;
    const std::size_t name_start = pos;
    while (pos < line.size() &&
           (is_ascii_letter(line[pos]) || (line[pos] >= '0' && line[pos] <= '9')))
        ++pos;
    name = detail::go_to_lower(line.substr(name_start, pos - name_start));
    while (pos < line.size() && is_regexp_space(line[pos]))
        ++pos;
    if (pos >= line.size() || line[pos] != '=') return false;
    ++pos;
    while (pos < line.size() && is_regexp_space(line[pos]))
        ++pos;
    std::size_t end = line.size();
    while (end > pos && is_regexp_space(line[end - 1]))
        --end;
    // `.` does not match a line feed, so a value containing one does not match.
    if (end == pos || line.substr(pos, end - pos).find('\n') != std::string_view::npos)
        return false;
    value = std::string(line.substr(pos, end - pos));
    return true;
}

class parser {
  public:
    parser(std::string_view text, const parse_options& options)
        : text_(text), scanner_(text), options_(options), escape_(options.escape.value_or('\\')) {
        if (escape_ != '\\' && escape_ != '`') {
            fail(0, 0, "", "invalid escape character, expected ` or \\", std::string(1, escape_),
                 "invalid escape token '" + std::string(1, escape_) + "' does not match ` or \\");
        }
    }

    dockerfile_ast run();

  private:
    [[noreturn]] void fail(int line, int end_line, std::string instruction, std::string reason,
                           std::string value, std::string docker_message) const {
        throw dockerfile_parse_error({options_.file, line, end_line}, std::move(instruction),
                                     std::move(reason), std::move(value),
                                     std::move(docker_message));
    }

    [[nodiscard]] bool buildkit() const noexcept {
        return options_.dialect == dockerfile_dialect::buildkit;
    }

    std::string_view process_line(std::string_view token, bool strip_left, int line_number);
    void check_directive(std::string_view line, int line_number);
    bool trim_continuation(std::string_view& line) const noexcept;
    void read_heredocs(ast_node& node, int start_line);

    std::string_view text_;
    line_scanner scanner_;
    const parse_options& options_;
    char escape_;
    bool directives_done_ = false;
    int current_line_ = 0;
    dockerfile_ast ast_;
};

void parser::check_directive(std::string_view line, int line_number) {
    if (directives_done_) return;
    std::string name;
    std::string value;
    const bool known = match_directive(line, name, value) &&
                       (name == "escape" || name == "syntax" || (name == "check" && buildkit()));
    if (!known) {
        directives_done_ = true;
        return;
    }
    for (const parser_directive& seen : ast_.directives) {
        if (seen.name == name) {
            fail(line_number, line_number, "", "parser directive given more than once", name,
                 "only one " + name + " parser directive can be used");
        }
    }
    if (name == "escape") {
        if (value != "\\" && value != "`") {
            fail(line_number, line_number, "", "invalid escape character, expected ` or \\", value,
                 "invalid escape token '" + value + "' does not match ` or \\");
        }
        escape_ = value[0];
    }
    ast_.directives.push_back({name, value, line_number});
}

std::string_view parser::process_line(std::string_view token, bool strip_left, int line_number) {
    token = trim_newline(token, options_.dialect);
    if (strip_left) token = trim_left_space(token);
    check_directive(token, line_number);
    if (!token.empty() && token.front() == '#') return {};
    return token;
}

bool parser::trim_continuation(std::string_view& line) const noexcept {
    std::size_t end = line.size();
    while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t'))
        --end;
    if (end == 0 || line[end - 1] != escape_) return false;
    const std::size_t escape_pos = end - 1;
    // A doubled escape (`a\\`) is an escaped escape character, not a continuation; Docker
    // 20.10's parser already had this rule.
    if (escape_pos > 0 && line[escape_pos - 1] == escape_) return false;
    line = line.substr(0, escape_pos);
    return true;
}

void parser::read_heredocs(ast_node& node, int start_line) {
    std::vector<heredoc> docs;
    try {
        docs = detail::find_heredocs(node.original);
    } catch (const detail::line_error& e) {
        fail(start_line, current_line_, detail::go_to_lower(node.keyword), e.reason, e.value,
             e.docker_message);
    }
    for (heredoc& doc : docs) {
        bool terminated = false;
        std::string_view token;
        while (scanner_.next(token)) {
            ++current_line_;
            std::string_view candidate = trim_newline(token, options_.dialect);
            if (doc.chomp) {
                while (!candidate.empty() && candidate.front() == '\t')
                    candidate.remove_prefix(1);
            }
            if (candidate == doc.name) {
                terminated = true;
                break;
            }
            doc.content.append(token);
        }
        if (!terminated) {
            std::string keyword = node.keyword;
            for (char& c : keyword)
                c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
            fail(start_line, current_line_, keyword, "unterminated heredoc", doc.name,
                 "unterminated heredoc");
        }
        node.heredocs.push_back(std::move(doc));
    }
}

bool can_contain_heredoc(const ast_node& node) {
    const ast_node& target = detail::go_to_lower(node.keyword) == "onbuild" && !node.trigger.empty()
                                 ? node.trigger[0]
                                 : node;
    const std::string keyword = detail::go_to_lower(target.keyword);
    return (keyword == "run" || keyword == "copy" || keyword == "add") && !target.json;
}

dockerfile_ast parser::run() {
    std::vector<std::string> comments;
    std::string logical;
    std::string_view token;
    // Every instruction takes at least one line, so one slot per line saves the vector's
    // repeated growth and node moves. Slots that stay unused are given back at the end.
    std::size_t lines = 1;
    for (std::size_t pos = text_.find('\n'); pos != std::string_view::npos;
         pos = text_.find('\n', pos + 1)) {
        ++lines;
    }
    ast_.children.reserve(std::min(lines, text_.size() / 4 + 1));

    while (scanner_.next(token)) {
        if (current_line_ == 0 && token.substr(0, 3) == "\xEF\xBB\xBF") token.remove_prefix(3);
        if (is_comment(token, options_.dialect)) {
            std::string_view comment = detail::trim_space(token.substr(1));
            if (comment.empty()) {
                comments.clear();
            } else {
                comments.emplace_back(comment);
            }
        }
        std::string_view line = process_line(token, true, current_line_ + 1);
        ++current_line_;
        const int start_line = current_line_;
        bool continues = trim_continuation(line);
        if (!continues && line.empty()) continue;
        logical.assign(line);

        bool empty_continuation = false;
        while (continues && scanner_.next(token)) {
            line = process_line(token, false, current_line_ + 1);
            ++current_line_;
            if (is_comment(token, options_.dialect)) continue;
            if (trim_left_space(trim_newline(line, options_.dialect)).empty()) {
                empty_continuation = true;
                continue;
            }
            continues = trim_continuation(line);
            logical.append(line);
        }
        if (empty_continuation) {
            ast_.warnings.push_back({"Empty continuation line found in: " + logical,
                                     "Empty continuation lines will become errors in a future "
                                     "release",
                                     "https://docs.docker.com/go/dockerfile/rule/"
                                     "no-empty-continuation/",
                                     logical, current_line_});
        }

        ast_node node;
        try {
            node = detail::make_node(logical, escape_);
        } catch (const detail::line_error& e) {
            fail(start_line, current_line_, e.instruction, e.reason, e.value, e.docker_message);
        }
        if (buildkit() && logical.find("<<") != std::string::npos && can_contain_heredoc(node)) {
            read_heredocs(node, start_line);
        }
        node.start_line = start_line;
        node.end_line = current_line_;
        node.comments = std::move(comments);
        comments.clear();
        if (ast_.children.empty()) ast_.start_line = start_line;
        ast_.end_line = current_line_;
        ast_.children.push_back(std::move(node));
    }

    if (ast_.children.empty()) {
        fail(current_line_, 0, "", "file with no instructions", "", "file with no instructions");
    }
    if (scanner_.too_long()) {
        const std::string limit = std::to_string(max_dockerfile_line);
        fail(current_line_ + 1, 0, "", "line longer than the maximum of " + limit + " bytes", "",
             "dockerfile line greater than max allowed size of " + limit);
    }
    if (ast_.children.capacity() > 2 * ast_.children.size()) ast_.children.shrink_to_fit();
    ast_.escape = escape_;
    return std::move(ast_);
}

}  // namespace

dockerfile_ast parse_dockerfile(std::string_view text, const parse_options& options) {
    return parser(text, options).run();
}

std::string classic_warning_text(const dockerfile_ast& ast) {
    if (ast.warnings.empty()) return {};
    std::string text;
    for (const parse_warning& warning : ast.warnings) {
        text += "[WARNING]: Empty continuation line found in:\n    " + warning.original + "\n";
    }
    text += "[WARNING]: Empty continuation lines will become errors in a future release.\n";
    // Docker 20.10 passes the joined warnings to fmt.Fprintf as the format string.
    return detail::go_sprintf_no_args(text);
}

}  // namespace dockwright
