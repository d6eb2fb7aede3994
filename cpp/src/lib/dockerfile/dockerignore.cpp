// .dockerignore reading and matching with the results of moby/patternmatcher v0.6.
#include <cerrno>
#include <dockwright/core/error.hpp>
#include <dockwright/dockerfile/detail/utf8.hpp>
#include <dockwright/dockerfile/dockerignore.hpp>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

#include "go_regexp.hpp"

namespace dockwright {

namespace detail {

/// One pattern of a dockerignore list, compiled once.
struct compiled_ignore_pattern {
    std::string cleaned;  // without the `!` of an exception
    bool exception = false;
    ignore_pattern_kind kind = ignore_pattern_kind::exact;
    std::optional<go_regexp> regexp;

    /// Whether `path` matches; throws for a pattern whose regular expression is invalid.
    [[nodiscard]] bool matches(std::string_view path) const {
        switch (kind) {
            case ignore_pattern_kind::exact:
                return path == cleaned;
            case ignore_pattern_kind::prefix:  // `dir/**`: the text before `**`
                return path.starts_with(std::string_view(cleaned).substr(0, cleaned.size() - 2));
            case ignore_pattern_kind::suffix: {  // `**/name`: the text after `**`
                const std::string_view suffix = std::string_view(cleaned).substr(2);
                if (path.ends_with(suffix)) return true;
                return suffix.front() == '/' && path == suffix.substr(1);
            }
            case ignore_pattern_kind::regexp:
                return regexp->matches_at_start(path);
            case ignore_pattern_kind::invalid:
                break;
        }
        const std::string text = (exception ? "!" : "") + cleaned;
        throw invalid_value_error("dockerignore pattern", text, "syntax error in pattern");
    }
};

}  // namespace detail

namespace {

using detail::compiled_ignore_pattern;

constexpr char32_t end_of_text = 0xFFFFFFFF;

/// Reads code points as Go's text/scanner does: U+FFFD for invalid bytes, a leading byte order
/// mark skipped.
std::vector<char32_t> scan_runes(std::string_view text) {
    std::vector<char32_t> runes;
    while (!text.empty()) {
        const detail::decoded_rune rune = detail::decode_rune(text);
        runes.push_back(rune.value);
        text.remove_prefix(rune.width);
    }
    if (!runes.empty() && runes.front() == U'\uFEFF') runes.erase(runes.begin());
    return runes;
}

// --- Go's filepath.Match, used only for its syntax check ---

/// Reads one character of a class for the syntax check; false when it is malformed.
bool read_class_char(std::string_view& chunk) {
    if (chunk.empty() || chunk.front() == '-' || chunk.front() == ']') return false;
    if (chunk.front() == '\\') {
        chunk.remove_prefix(1);
        if (chunk.empty()) return false;
    }
    const detail::decoded_rune rune = detail::decode_rune(chunk);
    if (rune.value == detail::replacement_char && rune.width == 1) return false;
    chunk.remove_prefix(rune.width);
    return !chunk.empty();
}

/// Whether one star-free chunk of a glob is well formed.
bool valid_chunk(std::string_view chunk) {
    while (!chunk.empty()) {
        const char c = chunk.front();
        chunk.remove_prefix(1);
        if (c == '[') {
            if (!chunk.empty() && chunk.front() == '^') chunk.remove_prefix(1);
            for (int ranges = 0;; ++ranges) {
                if (!chunk.empty() && chunk.front() == ']' && ranges > 0) {
                    chunk.remove_prefix(1);
                    break;
                }
                if (!read_class_char(chunk)) return false;
                if (chunk.front() == '-') {
                    chunk.remove_prefix(1);
                    if (!read_class_char(chunk)) return false;
                }
            }
        } else if (c == '\\') {
            if (chunk.empty()) return false;
            chunk.remove_prefix(1);
        }
    }
    return true;
}

/// Whether Go's filepath.Match (Unix) accepts `pattern` without ErrBadPattern.
bool valid_glob(std::string_view pattern) {
    while (!pattern.empty()) {
        while (!pattern.empty() && pattern.front() == '*')
            pattern.remove_prefix(1);
        bool in_class = false;
        std::size_t i = 0;
        for (; i < pattern.size(); ++i) {
            const char c = pattern[i];
            if (c == '\\') {
                if (i + 1 < pattern.size()) ++i;
            } else if (c == '[') {
                in_class = true;
            } else if (c == ']') {
                in_class = false;
            } else if (c == '*' && !in_class) {
                break;
            }
        }
        if (!valid_chunk(pattern.substr(0, i))) return false;
        pattern.remove_prefix(i);
    }
    return true;
}

// --- patternmatcher's translation of a pattern into a Go regular expression ---

bool is_regexp_special(char32_t rune) {
    return rune == U'.' || rune == U'+' || rune == U'(' || rune == U')' || rune == U'|' ||
           rune == U'{' || rune == U'}' || rune == U'$';
}

void compile_pattern(compiled_ignore_pattern& pattern) {
    const std::vector<char32_t> runes = scan_runes(pattern.cleaned);
    std::string expression = "^";
    ignore_pattern_kind kind = ignore_pattern_kind::exact;
    const auto peek = [&](std::size_t i) { return i < runes.size() ? runes[i] : end_of_text; };

    std::size_t position = 0;
    for (int step = 0; position < runes.size(); ++step) {
        const char32_t rune = runes[position++];
        if (rune == U'*' && peek(position) == U'*') {
            ++position;
            if (peek(position) == U'/') ++position;  // `**/` is the same as `**`
            if (peek(position) != end_of_text) {
                expression += "(.*/)?";
                kind = ignore_pattern_kind::regexp;
            } else if (kind == ignore_pattern_kind::exact) {
                kind = ignore_pattern_kind::prefix;
            } else {
                expression += ".*";
                kind = ignore_pattern_kind::regexp;
            }
            if (step == 0) kind = ignore_pattern_kind::suffix;
        } else if (rune == U'*' || rune == U'?') {
            expression += rune == U'*' ? "[^/]*" : "[^/]";
            kind = ignore_pattern_kind::regexp;
        } else if (is_regexp_special(rune)) {
            expression += '\\';
            detail::append_rune(expression, rune);
        } else if (rune == U'\\') {
            expression += '\\';
            if (peek(position) != end_of_text) {
                detail::append_rune(expression, runes[position++]);
                kind = ignore_pattern_kind::regexp;
            }
        } else {
            if (rune == U'[' || rune == U']') kind = ignore_pattern_kind::regexp;
            detail::append_rune(expression, rune);
        }
    }

    if (kind == ignore_pattern_kind::regexp) {
        pattern.regexp = detail::go_regexp::compile(expression + "$");
        if (!pattern.regexp) kind = ignore_pattern_kind::invalid;
    }
    pattern.kind = kind;
}

/// The parent directories of a cleaned path that Docker tests, shortest first: `a/b/c` gives
/// `a` and `a/b`; a rooted `/a/b` gives the empty string and `/a`.
std::vector<std::string> parents(std::string_view path) {
    const std::size_t last_slash = path.rfind('/');
    if (last_slash == std::string_view::npos) return {};
    const std::string directory = clean_path(path.substr(0, last_slash + 1));
    std::vector<std::string> result;
    for (std::size_t slash = directory.find('/'); slash != std::string::npos;
         slash = directory.find('/', slash + 1)) {
        result.push_back(directory.substr(0, slash));
    }
    result.push_back(directory);
    return result;
}

}  // namespace

std::string clean_path(std::string_view path) {
    if (path.empty()) return ".";
    const bool rooted = path.front() == '/';
    std::string out = rooted ? "/" : "";
    std::size_t dotdot = out.size();  // where `..` can no longer remove an element

    for (std::size_t r = 0; r < path.size();) {
        if (path[r] == '/') {
            ++r;
        } else if (path[r] == '.' && (r + 1 == path.size() || path[r + 1] == '/')) {
            ++r;
        } else if (path.substr(r, 2) == ".." && (r + 2 == path.size() || path[r + 2] == '/')) {
            r += 2;
            if (out.size() > dotdot) {
                std::size_t w = out.size() - 1;
                while (w > dotdot && out[w] != '/')
                    --w;
                out.resize(w);
            } else if (!rooted) {
                if (!out.empty()) out += '/';
                out += "..";
                dotdot = out.size();
            }
        } else {
            if ((rooted && out.size() != 1) || (!rooted && !out.empty())) out += '/';
            for (; r < path.size() && path[r] != '/'; ++r)
                out += path[r];
        }
    }
    return out.empty() ? "." : out;
}

std::vector<std::string> read_dockerignore(std::string_view text) {
    std::vector<std::string> patterns;
    bool first_line = true;
    while (!text.empty()) {
        const std::size_t newline = text.find('\n');
        std::string_view line = text.substr(0, newline);
        text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
        if (line.ends_with('\r')) line.remove_suffix(1);
        if (first_line && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
        first_line = false;

        if (line.starts_with('#')) continue;
        line = detail::trim_space(line);
        if (line.empty()) continue;

        const bool exception = line.front() == '!';
        if (exception) line = detail::trim_space(line.substr(1));
        std::string pattern(line);
        if (!pattern.empty()) {
            pattern = clean_path(pattern);
            if (pattern.size() > 1 && pattern.front() == '/') pattern.erase(0, 1);
        }
        patterns.push_back(exception ? "!" + pattern : pattern);
    }
    return patterns;
}

dockerignore::dockerignore(const std::vector<std::string>& patterns) {
    for (const std::string& text : patterns) {
        const std::string_view trimmed = detail::trim_space(text);
        if (trimmed.empty()) continue;

        auto pattern = std::make_shared<compiled_ignore_pattern>();
        pattern->cleaned = clean_path(trimmed);
        if (pattern->cleaned.front() == '!') {
            if (pattern->cleaned.size() == 1) {
                throw invalid_value_error("dockerignore pattern", "!", "illegal exclusion pattern");
            }
            pattern->exception = true;
            pattern->cleaned.erase(0, 1);
            has_exceptions_ = true;
        }
        if (!valid_glob(pattern->cleaned)) {
            throw invalid_value_error("dockerignore pattern", std::string(trimmed),
                                      "syntax error in pattern");
        }
        compile_pattern(*pattern);
        patterns_.push_back(std::move(pattern));
    }
}

dockerignore dockerignore::parse(std::string_view text) {
    return dockerignore(read_dockerignore(text));
}

dockerignore dockerignore::from_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw std::system_error(errno, std::generic_category(),
                                "cannot read .dockerignore file " + path.string());
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str());
}

