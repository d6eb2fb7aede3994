// Tests of word expansion: the upstream envVarTest and wordsTest vectors, the derived cases and
// exact error messages.
#include <catch2/catch.hpp>
#include <dockwright/dockerfile/shell_lexer.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support.hpp"

namespace {

using dockwright::expansion_error;
using dockwright::shell_environment;
using dockwright::shell_lexer;
using dockwright::shell_lexer_options;

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream in(text);
    while (std::getline(in, part, separator))
        parts.push_back(part);
    if (!text.empty() && text.back() == separator) parts.emplace_back();
    return parts;
}

std::optional<std::filesystem::path> shell_vectors(const char* name) {
    const auto shared = dockwright::test::shared_dir();
    if (!shared) return std::nullopt;
    auto path = *shared / "conformance" / "shell" / name;
    if (!std::filesystem::exists(path)) return std::nullopt;
    return path;
}

shell_environment env_from_json(const nlohmann::json& object) {
    shell_environment env;
    for (const auto& [name, value] : object.items())
        env.set(name, value.get<std::string>());
    return env;
}

std::vector<std::string> sorted_names(const std::set<std::string>& names) {
    return {names.begin(), names.end()};
}

std::string error_message(const shell_lexer& lexer, std::string_view word,
                          const shell_environment& env = {}) {
    try {
        (void)lexer.expand(word, env);
    } catch (const expansion_error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("envVarTest vectors expand as Docker does", "[shell]") {
    const auto path = shell_vectors("envVarTest");
    if (!path) {
        WARN("skipped: shared corpus conformance/shell/envVarTest not found");
        return;
    }
    const shell_environment env{"PWD=/home", "SHELL=bash", "KOREAN=한국어", "NULL="};
    const shell_lexer lexer;
    std::istringstream lines(dockwright::test::read_file(*path));
    std::string line;
    int checked = 0;
    while (std::getline(lines, line)) {
        if (!line.empty() && line[0] == '#') continue;
        if (trim(line).empty()) continue;
        const auto fields = split(trim(line), '|');
        REQUIRE(fields.size() == 3);
        const std::string platform = trim(fields[0]);
        const std::string input = trim(fields[1]);
        const std::string expected = trim(fields[2]);
        if (platform == "W") continue;
        INFO("input: " << input);
        if (expected == "error") {
            CHECK_THROWS_AS(lexer.expand(input, env), expansion_error);
        } else {
            CHECK(lexer.expand(input, env) == expected);
        }
        ++checked;
    }
    CHECK(checked == 228);
}

TEST_CASE("wordsTest vectors split as Docker does", "[shell]") {
    const auto path = shell_vectors("wordsTest");
    if (!path) {
        WARN("skipped: shared corpus conformance/shell/wordsTest not found");
        return;
    }
    shell_environment env;
    const shell_lexer lexer;
    std::istringstream lines(dockwright::test::read_file(*path));
    std::string line;
    int checked = 0;
    while (std::getline(lines, line)) {
        if (!line.empty() && line[0] == '#') continue;
        if (line.rfind("ENV ", 0) == 0) {
            env.add(line.substr(line.find_first_not_of(' ', 4)));
            continue;
        }
        const auto fields = split(line, '|');
        REQUIRE(fields.size() == 2);
        const std::string input = trim(fields[0]);
        const std::string expected_text = fields[1].substr(fields[1].find_first_not_of(' '));
        const std::vector<std::string> expected = split(expected_text, ',');
        INFO("input: " << input);
        std::vector<std::string> words;
        try {
            words = lexer.expand_words(input, env);
        } catch (const expansion_error&) {
            words = {"error"};
        }
        CHECK(words == expected);
        ++checked;
    }
    CHECK(checked == 24);
}

TEST_CASE("derived cases from lex_test.go hold", "[shell]") {
    const auto path = shell_vectors("derived-cases.json");
    if (!path) {
        WARN("skipped: shared corpus conformance/shell/derived-cases.json not found");
        return;
    }
    const auto cases = nlohmann::json::parse(dockwright::test::read_file(*path));
    const shell_lexer lexer;

    SECTION("process_word_with_matches") {
        for (const auto& item : cases["process_word_with_matches"]["cases"]) {
            const std::string input = item["input"];
            INFO("input: " << input << " env: " << item["env"].dump());
            const shell_environment env = env_from_json(item["env"]);
            if (item.value("expected_error", false)) {
                CHECK_THROWS_AS(lexer.expand_with_matches(input, env), expansion_error);
                continue;
            }
            const auto result = lexer.expand_with_matches(input, env);
            CHECK(result.value == item["expected"].get<std::string>());
            CHECK(sorted_names(result.matched) ==
                  item["expected_matched"].get<std::vector<std::string>>());
            CHECK(sorted_names(result.unmatched) ==
                  item["expected_unmatched"].get<std::vector<std::string>>());
        }
    }

    SECTION("mandatory_error_forms") {
        for (const auto& item : cases["mandatory_error_forms"]["cases"]) {
            const std::string input = item["input"];
            INFO("input: " << input << " env: " << item["env"].dump());
            const shell_environment env = env_from_json(item["env"]);
            if (item.contains("expected")) {
                CHECK(lexer.expand(input, env) == item["expected"].get<std::string>());
            } else {
                CHECK_THROWS_WITH(
                    lexer.expand(input, env),
                    Catch::Contains(item["expected_error_contains"].get<std::string>()));
            }
        }
    }

    SECTION("platform_variables_example") {
        const auto& example = cases["platform_variables_example"];
        for (const auto& item : example["cases"]) {
            INFO("env: " << item["env"].dump());
            CHECK(lexer.expand(example["input"].get<std::string>(), env_from_json(item["env"])) ==
                  item["expected"].get<std::string>());
        }
    }

    SECTION("env_list_semantics") {
        for (const auto& item : cases["env_list_semantics"]["cases"]) {
            const auto entries = item["env_list"].get<std::vector<std::string>>();
            const shell_environment env{std::span<const std::string>(entries)};
            INFO("env: " << item["env_list"].dump());
            CHECK(env.find(item["lookup"].get<std::string>()).value_or("") ==
                  item["expected_value"].get<std::string>());
        }
    }
}

TEST_CASE("expansion errors have exact messages", "[shell]") {
    const shell_lexer lexer;
    const shell_environment env{"EMPTY=", "SET=x"};
    CHECK(error_message(lexer, "he'llo") ==
          "unexpected end of statement while looking for matching single-quote: 'he'llo'");
    CHECK(error_message(lexer, "\"hello") ==
          "unexpected end of statement while looking for matching double-quote: '\"hello'");
    CHECK(error_message(lexer, "${") == "syntax error: missing '}': '${'");
    CHECK(error_message(lexer, "a${PWD") == "syntax error: missing '}': 'a${PWD'");
    CHECK(error_message(lexer, "${X:-abc") == "syntax error: missing '}': '${X:-abc'");
    CHECK(error_message(lexer, "${}") == "syntax error: bad substitution: '${}'");
    CHECK(error_message(lexer, "${:-x}") == "syntax error: bad substitution: '${:-x}'");
    CHECK(error_message(lexer, "${X:=y}") ==
          "unsupported modifier (:=) in substitution: '${X:=y}'");
    CHECK(error_message(lexer, "${X.}") == "unsupported modifier (.) in substitution: '${X.}'");
    CHECK(error_message(lexer, "${X:#a}") ==
          "unsupported modifier (:#) in substitution: '${X:#a}'");
    CHECK(error_message(lexer, "${X?}", env) == "X: is not allowed to be unset: '${X?}'");
    CHECK(error_message(lexer, "${EMPTY:?}", env) ==
          "EMPTY: is not allowed to be empty: '${EMPTY:?}'");
    CHECK(error_message(lexer, "${X?set X first}", env) == "X: set X first: '${X?set X first}'");
    CHECK(error_message(lexer, "${SET#\\x}", env) ==
          "invalid pattern (\\x) in substitution: invalid escape '\\x': '${SET#\\x}'");
    CHECK(error_message(lexer, "${SET/a") == "syntax error: missing '/' in ${}: '${SET/a'");
    CHECK(error_message(lexer, "${SET/a/b") == "syntax error: missing '}': '${SET/a/b'");
    CHECK(error_message(lexer, "${X:-'a}") == "syntax error: missing '}': '${X:-'a}'");
}

TEST_CASE("expansion error carries fields and can gain a location", "[shell]") {
    const shell_lexer lexer;
    try {
        (void)lexer.expand("${A?missing}", {});
        FAIL("no error");
    } catch (const expansion_error& e) {
        CHECK(e.reason() == "A: missing");
        CHECK(e.value() == "${A?missing}");
        CHECK(e.line() == 0);
        const auto located = dockwright::with_location(e, {"Dockerfile", 3, 4}, "ENV");
        CHECK(located.line() == 3);
        CHECK(located.end_line() == 4);
        CHECK(located.instruction() == "ENV");
        CHECK(std::string(located.what()) == "Dockerfile:3: ENV: A: missing: '${A?missing}'");
    }
}

TEST_CASE("backtick escape replaces backslash", "[shell]") {
    const shell_lexer lexer(shell_lexer_options{.escape = '`'});
    const shell_environment env{"A=1"};
    CHECK(lexer.expand("C:\\dir\\$A", env) == "C:\\dir\\1");
    CHECK(lexer.expand("`$A", env) == "$A");
    CHECK(lexer.expand("\"a`\"b\"", env) == "a\"b");
    CHECK(lexer.expand("\"a\\\"", env) == "a\\");
    CHECK(lexer.expand_words("a` b c", env) == std::vector<std::string>{"a b", "c"});
}

TEST_CASE("classic mode rejects pattern operators", "[shell]") {
    const shell_lexer lexer(shell_lexer_options{.pattern_operators = false});
    const shell_environment env{"A=abc"};
    CHECK(error_message(lexer, "${A#a}", env) ==
          "unsupported modifier (#) in substitution: '${A#a}'");
    CHECK(error_message(lexer, "${A%c}", env) ==
          "unsupported modifier (%) in substitution: '${A%c}'");
    CHECK(error_message(lexer, "${A/a/b}", env) ==
          "unsupported modifier (/) in substitution: '${A/a/b}'");
    CHECK(lexer.expand("${A:-x}", env) == "abc");
}

TEST_CASE("pattern operators follow Go regexp semantics", "[shell]") {
    const shell_lexer lexer;
    const shell_environment env{"P=a.b.c", "N=x\ny", "D=a$b"};
    CHECK(lexer.expand("${P#*.}", env) == "b.c");
    CHECK(lexer.expand("${P##*.}", env) == "c");
    CHECK(lexer.expand("${P%.*}", env) == "a.b");
    CHECK(lexer.expand("${P%%.*}", env) == "a");
    CHECK(lexer.expand("${P/./-}", env) == "a-b.c");
    CHECK(lexer.expand("${P//./-}", env) == "a-b-c");
    CHECK(lexer.expand("${N#*y}", env) == "x\ny");
    CHECK(lexer.expand("${N//?/_}", env) == "_\n_");
    // The replacement keeps its escape characters, and only `//` reads it as a Go template.
    CHECK(lexer.expand("${P//b/['$0']}", env) == "a.[b].c");
    CHECK(lexer.expand("${P//b/'$$'}", env) == "a.$.c");
    CHECK(lexer.expand("${P//b/\\$0}", env) == "a.\\b.c");
    CHECK(lexer.expand("${P/b/'$0'}", env) == "a.$0.c");
    CHECK(lexer.expand("${P//x*/-}", env) == "a.b.c");
    CHECK(lexer.expand("${P//*/-}", env) == "-");
}

TEST_CASE("repeated names take the last value", "[shell]") {
    const std::vector<std::string> entries{"A=first", "B", "A=second"};
    const shell_environment env{std::span<const std::string>(entries)};
    CHECK(env.find("A") == "second");
    CHECK(env.find("B") == "");
    CHECK_FALSE(env.find("C").has_value());
}

TEST_CASE("invalid UTF-8 becomes U+FFFD and a leading BOM is dropped", "[shell]") {
    const shell_lexer lexer;
    CHECK(lexer.expand("a\xff"
                       "b",
                       {}) ==
          "a\xEF\xBF\xBD"
          "b");
    CHECK(lexer.expand("\xEF\xBB\xBF"
                       "abc",
                       {}) == "abc");
}

TEST_CASE("word splitting uses Unicode white space", "[shell]") {
    const shell_lexer lexer;
    const shell_environment env{
        "S=a\xC2\xA0"
        "b\tc"};
    CHECK(lexer.expand_words("$S", env) == std::vector<std::string>{"a", "b", "c"});
    CHECK(lexer.expand_words("\"$S\"", env) == std::vector<std::string>{"a\xC2\xA0"
                                                                        "b\tc"});
    CHECK(lexer.expand_words("${S:+x y}z", env) == std::vector<std::string>{"x", "yz"});
}
