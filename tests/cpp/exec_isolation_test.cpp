// Running commands in real namespaces over a busybox root: isolation, identity, output.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "dockwright/exec/exec_error.hpp"
#include "exec_support.hpp"
#include "support.hpp"

using namespace dockwright;
using dockwright::test::exec_fixture;
using dockwright::test::run_spec_once;

TEST_CASE("exec streams output lines and exit code") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    const auto output = run_spec_once(
        fixture.shell("echo one; echo two >&2; printf 'partial'; exit 3"), fixture.state);
    CHECK(output.out == "one\npartial\n");
    CHECK(output.err == "two\n");
    CHECK(output.result.exit_code == 3);
    CHECK_FALSE(output.result.succeeded());
    CHECK(output.result.rootfs == exec::rootfs_kind::overlay);
}

TEST_CASE("exec sees no host processes") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    const auto output = run_spec_once(
        fixture.shell("echo $$; ls /proc | grep -c '^[0-9][0-9]*$'; ls /proc | grep '^[0-9]' | "
                      "sort -n | tail -1"),
        fixture.state);
    // PID 1 is the executor's init, the shell is 2, plus ls, grep and their pipeline peers.
    CHECK(output.out.starts_with("2\n"));
    const auto second = output.out.substr(2, output.out.find('\n', 2) - 2);
    CHECK(std::stoi(second) <= 5);
}

TEST_CASE("exec cannot write outside the root") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    const std::string outside = (fixture.dir / "outside").string();
    const std::string script =
        "ln -s / /escape; echo 1 > /escape" + outside + "; echo 2 > /proc/self/root" + outside +
        "; echo 3 > /proc/1/cwd" + outside + "; cd /../../../..; echo 4 > ../../.." + outside +
        "; echo 5 > /proc/sys/kernel/hostname; echo 6 > /sys/kernel/uevent_helper; "
        "echo 7 > /etc/hosts; true";
    const auto output = run_spec_once(fixture.shell(script), fixture.state);
    CHECK(output.result.exit_code == 0);
    CHECK_FALSE(std::filesystem::exists(fixture.dir / "outside"));
    CHECK(output.err.find("/proc/sys/kernel/hostname: Read-only file system") != std::string::npos);
    CHECK(output.err.find("/sys/kernel/uevent_helper: Read-only file system") != std::string::npos);
}

TEST_CASE("exec cannot mount") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    const auto output = run_spec_once(
        fixture.shell("mount -t tmpfs none /tmp; echo $?; mount --bind /bin /tmp; echo $?"),
        fixture.state);
    CHECK(output.out == "1\n1\n");
}

TEST_CASE("exec capabilities and no_new_privs") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    const std::string script = "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status";
    auto root_output = run_spec_once(fixture.shell(script), fixture.state);
    CHECK(root_output.out ==
          "CapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nNoNewPrivs:\t1\n");
    auto spec = fixture.shell(script, "user");
    spec.user = "app";
    CHECK(run_spec_once(spec, fixture.state).out ==
          "CapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\nNoNewPrivs:\t1\n");
}

TEST_CASE("exec runs as the configured user") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("id -u; id -g; id -G; echo $HOME");
    spec.user = "app";
    CHECK(run_spec_once(spec, fixture.state).out == "1000\n1000\n1000 50 2000\n/home/app\n");
    auto numeric = fixture.shell("id -u; id -g; id -G", "numeric");
    numeric.user = "1234:5678";
    CHECK(run_spec_once(numeric, fixture.state).out == "1234\n5678\n5678\n");
}

TEST_CASE("exec rejects an unknown user") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("true");
    spec.user = "nosuchuser";
    CHECK_THROWS_MATCHES(
        exec::container(spec, fixture.state), exec_error,
        Catch::Message("unable to find user nosuchuser: no matching entries in passwd file"));
}

