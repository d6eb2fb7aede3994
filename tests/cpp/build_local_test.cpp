// The local backend's building blocks: the merged layer view, RUN --mount parsing and
// BuildKit's config encoding.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <dockwright/build/run_mount.hpp>
#include <dockwright/core/error.hpp>
#include <dockwright/image/buildkit_json.hpp>
#include <filesystem>
#include <fstream>

#include "../../cpp/src/lib/build/rootfs_view.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using dockwright::parse_run_mount;
using dockwright::run_mount;
using dockwright::detail::rootfs_view;

namespace {

/// A temporary directory removed at the end of the test.
struct scratch {
    fs::path root = fs::temp_directory_path() / ("dockwright-view-" + std::to_string(::getpid()));
    scratch() {
        fs::remove_all(root);
        fs::create_directories(root);
    }
    ~scratch() { fs::remove_all(root); }
};

void write(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

}  // namespace

TEST_CASE("view merges layers top first") {
    scratch s;
    write(s.root / "low" / "etc" / "a", "low a");
    write(s.root / "low" / "etc" / "b", "low b");
    write(s.root / "up" / "etc" / "b", "up b");
    const rootfs_view view({s.root / "low", s.root / "up"});
    REQUIRE(view.lookup("etc/a"));
    CHECK(view.lookup("etc/a")->host_path == s.root / "low" / "etc" / "a");
    CHECK(view.lookup("etc/b")->host_path == s.root / "up" / "etc" / "b");
    CHECK(view.list("etc") == std::vector<std::string>{"a", "b"});
    CHECK_FALSE(view.lookup("etc/c"));
}

TEST_CASE("view hides what a whiteout or an opaque directory covers") {
    if (::geteuid() != 0) {
        WARN("whiteout devices need root (mknod); skipped");
        return;
    }
    scratch s;
    write(s.root / "low" / "etc" / "a", "a");
    write(s.root / "low" / "var" / "x", "x");
    write(s.root / "low" / "var" / "y", "y");
    fs::create_directories(s.root / "up" / "etc");
    REQUIRE(::mknod((s.root / "up" / "etc" / "a").c_str(), S_IFCHR | 0600, ::makedev(0, 0)) == 0);
    fs::create_directories(s.root / "up" / "var");
    write(s.root / "up" / "var" / "z", "z");
    REQUIRE(::setxattr((s.root / "up" / "var").c_str(), "trusted.overlay.opaque", "y", 1, 0) == 0);
    const rootfs_view view({s.root / "low", s.root / "up"});
    CHECK_FALSE(view.lookup("etc/a"));
    CHECK(view.list("etc").empty());
    CHECK_FALSE(view.lookup("var/x"));
    CHECK(view.list("var") == std::vector<std::string>{"z"});
}

TEST_CASE("view resolves symlinks without leaving the root") {
    scratch s;
    fs::create_directories(s.root / "l" / "usr" / "bin");
    fs::create_symlink("usr/bin", s.root / "l" / "bin");
    fs::create_symlink("/../../../etc", s.root / "l" / "escape");
    fs::create_symlink("../../..", s.root / "l" / "usr" / "up");
    fs::create_symlink("loop", s.root / "l" / "loop");
    const rootfs_view view({s.root / "l"});
    CHECK(view.resolve("bin/sh", true) == "usr/bin/sh");
    CHECK(view.resolve("escape/passwd", true) == "etc/passwd");
    CHECK(view.resolve("usr/up/x", true) == "x");
    CHECK(view.resolve("bin", false) == "bin");
    CHECK_THROWS_AS(view.resolve("loop", true), dockwright::error);
}

TEST_CASE("run mount defaults follow BuildKit") {
    const run_mount cache = parse_run_mount("type=cache,target=/root/.cache");
    CHECK(cache.type == run_mount::kind::cache);
    CHECK(cache.id == "/root/.cache");
    CHECK_FALSE(cache.readonly);
    const run_mount bind = parse_run_mount("target=/src,source=app");
    CHECK(bind.type == run_mount::kind::bind);
    CHECK(bind.readonly);
    CHECK(bind.source == "app");
    const run_mount rw = parse_run_mount("type=bind,target=/src,rw");
    CHECK_FALSE(rw.readonly);
    const run_mount secret = parse_run_mount("type=secret,id=npm,mode=0440,uid=1000");
    CHECK(secret.target == "/run/secrets/npm");
    CHECK(secret.mode == 0440);
    CHECK(secret.uid == 1000u);
    CHECK(parse_run_mount("type=secret,target=/etc/token").id == "token");
}

TEST_CASE("run mount errors name the value") {
    CHECK_THROWS_WITH(parse_run_mount("type=volume,target=/x"),
                      Catch::Contains("unsupported mount type \"volume\""));
    CHECK_THROWS_WITH(
        parse_run_mount("type=cache,target=/x,colour=red"),
        Catch::Contains("unexpected key 'colour' in 'type=cache,target=/x,colour=red'"));
    CHECK_THROWS_WITH(parse_run_mount("type=cache"),
                      Catch::Contains("the mount needs target=PATH"));
    CHECK_THROWS_WITH(parse_run_mount("type=cache,target=/x,uid=abc"),
                      Catch::Contains("invalid value for uid: abc"));
}

TEST_CASE("buildkit encoding reproduces every config BuildKit wrote in the oracle") {
    const auto shared = dockwright::test::shared_dir();
    if (!shared) {
        WARN("the shared corpus was not found (set DOCKWRIGHT_SHARED); skipped");
        return;
    }
    int compared = 0;
    for (const auto& entry : fs::directory_iterator(*shared / "oracle" / "cases")) {
        const fs::path file = entry.path() / "expected-buildkit" / "config.json";
        if (!fs::exists(file)) continue;
        const std::string bytes = dockwright::test::read_file(file);
        INFO(file.string());
        CHECK(dockwright::to_buildkit_json(dockwright::image_from_json(bytes)) == bytes);
        ++compared;
    }
    CHECK(compared >= 20);
}
