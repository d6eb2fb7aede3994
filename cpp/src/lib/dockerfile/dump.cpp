// The AST dump in moby's format.
#include <dockwright/dockerfile/detail/go_text.hpp>
#include <dockwright/dockerfile/detail/utf8.hpp>
#include <dockwright/dockerfile/dump.hpp>

namespace dockwright {

namespace {

bool is_key_value_keyword(const std::string& lower) {
    return lower == "env" || lower == "label";
}

void append_node(std::string& out, const ast_node& node, dump_style style) {
    const std::size_t start = out.size();
    const std::string keyword = detail::go_to_lower(node.keyword);
    out += keyword;
    if (!node.flags.empty()) {
        out += " [";
        for (std::size_t i = 0; i < node.flags.size(); ++i) {
            if (i > 0) out += ' ';
            detail::append_go_quoted(out, node.flags[i]);
        }
        out += ']';
    }
    const bool drop_separators = style == dump_style::classic && is_key_value_keyword(keyword);
    for (std::size_t i = 0; i < node.arguments.size(); ++i) {
        if (drop_separators && i % 3 == 2) continue;
        out += ' ';
        detail::append_go_quoted(out, node.arguments[i]);
    }
    for (const ast_node& trigger : node.trigger) {
        out += " (";
        append_node(out, trigger, style);
        out += ')';
    }

    // Go trims white space around each node's dump; only a keyword can bring any.
    const std::string_view written = std::string_view(out).substr(start);
    const std::string_view trimmed = detail::trim_space(written);
    if (trimmed.size() != written.size()) {
        const std::string kept(trimmed);
        out.resize(start);
        out += kept;
    }
}

}  // namespace

std::string dump_node(const ast_node& node, dump_style style) {
    std::string out;
    append_node(out, node, style);
    return out;
}

std::string dump_ast(const dockerfile_ast& ast, dump_style style) {
    std::string out;
    for (const ast_node& child : ast.children) {
        if (!out.empty()) out += '\n';
        out += '(';
        append_node(out, child, style);
        out += ')';
    }
    return out;
}

}  // namespace dockwright
