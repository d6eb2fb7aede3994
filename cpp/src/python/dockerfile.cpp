// Binds the Dockerfile parser: dockwright._core.parse_dockerfile returns plain dicts and lists
// that python/dockwright/dockerfile.py turns into typed objects.
#include <pybind11/stl.h>

#include <dockwright/dockerfile/dump.hpp>
#include <dockwright/dockerfile/instructions.hpp>
#include <dockwright/dockerfile/parser.hpp>

#include "bindings.hpp"

namespace dockwright::python {

namespace {

double seconds(std::chrono::nanoseconds value) {
    return static_cast<double>(value.count()) / 1e9;
}

py::list heredoc_list(const std::vector<heredoc>& docs) {
    py::list out;
    for (const heredoc& doc : docs) {
        out.append(py::dict(py::arg("name") = doc.name, py::arg("content") = doc.content,
                            py::arg("file_descriptor") = doc.file_descriptor,
                            py::arg("expand") = doc.expand, py::arg("chomp") = doc.chomp));
    }
    return out;
}

py::list pairs(const std::vector<key_value>& values) {
    py::list out;
    for (const key_value& value : values)
        out.append(py::make_tuple(value.key, value.value));
    return out;
}

py::dict command_fields(const command_line& command) {
    return py::dict(py::arg("command") = command.words, py::arg("shell_form") = command.shell_form);
}

/// The instruction's own fields; the caller adds kind and source fields.
py::dict fields_of(const instruction& value) {
    struct visitor {
        py::dict operator()(const run_instruction& i) const {
            py::dict d = command_fields(i.command);
            d["mounts"] = i.mounts;
            d["network"] = i.network;
            d["security"] = i.security;
            d["heredocs"] = heredoc_list(i.heredocs);
            return d;
        }
        py::dict operator()(const cmd_instruction& i) const { return command_fields(i.command); }
        py::dict operator()(const entrypoint_instruction& i) const {
            return command_fields(i.command);
        }
        py::dict operator()(const env_instruction& i) const {
            return py::dict(py::arg("variables") = pairs(i.variables));
        }
        py::dict operator()(const label_instruction& i) const {
            return py::dict(py::arg("labels") = pairs(i.labels));
        }
        py::dict operator()(const maintainer_instruction& i) const {
            return py::dict(py::arg("maintainer") = i.maintainer);
        }
        py::dict operator()(const expose_instruction& i) const {
            return py::dict(py::arg("ports") = i.ports);
        }
        py::dict operator()(const add_instruction& i) const {
            return py::dict(py::arg("sources") = i.sources, py::arg("destination") = i.destination,
                            py::arg("chown") = i.chown, py::arg("chmod") = i.chmod,
                            py::arg("checksum") = i.checksum,
                            py::arg("keep_git_dir") = i.keep_git_dir, py::arg("link") = i.link,
                            py::arg("excludes") = i.excludes,
                            py::arg("heredocs") = heredoc_list(i.heredocs));
        }
        py::dict operator()(const copy_instruction& i) const {
            return py::dict(py::arg("sources") = i.sources, py::arg("destination") = i.destination,
                            py::arg("from_") = i.from, py::arg("chown") = i.chown,
                            py::arg("chmod") = i.chmod, py::arg("link") = i.link,
                            py::arg("parents") = i.parents, py::arg("excludes") = i.excludes,
                            py::arg("heredocs") = heredoc_list(i.heredocs));
        }
        py::dict operator()(const workdir_instruction& i) const {
            return py::dict(py::arg("path") = i.path);
        }
        py::dict operator()(const user_instruction& i) const {
            return py::dict(py::arg("user") = i.user);
        }
        py::dict operator()(const volume_instruction& i) const {
            return py::dict(py::arg("volumes") = i.volumes);
        }
        py::dict operator()(const arg_instruction& i) const {
            py::list args;
            for (const arg_definition& arg : i.arguments) {
                args.append(py::make_tuple(arg.name, arg.default_value));
            }
            return py::dict(py::arg("arguments") = args);
        }
        py::dict operator()(const onbuild_instruction& i) const {
            return py::dict(py::arg("expression") = i.expression);
        }
        py::dict operator()(const stopsignal_instruction& i) const {
            return py::dict(py::arg("signal") = i.signal);
        }
        py::dict operator()(const healthcheck_instruction& i) const {
            return py::dict(py::arg("test") = i.test, py::arg("interval") = seconds(i.interval),
                            py::arg("timeout") = seconds(i.timeout),
                            py::arg("start_period") = seconds(i.start_period),
                            py::arg("start_interval") = seconds(i.start_interval),
                            py::arg("retries") = i.retries);
        }
        py::dict operator()(const shell_instruction& i) const {
            return py::dict(py::arg("shell") = i.shell);
        }
    };
    return std::visit(visitor{}, value);
}

py::dict with_source(py::dict fields, const char* kind, const instruction_source& source) {
    fields["kind"] = kind;
    fields["start_line"] = source.start_line;
    fields["end_line"] = source.end_line;
    fields["original"] = source.original;
    return fields;
}

const char* kind_of(const instruction& value) {
    static constexpr const char* kinds[] = {
        "run",    "cmd",     "entrypoint", "env",         "label", "maintainer",
        "expose", "add",     "copy",       "workdir",     "user",  "volume",
        "arg",    "onbuild", "stopsignal", "healthcheck", "shell"};
    return kinds[value.index()];
}

py::dict instruction_dict(const instruction& value) {
    const auto& source =
        std::visit([](const auto& i) -> const instruction_source& { return i; }, value);
    return with_source(fields_of(value), kind_of(value), source);
}

py::dict from_dict(const from_instruction& from) {
    return with_source(
        py::dict(py::arg("base_name") = from.base_name, py::arg("stage_name") = from.stage_name,
                 py::arg("platform") = from.platform),
        "from", from);
}

py::dict node_dict(const ast_node& node) {
    py::list trigger;
    for (const ast_node& wrapped : node.trigger)
        trigger.append(node_dict(wrapped));
    return py::dict(py::arg("keyword") = node.keyword, py::arg("flags") = node.flags,
                    py::arg("arguments") = node.arguments, py::arg("trigger") = trigger,
                    py::arg("heredocs") = heredoc_list(node.heredocs),
                    py::arg("comments") = node.comments, py::arg("original") = node.original,
                    py::arg("json") = node.json, py::arg("start_line") = node.start_line,
                    py::arg("end_line") = node.end_line);
}

py::dict parse_to_dict(std::string_view text, std::optional<std::string> escape, bool classic,
                       bool check) {
    parse_options options;
    options.dialect = classic ? dockerfile_dialect::classic : dockerfile_dialect::buildkit;
    if (escape) {
        if (*escape != "\\" && *escape != "`") {
            throw py::value_error("escape must be '\\\\' or '`', not '" + *escape + "'");
        }
        options.escape = escape->front();
    }
    const dockerfile_ast ast = parse_dockerfile(text, options);

    // Without the check, meta_args and stages are None so that Python can tell the two apart.
    py::object meta_args = py::none();
    py::object stages = py::none();
    if (check) {
        const dockerfile checked = check_instructions(ast, {options.file, options.dialect});
        py::list checked_meta_args;
        for (const arg_instruction& arg : checked.meta_args)
            checked_meta_args.append(instruction_dict(arg));
        py::list checked_stages;
        for (const build_stage& stage : checked.stages) {
            py::list body;
            for (const instruction& i : stage.instructions)
                body.append(instruction_dict(i));
            checked_stages.append(
                py::dict(py::arg("from") = from_dict(stage.from), py::arg("instructions") = body));
        }
        meta_args = std::move(checked_meta_args);
        stages = std::move(checked_stages);
    }
    py::list nodes;
    for (const ast_node& node : ast.children)
        nodes.append(node_dict(node));
    py::list directives;
    for (const parser_directive& d : ast.directives) {
        directives.append(py::dict(py::arg("name") = d.name, py::arg("value") = d.value,
                                   py::arg("line") = d.line));
    }
    py::list warnings;
    for (const parse_warning& w : ast.warnings) {
        warnings.append(py::dict(py::arg("summary") = w.summary, py::arg("detail") = w.detail,
                                 py::arg("url") = w.url, py::arg("line") = w.line));
    }
    const dump_style style = classic ? dump_style::classic : dump_style::buildkit;
    return py::dict(py::arg("meta_args") = meta_args, py::arg("stages") = stages,
                    py::arg("nodes") = nodes, py::arg("directives") = directives,
                    py::arg("warnings") = warnings, py::arg("escape") = std::string(1, ast.escape),
                    py::arg("dump") = dump_ast(ast, style));
}

}  // namespace

void register_dockerfile(py::module_& m) {
    m.def("parse_dockerfile", &parse_to_dict, py::arg("text"), py::arg("escape") = py::none(),
          py::arg("classic") = false, py::arg("check") = true,
          "Parse a Dockerfile and, when check is true, check its instructions; returns its "
          "syntax-tree nodes, directives, warnings and dump, and with the check its stages.");
}

}  // namespace dockwright::python
