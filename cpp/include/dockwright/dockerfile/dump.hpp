// The syntax tree written as moby's parser test prints it, one `(keyword args...)` per line.
#pragma once

#include <dockwright/dockerfile/ast.hpp>
#include <string>

namespace dockwright {

/// The format of ENV and LABEL arguments in a dump.
enum class dump_style {
    /// `(env "k" "v" "=")`: key, value and separator, as BuildKit writes since May 2024.
    buildkit,
    /// `(env "k" "v")`: key and value, as Docker 20.10 writes.
    classic,
};

/// Writes one instruction as `keyword ["--flag"...] "arg"...`, without parentheses.
std::string dump_node(const ast_node& node, dump_style style = dump_style::buildkit);

/// Writes the whole tree: one parenthesised instruction per line, lines joined by a line feed,
/// with no line feed at the end (moby's Node.Dump()).
std::string dump_ast(const dockerfile_ast& ast, dump_style style = dump_style::buildkit);

}  // namespace dockwright
