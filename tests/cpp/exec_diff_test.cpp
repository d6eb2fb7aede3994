// The layer a RUN produces: overlay upper and copy fallback, and Docker's layers for the
// same RUN steps where the reference corpus has them.
#include <sys/xattr.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "dockwright/layer/apply.hpp"
#include "exec_support.hpp"
#include "support.hpp"

using namespace dockwright;
using dockwright::test::exec_fixture;

namespace {

/// "<name> <type> <mode> <uid>/<gid> <size>[ -> link][ xattr=value...]" per tar entry.
std::vector<std::string> layer_listing(const std::string& tar) {
    std::vector<std::string> lines;
    for (const auto& entry : test::parse_tar(tar)) {
        std::string line = entry.name + " " + entry.type + " " + entry.mode + " " +
                           std::to_string(entry.uid) + "/" + std::to_string(entry.gid) + " " +
                           std::to_string(entry.size);
        if (!entry.linkname.empty()) line += " -> " + entry.linkname;
        for (const auto& [key, value] : entry.pax)
            if (key.starts_with("SCHILY.xattr.")) line += " " + key.substr(13) + "=" + value;
        lines.push_back(line);
    }
    return lines;
}

std::vector<std::string> run_and_list(exec::run_spec spec, const std::filesystem::path& state,
                                      std::optional<layer::layer_info>* info = nullptr) {
    exec::container box(std::move(spec), state);
    const auto output = test::run_container(box);
    REQUIRE(output.result.exit_code == 0);
    layer::string_sink sink;
    const auto written = box.write_layer(sink);
    if (info != nullptr) *info = written;
    return layer_listing(sink.data());
}

constexpr const char* changes_script =
    "echo new > /new.txt; echo more >> /etc/passwd; chmod 600 /etc/group; "
    "chown 33:33 /etc/group; rm /bin/cat; rm -rf /home && mkdir /home; echo h > /h1; "
    "ln /h1 /h2; mkdir -p /var/lib/x; echo 1 > /etc/hosts; echo 2 > /etc/resolv.conf; "
    "touch /dev/shm/x /tmp/../dev/y";

}  // namespace

TEST_CASE("diff overlay layer carries every kind of change") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    REQUIRE(::lsetxattr((fixture.lower / "etc/passwd").c_str(), "user.test", "v", 1, 0) == 0);
    CHECK(run_and_list(fixture.shell(changes_script), fixture.state) ==
          std::vector<std::string>{
              "bin/ 5 0040755 0/0 0",
              "bin/.wh.cat 0 0000600 0/0 0",
              "etc/ 5 0040755 0/0 0",
              "etc/group 0 0100600 33/33 75",
              "etc/passwd 0 0100644 0/0 116 user.test=v",
              "h1 0 0100644 0/0 2",
              "h2 1 0100644 0/0 0 -> h1",
              "home/ 5 0040755 0/0 0",
              "home/.wh..wh..opq 0 0000755 0/0 0",
              "new.txt 0 0100644 0/0 4",
              "var/ 5 0040755 0/0 0",
              "var/lib/ 5 0040755 0/0 0",
              "var/lib/x/ 5 0040755 0/0 0",
          });
}

TEST_CASE("diff copy fallback carries the same changes") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    REQUIRE(::lsetxattr((fixture.lower / "etc/passwd").c_str(), "user.test", "v", 1, 0) == 0);
    auto spec = fixture.shell(changes_script);
    spec.rootfs = exec::rootfs_mode::copy;
    // The tree comparison records a directory removed and made again as modified, with a
    // whiteout per old child, where overlayfs records an opaque directory; both mean the same.
    CHECK(run_and_list(spec, fixture.state) == std::vector<std::string>{
                                                   "bin/ 5 0040755 0/0 0",
                                                   "bin/.wh.cat 0 0000600 0/0 0",
                                                   "etc/ 5 0040755 0/0 0",
                                                   "etc/group 0 0100600 33/33 75",
                                                   "etc/passwd 0 0100644 0/0 116 user.test=v",
                                                   "h1 0 0100644 0/0 2",
                                                   "h2 1 0100644 0/0 0 -> h1",
                                                   "home/ 5 0040755 0/0 0",
                                                   "home/.wh.app 0 0000600 0/0 0",
                                                   "new.txt 0 0100644 0/0 4",
                                                   "var/ 5 0040755 0/0 0",
                                                   "var/lib/ 5 0040755 0/0 0",
                                                   "var/lib/x/ 5 0040755 0/0 0",
                                               });
}

TEST_CASE("diff of a RUN without changes is the empty layer") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    for (const auto mode : {exec::rootfs_mode::overlay, exec::rootfs_mode::copy}) {
        auto spec = fixture.shell("cat /etc/passwd > /dev/null",
                                  mode == exec::rootfs_mode::copy ? "copy" : "overlay");
        spec.rootfs = mode;
        std::optional<layer::layer_info> info;
        CHECK(run_and_list(spec, fixture.state, &info).empty());
        REQUIRE(info);
        // Docker's diff ID of a layer tar that is only the two zero end blocks.
        CHECK(info->diff_id.str() ==
              "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
        CHECK(info->tar_size == 1024);
    }
}

