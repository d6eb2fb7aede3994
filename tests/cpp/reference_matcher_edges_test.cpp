// The hand-written reference matcher at the grammar's limits: name and tag lengths, case,
// ports, IPv6 hosts, digest algorithms, bytes outside ASCII, and the messages of
// reference::parse for them.
#include <catch2/catch.hpp>
#include <dockwright/core/error.hpp>
#include <dockwright/store/reference.hpp>
#include <string>
#include <vector>

#include "../../cpp/src/lib/store/reference_grammar.hpp"

using dockwright::reference;
using dockwright::detail::match_reference;
using dockwright::detail::match_reference_regex;

namespace {

const std::string hex64(64, 'a');

/// Returns a name of exactly `length` characters (at least 14): a domain and one long path
/// component.
std::string name_of_length(std::size_t length) {
    const std::string domain = "host.example/";
    return domain + std::string(length - domain.size(), 'a');
}

std::string parse_message(const std::string& text) {
    try {
        (void)reference::parse(text);
    } catch (const dockwright::invalid_value_error& e) {
        return e.what();
    }
    return "accepted";
}

}  // namespace

TEST_CASE("reference matcher agrees at the limits", "[store][reference]") {
    const std::vector<std::string> cases{
        name_of_length(255),
        name_of_length(256),
        name_of_length(255) + ":" + std::string(128, 'v'),
        "a:" + std::string(127, '.'),
        "a:_" + std::string(127, '-'),
        "a:_" + std::string(128, '-'),
        "Registry.Example.COM:5000/team/app:V1",
        "Registry.Example.COM:5000/Team/app",
        "REGISTRY/app",
        "registry:65536/app",
        "registry:0/app",
        "registry:/app",
        "[::1]:5000/app",
        "[fe80::1%25eth0]/app",
        "::1/app",
        "a@sha384:" + std::string(96, 'b'),
        "a@sha512:" + std::string(128, 'c'),
        "a@sha512:" + std::string(128, 'C'),
        "a@md5:" + std::string(32, 'd'),
        "a@SHA256:" + hex64,
        "a@sha256.x+y_z-w:" + hex64,
        "a@sha256..x:" + hex64,
        "a@sha256-:" + hex64,
        "a@" + hex64,
        "a@:" + hex64,
        "a:tag@sha512:" + std::string(128, 'e'),
        "h\xc3\xa9/app",
        "app:t\xc3\xa9",
        "app\n",
        "app:tag ",
        " app",
        "a/b/c/d/e/f/g/h:1",
        "a.b-c__d/e---f/g.h",
        "a_b.c/d",
        "localhost/app",
        "localhost:5000",
        "localhost:5000/app:5000",
        "1.2.3.4/app",
        "1-2/app",
        "-1/app",
    };
    for (const std::string& text : cases) {
        INFO("text: " << text);
        CHECK(match_reference(text) == match_reference_regex(text));
    }
}

TEST_CASE("reference matcher handles huge input", "[store][reference]") {
    // std::regex recurses per character and may exhaust the stack on such input, so only the
    // hand-written matcher is run here.
    const std::string long_name(1 << 20, 'a');
    const auto parts = match_reference(long_name);
    REQUIRE(parts);
    CHECK(parts->name.size() == long_name.size());
    CHECK_FALSE(match_reference(long_name + ":"));
    CHECK_FALSE(match_reference(std::string(1 << 20, '/')));
    CHECK(parse_message(long_name).ends_with(
        "': repository name must not be more than 255 characters"));
}

TEST_CASE("reference parse messages at the limits", "[store][reference]") {
    CHECK(parse_message(name_of_length(255)) == "accepted");
    CHECK(parse_message(name_of_length(256)) ==
          "invalid reference '" + name_of_length(256) +
              "': repository name must not be more than 255 characters");
    CHECK(parse_message("a:" + std::string(128, 'v')) == "accepted");
    CHECK(parse_message("a:" + std::string(129, 'v')) ==
          "invalid reference 'a:" + std::string(129, 'v') + "': invalid reference format");
    CHECK(parse_message("Registry.Example:5000/app") == "accepted");
    CHECK(parse_message("Registry.Example:5000/App") ==
          "invalid reference 'Registry.Example:5000/App': repository name must be lowercase");
    CHECK(parse_message("REGISTRY/app") == "accepted");
    CHECK(parse_message("Team/app") == "accepted");
    CHECK(parse_message("[::1]:5000/app") ==
          "invalid reference '[::1]:5000/app': invalid reference format");
    CHECK(parse_message("a@sha384:" + std::string(96, 'b')) == "accepted");
    CHECK(parse_message("a@sha512:" + std::string(128, 'c')) == "accepted");
    CHECK(parse_message("a@sha512:" + std::string(128, 'C')) ==
          "invalid reference 'a@sha512:" + std::string(128, 'C') +
              "': invalid digest: the hex part may hold only 0-9 and a-f");
    CHECK(parse_message("a@md5:" + std::string(32, 'd')) ==
          "invalid reference 'a@md5:" + std::string(32, 'd') +
              "': invalid digest: unsupported algorithm 'md5' (expected sha256, sha384 or "
              "sha512)");
    CHECK(parse_message("a@sha384:" + hex64) ==
          "invalid reference 'a@sha384:" + hex64 +
              "': invalid digest: sha384 needs 96 hex digits, got 64");
}
