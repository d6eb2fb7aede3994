// Tests of .dockerignore reading and matching: the patternmatcher facts and exact errors.
#include <catch2/catch.hpp>
#include <dockwright/core/error.hpp>
#include <dockwright/dockerfile/dockerignore.hpp>
#include <nlohmann/json.hpp>

#include "support.hpp"

namespace {

using dockwright::dockerignore;
using dockwright::ignore_pattern_kind;
using dockwright::invalid_value_error;

std::optional<nlohmann::json> load_cases() {
    const auto shared = dockwright::test::shared_dir();
    if (!shared) return std::nullopt;
    const auto path = *shared / "conformance" / "dockerignore" / "cases.json";
    if (!std::filesystem::exists(path)) return std::nullopt;
    return nlohmann::json::parse(dockwright::test::read_file(path));
}

/// Matches `path` against `patterns`, reporting a malformed pattern as an error.
struct outcome {
    bool matched = false;
    bool error = false;
};

outcome match(const std::vector<std::string>& patterns, const std::string& path) {
    try {
        return {dockerignore(patterns).matches(path), false};
    } catch (const invalid_value_error&) {
        return {false, true};
    }
}

std::string error_message(const std::vector<std::string>& patterns, const std::string& path) {
    try {
        (void)dockerignore(patterns).matches(path);
    } catch (const invalid_value_error& e) {
        return e.what();
    }
    return "(no error)";
}

ignore_pattern_kind kind_named(const std::string& name) {
    if (name == "exactMatch") return ignore_pattern_kind::exact;
    if (name == "prefixMatch") return ignore_pattern_kind::prefix;
    if (name == "suffixMatch") return ignore_pattern_kind::suffix;
    return ignore_pattern_kind::regexp;
}

}  // namespace

TEST_CASE("patternmatcher facts hold", "[dockerignore]") {
    const auto cases = load_cases();
    if (!cases) {
        WARN("skipped: shared corpus conformance/dockerignore/cases.json not found");
        return;
    }
    int checked = 0;
    for (const auto& group : (*cases)["groups"]) {
        const std::string name = group["name"];
        for (const auto& item : group["cases"]) {
            INFO(name << ": " << item.dump());
            ++checked;
            if (name == "pattern_list_construction") {
                const auto patterns = item["patterns"].get<std::vector<std::string>>();
                if (item.value("expected_error", false) == true) {
                    CHECK_THROWS_AS(dockerignore(patterns), invalid_value_error);
                    continue;
                }
                const dockerignore ignore(patterns);
                if (item.contains("expected_pattern_count")) {
                    CHECK(ignore.patterns().size() == item["expected_pattern_count"]);
                }
                if (item.contains("expected_exclusions")) {
                    CHECK(ignore.has_exceptions() == item["expected_exclusions"]);
                }
                if (item.contains("then")) {
                    const std::string path = item["then"]["path"];
                    CHECK_THROWS_AS(ignore.matches(path), invalid_value_error);
                    CHECK_THROWS_AS(ignore.matches(path), invalid_value_error);
                }
            } else if (name == "compiled_pattern_kinds") {
                const dockerignore ignore({item["pattern"].get<std::string>()});
                CHECK(ignore.pattern_kinds() ==
                      std::vector{kind_named(item["match_type"].get<std::string>())});
            } else if (name == "dockerignore_file_reading") {
                const std::string text = item["input"].is_null() ? "" : item["input"];
                CHECK(dockwright::read_dockerignore(text) ==
                      item["expected_patterns"].get<std::vector<std::string>>());
            } else {
                const auto patterns = item.contains("patterns")
                                          ? item["patterns"].get<std::vector<std::string>>()
                                          : std::vector{item["pattern"].get<std::string>()};
                const outcome result = match(patterns, item["path"]);
                CHECK(result.error == item.value("expected_error", false));
                CHECK(result.matched == item["expected_match"].get<bool>());
            }
        }
    }
    CHECK(checked == 167);
}

TEST_CASE("bad dockerignore patterns name the pattern", "[dockerignore]") {
    CHECK(error_message({"!"}, "a") ==
          "invalid dockerignore pattern '!': illegal exclusion pattern");
    CHECK(error_message({"a", " [x "}, "a") ==
          "invalid dockerignore pattern '[x': syntax error in pattern");
    CHECK(error_message({"a\\"}, "a") ==
          "invalid dockerignore pattern 'a\\': syntax error in pattern");
    CHECK(error_message({"[z-a]"}, "a") ==
          "invalid dockerignore pattern '[z-a]': syntax error in pattern");
    CHECK(error_message({"!x", "[Local-Only]/"}, "x") ==
          "invalid dockerignore pattern '[Local-Only]': syntax error in pattern");
    CHECK(error_message({"*", "![Local-Only]"}, "x") ==
          "invalid dockerignore pattern '![Local-Only]': syntax error in pattern");
}

