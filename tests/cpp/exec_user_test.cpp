// USER resolution, --ulimit parsing and the failure message, without namespaces.
#include <catch2/catch.hpp>

#include "dockwright/core/error.hpp"
#include "dockwright/exec/container.hpp"
#include "dockwright/exec/exec_error.hpp"
#include "dockwright/exec/user.hpp"

using dockwright::exec::exec_user;
using dockwright::exec::parse_ulimit;
using dockwright::exec::resolve_user;

namespace {

constexpr const char* passwd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment\n"
    "app:x:1000:1000:app:/home/app:/bin/sh\n"
    "dup:x:1000:7::/dup:/bin/sh\n";
constexpr const char* group =
    "root:x:0:\napp:x:1000:\nstaff:x:50:app,other\nextra:x:2000:other,app\nnone:x:3000:\n";

}  // namespace

TEST_CASE("user empty is root with its home") {
    CHECK(resolve_user("", passwd, group) == exec_user{0, 0, {0}, "/root"});
}

TEST_CASE("user name gets supplementary groups") {
    CHECK(resolve_user("app", passwd, group) == exec_user{1000, 1000, {1000, 50, 2000}, "/home/app"});
}

TEST_CASE("user uid matches the first entry") {
    CHECK(resolve_user("1000", passwd, group) == exec_user{1000, 1000, {1000, 50, 2000}, "/home/app"});
}

TEST_CASE("user unknown uid has gid 0") {
    CHECK(resolve_user("4242", passwd, group) == exec_user{4242, 0, {0}, "/"});
}

TEST_CASE("user explicit group keeps only that group") {
    CHECK(resolve_user("app:staff", passwd, group) == exec_user{1000, 50, {50}, "/home/app"});
    CHECK(resolve_user("app:777", passwd, group) == exec_user{1000, 777, {777}, "/home/app"});
    CHECK(resolve_user("5:6", passwd, group) == exec_user{5, 6, {6}, "/"});
}

TEST_CASE("user missing name is Docker's error") {
    CHECK_THROWS_MATCHES(
        resolve_user("nosuchuser", passwd, group), dockwright::exec_error,
        Catch::Message("unable to find user nosuchuser: no matching entries in passwd file"));
}

TEST_CASE("user missing group is Docker's error") {
    CHECK_THROWS_MATCHES(
        resolve_user("app:nogroup", passwd, group), dockwright::exec_error,
        Catch::Message("unable to find group nogroup: no matching entries in group file"));
}

TEST_CASE("user without passwd file") {
    CHECK(resolve_user("", "", "") == exec_user{0, 0, {0}, "/"});
    CHECK(resolve_user("12:34", "", "") == exec_user{12, 34, {34}, "/"});
}

TEST_CASE("ulimit soft and hard") {
    const auto limit = parse_ulimit("nofile=1024:2048");
    CHECK(limit.name == "nofile");
    CHECK(limit.soft == 1024);
    CHECK(limit.hard == 2048);
}

TEST_CASE("ulimit hard defaults to soft") {
    const auto limit = parse_ulimit("nproc=-1");
    CHECK(limit.soft == -1);
    CHECK(limit.hard == -1);
}

TEST_CASE("ulimit errors") {
    using dockwright::invalid_value_error;
    CHECK_THROWS_MATCHES(parse_ulimit("nofile"), invalid_value_error,
                         Catch::Message("invalid ulimit 'nofile': expected name=soft[:hard]"));
    CHECK_THROWS_MATCHES(parse_ulimit("bogus=1"), invalid_value_error,
                         Catch::Message("invalid ulimit 'bogus=1': unknown ulimit type 'bogus'"));
    CHECK_THROWS_MATCHES(parse_ulimit("nofile=2:1"), invalid_value_error,
                         Catch::Message("invalid ulimit 'nofile=2:1': the soft limit must be less "
                                        "than or equal to the hard limit: 2 > 1"));
    CHECK_THROWS_MATCHES(
        parse_ulimit("nofile=1:2:3"), invalid_value_error,
        Catch::Message(
            "invalid ulimit 'nofile=1:2:3': too many limit values, expected soft[:hard]"));
    CHECK_THROWS_MATCHES(
        parse_ulimit("nofile=x"), invalid_value_error,
        Catch::Message("invalid ulimit 'nofile=x': the limit 'x' is not an integer"));
}

TEST_CASE("failure message of shell and exec forms") {
    using dockwright::exec::failure_message;
    CHECK(failure_message({"/bin/sh", "-c", "exit 3"}, 3) ==
          "The command '/bin/sh -c exit 3' returned a non-zero code: 3");
    CHECK(failure_message({"/bin/busybox", "false"}, 1) ==
          "The command '/bin/busybox false' returned a non-zero code: 1");
}
