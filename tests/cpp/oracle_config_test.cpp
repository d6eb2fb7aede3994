// Every config Docker wrote in the oracle corpus decodes and re-encodes to identical bytes,
// and its ID is the one Docker gave it.
#include <catch2/catch.hpp>
#include <dockwright/image/image.hpp>
#include <dockwright/image/oci.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;

namespace {

std::vector<fs::path> oracle_configs() {
    std::vector<fs::path> configs;
    const auto shared = test::shared_dir();
    if (!shared || !fs::is_directory(*shared / "oracle" / "cases")) return configs;
    for (const auto& entry : fs::directory_iterator(*shared / "oracle" / "cases")) {
        const fs::path config = entry.path() / "expected-classic" / "config.json";
        if (fs::exists(config)) configs.push_back(config);
    }
    std::sort(configs.begin(), configs.end());
    return configs;
}

}  // namespace

TEST_CASE("oracle configs round-trip byte for byte", "[image][oracle]") {
    const auto configs = oracle_configs();
    if (configs.empty()) {
        WARN(
            "skipped: the Docker oracle corpus (shared/oracle/cases) was not found; set "
            "DOCKWRIGHT_SHARED to the shared folder");
        return;
    }
    for (const auto& path : configs) {
        INFO(path.string());
        const std::string bytes = test::read_file(path);
        const image decoded = image_from_json(bytes);
        CHECK(to_json(decoded) == bytes);

        const std::string expected_id = test::read_file(path.parent_path() / "image_id");
        CHECK(decoded.computed_id().str() ==
              expected_id.substr(0, expected_id.find_last_not_of('\n') + 1));

        const fs::path manifest_path = path.parent_path() / "manifest.json";
        if (fs::exists(manifest_path)) {
            const auto manifest = nlohmann::json::parse(test::read_file(manifest_path));
            const std::string config_name = manifest.at(0).at("Config");
            CHECK("sha256:" + config_name.substr(0, config_name.size() - 5) ==
                  decoded.computed_id().str());
        }

        // OCI and back keeps every field OCI can hold.
        const image from_oci = image_from_oci_json(to_oci_json(decoded));
        CHECK(from_oci.rootfs == decoded.rootfs);
        CHECK(from_oci.history == decoded.history);
        CHECK(from_oci.config->env == decoded.config->env);
        CHECK(from_oci.config->cmd == decoded.config->cmd);
        CHECK(from_oci.config->labels.value_or(std::map<std::string, std::string>{}) ==
              decoded.config->labels.value_or(std::map<std::string, std::string>{}));
    }
    CHECK(configs.size() >= 28);
}
