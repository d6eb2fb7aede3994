// Splitting of one logical Dockerfile line into keyword, flags and arguments, as Docker's
// per-instruction line parsers do.
#pragma once

#include <dockwright/dockerfile/ast.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockwright::detail {

/// Splits `text` into words at unquoted white space, keeping quotes and escapes in the words
/// (Docker's parseWords, used for ENV, LABEL and ARG).
std::vector<std::string> split_words(std::string_view text, char escape);

/// The outcome of reading an argument as a JSON array.
enum class json_array_status { ok, not_json, not_string_array };

/// Decodes a JSON array of strings as Go's json.Decoder does: leading white space is skipped,
/// text after the array is ignored, invalid UTF-8 becomes U+FFFD. `words` is set only on `ok`.
json_array_status parse_json_array(std::string_view text, std::vector<std::string>& words);

/// The keyword, flags and argument text of a logical line (Docker's splitCommand).
struct split_line {
    std::string keyword;
    std::vector<std::string> flags;
    std::string_view arguments;
};

/// Splits a logical line into keyword, leading `--flag` words and the trimmed rest.
split_line split_command(std::string_view line);

/// A logical line that a line parser rejects; the parser adds file and line numbers.
struct line_error {
    std::string instruction;     ///< Upper-case keyword.
    std::string reason;          ///< dockwright's description of the problem.
    std::string value;           ///< The offending text.
    std::string docker_message;  ///< Docker's message for the same problem.
};

/// Builds the node for one logical line, without line numbers or heredocs. Throws line_error
/// when a line parser rejects the arguments.
ast_node make_node(std::string_view line, char escape);

}  // namespace dockwright::detail
