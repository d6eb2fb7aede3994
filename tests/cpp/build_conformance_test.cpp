// Every oracle case evaluated in classic mode: history, config and container_config as far as an
// evaluation can know them, and the error text of failing cases.
#include <archive.h>
#include <archive_entry.h>

#include <catch2/catch.hpp>
#include <dockwright/build/build_error.hpp>
#include <dockwright/build/evaluate.hpp>
#include <dockwright/build/step_support.hpp>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;

namespace {

/// The image config JSON inside a docker-save archive (the `<id>.json` member).
std::string saved_config(const fs::path& archive_path) {
    std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(),
                                                                  archive_read_free);
    archive_read_support_filter_all(reader.get());
    archive_read_support_format_tar(reader.get());
    REQUIRE(archive_read_open_filename(reader.get(), archive_path.c_str(), 65536) == ARCHIVE_OK);
    archive_entry* entry = nullptr;
    while (archive_read_next_header(reader.get(), &entry) == ARCHIVE_OK) {
        const std::string name = archive_entry_pathname(entry);
        if (name.size() == 69 && name.ends_with(".json")) {
            std::string bytes(static_cast<std::size_t>(archive_entry_size(entry)), '\0');
            archive_read_data(reader.get(), bytes.data(), bytes.size());
            return bytes;
        }
    }
    FAIL("no config in " << archive_path);
    return {};
}

/// Copies a case folder as the oracle runner stages it: no oracle files, modes 0755/0644.
fs::path stage_case(const fs::path& from, const fs::path& to) {
    fs::remove_all(to);
    fs::create_directories(to);
    for (const auto& entry : fs::directory_iterator(from)) {
        const std::string name = entry.path().filename().string();
        if (name == "about" || name == "args" || name == "contextdir" ||
            name.rfind("expected-", 0) == 0)
            continue;
        fs::copy(entry.path(), to / name, fs::copy_options::recursive);
    }
    for (const auto& entry : fs::recursive_directory_iterator(to)) {
        if (entry.is_symlink()) continue;
        const auto perms = entry.status().permissions();
        const bool exec =
            entry.is_directory() || (perms & fs::perms::owner_exec) != fs::perms::none;
        fs::permissions(entry.path(), exec ? fs::perms(0755) : fs::perms(0644));
    }
    return to;
}

nlohmann::json without_volatile(nlohmann::json config) {
    config.erase("Image");
    config.erase("Hostname");
    return config;
}

std::string mask_hash(const std::string& text) {
    static const std::regex hash("(dir|file|multi|unknown):[0-9a-f]{64}");
    return std::regex_replace(text, hash, "<hash>");
}

struct case_outcome {
    bool matched = false;
    bool knowable = true;
};

