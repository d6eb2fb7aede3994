// Differential test: 300 real-world Dockerfiles parsed in the classic dialect must give the
// dump, error and warnings that Docker 20.10.24's parser gives.
#include <catch2/catch.hpp>
#include <dockwright/dockerfile/detail/go_text.hpp>
#include <dockwright/dockerfile/dump.hpp>
#include <dockwright/dockerfile/instructions.hpp>
#include <dockwright/dockerfile/parser.hpp>
#include <filesystem>
#include <string>

#include "support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;

namespace {

/// The oracle's summary of Docker's instructions.Parse: stage count, meta ARGs, escape and one
/// line per stage, or `ERROR: <message>`.
std::string check_summary(const std::string& text) {
    const parse_options options{"Dockerfile", dockerfile_dialect::classic, std::nullopt};
    try {
        const dockerfile checked = check_instructions(parse_dockerfile(text, options),
                                                      {"Dockerfile", dockerfile_dialect::classic});
        std::string out = "OK stages=" + std::to_string(checked.stages.size()) +
                          " metaargs=" + std::to_string(checked.meta_args.size()) +
                          " escape=" + (checked.escape == '`' ? "'`'" : "'\\\\'") + "\n";
        for (std::size_t i = 0; i < checked.stages.size(); ++i) {
            const build_stage& stage = checked.stages[i];
            out += "stage " + std::to_string(i) +
                   " base=" + detail::go_quote(stage.from.base_name) +
                   " name=" + detail::go_quote(stage.from.stage_name) +
                   " commands=" + std::to_string(stage.instructions.size()) + "\n";
        }
        return out;
    } catch (const dockerfile_parse_error& e) {
        return "ERROR: " + e.docker_message() + "\n";
    } catch (const dockerfile_instruction_error& e) {
        return "ERROR: " + e.docker_message() + "\n";
    }
}

}  // namespace

TEST_CASE("real-world Dockerfiles match Docker 20.10's parser", "[parser][realworld]") {
    const auto shared = test::shared_dir();
    if (!shared || !fs::is_directory(*shared / "realworld")) {
        WARN("skipped: the shared corpus realworld is missing");
        return;
    }
    const parse_options options{"Dockerfile", dockerfile_dialect::classic, std::nullopt};
    int files = 0;
    int matched = 0;
    for (const auto& entry : fs::directory_iterator(*shared / "realworld")) {
        if (!fs::exists(entry.path() / "Dockerfile")) continue;
        ++files;
        const std::string text = test::read_file(entry.path() / "Dockerfile");
        const fs::path dump_file = entry.path() / "expected.dump";
        const fs::path warnings_file = entry.path() / "expected.warnings";
        std::string actual;
        std::string warnings;
        try {
            const dockerfile_ast ast = parse_dockerfile(text, options);
            actual = "dump:" + dump_ast(ast, dump_style::classic) + "\n";
            warnings = classic_warning_text(ast);
        } catch (const dockerfile_parse_error& e) {
            actual = "error:" + e.docker_message() + "\n";
        }
        const std::string expected =
            fs::exists(dump_file) ? "dump:" + test::read_file(dump_file)
                                  : "error:" + test::read_file(entry.path() / "expected.error");
        const std::string expected_warnings =
            fs::exists(warnings_file) ? test::read_file(warnings_file) : "";
        INFO("file " << entry.path().filename().string());
        CHECK(actual == expected);
        CHECK(warnings == expected_warnings);
        if (actual == expected && warnings == expected_warnings) ++matched;
    }
    WARN("real-world parser matches: " << matched << " of " << files);
    CHECK(files == 300);
}

TEST_CASE("real-world Dockerfiles match Docker 20.10's instruction check",
          "[instructions][realworld]") {
    const auto shared = test::shared_dir();
    if (!shared || !fs::is_directory(*shared / "realworld")) {
        WARN("skipped: the shared corpus realworld is missing");
        return;
    }
    int files = 0;
    int matched = 0;
    for (const auto& entry : fs::directory_iterator(*shared / "realworld")) {
        if (!fs::exists(entry.path() / "Dockerfile")) continue;
        ++files;
        const std::string actual = check_summary(test::read_file(entry.path() / "Dockerfile"));
        const std::string expected = test::read_file(entry.path() / "expected.check");
        INFO("file " << entry.path().filename().string());
        CHECK(actual == expected);
        if (actual == expected) ++matched;
    }
    WARN("real-world instruction check matches: " << matched << " of " << files);
    CHECK(files == 300);
}
