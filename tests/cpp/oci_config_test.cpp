// Conversion between Docker's image config and the OCI image config.
#include <catch2/catch.hpp>
#include <dockwright/image/oci.hpp>

using namespace dockwright;

namespace {

image sample_image() {
    image img;
    img.architecture = "amd64";
    img.os = "linux";
    img.created = timestamp::parse("2023-11-14T22:13:20.5Z");
    img.author = "Jane <j@example.com>";
    img.container = "ec6aa86aea2a474704704b3dd8cb13c3b652923ef6284ac5ceea8ed6100e6718";
    img.docker_version = "20.10.24+dfsg1";
    config c;
    c.hostname = "ec6aa86aea2a";
    c.user = "app";
    c.env = std::vector<std::string>{"PATH=/bin"};
    c.cmd = std::vector<std::string>{"sh"};
    c.exposed_ports = std::set<std::string>{"80/tcp"};
    c.labels = std::map<std::string, std::string>{{"a", "1"}};
    c.stop_timeout = 10;
    c.healthcheck = health_config{{{"NONE"}}, 0, 0, 0, 0, {}};
    img.config = c;
    img.container_config.cmd = std::vector<std::string>{"/bin/sh", "-c", "#(nop) ", "CMD sh"};
    img.rootfs = root_fs{};
    img.rootfs->diff_ids.push_back(digest::sha256_of("a"));
    history h;
    h.created = img.created;
    h.created_by = "/bin/sh -c #(nop)  CMD [\"sh\"]";
    h.empty_layer = true;
    img.history.push_back(h);
    return img;
}

}  // namespace

TEST_CASE("OCI config bytes", "[image][oci]") {
    CHECK(to_oci_json(sample_image()) ==
          R"({"created":"2023-11-14T22:13:20.5Z","author":"Jane \u003cj@example.com\u003e",)"
          R"("architecture":"amd64","os":"linux","config":{"User":"app",)"
          R"("ExposedPorts":{"80/tcp":{}},"Env":["PATH=/bin"],"Cmd":["sh"],"Labels":{"a":"1"},)"
          R"("Healthcheck":{"Test":["NONE"]}},"rootfs":{"type":"layers","diff_ids":)"
          R"(["sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"]},)"
          R"("history":[{"created":"2023-11-14T22:13:20.5Z",)"
          R"("created_by":"/bin/sh -c #(nop)  CMD [\"sh\"]","empty_layer":true}]})");
}

TEST_CASE("OCI config of an empty image", "[image][oci]") {
    CHECK(to_oci_json(image{}) ==
          R"({"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}})");
}

TEST_CASE("OCI dropped fields named", "[image][oci]") {
    CHECK(oci_dropped_fields(sample_image()) ==
          std::vector<std::string>{"container", "container_config", "docker_version",
                                   "config.Hostname", "config.StopTimeout"});
    CHECK(oci_dropped_fields(image{}).empty());
}

TEST_CASE("OCI config decodes into the Docker type", "[image][oci]") {
    const image original = sample_image();
    const image back = image_from_oci_json(to_oci_json(original));
    CHECK(back.config->user == "app");
    CHECK(back.config->healthcheck == original.config->healthcheck);
    CHECK(back.history == original.history);
    CHECK(back.rootfs == original.rootfs);
    CHECK(back.container.empty());
    CHECK(back.config->stop_timeout == std::nullopt);
}
