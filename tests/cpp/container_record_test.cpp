// Kept build containers: the copy of the upper directory that save_container records.
#include <grp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <dockwright/store/containers.hpp>
#include <dockwright/store/store.hpp>

#include "layer_support.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;
using dockwright::test::temp_dir;
using dockwright::test::write_text;

namespace {

container_info info_with_id(char digit) {
    container_info info;
    info.id = std::string(64, digit);
    info.command = {"/bin/sh", "-c", "true"};
    info.created = "2026-12-05T00:00:00Z";
    info.config = "{}";
    return info;
}

/// Makes an upper directory with two names of one file and the whiteout of `gone`.
void make_upper(const fs::path& upper) {
    fs::create_directories(upper / "dir");
    write_text(upper / "dir/one", "linked");
    fs::create_hard_link(upper / "dir/one", upper / "two");
    REQUIRE(::mknod((upper / "dir/gone").c_str(), S_IFCHR | 0600, ::makedev(0, 0)) == 0);
    // Recent overlayfs links all whiteouts to one inode.
    fs::create_hard_link(upper / "dir/gone", upper / "also-gone");
    ::chmod((upper / "dir/one").c_str(), 0644);
    ::chmod((upper / "dir").c_str(), 0755);
}

/// Runs `body` in a child process as the user and group `id`; returns the exit status, or
/// 100 when the child could not switch users.
template <typename Body>
int exit_status_as(uid_t id, Body body) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(id) != 0 || ::setuid(id) != 0) ::_exit(100);
        ::_exit(body());
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("kept container keeps hard links and whiteouts") {
    if (::geteuid() != 0) {
        WARN("skipped: making a whiteout device needs root");
        return;
    }
    temp_dir root;
    temp_dir upper;
    make_upper(upper.path());
    const store target(root / "store");
    const container_info info = info_with_id('a');
    save_container(target, info, upper.path());

    const fs::path saved = container_path(target, info.id) / "upper";
    struct stat one {};
    struct stat two {};
    struct stat gone {};
    REQUIRE(::lstat((saved / "dir/one").c_str(), &one) == 0);
    REQUIRE(::lstat((saved / "two").c_str(), &two) == 0);
    CHECK(one.st_ino == two.st_ino);
    CHECK(one.st_nlink == 2);
    CHECK(dockwright::test::read_file(saved / "two") == "linked");
    REQUIRE(::lstat((saved / "dir/gone").c_str(), &gone) == 0);
    CHECK(S_ISCHR(gone.st_mode));
    CHECK(gone.st_rdev == ::makedev(0, 0));
    struct stat also {};
    REQUIRE(::lstat((saved / "also-gone").c_str(), &also) == 0);
    CHECK(S_ISCHR(also.st_mode));
}

TEST_CASE("kept container is saved by a user that is not root") {
    if (::geteuid() != 0) {
        WARN("skipped: making a whiteout device and switching users needs root");
        return;
    }
    temp_dir work;
    const fs::path upper = work / "upper";
    make_upper(upper);

    const fs::path store_root = work / "store";
    fs::create_directories(store_root);
    constexpr uid_t nobody = 65534;
    for (const fs::path& path : {work.path(), store_root, upper, upper / "dir"}) {
        REQUIRE(::chown(path.c_str(), nobody, nobody) == 0);
    }

    // Whether any user may make a whiteout device depends on the kernel (Linux 5.8 allowed
    // it), so the child probes it first.
    const int probe = exit_status_as(nobody, [&] {
        return ::mknod((work / "probe").c_str(), S_IFCHR | 0600, ::makedev(0, 0)) == 0 ? 0 : 1;
    });
    REQUIRE(probe != 100);
    const bool users_make_whiteouts = probe == 0;

    const int saved_status = exit_status_as(nobody, [&] {
        try {
            const store target(store_root);
            save_container(target, info_with_id('b'), upper);
            return 0;
        } catch (...) {
            return 1;
        }
    });
    REQUIRE(saved_status == 0);

    const fs::path saved = store_root / "containers" / std::string(64, 'b') / "upper";
    if (users_make_whiteouts) {
        struct stat gone {};
        REQUIRE(::lstat((saved / "dir/gone").c_str(), &gone) == 0);
        CHECK(S_ISCHR(gone.st_mode));
        CHECK_FALSE(fs::exists(fs::symlink_status(saved / "dir/.wh.gone")));
    } else {
        CHECK_FALSE(fs::exists(fs::symlink_status(saved / "dir/gone")));
        CHECK(fs::is_regular_file(saved / "dir/.wh.gone"));
        CHECK(fs::file_size(saved / "dir/.wh.gone") == 0);
        CHECK(fs::is_regular_file(saved / ".wh.also-gone"));
    }

    struct stat one {};
    struct stat two {};
    REQUIRE(::lstat((saved / "dir/one").c_str(), &one) == 0);
    REQUIRE(::lstat((saved / "two").c_str(), &two) == 0);
    CHECK(one.st_ino == two.st_ino);
}
