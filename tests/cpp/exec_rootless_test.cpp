// The executor run by an unprivileged user that the test creates: single-id user namespace.
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>

#include "exec_support.hpp"

using namespace dockwright;

namespace {

/// A system user made with useradd and removed with userdel.
class temporary_user {
  public:
    temporary_user() : name_("dwexec" + std::to_string(::getpid())) {
        const std::string command = "useradd --system --no-create-home " + name_ + " 2>&1";
        if (std::system(command.c_str()) != 0) return;
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
    // A rootless builder unpacks layers as itself, so the container sees them as root's.
    const std::string chown = "chown -R " + std::to_string(user.uid()) + ":" +
                              std::to_string(user.gid()) + " '" + fixture.dir.path().string() +
                              "' && chmod 755 '" + fixture.dir.path().string() + "'";
    REQUIRE(std::system(chown.c_str()) == 0);
    const std::string result = run_as(user.uid(), user.gid(), [&] {
        exec::container box(spec, fixture.state);
        const auto output = test::run_container(box);
        layer::string_sink sink;
        box.write_layer(sink);
        std::string text = output.out + output.err;
        for (const auto& line : test::listing(test::parse_tar(sink.data())))
            text += line + "\n";
        return text;
    });
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