TEST_CASE("pattern not evaluated raises no error", "[dockerignore]") {
    // As in Docker, an exception is only tried once the path is excluded.
    const dockerignore ignore({"a", "![Local-Only]"});
    CHECK_FALSE(ignore.matches("b"));
    CHECK_THROWS_AS(ignore.matches("a"), invalid_value_error);
}

TEST_CASE("exception re-includes a file below an excluded directory", "[dockerignore]") {
    const dockerignore ignore = dockerignore::parse("docs\n!docs/README.md\n");
    CHECK(ignore.matches("docs"));
    CHECK(ignore.matches("docs/other.md"));
    CHECK_FALSE(ignore.matches("docs/README.md"));
    CHECK_FALSE(ignore.can_skip_directory("docs"));
    CHECK_FALSE(ignore.can_skip_directory("src"));
}

TEST_CASE("directory without reachable exception can be skipped", "[dockerignore]") {
    const dockerignore ignore({"build", "node_modules/**", "!src/keep"});
    CHECK(ignore.can_skip_directory("build"));
    CHECK(ignore.can_skip_directory("./build/"));
    CHECK(ignore.can_skip_directory("node_modules/x"));
    CHECK_FALSE(ignore.can_skip_directory("node_modules"));
    CHECK_FALSE(ignore.can_skip_directory("src"));
    // Docker compares the text of exceptions, so a wildcard does not keep a directory.
    const dockerignore wildcard({"*", "!*/keep"});
    CHECK(wildcard.matches("dir"));
    CHECK_FALSE(wildcard.matches("dir/keep"));
    CHECK(wildcard.can_skip_directory("dir"));
}

TEST_CASE("last matching pattern decides", "[dockerignore]") {
    CHECK_FALSE(dockerignore({"*.md", "!README.md"}).matches("README.md"));
    CHECK(dockerignore({"*.md", "!README.md", "README*"}).matches("README.md"));
    CHECK(dockerignore({"!README.md", "*.md"}).matches("README.md"));
}

TEST_CASE("root and cleaned paths", "[dockerignore]") {
    const dockerignore ignore({"**"});
    CHECK_FALSE(ignore.matches("."));
    CHECK_FALSE(ignore.matches(""));
    CHECK(ignore.matches("./a//b/"));
    CHECK(dockerignore({"a/b"}).matches("a/./b/../b/c"));
}

TEST_CASE("dockerignore reader cleans patterns", "[dockerignore]") {
    const std::string text =
        "\xEF\xBB\xBF# comment\r\n  ./a/b/../c  \n/\n//x\n  # not a comment\n!  ./y/\n\n";
    CHECK(dockwright::read_dockerignore(text) ==
          std::vector<std::string>{"a/c", "/", "x", "# not a comment", "!y"});
    CHECK(dockerignore::parse(text).patterns() ==
          std::vector<std::string>{"a/c", "/", "x", "# not a comment", "!y"});
}

TEST_CASE("clean_path follows Go filepath.Clean", "[dockerignore]") {
    CHECK(dockwright::clean_path("") == ".");
    CHECK(dockwright::clean_path("a/../..") == "..");
    CHECK(dockwright::clean_path("/../a") == "/a");
    CHECK(dockwright::clean_path("a//b/./c/") == "a/b/c");
    CHECK(dockwright::clean_path("../../a/..") == "../..");
    CHECK(dockwright::clean_path("!x/../y") == "y");
}

TEST_CASE("classes keep their regular-expression meaning", "[dockerignore]") {
    CHECK(dockerignore({"[[:digit:]]*"}).matches("7up"));
    CHECK_FALSE(dockerignore({"[[:digit:]]*"}).matches("up"));
    CHECK(dockerignore({"a[^b]c"}).matches("a\nc"));
    CHECK_FALSE(dockerignore({"a*c"}).matches("a\nb/c"));
    CHECK(dockerignore({"f?o"}).matches("f\xE2\x98\xBAo"));
}

TEST_CASE("dockerignore file that is missing raises", "[dockerignore]") {
    CHECK_THROWS_AS(dockerignore::from_file("/nonexistent/.dockerignore"), std::system_error);
}