bool dockerignore::matches(std::string_view path) const {
    const std::string cleaned = clean_path(path);
    if (cleaned == ".") return false;
    const std::vector<std::string> parent_dirs = parents(cleaned);

    bool matched = false;
    for (const auto& pattern : patterns_) {
        // An exclusion cannot change a matched path, nor an exception an unmatched one.
        if (pattern->exception != matched) continue;
        bool match = pattern->matches(cleaned);
        for (std::size_t i = 0; !match && i < parent_dirs.size(); ++i) {
            match = pattern->matches(parent_dirs[i]);
        }
        if (match) matched = !pattern->exception;
    }
    return matched;
}

bool dockerignore::can_skip_directory(std::string_view path) const {
    if (!matches(path)) return false;
    const std::string prefix = clean_path(path) + "/";
    for (const auto& pattern : patterns_) {
        if (pattern->exception && (pattern->cleaned + "/").starts_with(prefix)) return false;
    }
    return true;
}

std::vector<std::string> dockerignore::patterns() const {
    std::vector<std::string> result;
    for (const auto& pattern : patterns_) {
        result.push_back((pattern->exception ? "!" : "") + pattern->cleaned);
    }
    return result;
}

std::vector<ignore_pattern_kind> dockerignore::pattern_kinds() const {
    std::vector<ignore_pattern_kind> result;
    for (const auto& pattern : patterns_)
        result.push_back(pattern->kind);
    return result;
}

}  // namespace dockwright
