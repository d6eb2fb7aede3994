// `dockwright evaluate`: the final config and history of every stage, nothing executed.
#include <cerrno>
#include <cstring>
#include <dockwright/build/build_error.hpp>
#include <dockwright/build/evaluate.hpp>
#include <dockwright/core/error.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "commands.hpp"

namespace dockwright::cli {

namespace {

struct evaluate_settings {
    std::string context = ".";
    std::string dockerfile;
    std::vector<std::string> build_args;
    std::vector<std::string> labels;
    std::vector<std::string> bases;
    std::string target;
    bool classic = false;
};

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw error("cannot open '" + path + "': " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::map<std::string, std::string> key_values(const std::vector<std::string>& pairs) {
    std::map<std::string, std::string> out;
    for (const std::string& pair : pairs) {
        const std::size_t equals = pair.find('=');
        if (equals == std::string::npos) {
            const char* env = std::getenv(pair.c_str());
            if (env) out[pair] = env;
            continue;
        }
        out[pair.substr(0, equals)] = pair.substr(equals + 1);
    }
    return out;
}

void print_result(const build_result& result) {
    for (const stage_result& stage : result.stages) {
        std::cout << "# stage " << stage.index;
        if (!stage.name.empty()) std::cout << " (" << stage.name << ")";
        std::cout << " FROM " << stage.base << '\n';
        for (std::size_t i = 0; i < stage.steps.size(); ++i) {
            const step_record& step = stage.steps[i];
            const history& entry = stage.config.history[stage.base_history + i];
            std::cout << "#   " << (step.executed ? "" : "not executed: ")
                      << (step.layer == layer_outcome::state::empty     ? "empty layer: "
                          : step.layer == layer_outcome::state::unknown ? "layer unknown: "
                                                                        : "layer: ")
                      << entry.created_by << '\n';
        }
        std::cout << to_json(stage.config) << '\n';
    }
}

int run_evaluate(const evaluate_settings& settings) {
    build_options options;
    options.classic = settings.classic;
    options.context = settings.context;
    options.target = settings.target;
    options.build_args = key_values(settings.build_args);
    options.labels = key_values(settings.labels);
    const std::string file = settings.dockerfile.empty()
                                 ? (std::filesystem::path(settings.context) / "Dockerfile").string()
                                 : settings.dockerfile;
    options.dockerfile_name = std::filesystem::path(file).filename().string();
    std::map<std::string, base_image> bases;
    for (const auto& [reference, path] : key_values(settings.bases)) {
        image config = image_from_json(read_text(path));
        bases.emplace(reference, base_image{image_id_of(read_text(path)), std::move(config)});
    }
    auto lookup = [&](const std::string& reference) -> std::optional<base_image> {
        const auto found = bases.find(reference);
        if (found == bases.end()) return std::nullopt;
        return found->second;
    };
    try {
        const build_result result = evaluate(read_text(file), options, lookup);
        for (const std::string& warning : result.warnings)
            std::cerr << warning << '\n';
        print_result(result);
    } catch (const dockerfile_error& e) {
        if (!settings.classic) throw;
        std::cerr << classic_error_text(e) << '\n';
        const auto* step = dynamic_cast<const build_step_error*>(&e);
        return step ? step->exit_code() : 1;
    }
    return 0;
}

}  // namespace

void add_evaluate_command(CLI::App& app) {
    auto settings = std::make_shared<evaluate_settings>();
    CLI::App* command = app.add_subcommand(
        "evaluate", "Print the config and history each stage would get, running nothing");
    command->add_option("context", settings->context, "The build context directory");
    command->add_option("-f,--file", settings->dockerfile,
                        "The Dockerfile (default CONTEXT/Dockerfile)");
    command->add_option("--build-arg", settings->build_args, "A build argument K=V")
        ->allow_extra_args(false);
    command->add_option("--label", settings->labels, "A label k=v for the target stage")
        ->allow_extra_args(false);
    command
        ->add_option("--base", settings->bases,
                     "A base image REF=config.json (a config blob as docker save holds it)")
        ->allow_extra_args(false);
    command->add_option("--target", settings->target, "The last stage to evaluate");
    command->add_flag("--classic", settings->classic,
                      "Docker 20.10's classic builder: its syntax, rejections and error texts");
    command->callback([settings] {
        const int status = run_evaluate(*settings);
        if (status != 0) throw CLI::RuntimeError(status);
    });
}

}  // namespace dockwright::cli
