// `dockwright parse`: parses a Dockerfile and prints its syntax tree or its build stages.
#include <cerrno>
#include <cstring>
#include <dockwright/core/error.hpp>
#include <dockwright/dockerfile/dump.hpp>
#include <dockwright/dockerfile/instructions.hpp>
#include <dockwright/dockerfile/parser.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"

namespace dockwright::cli {

namespace {

struct parse_settings {
    std::string path;
    bool dump = false;
    bool check = false;
    bool classic = false;
};

std::string read_dockerfile(const std::string& path) {
    std::ostringstream text;
    if (path == "-") {
        text << std::cin.rdbuf();
        return text.str();
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw error("cannot open '" + path + "': " + std::strerror(errno));
    text << in.rdbuf();
    return text.str();
}

void print_stages(const dockerfile& checked) {
    std::cout << "stages: " << checked.stages.size() << ", meta ARGs: " << checked.meta_args.size()
              << ", escape: " << checked.escape << '\n';
    for (std::size_t i = 0; i < checked.stages.size(); ++i) {
        const build_stage& stage = checked.stages[i];
        std::cout << "stage " << i << ": FROM " << stage.from.base_name;
        if (!stage.from.stage_name.empty()) std::cout << " AS " << stage.from.stage_name;
        std::cout << " (line " << stage.from.start_line << ", " << stage.instructions.size()
                  << " instructions)\n";
    }
}

void run_parse(const parse_settings& settings) {
    parse_options options;
    options.file = settings.path == "-" ? "<stdin>" : settings.path;
    options.dialect = settings.classic ? dockerfile_dialect::classic : dockerfile_dialect::buildkit;
    const dockerfile_ast ast = parse_dockerfile(read_dockerfile(settings.path), options);

    if (settings.classic) {
        std::cerr << classic_warning_text(ast);
    } else {
        for (const parse_warning& warning : ast.warnings) {
            std::cerr << options.file << ':' << warning.line << ": warning: " << warning.summary
                      << " (" << warning.detail << ")\n";
        }
    }
    if (settings.check) {
        print_stages(check_instructions(ast, {options.file, options.dialect}));
    }
    if (settings.dump || !settings.check) {
        const dump_style style = settings.classic ? dump_style::classic : dump_style::buildkit;
        std::cout << dump_ast(ast, style) << '\n';
    }
}

}  // namespace

void add_parse_command(CLI::App& app) {
    auto settings = std::make_shared<parse_settings>();
    CLI::App* command = app.add_subcommand(
        "parse", "Parse a Dockerfile and print its syntax tree in moby's dump format");
    command->add_option("file", settings->path, "Dockerfile to read, or - for standard input")
        ->required();
    command->add_flag("--dump", settings->dump,
                      "Print the syntax tree, one (keyword args...) per instruction (the default)");
    command->add_flag("--check", settings->check,
                      "Check the instructions and print the build stages");
    command->add_flag("--classic", settings->classic,
                      "Parse as Docker 20.10's classic builder: no heredocs, ENV and LABEL "
                      "dumped as pairs, warnings in Docker's text");
    command->callback([settings] { run_parse(*settings); });
}

}  // namespace dockwright::cli
