// .dockerignore files: reading the patterns and matching build-context paths against them as
// moby/patternmatcher v0.6 does for Docker's classic builder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dockwright {

namespace detail {
struct compiled_ignore_pattern;
}  // namespace detail

/// Cleans a slash-separated path as Go's filepath.Clean does on Unix: repeated slashes and `.`
/// elements go, `..` removes the element before it, and an empty result is `.`.
std::string clean_path(std::string_view path);

/// Reads the patterns of a .dockerignore file as Docker's ignorefile.ReadAll does: a UTF-8 byte
/// order mark is dropped, lines starting with `#` are comments, surrounding white space and
/// blank lines are dropped, a pattern is cleaned with clean_path() and loses a leading `/`, and
/// `! pattern` becomes `!pattern`.
std::vector<std::string> read_dockerignore(std::string_view text);

/// The match strategy of a compiled pattern, exposed for tests.
enum class ignore_pattern_kind : std::uint8_t { exact, prefix, suffix, regexp, invalid };

/// The compiled patterns of a .dockerignore file.
///
/// Patterns are slash-separated paths relative to the context root. `*` matches any run of
/// characters but `/`, `?` one character but `/`, `[...]` a character class (ranges, `^`
/// negation), `**` any number of path elements, and `\` escapes the next character. A pattern
/// starting with `!` is an exception that re-includes what earlier patterns excluded; the last
/// pattern that matches decides. A path is excluded when it or one of its parent directories
/// matches.
///
/// As in Docker, a pattern is translated into a Go regular expression, so characters inside
/// `[...]` keep their regular-expression meaning (`[[:digit:]]`, `\d`), and a class the
/// translation breaks is reported when a path is first matched against it, not on
/// construction.
class dockerignore {
  public:
    /// An empty list, which excludes nothing.
    dockerignore() = default;

    /// Compiles `patterns` as patternmatcher.New does: each is trimmed, empty ones are
    /// dropped, each is cleaned with clean_path(). Throws invalid_value_error naming the
    /// pattern for a lone `!` or a malformed glob such as `[a` or a trailing `\`.
    explicit dockerignore(const std::vector<std::string>& patterns);

    /// Reads and compiles the text of a .dockerignore file.
    static dockerignore parse(std::string_view text);

    /// Reads and compiles a .dockerignore file. Throws std::system_error naming the path when
    /// it cannot be read.
    static dockerignore from_file(const std::filesystem::path& path);

    /// Whether `path` (slash-separated, relative to the context root) is excluded from the
    /// build context, as Docker's MatchesOrParentMatches decides. The path is cleaned first, and
    /// `.` (the root itself) is never excluded. Throws invalid_value_error naming the pattern
    /// when a pattern that must be evaluated is not a valid regular expression.
    [[nodiscard]] bool matches(std::string_view path) const;

    /// Whether a context walk may skip the directory `path` with everything below it: the
    /// directory is excluded and no exception pattern starts with `path/`. This is the rule of
    /// Docker's context walk, which compares the text of exceptions. So an exception with a
    /// wildcard before the directory name (`!*/keep`) does not keep a directory from being
    /// skipped.
    [[nodiscard]] bool can_skip_directory(std::string_view path) const;

    /// The compiled patterns, cleaned, with `!` in front of exceptions.
    [[nodiscard]] std::vector<std::string> patterns() const;

    /// Whether any pattern is an exception.
    [[nodiscard]] bool has_exceptions() const noexcept { return has_exceptions_; }

    /// The match strategy of each pattern, in order; for tests.
    [[nodiscard]] std::vector<ignore_pattern_kind> pattern_kinds() const;

  private:
    std::vector<std::shared_ptr<const detail::compiled_ignore_pattern>> patterns_;
    bool has_exceptions_ = false;
};

}  // namespace dockwright
