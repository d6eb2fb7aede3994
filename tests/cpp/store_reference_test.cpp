// Tests of image reference parsing and normalisation.
#include <catch2/catch.hpp>
#include <dockwright/store/reference.hpp>

using dockwright::reference;

TEST_CASE("reference normalises docker.io names", "[store]") {
    const auto bare = reference::parse("busybox");
    CHECK(bare.domain() == "docker.io");
    CHECK(bare.path() == "library/busybox");
    CHECK_FALSE(bare.tag());
    CHECK(bare.str() == "docker.io/library/busybox");
    CHECK(reference::parse_tagged("busybox").str() == "docker.io/library/busybox:latest");
    CHECK(reference::parse_tagged("busybox").familiar() == "busybox:latest");
    CHECK(reference::parse("user/app:1.0").str() == "docker.io/user/app:1.0");
    CHECK(reference::parse("user/app:1.0").familiar() == "user/app:1.0");
    CHECK(reference::parse("index.docker.io/library/x:2").familiar() == "x:2");
    CHECK(reference::parse("docker.io/library/a/b").familiar_name() == "library/a/b");
}

TEST_CASE("reference keeps other registries", "[store]") {
    const auto quay = reference::parse("quay.io/org/app:v1");
    CHECK(quay.domain() == "quay.io");
    CHECK(quay.path() == "org/app");
    CHECK(quay.familiar() == "quay.io/org/app:v1");
    const auto local = reference::parse("localhost:5000/app");
    CHECK(local.domain() == "localhost:5000");
    CHECK(local.familiar_name() == "localhost:5000/app");
    CHECK(reference::parse("localhost/app").domain() == "localhost");
}

TEST_CASE("reference parses digests", "[store]") {
    const std::string id =
        "sha256:36c3df1f99a17e6dfc2344f4f6fed26d1490d2cd9cf62f5f2c90f5bfee06ee34";
    const auto pinned = reference::parse("busybox@" + id);
    REQUIRE(pinned.digest());
    CHECK(pinned.digest()->str() == id);
    CHECK_FALSE(pinned.tag());
    CHECK(reference::parse_tagged("busybox@" + id).str() == "docker.io/library/busybox@" + id);
    CHECK(reference::parse("busybox:1@" + id).str() == "docker.io/library/busybox:1@" + id);
}

TEST_CASE("reference errors name the text", "[store]") {
    CHECK_THROWS_WITH(reference::parse("Busybox"),
                      "invalid reference 'Busybox': repository name must be lowercase");
    CHECK_THROWS_WITH(reference::parse("a b"), "invalid reference 'a b': invalid reference format");
    CHECK_THROWS_WITH(reference::parse(""),
                      "invalid reference '': repository name must have at least one component");
    CHECK_THROWS_WITH(reference::parse("x:-bad"),
                      "invalid reference 'x:-bad': invalid reference format");
    CHECK_THROWS_WITH(
        reference::parse("36c3df1f99a17e6dfc2344f4f6fed26d1490d2cd9cf62f5f2c90f5bfee06ee34"),
        "invalid reference '36c3df1f99a17e6dfc2344f4f6fed26d1490d2cd9cf62f5f2c90f5bfee06ee34': "
        "cannot specify 64-byte hexadecimal strings as a repository name");
    CHECK_THROWS_WITH(reference::parse("a/" + std::string(260, 'b')),
                      Catch::Contains("repository name must not be more than 255 characters"));
    CHECK_THROWS_WITH(reference::parse("x@sha256:abc"),
                      "invalid reference 'x@sha256:abc': invalid reference format");
}
