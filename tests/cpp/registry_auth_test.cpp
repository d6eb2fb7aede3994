// WWW-Authenticate parsing, Docker's config.json credentials, base64 and registry host rules.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <dockwright/registry/auth.hpp>
#include <dockwright/registry/client.hpp>
#include <dockwright/registry/http_client.hpp>
#include <dockwright/registry/registry_error.hpp>
#include <filesystem>
#include <fstream>

#include "support.hpp"

using namespace dockwright::registry;
namespace fs = std::filesystem;

namespace {

/// A fresh directory under the system temporary folder, removed on destruction.
struct scratch_dir {
    fs::path path =
        fs::temp_directory_path() / ("dockwright-auth-test-" + std::to_string(::getpid()) + "-" +
                                     std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    scratch_dir() { fs::create_directories(path); }
    ~scratch_dir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("bearer challenge parameters") {
    const auto challenges = parse_www_authenticate(
        R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
        R"(scope="repository:library/busybox:pull")");
    REQUIRE(challenges.size() == 1);
    CHECK(challenges[0].scheme == "bearer");
    CHECK(challenges[0].parameters.at("realm") == "https://auth.docker.io/token");
    CHECK(challenges[0].parameters.at("service") == "registry.docker.io");
    CHECK(challenges[0].parameters.at("scope") == "repository:library/busybox:pull");
}

TEST_CASE("several challenges and escapes") {
    const auto challenges =
        parse_www_authenticate(R"(Basic realm="a \"quoted\" realm", Bearer realm=x,error=y)");
    REQUIRE(challenges.size() == 2);
    CHECK(challenges[0].scheme == "basic");
    CHECK(challenges[0].parameters.at("realm") == "a \"quoted\" realm");
    CHECK(challenges[1].scheme == "bearer");
    CHECK(challenges[1].parameters.at("realm") == "x");
    CHECK(challenges[1].parameters.at("error") == "y");
}

TEST_CASE("empty challenge header") {
    CHECK(parse_www_authenticate("").empty());
}

TEST_CASE("base64 round trip") {
    CHECK(base64_encode("alice:wonderland") == "YWxpY2U6d29uZGVybGFuZA==");
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("ab") == "YWI=");
    CHECK(base64_decode("YWxpY2U6d29uZGVybGFuZA==").value() == "alice:wonderland");
    CHECK(base64_decode("YWI").value() == "ab");
    CHECK_FALSE(base64_decode("Y$==").has_value());
}

TEST_CASE("credential keys") {
    CHECK(credential_key("docker.io") == "https://index.docker.io/v1/");
    CHECK(credential_key("index.docker.io") == "https://index.docker.io/v1/");
    CHECK(credential_key("localhost:5000") == "localhost:5000");
}

TEST_CASE("config file keeps other keys") {
    scratch_dir dir;
    const fs::path path = dir.path / "config.json";
    {
        std::ofstream out(path);
        out << R"({"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"}},"credsStore":"x",)"
               R"("psFormat":"table"})";
    }
    docker_config config = docker_config::load(path);
    CHECK(config.find("docker.io") == credentials{"u", "p"});
    CHECK_FALSE(config.find("quay.io").has_value());
    config.set("quay.io", credentials{"alice", "secret"});
    config.save();

    const docker_config again = docker_config::load(path);
    CHECK(again.find("quay.io") == credentials{"alice", "secret"});
    CHECK(again.find("docker.io") == credentials{"u", "p"});
    const std::string text = dockwright::test::read_file(path);
    CHECK(text.find(R"("credsStore": "x")") != std::string::npos);
    CHECK(text.find(R"("psFormat": "table")") != std::string::npos);
    CHECK((fs::status(path).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("config file erase") {
    scratch_dir dir;
    docker_config config = docker_config::load(dir.path / "missing" / "config.json");
    CHECK_FALSE(config.erase("localhost:5000"));
    config.set("localhost:5000", credentials{"a", "b"});
    CHECK(config.erase("http://localhost:5000/v2/"));
    CHECK_FALSE(config.find("localhost:5000").has_value());
}

TEST_CASE("config file with invalid JSON") {
    scratch_dir dir;
    const fs::path path = dir.path / "config.json";
    std::ofstream(path) << "{";
    CHECK_THROWS_WITH(docker_config::load(path),
                      path.string() + ": invalid JSON in the Docker client configuration");
}

TEST_CASE("loopback registries") {
    CHECK(is_loopback_registry("localhost"));
    CHECK(is_loopback_registry("localhost:5000"));
    CHECK(is_loopback_registry("127.0.0.1:5000"));
    CHECK(is_loopback_registry("127.1.2.3"));
    CHECK(is_loopback_registry("[::1]:5000"));
    CHECK_FALSE(is_loopback_registry("128.0.0.1"));
    CHECK_FALSE(is_loopback_registry("localhost.example.com"));
    CHECK_FALSE(is_loopback_registry("docker.io"));
}

TEST_CASE("Docker Hub API host") {
    CHECK(api_host("docker.io") == "registry-1.docker.io");
    CHECK(api_host("quay.io") == "quay.io");
}

TEST_CASE("connection refused is a transient transport error") {
    http_client client;
    try {
        (void)client.send(make_request("GET", "http://127.0.0.1:1/v2/"));
        FAIL("no error");
    } catch (const transport_error& e) {
        CHECK(e.kind() == transport_failure::connect);
        CHECK(e.transient());
        CHECK(e.subject() == "http://127.0.0.1:1/v2/");
    }
}

TEST_CASE("credential helper chosen per registry") {
    scratch_dir dir;
    const fs::path path = dir.path / "config.json";
    std::ofstream(path)
        << R"({"credsStore":"desktop",)"
        << R"("credHelpers":{"gcr.io":"gcloud","https://index.docker.io/v1/":"hub"},)"
        << R"("auths":{"gcr.io":{"auth":"dTpw"}}})";
    const docker_config config = docker_config::load(path);
    REQUIRE(config.helper_for("gcr.io"));
    CHECK(config.helper_for("gcr.io")->program() == "docker-credential-gcloud");
    REQUIRE(config.helper_for("docker.io"));
    CHECK(config.helper_for("docker.io")->program() == "docker-credential-hub");
    REQUIRE(config.helper_for("localhost:5000"));
    CHECK(config.helper_for("localhost:5000")->program() == "docker-credential-desktop");
}

TEST_CASE("no credential helper without configuration") {
    scratch_dir dir;
    const fs::path path = dir.path / "config.json";
    std::ofstream(path) << R"({"credsStore":"","auths":{}})";
    CHECK_FALSE(docker_config::load(path).helper_for("quay.io"));
}

TEST_CASE("identity token entry becomes token credentials") {
    scratch_dir dir;
    const fs::path path = dir.path / "config.json";
    std::ofstream(path) << R"({"auths":{"quay.io":{"auth":"","identitytoken":"refresh"}}})";
    CHECK(docker_config::load(path).find("quay.io") == credentials{"<token>", "refresh"});
}
