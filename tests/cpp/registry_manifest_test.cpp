// Manifest and index decoding, media type detection and platform selection.
#include <catch2/catch.hpp>
#include <dockwright/core/error.hpp>
#include <dockwright/registry/manifest.hpp>
#include <dockwright/registry/registry_error.hpp>
#include <string>

using namespace dockwright;
using namespace dockwright::registry;

namespace {

const std::string config_digest = digest::sha256_of("config").str();
const std::string layer_digest = digest::sha256_of("layer").str();

std::string manifest_text() {
    return R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
           R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":6,)"
           R"("digest":")" +
           config_digest +
           R"("},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip",)"
           R"("size":5,"digest":")" +
           layer_digest + R"("}]})";
}

std::string index_entry(const std::string& arch, const std::string& variant, char fill) {
    std::string text = R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","size":1,)"
                       R"("digest":"sha256:)" +
                       std::string(64, fill) + R"(","platform":{"os":"linux","architecture":")" +
                       arch + "\"";
    if (!variant.empty()) text += R"(,"variant":")" + variant + "\"";
    return text + "}}";
}

}  // namespace

TEST_CASE("manifest decodes descriptors") {
    const image_manifest m = parse_image_manifest(manifest_text(), media_type::docker_manifest);
    CHECK(m.config.media_type == media_type::docker_config);
    CHECK(m.config.digest.str() == config_digest);
    CHECK(m.config.size == 6);
    REQUIRE(m.layers.size() == 1);
    CHECK(m.layers[0].digest.str() == layer_digest);
    CHECK(m.layers[0].size == 5);
}

TEST_CASE("manifest rejects a bad layer digest") {
    std::string text = manifest_text();
    text.replace(text.find(layer_digest), layer_digest.size(), "sha256:abc");
    try {
        (void)parse_image_manifest(text, media_type::oci_manifest);
        FAIL("no error");
    } catch (const registry_error& e) {
        CHECK(std::string(e.what()) ==
              "manifest: layers[0]: invalid digest 'sha256:abc': sha256 needs 64 hex "
              "digits, got 3");
    }
}

TEST_CASE("manifest rejects a missing size") {
    std::string text = manifest_text();
    text.replace(text.find(R"("size":5,)"), 9, "");
    CHECK_THROWS_WITH(parse_image_manifest(text, media_type::oci_manifest),
                      "manifest: layers[0]: missing or invalid field 'size'");
}

TEST_CASE("media type comes from the document first") {
    CHECK(detect_media_type(manifest_text(), "application/json") == media_type::docker_manifest);
    CHECK(detect_media_type(R"({"schemaVersion":2,"manifests":[]})",
                            "application/vnd.docker.distribution.manifest.list.v2+json; x=1") ==
          media_type::docker_manifest_list);
    CHECK(detect_media_type(R"({"schemaVersion":2,"manifests":[]})", "") == media_type::oci_index);
    CHECK_THROWS_WITH(detect_media_type(R"({"schemaVersion":1,"fsLayers":[]})", ""),
                      "manifest: Docker schema 1 manifests are not supported");
    CHECK_THROWS_WITH(detect_media_type("[1]", ""), "manifest: not a JSON object");
}

TEST_CASE("platform selection matches os, architecture and variant") {
    const std::string text = R"({"schemaVersion":2,"manifests":[)" + index_entry("amd64", "", 'a') +
                             "," + index_entry("arm", "v6", 'b') + "," +
                             index_entry("arm", "v7", 'c') + "," + index_entry("arm64", "", 'd') +
                             "]}";
    const image_index index = parse_image_index(text, media_type::oci_index);
    REQUIRE(index.manifests.size() == 4);
    auto pick = [&](const char* wanted) {
        const auto found = select_platform(index, platform::parse(wanted));
        return found ? std::string(found->digest.hex().substr(0, 1)) : std::string("none");
    };
    CHECK(pick("linux/amd64") == "a");
    CHECK(pick("linux/arm/v6") == "b");
    CHECK(pick("linux/arm/v7") == "c");
    CHECK(pick("linux/arm") == "c");
    CHECK(pick("linux/arm64/v8") == "d");
    CHECK(pick("linux/aarch64") == "d");
    CHECK(pick("linux/s390x") == "none");
    CHECK(pick("windows/amd64") == "none");
}

TEST_CASE("platform text parses and prints") {
    CHECK(platform::parse("linux/x86_64").str() == "linux/amd64");
    CHECK(platform::parse("linux/arm64/v8").str() == "linux/arm64/v8");
    CHECK_THROWS_WITH(platform::parse("linux"),
                      "invalid platform 'linux': expected os/architecture[/variant]");
    CHECK(platform::host().os == "linux");
    CHECK_FALSE(platform::host().architecture.empty());
}
