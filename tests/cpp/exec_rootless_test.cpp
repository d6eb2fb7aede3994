// The executor run by an unprivileged user that the test creates: a single-id user namespace,
// and one with subordinate ids mapped through newuidmap and newgidmap.
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "exec_support.hpp"
#include "support.hpp"

using namespace dockwright;

namespace {

/// The subordinate range the test gives its user: container ids 1 to 65536.
constexpr unsigned subordinate_start = 300000;
constexpr unsigned subordinate_count = 65536;

/// A system user made with useradd and removed with userdel, which also removes its lines of
/// /etc/subuid and /etc/subgid.
class temporary_user {
  public:
    explicit temporary_user(bool subordinate_ids = false)
        : name_("dwexec" + std::to_string(::getpid()) + (subordinate_ids ? "s" : "")) {
        std::string command = "useradd --system --no-create-home " + name_ + " 2>&1";
        if (subordinate_ids) {
            const std::string range = std::to_string(subordinate_start) + "-" +
                                      std::to_string(subordinate_start + subordinate_count - 1);
            command += " && usermod --add-subuids " + range + " --add-subgids " + range + " " +
                       name_ + " 2>&1";
        }
        if (std::system(command.c_str()) != 0) {
            std::system(("userdel " + name_ + " 2>/dev/null").c_str());
            return;
        }
        if (const passwd* entry = ::getpwnam(name_.c_str())) {
            uid_ = entry->pw_uid;
            gid_ = entry->pw_gid;
        }
    }
    temporary_user(const temporary_user&) = delete;
    temporary_user& operator=(const temporary_user&) = delete;
    ~temporary_user() {
        if (uid_ != 0) std::system(("userdel " + name_ + " 2>/dev/null").c_str());
    }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] uid_t uid() const noexcept { return uid_; }
    [[nodiscard]] gid_t gid() const noexcept { return gid_; }

  private:
    std::string name_;
    uid_t uid_ = 0;
    gid_t gid_ = 0;
};

/// Runs `body` in a child process as `uid:gid`; returns what it wrote to the pipe.
template <typename Body>
std::string run_as(uid_t uid, gid_t gid, Body body) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(fds[0]);
        std::string text;
        try {
            if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
                ::setresuid(uid, uid, uid) != 0)
                text = "SETUP cannot switch user";
            // Changing ids made the process non-dumpable, which gives its /proc files (and
            // so its children's uid_map) to root; a user's login process is dumpable.
            else if (::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
                text = "SETUP cannot set dumpable";
            else
                text = body();
        } catch (const std::exception& e) {
            text = std::string("ERROR ") + e.what();
        }
        [[maybe_unused]] const auto written = ::write(fds[1], text.data(), text.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string text;
    char buffer[4096];
    for (ssize_t size; (size = ::read(fds[0], buffer, sizeof buffer)) > 0;)
        text.append(buffer, static_cast<std::size_t>(size));
    ::close(fds[0]);
    ::waitpid(pid, nullptr, 0);
    return text;
}

/// Gives `fixture`'s folder to `user`, runs `spec` as that user and returns the command's
/// output followed by the listing of the layer it wrote.
std::string run_and_list_as(const temporary_user& user, test::exec_fixture& fixture,
                            const exec::run_spec& spec) {
    // A rootless builder unpacks layers as itself, so the container sees them as root's.
    const std::string chown = "chown -R " + std::to_string(user.uid()) + ":" +
                              std::to_string(user.gid()) + " '" + fixture.dir.path().string() +
                              "' && chmod 755 '" + fixture.dir.path().string() + "'";
    REQUIRE(std::system(chown.c_str()) == 0);
    return run_as(user.uid(), user.gid(), [&] {
        exec::container box(spec, fixture.state);
        const auto output = test::run_container(box);
        layer::string_sink sink;
        box.write_layer(sink);
        std::string text = output.out + output.err;
        for (const auto& line : test::listing(test::parse_tar(sink.data())))
            text += line + "\n";
        return text;
    });
}

}  // namespace

