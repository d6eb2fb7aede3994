// Digest parsing, the streaming hasher and chain IDs.
#include <catch2/catch.hpp>
#include <dockwright/core/digest.hpp>
#include <dockwright/core/error.hpp>
#include <vector>

using dockwright::digest;

namespace {

constexpr const char* sha256_a =
    "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";
constexpr const char* sha256_b =
    "sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d";
constexpr const char* sha256_c =
    "sha256:2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6";

std::string parse_error_message(std::string_view text) {
    try {
        (void)digest::parse(text);
    } catch (const dockwright::invalid_value_error& e) {
        CHECK(e.kind() == "digest");
        CHECK(e.value() == text);
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("digest of empty input", "[digest]") {
    CHECK(digest::sha256_of("").str() ==
          "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_CASE("digest parse keeps text and parts", "[digest]") {
    const digest d = digest::parse(sha256_a);
    CHECK(d.str() == sha256_a);
    CHECK(d.hex() == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
    CHECK(d.short_id() == "ca978112ca1b");
    CHECK(d.algorithm() == dockwright::digest_algorithm::sha256);
    CHECK(d == digest::sha256_of("a"));
    CHECK(digest::parse(sha256_b) < digest::parse(sha256_a));
}

TEST_CASE("digest parse errors", "[digest]") {
    CHECK(parse_error_message("ca978112") ==
          "invalid digest 'ca978112': expected <algorithm>:<hex>, e.g. sha256:<64 hex digits>");
    CHECK(parse_error_message("sha256:abc") ==
          "invalid digest 'sha256:abc': sha256 needs 64 hex digits, got 3");
    CHECK(parse_error_message("md5:d41d8cd98f00b204e9800998ecf8427e") ==
          "invalid digest 'md5:d41d8cd98f00b204e9800998ecf8427e': unsupported algorithm 'md5' "
          "(expected sha256, sha384 or sha512)");
    CHECK(parse_error_message(
              "sha256:CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB") ==
          "invalid digest "
          "'sha256:CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB': the hex "
          "part may hold only 0-9 and a-f");
}

TEST_CASE("hasher streams in pieces", "[digest]") {
    dockwright::hasher h;
    h.update("a");
    h.update(std::string_view("bc"));
    CHECK(h.finish() == digest::sha256_of("abc"));
    CHECK_THROWS_WITH(h.finish(), "hasher::finish called twice");
}

TEST_CASE("hasher sha512", "[digest]") {
    dockwright::hasher h(dockwright::digest_algorithm::sha512);
    h.update("abc");
    CHECK(h.finish().str() ==
          "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1"
          "a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}

TEST_CASE("chain id follows the OCI rule", "[digest]") {
    const std::vector<digest> diff_ids{digest::parse(sha256_a), digest::parse(sha256_b),
                                       digest::parse(sha256_c)};
    CHECK(dockwright::chain_id(std::span(diff_ids).first(1)).str() == sha256_a);
    const auto chain = dockwright::chain_ids(diff_ids);
    REQUIRE(chain.size() == 3);
    CHECK(chain[1].str() ==
          "sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676");
    CHECK(chain[2].str() ==
          "sha256:2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106");
    CHECK(dockwright::chain_id(diff_ids) == chain[2]);
    CHECK_THROWS_WITH(dockwright::chain_id({}),
                      "invalid layer list '': a chain ID needs at least one diff ID");
}