TEST_CASE("exec inherits only fds 0 1 2") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    test::write_text(fixture.dir / "leak-marker", "secret");
    // Deliberately without O_CLOEXEC: the executor must close it anyway.
    const int leaked = ::open((fixture.dir / "leak-marker").c_str(), O_RDONLY);
    REQUIRE(leaked >= 0);
    const auto output = run_spec_once(
        fixture.shell("ls /proc/self/fd | tr '\\n' ' '; echo; ls -l /proc/self/fd/ | grep -c leak"),
        fixture.state);
    ::close(leaked);
    // ls itself keeps fd 3 open on the directory it lists.
    CHECK(output.out == "0 1 2 3 \n0\n");
}

TEST_CASE("exec hostname, hosts and environment") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    auto spec = fixture.shell(
        "hostname; cat /etc/hostname; echo $HOSTNAME; grep 127.0.1.1 "
        "/etc/hosts; echo $PATH; echo $FOO; ls /sys/class/net");
    spec.env.push_back("FOO=bar");
    exec::container box(spec, fixture.state);
    const auto output = test::run_container(box);
    const std::string host = box.id().substr(0, 12);
    CHECK(output.out == host + "\n" + host + "\n" + host + "\n127.0.1.1\t" + host +
                            "\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nbar\n"
                            "lo\n");
}

TEST_CASE("exec devices, shm size and masked paths") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    auto spec = fixture.shell(
        "ls /dev | tr '\\n' ' '; echo; grep -o 'shm tmpfs [^ ]*' /proc/mounts; "
        "cat /proc/kcore 2>/dev/null | wc -c; ls /sys/firmware | wc -l; head -c 4 /dev/zero | wc "
        "-c");
    spec.limits.shm_size = 8 * 1024 * 1024;
    CHECK(run_spec_once(spec, fixture.state).out ==
          "core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero \n"
          "shm tmpfs rw,nosuid,nodev,noexec,relatime,size=8192k\n0\n0\n4\n");
}

TEST_CASE("exec creates the working directory") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("pwd");
    spec.working_dir = "/srv/app/deep";
    CHECK(run_spec_once(spec, fixture.state).out == "/srv/app/deep\n");
}

TEST_CASE("exec reports a command not found") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("");
    spec.argv = {"nonexistent", "arg"};
    exec::container box(spec, fixture.state);
    CHECK_THROWS_MATCHES(
        test::run_container(box), exec_error,
        Catch::Message("exec: \"nonexistent\": executable file not found in $PATH"));
}

TEST_CASE("exec looks argv0 up in the container PATH") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("");
    spec.argv = {"echo", "found"};
    spec.env = {"PATH=/nowhere:/bin"};
    CHECK(run_spec_once(spec, fixture.state).out == "found\n");
}

TEST_CASE("exec host network keeps host interfaces") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("ls /sys/class/net | wc -l");
    spec.network = exec::network_mode::host;
    const auto host_count = std::distance(std::filesystem::directory_iterator("/sys/class/net"),
                                          std::filesystem::directory_iterator());
    CHECK(run_spec_once(spec, fixture.state).out == std::to_string(host_count) + "\n");
}

TEST_CASE("exec copy fallback runs and is reported") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("echo copied > /new.txt; cat /new.txt");
    spec.rootfs = exec::rootfs_mode::copy;
    const auto output = run_spec_once(spec, fixture.state);
    CHECK(output.out == "copied\n");
    CHECK(output.result.rootfs == exec::rootfs_kind::copy);
}

TEST_CASE("exec seccomp denies namespace calls") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    const auto output = run_spec_once(
        fixture.shell("grep Seccomp /proc/self/status | tr -s '\\t' ' '; unshare -U true; "
                      "echo unshare $?; linux32 uname -m"),
        fixture.state);
    // The command has one filter more than the test process, which may run under one itself.
    int own_filters = 0;
    std::istringstream status(test::read_file("/proc/self/status"));
    for (std::string line; std::getline(status, line);)
        if (line.starts_with("Seccomp_filters:")) own_filters = std::stoi(line.substr(16));
    CHECK(output.result.exit_code == 0);
    // A new user namespace needs no capability, so only the filter stops unshare(2) here.
    CHECK(output.out == "Seccomp: 2\nSeccomp_filters: " + std::to_string(own_filters + 1) +
                            "\nunshare 1\ni686\n");
    CHECK(output.err == "unshare: unshare(0x10000000): Operation not permitted\n");
}