case_outcome check_case(const fs::path& dir, const std::map<std::string, image>& bases) {
    const fs::path expected = dir / "expected-classic";
    build_options options;
    options.classic = true;
    std::string dockerfile = "Dockerfile";
    if (fs::exists(dir / "args")) {
        std::istringstream lines(test::read_file(dir / "args"));
        std::string line;
        while (std::getline(lines, line)) {
            const std::size_t space = line.find_first_of(" =");
            const std::string flag = line.substr(0, space);
            const std::string value = space == std::string::npos ? "" : line.substr(space + 1);
            const std::size_t equals = value.find('=');
            if (flag == "--build-arg")
                options.build_args[value.substr(0, equals)] = value.substr(equals + 1);
            if (flag == "--label")
                options.labels[value.substr(0, equals)] = value.substr(equals + 1);
            if (flag == "--target") options.target = value;
            if (flag == "-f" || flag == "--file") dockerfile = value;
        }
    }
    const fs::path staged = stage_case(dir, fs::temp_directory_path() / "dockwright-eval-case");
    fs::path context = staged;
    if (fs::exists(dir / "contextdir")) {
        std::string sub = test::read_file(dir / "contextdir");
        context /= sub.substr(0, sub.find_last_not_of("\n") + 1);
    }
    options.context = context;
    options.dockerfile_name = fs::path(dockerfile).filename().string();
    auto lookup = [&](const std::string& ref) -> std::optional<base_image> {
        const auto found = bases.find(ref);
        if (found == bases.end()) return std::nullopt;
        return base_image{found->second.computed_id(), found->second};
    };
    const std::string text = test::read_file(staged / dockerfile);
    if (fs::exists(expected / "error.txt")) {
        std::string want = test::read_file(expected / "error.txt");
        want = want.substr(0, want.find_last_not_of("\n") + 1);
        try {
            (void)evaluate(text, options, lookup);
        } catch (const std::exception& e) {
            CHECK(classic_error_text(e) == want);
            return {classic_error_text(e) == want, true};
        }
        // A failing RUN needs execution; an evaluation cannot know it fails.
        return {false, want.find("returned a non-zero code") == std::string::npos};
    }
    const build_result result = evaluate(text, options, lookup);
    const stage_result& stage = result.target();
    const auto want = nlohmann::json::parse(test::read_file(expected / "config.json"));
    const auto got = nlohmann::json::parse(to_json(stage.config));
    bool ok = true;
    auto same = [&](const std::string& what, const auto& a, const auto& b) {
        if (a == b) return;
        UNSCOPED_INFO(what << ": expected " << a << " got " << b);
        ok = false;
    };
    same("config", without_volatile(want["config"]), without_volatile(got["config"]));
    same("container_config", without_volatile(want["container_config"]),
         without_volatile(got["container_config"]));
    same("author", want.value("author", ""), got.value("author", ""));
    same("container present", want.contains("container"), got.contains("container"));
    same("history length", want["history"].size(), got["history"].size());
    const std::size_t base = stage.base_history;
    for (std::size_t i = base; i < std::min(want["history"].size(), got["history"].size()); ++i) {
        const auto& w = want["history"][i];
        const auto& g = got["history"][i];
        same("created_by " + std::to_string(i), mask_hash(w.value("created_by", "")),
             mask_hash(g.value("created_by", "")));
        const step_record& step = stage.steps[i - base];
        if (step.hash_known) {
            same("hash " + std::to_string(i), w.value("created_by", ""), g.value("created_by", ""));
        }
        if (step.layer != layer_outcome::state::unknown) {
            same("empty_layer " + std::to_string(i), w.value("empty_layer", false),
                 g.value("empty_layer", false));
        }
        same("author " + std::to_string(i), w.value("author", ""), g.value("author", ""));
    }
    CHECK(ok);
    return {ok, true};
}

}  // namespace

TEST_CASE("oracle cases evaluate to Docker's config and history", "[build][oracle]") {
    const auto shared = test::shared_dir();
    if (!shared || !fs::is_directory(*shared / "oracle" / "cases")) {
        WARN("skipped: the Docker oracle corpus (shared/oracle/cases) was not found");
        return;
    }
    const fs::path oracle = *shared / "oracle";
    std::map<std::string, image> bases;
    const std::map<std::string, std::string> archives{{"busybox:local", "busybox-local"},
                                                      {"orc-base:users", "orc-base-users"},
                                                      {"orc-base:onbuild", "orc-base-onbuild"},
                                                      {"orc-base:labeled", "orc-base-labeled"}};
    for (const auto& [ref, file] : archives) {
        const fs::path path = oracle / "bases" / (file + ".tar.gz");
        if (fs::exists(path)) bases.emplace(ref, image_from_json(saved_config(path)));
    }
    std::vector<fs::path> cases;
    for (const auto& entry : fs::directory_iterator(oracle / "cases"))
        cases.push_back(entry.path());
    std::sort(cases.begin(), cases.end());
    int matched = 0;
    int knowable = 0;
    std::string missed;
    for (const fs::path& dir : cases) {
        INFO("case " << dir.filename().string());
        case_outcome outcome;
        try {
            outcome = check_case(dir, bases);
        } catch (const std::exception& e) {
            UNSCOPED_INFO("unexpected error: " << e.what());
            CHECK(false);
        }
        if (outcome.knowable) ++knowable;
        if (outcome.matched)
            ++matched;
        else
            missed += " " + dir.filename().string();
    }
    WARN(matched << " of " << cases.size() << " oracle cases match (" << knowable
                 << " knowable without execution); not matched:" << missed);
    CHECK(matched == knowable);
}
