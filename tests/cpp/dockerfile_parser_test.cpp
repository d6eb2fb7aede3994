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

TEST_CASE("parser derived facts hold", "[parser]") {
    const auto corpus = parser_corpus();
    if (!corpus) {
        WARN("skipped: the shared corpus conformance/parser is missing");
        return;
    }
    const auto facts = nlohmann::json::parse(test::read_file(*corpus / "derived-facts.json"));

    for (const auto& item : facts["json_array_form"]["valid"]) {
        std::vector<std::string> words;
        INFO("input " << item["input"].get<std::string>());
        CHECK(detail::parse_json_array(item["input"].get<std::string>(), words) ==
              detail::json_array_status::ok);
        CHECK(words == item["expected_words"].get<std::vector<std::string>>());
    }
    for (const auto& input : facts["json_array_form"]["invalid_not_string_array"]) {
        std::vector<std::string> words;
        CHECK(detail::parse_json_array(input.get<std::string>(), words) ==
              detail::json_array_status::not_string_array);
    }
    for (const auto& item : facts["parse_words"]["cases"]) {
        CHECK(detail::split_words(item["input"].get<std::string>(), '\\') ==
              item["expected_words"].get<std::vector<std::string>>());
    }
    for (const auto& item : facts["name_value_pairs"]["cases"]) {
        const std::string line =
            item["instruction"].get<std::string>() + " " + item["args"].get<std::string>();
        if (item.contains("expected_error")) {
            CHECK_THROWS_AS(detail::make_node(line, '\\'), detail::line_error);
        } else {
            CHECK(detail::make_node(line, '\\').arguments ==
                  item["expected_nodes"].get<std::vector<std::string>>());
        }
    }

    const auto& lines = facts["line_numbers"];
    const dockerfile_ast ast = parse_dockerfile(test::read_file(*corpus / "line-info/Dockerfile"));
    CHECK(ast.start_line == lines["root"]["start_line"].get<int>());
    CHECK(ast.end_line == lines["root"]["end_line"].get<int>());
    REQUIRE(ast.children.size() == lines["root"]["children"].get<std::size_t>());
    for (std::size_t i = 0; i < ast.children.size(); ++i) {
        CHECK(ast.children[i].start_line == lines["children"][i][0].get<int>());
        CHECK(ast.children[i].end_line == lines["children"][i][1].get<int>());
    }

    const auto& empty = facts["empty_continuation_line_warnings"];
    const dockerfile_ast warned = parse_dockerfile(empty["dockerfile"].get<std::string>());
    REQUIRE(warned.warnings.size() == empty["expected_warning_count"].get<std::size_t>());
    for (std::size_t i = 0; i < warned.warnings.size(); ++i) {
        for (const auto& part : empty["expected_warning_substrings"][i]) {
            CHECK(warned.warnings[i].summary.find(part.get<std::string>()) != std::string::npos);
        }
    }
    CHECK(warned.warnings[0].detail.find("will become errors in a future release") !=
          std::string::npos);

    const std::string too_long =
        "\n\t\tFROM image\n\t\tLABEL test=" + std::string(65536, 'a') + "\n";
    CHECK(parse_failure(too_long).docker_message() ==
          facts["max_line_length"]["expected_error"].get<std::string>());

    for (const auto& item : facts["escape_directive"]["cases"]) {
        const std::string text = item["text"].get<std::string>() + "FROM a\n";
        const dockerfile_ast parsed = parse_dockerfile(text);
        REQUIRE(parsed.directives.size() == item["expected"].size());
        CHECK(parsed.directives[0].name == item["expected"][0]["name"].get<std::string>());
        CHECK(parsed.directives[0].value == item["expected"][0]["value"].get<std::string>());
    }
}

