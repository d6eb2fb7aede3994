// Detection of here-documents on an instruction line, as BuildKit's parser finds them.
#pragma once

#include <dockwright/dockerfile/ast.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockwright::detail {

/// Splits `line` into shell words with an empty environment: quotes group words, a backslash
/// escapes one character, `${...}` is kept whole. `raw_quotes` and `raw_escapes` keep the quote
/// and escape characters in the words. Returns nothing for an unterminated quote.
/// NOTE: this is a reduced form of Docker's shell lexer, sufficient to find `<<WORD` tokens;
/// variable references stay as written because the environment is empty.
std::optional<std::vector<std::string>> split_shell_words(std::string_view line, bool raw_quotes,
                                                          bool raw_escapes);

/// The heredocs that `line` opens, in order (`<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`), with empty
/// content. Throws line_error when a delimiter has an unterminated quote.
std::vector<heredoc> find_heredocs(std::string_view line);

}  // namespace dockwright::detail
