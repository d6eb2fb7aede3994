// Tests of the Dockerfile parser and AST dump: the upstream conformance cases, the derived
// facts, and every parser error message.
#include <catch2/catch.hpp>
#include <dockwright/dockerfile/detail/line_parsers.hpp>
#include <dockwright/dockerfile/dump.hpp>
#include <dockwright/dockerfile/parser.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;

namespace {

std::optional<fs::path> parser_corpus() {
    const auto shared = test::shared_dir();
    if (!shared || !fs::is_directory(*shared / "conformance/parser")) return std::nullopt;
    return *shared / "conformance/parser";
}

std::string dump(std::string_view text, dump_style style = dump_style::buildkit) {
    return dump_ast(parse_dockerfile(text), style);
}

/// Parses `text`, expecting a dockerfile_parse_error, and returns it.
dockerfile_parse_error parse_failure(std::string_view text, const parse_options& options = {}) {
    try {
        parse_dockerfile(text, options);
    } catch (const dockerfile_parse_error& e) {
        return e;
    }
    FAIL("parsing succeeded: " << text);
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("parser conformance cases give the expected dump", "[parser]") {
    const auto corpus = parser_corpus();
    if (!corpus) {
        WARN("skipped: the shared corpus conformance/parser is missing");
        return;
    }
    int cases = 0;
    for (const auto& entry : fs::directory_iterator(*corpus / "cases")) {
        const std::string name = entry.path().filename().string();
        const std::string text = test::read_file(entry.path() / "Dockerfile");
        const std::string expected = test::read_file(entry.path() / "result");
        INFO("case " << name);
        CHECK(dump(text) + "\n" == expected);
        ++cases;
    }
    CHECK(cases == 33);
}

TEST_CASE("parser rejects the negative cases naming a line", "[parser]") {
    const auto corpus = parser_corpus();
    if (!corpus) {
        WARN("skipped: the shared corpus conformance/parser is missing");
        return;
    }
    int cases = 0;
    for (const auto& entry : fs::directory_iterator(*corpus / "negative")) {
        const std::string text = test::read_file(entry.path() / "Dockerfile");
        INFO("case " << entry.path().filename().string());
        const dockerfile_parse_error error = parse_failure(text);
        CHECK(std::string(error.what()).rfind("Dockerfile:", 0) == 0);
        CHECK(error.line() >= 0);
        ++cases;
    }
    CHECK(cases == 4);
}