TEST_CASE("parser error messages", "[parser]") {
    CHECK(std::string(parse_failure("# only a comment\n").what()) ==
          "Dockerfile:1: file with no instructions");
    CHECK(std::string(parse_failure("").what()) == "Dockerfile: file with no instructions");

    const auto env = parse_failure("FROM a\nENV PATH\n");
    CHECK(std::string(env.what()) ==
          "Dockerfile:2: ENV: missing value; expected a name and a value or name=value: 'PATH'");
    CHECK(env.docker_message() == "ENV must have two arguments");
    CHECK(env.line() == 2);
    CHECK(env.end_line() == 2);

    const auto label = parse_failure("FROM a\nLABEL a=b \\\n  c\n");
    CHECK(std::string(label.what()) ==
          "Dockerfile:2: LABEL: missing '=' in a name=value list: 'c'");
    CHECK(label.docker_message() ==
          "Syntax error - can't find = in \"c\". Must be of the form: name=value");
    CHECK(label.end_line() == 3);

    const auto nested = parse_failure("FROM a\nCMD [ \"echo\", [ \"x\" ] ]\n");
    CHECK(std::string(nested.what()) ==
          "Dockerfile:2: CMD: JSON array must contain only "
          "strings: '[ \"echo\", [ \"x\" ] ]'");
    CHECK(nested.docker_message() ==
          "when using JSON array syntax, arrays must be comprised of strings only");

    const auto twice = parse_failure("# escape=`\n# escape=\\\nFROM a\n");
    CHECK(std::string(twice.what()) ==
          "Dockerfile:2: parser directive given more than once: 'escape'");
    CHECK(twice.docker_message() == "only one escape parser directive can be used");

    const auto bad_escape = parse_failure("# escape=x\nFROM a\n");
    CHECK(std::string(bad_escape.what()) ==
          "Dockerfile:1: invalid escape character, expected ` or \\: 'x'");
    CHECK(bad_escape.docker_message() == "invalid escape token 'x' does not match ` or \\");

    const auto heredoc = parse_failure("FROM a\nRUN <<EOF\necho\n");
    CHECK(std::string(heredoc.what()) == "Dockerfile:2: RUN: unterminated heredoc: 'EOF'");
    CHECK(heredoc.end_line() == 3);

    parse_options named;
    named.file = "app/Dockerfile";
    CHECK(std::string(parse_failure("FROM a\nENV X\n", named).what())
              .rfind("app/Dockerfile:2: ENV:", 0) == 0);
}

TEST_CASE("parser reads heredocs as BuildKit does", "[parser]") {
    const dockerfile_ast ast = parse_dockerfile(
        "FROM a\nRUN <<EOF1 cat - <<-'EOF2' > out\nline 1\nEOF1\n\tline 2\n\tEOF2\n"
        "COPY <<\"x y\" /dest\nhello\nx y\n");
    REQUIRE(ast.children.size() == 3);
    const ast_node& run = ast.children[1];
    REQUIRE(run.heredocs.size() == 2);
    CHECK(run.heredocs[0] == heredoc{"EOF1", "line 1\n", 0, true, false});
    CHECK(run.heredocs[1] == heredoc{"EOF2", "\tline 2\n", 0, false, true});
    CHECK(run.start_line == 2);
    CHECK(run.end_line == 6);
    // Quotes keep a space inside the delimiter, and they turn expansion off.
    CHECK(ast.children[2].heredocs.at(0) == heredoc{"x y", "hello\n", 0, false, false});
    CHECK(dump_ast(ast) ==
          "(from \"a\")\n(run \"<<EOF1 cat - <<-'EOF2' > out\")\n"
          "(copy \"<<\\\"x\" \"y\\\"\" \"/dest\")");

    const dockerfile_ast fd = parse_dockerfile("FROM a\nRUN 3<<EOF\nx\nEOF\n");
    CHECK(fd.children[1].heredocs.at(0).file_descriptor == 3);

    // The exec form and the classic dialect have no heredocs.
    CHECK(parse_dockerfile("FROM a\nRUN [\"<<EOF\"]\n").children[1].heredocs.empty());
    const parse_options classic{"Dockerfile", dockerfile_dialect::classic, std::nullopt};
    CHECK(dump_ast(parse_dockerfile("FROM a\nRUN <<EOF\necho\nEOF\n", classic)) ==
          "(from \"a\")\n(run \"<<EOF\")\n(echo \"\")\n(eof \"\")");
}

TEST_CASE("dump quotes as Go's strconv.Quote", "[parser]") {
    CHECK(dump("FROM a\nCMD \"\x01\xff\xc2\xa0\xe2\x99\xa5\"\n") ==
          "(from \"a\")\n(cmd \"\\\"\\x01\\xff\\u00a0\xe2\x99\xa5\\\"\")");
    // The word splitter of ENV and LABEL turns invalid UTF-8 into U+FFFD, as Go does.
    CHECK(dump("FROM a\nLABEL x=\xff\n") == "(from \"a\")\n(label \"x\" \"\xef\xbf\xbd\" \"=\")");
    CHECK(dump("FROM a\nONBUILD RUN x\n") == "(from \"a\")\n(onbuild (run \"x\"))");
    CHECK(dump("FROM a\nfoo bar\n") == "(from \"a\")\n(foo \"\")");
}
