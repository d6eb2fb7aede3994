// The hand-written reference matcher against the grammar's regular expression.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "../../cpp/src/lib/store/reference_grammar.hpp"

using dockwright::detail::match_reference;
using dockwright::detail::match_reference_regex;

namespace {

const std::string hex64(64, 'a');

}  // namespace

TEST_CASE("reference matcher splits name, tag and digest", "[store][reference]") {
    const std::string text = "registry.example:5000/team/app:v1.2@sha256:" + hex64;
    const auto parts = match_reference(text);
    REQUIRE(parts);
    CHECK(parts->name == "registry.example:5000/team/app");
    CHECK(parts->tag == std::optional<std::string_view>("v1.2"));
    CHECK(parts->digest == std::optional<std::string_view>("sha256:" + hex64));
    const auto port_only = match_reference("localhost:5000");
    REQUIRE(port_only);
    CHECK(port_only->name == "localhost");
    CHECK(port_only->tag == std::optional<std::string_view>("5000"));
}

TEST_CASE("reference matcher agrees with the grammar's regex on chosen cases",
          "[store][reference]") {
    const std::vector<std::string> cases{
        "busybox", "busybox:latest", "library/busybox", "a__b", "a___b", "a-_b", "a_-b",
        "a--b", "a.b", "a..b", "-a", "a-", "a.", "_a", "A", "aB/c", "Host.Example/c",
        "host-/c", "-host/c", "h.-x/c", "h:/c", "h:12/c", "h:12:13/c", "h:x/c", "a//b", "a/",
        "/a", "", ":", "@", "a:", "a@", "a:_tag", "a:.tag", "a:-tag", "a:t-a.g_",
        "a:" + std::string(128, 't'), "a:" + std::string(129, 't'),
        "a@sha256:" + hex64, "a@sha256:" + hex64.substr(0, 31), "a@sha256:" + hex64.substr(0, 32),
        "a@sha256+b.c:" + hex64, "a@sha256+:" + hex64, "a@1sha:" + hex64, "a@sha256" + hex64,
        "a@sha256:" + hex64 + "@x", "a:tag@sha256:" + hex64, "h:1/a:tag@sha256:" + hex64,
        "a@sha256:" + std::string(64, 'G'), "a b", std::string("a\0b", 3), "a/b:c/d",
        "1.2.3.4:80/x", "[::1]:5000/x", "xn--80ak6aa92e.com/a"};
    for (const std::string& text : cases) {
        INFO("text: " << text);
        CHECK(match_reference(text) == match_reference_regex(text));
    }
}

TEST_CASE("reference matcher agrees with the grammar's regex on random text",
          "[store][reference]") {
    // Short strings over an alphabet of every class the grammar distinguishes, and mutations
    // of valid references, so that both matches and near misses are frequent.
    const std::string alphabet = "ab09Z._-/:@+";
    const std::vector<std::string> seeds{"docker.io/library/busybox:1.36",
                                         "localhost:5000/a_b/c-d:t", "a@sha256:" + hex64,
                                         "h.x:1/a__b/c:tag@sha512:" + hex64};
    std::mt19937 random(20261205);
    std::size_t matched = 0;
    for (int round = 0; round < 40000; ++round) {
        std::string text;
        if (round % 2 == 0) {
            const std::size_t length = random() % 12;
            for (std::size_t i = 0; i < length; ++i)
                text += alphabet[random() % alphabet.size()];
        } else {
            text = seeds[random() % seeds.size()];
            for (int edits = 1 + static_cast<int>(random() % 3); edits > 0; --edits) {
                const std::size_t at = random() % (text.size() + 1);
                const char c = alphabet[random() % alphabet.size()];
                switch (random() % 3) {
                    case 0:
                        text.insert(at, 1, c);
                        break;
                    case 1:
                        if (at < text.size()) text.erase(at, 1);
                        break;
                    default:
                        if (at < text.size()) text[at] = c;
                }
            }
        }
        const auto fast = match_reference(text);
        const auto slow = match_reference_regex(text);
        if (fast != slow) {
            INFO("text: " << text);
            CHECK(fast == slow);
        }
        if (fast) ++matched;
    }
    // Both outcomes are well represented.
    CHECK(matched > 2000);
    CHECK(matched < 38000);
}
