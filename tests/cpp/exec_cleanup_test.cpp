// Cancellation, timeouts and the state left after a builder is killed with -9.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "exec_support.hpp"
#include "support.hpp"

using namespace dockwright;
using namespace std::chrono_literals;
using dockwright::test::exec_fixture;

namespace {

bool process_exists(pid_t pid) {
    return ::kill(pid, 0) == 0 || errno != ESRCH;
}

/// Returns the pid recorded in the container's state directory, or 0.
pid_t recorded_pid(const std::filesystem::path& state) {
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator(state, ignored)) {
        std::ifstream in(entry.path() / "pid");
        pid_t pid = 0;
        if (in >> pid) return pid;
    }
    return 0;
}

std::size_t entries(const std::filesystem::path& dir) {
    std::error_code ignored;
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir, ignored),
                                                  std::filesystem::directory_iterator()));
}

/// Waits up to five seconds for `pid` to disappear.
bool wait_gone(pid_t pid) {
    for (int i = 0; i < 500 && process_exists(pid); ++i)
        std::this_thread::sleep_for(10ms);
    return !process_exists(pid);
}

}  // namespace

TEST_CASE("cleanup cancel kills the whole tree") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("sleep 100 & sleep 100 & echo started; wait");
    exec::cancel_token cancel;
    exec::container box(spec, fixture.state);
    std::string out;
    pid_t init = 0;
    const auto started = std::chrono::steady_clock::now();
    // Cancels from the output callback once the command runs, as a Ctrl-C handler would.
    const auto result = box.run(
        [&](exec::output_stream, std::string_view line) {
            out += std::string(line) + "\n";
            init = recorded_pid(fixture.state);
            cancel.cancel();
        },
        &cancel);
    CHECK(result.cancelled);
    CHECK_FALSE(result.succeeded());
    CHECK(out == "started\n");
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    REQUIRE(init > 0);
    CHECK_FALSE(process_exists(init));
}

TEST_CASE("cleanup timeout kills the command") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("sleep 100");
    spec.timeout = 300ms;
    const auto output = test::run_spec_once(spec, fixture.state);
    CHECK(output.result.timed_out);
    CHECK(output.result.exit_code == 137);
    CHECK(output.result.duration < 5s);
}

TEST_CASE("cleanup background processes end with the command") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    const auto output = test::run_spec_once(fixture.shell("sleep 100 & exit 0"), fixture.state);
    CHECK(output.result.exit_code == 0);
    CHECK(output.result.duration < 5s);
}

TEST_CASE("cleanup state directory is empty after runs") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    {
        exec::container box(fixture.shell("true"), fixture.state);
        test::run_container(box);
        CHECK(entries(fixture.state) == 1);
    }
    CHECK(entries(fixture.state) == 0);
    {
        auto failing = fixture.shell("exit 5", "failing");
        exec::container box(failing, fixture.state);
        CHECK(test::run_container(box).result.exit_code == 5);
    }
    CHECK(entries(fixture.state) == 0);
    std::string mounts = test::read_file("/proc/self/mountinfo");
    CHECK(mounts.find(fixture.dir.path().string()) == std::string::npos);
}

TEST_CASE("cleanup after the builder is killed with -9") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("sleep 100");
    if (::geteuid() == 0) spec.limits.pids_limit = 20;
    const pid_t builder = ::fork();
    REQUIRE(builder >= 0);
    if (builder == 0) {
        try {
            exec::container box(spec, fixture.state);
            test::run_container(box);
        } catch (...) {
        }
        ::_exit(0);
    }
    pid_t init = 0;
    for (int i = 0; i < 500 && (init = recorded_pid(fixture.state)) == 0; ++i)
        std::this_thread::sleep_for(10ms);
    std::this_thread::sleep_for(100ms);
    ::kill(builder, SIGKILL);
    ::waitpid(builder, nullptr, 0);
    REQUIRE(init > 0);
    // The container's init dies with its parent (PR_SET_PDEATHSIG), and the pid namespace
    // with it, which releases every mount of the container.
    CHECK(wait_gone(init));
    REQUIRE(entries(fixture.state) == 1);
    const std::string id =
        std::filesystem::directory_iterator(fixture.state)->path().filename().string();
    CHECK(exec::clean_stale_state(fixture.state) == 1);
    CHECK(entries(fixture.state) == 0);
    if (::geteuid() == 0) {
        std::size_t remaining = 0;
        std::error_code ignored;
        for (const auto& entry :
             std::filesystem::recursive_directory_iterator("/sys/fs/cgroup/pids", ignored))
            if (entry.path().filename() == id) ++remaining;
        CHECK(remaining == 0);
    }
}
