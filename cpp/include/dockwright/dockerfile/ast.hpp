// The syntax tree of a Dockerfile as the parser produces it, before any instruction is checked.
#pragma once

#include <string>
#include <vector>

namespace dockwright {

/// The Dockerfile dialect the parser follows.
enum class dockerfile_dialect {
    /// BuildKit's current parser: heredocs and the `check` directive.
    buildkit,
    /// The parser of Docker 20.10's classic builder: no heredocs (their body lines become
    /// instructions) and no `check` directive.
    classic,
};

/// A here-document attached to a RUN, COPY or ADD instruction (`<<EOF`, `<<-EOF`, `<<'EOF'`).
struct heredoc {
    std::string name;              ///< The delimiter word with its quotes removed.
    std::string content;           ///< The body lines, each with its line ending as written.
    unsigned file_descriptor = 0;  ///< The digits before `<<` (`3<<EOF`), else 0.
    bool expand = true;            ///< False when any part of the delimiter was quoted.
    bool chomp = false;            ///< True for `<<-`, which strips leading tabs.

    friend bool operator==(const heredoc&, const heredoc&) = default;
};

/// One instruction of the syntax tree.
///
/// `arguments` has the instruction's words as the parser split them: for ENV and LABEL a flat
/// list of (key, value, separator) triples where the separator is `=` for `k=v` and empty for
/// the legacy `k v` form. ONBUILD has no arguments and its wrapped instruction in `trigger`.
struct ast_node {
    std::string keyword;                 ///< The instruction word as written (`run`, `RUN`).
    std::vector<std::string> flags;      ///< Leading `--name[=value]` words, unparsed.
    std::vector<std::string> arguments;  ///< Argument words, see above.
    std::vector<ast_node> trigger;       ///< ONBUILD's wrapped instruction (zero or one).
    std::vector<heredoc> heredocs;       ///< Here-documents in the order they appear.
    std::vector<std::string> comments;   ///< Comment lines just above the instruction.
    std::string original;                ///< The logical line after joining continuations.
    bool json = false;                   ///< Whether the arguments came from a JSON array.
    int start_line = 0;                  ///< First physical line (1-based).
    int end_line = 0;                    ///< Last physical line, heredoc bodies included.

    friend bool operator==(const ast_node&, const ast_node&) = default;
};

/// A parser directive from the leading `# name=value` block (`escape`, `syntax`, `check`).
struct parser_directive {
    std::string name;  ///< Lower-case name.
    std::string value;
    int line = 0;

    friend bool operator==(const parser_directive&, const parser_directive&) = default;
};

/// A problem the parser accepted but reports, such as an empty line inside a continuation.
struct parse_warning {
    std::string summary;   ///< One line naming the problem and the instruction.
    std::string detail;    ///< What will change or what to do.
    std::string url;       ///< Docker's page for the rule.
    std::string original;  ///< The logical line the warning is about.
    int line = 0;          ///< The last physical line of that instruction.

    friend bool operator==(const parse_warning&, const parse_warning&) = default;
};

/// A parsed Dockerfile: its instructions, directives and warnings.
struct dockerfile_ast {
    std::vector<ast_node> children;
    std::vector<parser_directive> directives;
    std::vector<parse_warning> warnings;
    char escape = '\\';  ///< The escape character in effect after the directives.
    int start_line = 0;  ///< First line of the first instruction.
    int end_line = 0;    ///< Last line of the last instruction.
};

}  // namespace dockwright
