// Docker's word expansion: variables, quotes and escapes in Dockerfile arguments, as BuildKit's
// shell.Lex (ProcessWord, ProcessWords, ProcessWordWithMatches) does it.
#pragma once

#include <dockwright/core/error.hpp>
#include <dockwright/dockerfile/shell_environment.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace dockwright {

/// Everything one expansion produces.
struct expansion_result {
    /// The expanded word with quotes and escapes removed and white space kept (ProcessWord).
    std::string value;
    /// The expanded word split on unquoted white space, empty words dropped (ProcessWords).
    /// White space that came from a quoted part or an escape does not split.
    std::vector<std::string> words;
    /// The variables the word referenced that are set, even if empty.
    std::set<std::string> matched;
    /// The variables the word referenced that are unset.
    std::set<std::string> unmatched;
};

/// Settings of a shell_lexer.
struct shell_lexer_options {
    /// The escape character of the Dockerfile: `\` or, after `# escape=``, a backtick.
    char escape = '\\';
    /// Whether `${VAR#p}`, `${VAR##p}`, `${VAR%p}`, `${VAR%%p}`, `${VAR/p/r}` and `${VAR//p/r}`
    /// are accepted. Docker 20.10's classic builder predates them and rejects them with
    /// `unsupported modifier (#) in substitution`; set this to false to do the same.
    bool pattern_operators = true;
};

/// Expands the variables in Dockerfile words and removes their quotes and escapes.
///
/// The syntax is a subset of the POSIX shell's: `$NAME`, `${NAME}`, `${NAME:-word}`,
/// `${NAME-word}`, `${NAME:+word}`, `${NAME+word}`, `${NAME:?message}`, `${NAME?message}` and the
/// pattern operators above. Positional (`$1`) and special (`$@`, `$#`, ...) parameters are always
/// unset. Inside single quotes nothing is special; inside double quotes only `$` and the escape
/// character before `"`, `$` or itself. Every function throws expansion_error on an unterminated
/// quote or brace, a bad substitution, an unset `${NAME?}` or an invalid pattern. The error's
/// value is the whole word, and it carries no location until with_location() adds one.
class shell_lexer {
  public:
    shell_lexer() = default;
    explicit shell_lexer(shell_lexer_options options) : options_(options) {}

    /// Expands `word` into one string (Docker's ProcessWord).
    [[nodiscard]] std::string expand(std::string_view word, const shell_environment& env) const;

    /// Expands `word` and splits it into words (Docker's ProcessWords).
    [[nodiscard]] std::vector<std::string> expand_words(std::string_view word,
                                                        const shell_environment& env) const;

    /// Expands `word` and reports which variables it used (Docker's ProcessWordWithMatches).
    /// Variables inside a `${NAME:-word}` default count even when the default is not taken.
    [[nodiscard]] expansion_result expand_with_matches(std::string_view word,
                                                       const shell_environment& env) const;

    [[nodiscard]] const shell_lexer_options& options() const noexcept { return options_; }

  private:
    shell_lexer_options options_;
};

/// Returns a copy of `error` that names the Dockerfile location and the instruction, for the
/// dispatcher to throw once it has found where the word came from.
[[nodiscard]] inline expansion_error with_location(const expansion_error& error,
                                                   source_location where, std::string keyword) {
    return expansion_error(std::move(where), std::move(keyword), error.reason(), error.value());
}

}  // namespace dockwright
