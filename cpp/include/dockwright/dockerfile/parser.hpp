// The Dockerfile parser: text to syntax tree, with directives, continuations and heredocs.
#pragma once

#include <dockwright/core/error.hpp>
#include <dockwright/dockerfile/ast.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace dockwright {

/// How to parse a Dockerfile.
struct parse_options {
    /// The file name that error messages start with.
    std::string file = "Dockerfile";
    dockerfile_dialect dialect = dockerfile_dialect::buildkit;
    /// The escape character before any `# escape=` directive; `\` or a backtick.
    std::optional<char> escape;
};

/// The maximum length of a physical line that Docker's line scanner accepts, in bytes without
/// the line feed.
inline constexpr std::size_t max_dockerfile_line = 65535;

/// A Dockerfile the parser rejects. Besides the fields of parse_error it keeps the message
/// Docker's parser gives for the same input, e.g. `ENV must have two arguments`, so that the
/// classic mode can print Docker's exact text.
class dockerfile_parse_error : public parse_error {
  public:
    dockerfile_parse_error(source_location where, std::string instruction, std::string reason,
                           std::string value, std::string docker_message)
        : parse_error(std::move(where), std::move(instruction), std::move(reason),
                      std::move(value)),
          docker_message_(std::move(docker_message)) {}

    /// The message of Docker 20.10's parser (`err.Error()`), without file or line.
    [[nodiscard]] const std::string& docker_message() const noexcept { return docker_message_; }

  private:
    std::string docker_message_;
};

/// Parses Dockerfile text into its syntax tree in one pass.
///
/// Throws dockerfile_parse_error for any of these: a file with no instructions, a line longer
/// than max_dockerfile_line, a repeated or invalid directive, a JSON array with a non-string
/// element, an ENV or LABEL without a value or with a word lacking `=`, or an unterminated
/// heredoc.
dockerfile_ast parse_dockerfile(std::string_view text, const parse_options& options = {});

/// Renders the warnings as Docker 20.10 prints them on standard error, each line ending in a
/// line feed; empty when there are none.
std::string classic_warning_text(const dockerfile_ast& ast);

}  // namespace dockwright
