// Backend-independent helpers of the builder.
#include <algorithm>
#include <dockwright/build/build_error.hpp>
#include <dockwright/build/step_support.hpp>
#include <dockwright/dockerfile/detail/go_text.hpp>
#include <dockwright/dockerfile/dockerignore.hpp>
#include <dockwright/dockerfile/parser.hpp>

namespace dockwright {

std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i) out += ' ';
        out += words[i];
    }
    return out;
}

std::size_t prepare_stages(dockerfile& file, const build_options& options) {
    if (file.stages.empty()) {
        throw build_step_error({}, "", "no build stage in current context", "",
                               "no build stage in current context", 1, true);
    }
    if (!options.target.empty()) {
        const std::string target = detail::go_to_lower(options.target);
        const auto found =
            std::find_if(file.stages.begin(), file.stages.end(),
                         [&](const build_stage& s) { return s.from.stage_name == target; });
        if (found == file.stages.end()) {
            const std::string message =
                "failed to reach build target " + options.target + " in Dockerfile";
            throw build_step_error({}, "", message, options.target, message, 1, true);
        }
        file.stages.erase(found + 1, file.stages.end());
    }
    for (const auto& [key, value] : options.labels) {
        label_instruction label;
        label.original = "LABEL " + key + "=" + value;
        label.labels.push_back({key, value});
        file.stages.back().instructions.emplace_back(std::move(label));
    }
    return options.labels.size();
}

int count_steps(const dockerfile& file) {
    std::size_t total = file.meta_args.size();
    for (const build_stage& stage : file.stages)
        total += 1 + stage.instructions.size();
    return static_cast<int>(total);
}

const stage_result* find_stage(const build_result& done, std::string_view name, bool allow_index) {
    if (allow_index && !name.empty() &&
        std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        const std::size_t index = std::stoul(std::string(name));
        return index < done.stages.size() ? &done.stages[index] : nullptr;
    }
    const std::string lower = detail::go_to_lower(name);
    for (const stage_result& stage : done.stages) {
        if (!stage.name.empty() && stage.name == lower) return &stage;
    }
    return nullptr;
}

std::string resolve_workdir(std::string_view current, std::string_view requested) {
    std::string path(requested);
    if (path.empty() || path.front() != '/') {
        path = "/" + std::string(current) + "/" + path;
    }
    return clean_path(path);
}

std::string resolve_copy_destination(std::string_view workdir, std::string_view destination) {
    std::string path(destination);
    const bool directory =
        !path.empty() && (path.back() == '/' || path == "." || path.ends_with("/."));
    if (path.empty() || path.front() != '/') path = std::string(workdir) + "/" + path;
    path = clean_path("/" + path);
    if (directory && path != "/") path += '/';
    return path;
}

std::vector<std::string> run_argv(const stage_state& state, const run_instruction& inst) {
    if (inst.command.words.empty()) return {};
    if (!inst.command.shell_form) return inst.command.words;
    std::vector<std::string> argv = state.shell();
    argv.insert(argv.end(), inst.command.words.begin(), inst.command.words.end());
    return argv;
}

std::vector<std::string> prefix_build_args(const build_args& args,
                                           const std::vector<std::string>& in_scope,
                                           const std::vector<std::string>& argv) {
    std::vector<std::string> kept;
    for (const std::string& entry : in_scope) {
        if (args.referenced_or_not_builtin(entry.substr(0, entry.find('=')))) kept.push_back(entry);
    }
    std::sort(kept.begin(), kept.end());
    std::vector<std::string> out{"|" + std::to_string(kept.size())};
    out.insert(out.end(), kept.begin(), kept.end());
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
}

instruction parse_trigger(const std::string& trigger, const build_options& options) {
    parse_options parse;
    parse.file = options.dockerfile_name;
    parse.dialect = options.dialect();
    const dockerfile_ast ast = parse_dockerfile(trigger, parse);
    if (ast.children.size() != 1) {
        throw build_step_error({}, "ONBUILD", "onbuild trigger should be a single expression",
                               trigger, "onbuild trigger should be a single expression");
    }
    instruction_options check;
    check.file = options.dockerfile_name;
    check.dialect = options.dialect();
    return make_instruction(ast.children.front(), check);
}

std::string classic_error_text(const std::exception& failure) {
    static const std::string daemon = "Error response from daemon: ";
    if (const auto* step = dynamic_cast<const build_step_error*>(&failure)) {
        return (step->parse_phase() ? daemon : "") + step->docker_message();
    }
    if (const auto* checked = dynamic_cast<const dockerfile_instruction_error*>(&failure)) {
        return daemon + checked->docker_message();
    }
    if (const auto* parsed = dynamic_cast<const dockerfile_parse_error*>(&failure)) {
        return daemon + "failed to parse Dockerfile: " + parsed->docker_message();
    }
    return failure.what();
}

}  // namespace dockwright