TEST_CASE("rootless run maps the user to root") {
    if (test::skip_exec()) return;
    if (::geteuid() != 0) {
        WARN("skipped: creating the unprivileged test user needs root");
        return;
    }
    temporary_user user;
    if (user.uid() == 0) {
        WARN("skipped: useradd could not create a test user");
        return;
    }
    test::exec_fixture fixture;
    auto spec = fixture.shell(
        "id -u; id -g; tr -s ' ' < /proc/self/uid_map; echo x > /f; "
        "ls -ln /etc/passwd | awk '{print $3, $4}'");
    const std::string result = run_and_list_as(user, fixture, spec);
    if (result.starts_with("ERROR exec: clone") || result.starts_with("SETUP")) {
        WARN("skipped: unprivileged user namespaces do not work here: " << result);
        return;
    }
    CHECK(result == "0\n0\n 0 " + std::to_string(user.uid()) + " 1\n0 0\nf 0 0100644 0/0\n");
}

TEST_CASE("rootless rejects a user outside the single-id map") {
    if (test::skip_exec()) return;
    if (::geteuid() != 0) {
        WARN("skipped: creating the unprivileged test user needs root");
        return;
    }
    temporary_user user;
    if (user.uid() == 0) {
        WARN("skipped: useradd could not create a test user");
        return;
    }
    test::exec_fixture fixture;
    auto spec = fixture.shell("true");
    const std::string chown =
        "chown -R " + std::to_string(user.uid()) + " '" + fixture.dir.path().string() + "'";
    REQUIRE(std::system(chown.c_str()) == 0);
    spec.user = "app";
    const std::string result = run_as(user.uid(), user.gid(), [&] {
        exec::container box(spec, fixture.state);
        test::run_container(box);
        return std::string("ran");
    });
    CHECK(result ==
          "ERROR exec: map the user: user 1000:1000 is outside the single-id map of a rootless "
          "container; install newuidmap/newgidmap and add ranges to /etc/subuid and "
          "/etc/subgid");
}

TEST_CASE("rootless run maps subordinate ids") {
    if (test::skip_exec()) return;
    if (::geteuid() != 0) {
        WARN("skipped: creating the unprivileged test user needs root");
        return;
    }
    if (::access("/usr/bin/newuidmap", X_OK) != 0 || ::access("/usr/bin/newgidmap", X_OK) != 0) {
        WARN("skipped: newuidmap/newgidmap are missing (install Debian's uidmap)");
        return;
    }
    {
        temporary_user user(true);
        if (user.uid() == 0) {
            WARN("skipped: useradd/usermod could not create a test user with subordinate ids");
            return;
        }
        test::exec_fixture fixture;
        // A single-id map has no uid 1000, so this chown fails there.
        auto spec = fixture.shell(
            "tr -s ' ' < /proc/self/uid_map; tr -s ' ' < /proc/self/gid_map; echo x > /f; "
            "chown 1000:1000 /f; stat -c '%u:%g' /f; id -G");
        const std::string result = run_and_list_as(user, fixture, spec);
        const std::string uid = std::to_string(user.uid());
        const std::string gid = std::to_string(user.gid());
        const std::string start = std::to_string(subordinate_start);
        const std::string count = std::to_string(subordinate_count);
        CHECK(result == " 0 " + uid + " 1\n 1 " + start + " " + count + "\n 0 " + gid + " 1\n 1 " +
                            start + " " + count + "\n1000:1000\n0\nf 0 0100644 1000/1000\n");
        // On the host the file belongs to the subordinate id that container uid 1000 maps to.
        struct stat info {};
        REQUIRE(::stat((fixture.dir / "run/upper/f").c_str(), &info) == 0);
        CHECK(info.st_uid == subordinate_start + 999);
        CHECK(info.st_gid == subordinate_start + 999);
    }
    // userdel removed the test user's subordinate ranges.
    const std::string subuid_lines = test::read_file("/etc/subuid");
    CHECK(subuid_lines.find("dwexec" + std::to_string(::getpid()) + "s:") == std::string::npos);
}
