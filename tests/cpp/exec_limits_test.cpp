// Resource limits in real namespaces: memory, pids, cpuset, ulimits and invalid values.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "dockwright/exec/exec_error.hpp"
#include "exec_support.hpp"

using namespace dockwright;
using dockwright::test::exec_fixture;
using dockwright::test::run_spec_once;

namespace {

/// cgroups need root here (cgroup v1 or v2 without delegation).
bool skip_limits() {
    if (test::skip_exec()) return true;
    if (::geteuid() == 0) return false;
    WARN("skipped: applying cgroup limits needs root");
    return true;
}

}  // namespace

TEST_CASE("limits memory hog is killed with a clear message") {
    if (skip_limits()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived");
    spec.limits.memory = 32 * 1024 * 1024;
    spec.limits.memory_swap = 32 * 1024 * 1024;
    const auto output = run_spec_once(spec, fixture.state);
    CHECK(output.out.find("survived") == std::string::npos);
    CHECK(output.result.exit_code != 0);
    CHECK(output.result.oom_killed);
    CHECK(exec::describe_failure(spec.argv, output.result, spec.limits) ==
          exec::failure_message(spec.argv, output.result.exit_code) +
              " (killed: out of memory under the memory limit of 33554432 bytes)");
}

TEST_CASE("limits fork bomb stops at the pids limit") {
    if (skip_limits()) return;
    exec_fixture fixture;
    auto spec = fixture.shell(
        "( i=0; while [ $i -lt 60 ]; do sleep 30 & i=$((i+1)); done ) 2>/dev/null; "
        "set -- /proc/[0-9]*; echo $#");
    spec.limits.pids_limit = 16;
    const auto started = std::chrono::steady_clock::now();
    const auto output = run_spec_once(spec, fixture.state);
    // The subshell forks until the 16th process fails, then exits: init, the shell and 13
    // sleeps remain. Only shell builtins count them, as no fork is left.
    CHECK(output.out == "15\n");
    CHECK(output.result.exit_code == 0);
    // The background sleeps die with the container's init.
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(20));
}

TEST_CASE("limits ulimits are visible inside") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("ulimit -n; ulimit -Hn; ulimit -c");
    spec.limits.ulimits = {exec::parse_ulimit("nofile=100:200"), exec::parse_ulimit("core=0")};
    CHECK(run_spec_once(spec, fixture.state).out == "100\n200\n0\n");
}

TEST_CASE("limits ulimit above the hard limit is an error") {
    if (test::skip_exec()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("true");
    // Raising a hard limit needs CAP_SYS_RESOURCE in the initial user namespace.
    spec.limits.ulimits = {exec::parse_ulimit("nofile=-1")};
    exec::container box(spec, fixture.state);
    CHECK_THROWS_MATCHES(test::run_container(box), exec_error,
                         Catch::Message("exec: apply the ulimit nofile: Operation not permitted"));
}

TEST_CASE("limits cpuset and cpu values apply") {
    if (skip_limits()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("grep Cpus_allowed_list /proc/self/status");
    spec.limits.cpuset_cpus = "0";
    spec.limits.cpuset_mems = "0";
    spec.limits.cpu_shares = 512;
    spec.limits.cpu_period = 100000;
    spec.limits.cpu_quota = 50000;
    CHECK(run_spec_once(spec, fixture.state).out == "Cpus_allowed_list:\t0\n");
}

TEST_CASE("limits that cannot apply are errors") {
    if (skip_limits()) return;
    exec_fixture fixture;
    auto small = fixture.shell("true", "small");
    small.limits.memory = 1024 * 1024;
    exec::container small_box(small, fixture.state);
    CHECK_THROWS_MATCHES(test::run_container(small_box), exec_error,
                         Catch::Message("exec: apply the memory limit: Minimum memory limit "
                                        "allowed is 6MB"));

    auto cpus = fixture.shell("true", "cpus");
    cpus.limits.cpuset_cpus = "999";
    exec::container cpus_box(cpus, fixture.state);
    CHECK_THROWS_WITH(test::run_container(cpus_box),
                      Catch::StartsWith("exec: apply the cpuset-cpus limit: cannot write '999'"));

    auto period = fixture.shell("true", "period");
    period.limits.cpu_period = 10;
    exec::container period_box(period, fixture.state);
    CHECK_THROWS_MATCHES(test::run_container(period_box), exec_error,
                         Catch::Message("exec: apply the CPU limit: CPU cfs period can not be "
                                        "less than 1ms (i.e. 1000) or larger than 1s (i.e. "
                                        "1000000)"));
}

TEST_CASE("limits cgroups are removed after the run") {
    if (skip_limits()) return;
    exec_fixture fixture;
    auto spec = fixture.shell("cat /proc/self/cgroup");
    spec.limits.pids_limit = 50;
    spec.limits.memory = 64 * 1024 * 1024;
    exec::container box(spec, fixture.state);
    const auto output = test::run_container(box);
    CHECK(output.result.exit_code == 0);
    // Each line ends with the container's own cgroup, named by its ID.
    CHECK(output.out.find("/dockwright/" + box.id()) != std::string::npos);
    std::size_t remaining = 0;
    for (const char* hierarchy : {"pids", "memory", "unified"}) {
        const auto root = std::filesystem::path("/sys/fs/cgroup") / hierarchy;
        std::error_code ignored;
        for (const auto& entry : std::filesystem::recursive_directory_iterator(root, ignored))
            if (entry.path().filename() == box.id()) ++remaining;
    }
    CHECK(remaining == 0);
}