TEST_CASE("diff includes a created working directory") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("true");
    spec.working_dir = "/app/src";
    CHECK(run_and_list(spec, fixture.state) ==
          std::vector<std::string>{"app/ 5 0040755 0/0 0", "app/src/ 5 0040755 0/0 0"});
}

namespace {

/// Unpacks the first layer of a `docker save` archive into `target`.
void unpack_base(const std::filesystem::path& archive, const std::filesystem::path& target) {
    const auto unpacked = target.parent_path() / "archive";
    std::filesystem::create_directories(unpacked);
    const std::string command =
        "tar -xzf '" + archive.string() + "' -C '" + unpacked.string() + "'";
    REQUIRE(std::system(command.c_str()) == 0);
    const auto manifest = nlohmann::json::parse(test::read_file(unpacked / "manifest.json"));
    std::filesystem::create_directories(target);
    for (const auto& layer : manifest.at(0).at("Layers"))
        layer::apply_layer(unpacked / layer.get<std::string>(), target);
}

/// Returns the RUN texts of a Dockerfile with continuation lines joined and trailing
/// whitespace trimmed.
std::vector<std::string> run_steps(const std::string& dockerfile) {
    std::vector<std::string> steps;
    std::istringstream lines(dockerfile);
    std::string current;
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && line.back() == '\\') {
            current += line.substr(0, line.size() - 1);
            continue;
        }
        current += line;
        if (current.starts_with("RUN ")) {
            auto text = current.substr(current.find_first_not_of(' ', 3));
            text.erase(text.find_last_not_of(" \t") + 1);
            steps.push_back(text);
        }
        current.clear();
    }
    return steps;
}

/// Docker's listing without times: "<perms> <uid>/<gid> <size> <name>" per entry, per layer.
std::vector<std::vector<std::string>> oracle_layers(const std::string& text) {
    std::vector<std::vector<std::string>> layers;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with("# layer")) {
            layers.emplace_back();
            continue;
        }
        std::istringstream fields(line);
        std::string perms, ids, names, size, time, name;
        fields >> perms >> ids >> names >> size >> time >> name;
        layers.back().push_back(perms + " " + ids + " " + size + " " + name);
    }
    return layers;
}

/// Lists the same fields for our layer, building the permission string from type and mode.
std::vector<std::string> our_listing(const std::string& tar) {
    std::vector<std::string> lines;
    for (const auto& entry : test::parse_tar(tar)) {
        const long mode = std::stol(entry.mode, nullptr, 8);
        std::string perms = "-";
        if (entry.type == '5') perms = "d";
        if (entry.type == '2') perms = "l";
        const char* letters = "rwxrwxrwx";
        for (int bit = 0; bit < 9; ++bit)
            perms += (mode & (0400 >> bit)) != 0 ? letters[bit] : '-';
        if ((mode & 01000) != 0) perms[9] = perms[9] == 'x' ? 't' : 'T';
        lines.push_back(perms + " " + std::to_string(entry.uid) + "/" + std::to_string(entry.gid) +
                        " " + std::to_string(entry.size) + " " + entry.name);
    }
    return lines;
}

void compare_with_oracle(const std::string& case_name, const std::string& base_archive) {
    const auto shared = test::shared_dir();
    if (!shared) {
        WARN("skipped: the shared corpus is missing (set DOCKWRIGHT_SHARED)");
        return;
    }
    const auto case_dir = *shared / "oracle/cases" / case_name;
    const auto archive = *shared / "oracle/bases" / base_archive;
    if (!std::filesystem::exists(case_dir / "expected-classic/layers.txt") ||
        !std::filesystem::exists(archive)) {
        WARN("skipped: " << case_dir.string() << " or " << archive.string() << " is missing");
        return;
    }
    exec_fixture fixture;
    const auto base = fixture.dir / "base";
    unpack_base(archive, base);
    const auto steps = run_steps(test::read_file(case_dir / "Dockerfile"));
    const auto expected = oracle_layers(test::read_file(case_dir / "expected-classic/layers.txt"));
    REQUIRE(expected.size() == steps.size() + 1);

    std::vector<std::filesystem::path> lowers{base};
    for (std::size_t i = 0; i < steps.size(); ++i) {
        INFO("RUN " << steps[i]);
        auto spec = fixture.shell(steps[i], "step" + std::to_string(i));
        spec.lower_dirs = lowers;
        exec::container box(spec, fixture.state);
        REQUIRE(test::run_container(box).result.exit_code == 0);
        layer::string_sink sink;
        box.write_layer(sink);
        CHECK(our_listing(sink.data()) == expected[i + 1]);
        lowers.push_back(spec.upper_dir);
    }
}

}  // namespace

TEST_CASE("diff matches Docker for run-shell-form") {
    if (test::skip_exec()) return;
    compare_with_oracle("run-shell-form", "busybox-local.tar.gz");
}

TEST_CASE("diff matches Docker for run-whiteouts") {
    if (test::skip_exec()) return;
    compare_with_oracle("run-whiteouts", "orc-base-users.tar.gz");
}
