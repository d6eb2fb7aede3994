// Tests of store::commit_images and blob writers with deferred durability.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <dockwright/store/store.hpp>

namespace fs = std::filesystem;
using namespace dockwright;

namespace {

struct temp_root {
    fs::path path = fs::temp_directory_path() /
                    ("dw-batch-" + std::to_string(::getpid()) + "-" + std::to_string(std::rand()));
    ~temp_root() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

std::string config_with_layer(const digest& diff_id, const std::string& created_by) {
    image config;
    config.created = timestamp::from_unix(1700000000);
    config.architecture = "amd64";
    config.os = "linux";
    config.config.emplace();
    config.rootfs.emplace();
    config.rootfs->diff_ids = {diff_id};
    history step;
    step.created = config.created;
    step.created_by = created_by;
    config.history.push_back(step);
    return to_json(config);
}

std::size_t temporary_files(const fs::path& root) {
    std::size_t count = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(root / "tmp"))
        ++count;
    return count;
}

}  // namespace

TEST_CASE("commit_images records parent and child", "[store]") {
    temp_root root;
    store target(root.path);
    const std::string layer = "not a tar, but a blob of 30 bytes";
    blob_writer writer(target, blob_durability::deferred);
    writer.write(std::as_bytes(std::span(layer)));
    const digest diff_id = writer.commit();
    const layer_record record{diff_id, layer.size(), std::nullopt, 0};

    const std::string parent_config = config_with_layer(diff_id, "parent");
    const digest parent_id = digest::sha256_of(parent_config);
    const std::string child_config = config_with_layer(diff_id, "child");
    const std::vector<image_commit> requests{
        {parent_config, {record}, std::nullopt, {}},
        {child_config, {record}, parent_id, {reference::parse_tagged("batch:child")}},
    };
    const std::vector<commit_result> results = target.commit_images(requests);

    REQUIRE(results.size() == 2);
    CHECK(results[0].id == parent_id);
    CHECK(results[1].id == digest::sha256_of(child_config));
    CHECK(target.resolve("batch:child").id == results[1].id);
    CHECK(target.get(results[1].id).parent == parent_id);
    CHECK(target.children(parent_id) == std::vector<digest>{results[1].id});
    CHECK(target.config_bytes(parent_id) == parent_config);
    CHECK(target.verify().empty());
}

TEST_CASE("commit_images rejects a missing layer", "[store]") {
    temp_root root;
    store target(root.path);
    const digest missing = digest::sha256_of("never written");
    const std::vector<image_commit> requests{
        {config_with_layer(missing, "x"), {{missing, 13, std::nullopt, 0}}, std::nullopt, {}}};
    CHECK_THROWS_WITH(target.commit_images(requests), Catch::Contains("layer blob is missing"));
    CHECK(target.images().empty());
}

TEST_CASE("blob writer without commit leaves no file", "[store]") {
    temp_root root;
    store target(root.path);
    {
        blob_writer writer(target, blob_durability::deferred);
        const std::string small(1024, '\0');
        writer.write(std::as_bytes(std::span(small)));
        CHECK(temporary_files(root.path) == 0);
    }
    CHECK(temporary_files(root.path) == 0);
}

TEST_CASE("blob writer commits an empty blob", "[store]") {
    temp_root root;
    store target(root.path);
    blob_writer writer(target);
    const digest id = writer.commit();
    CHECK(id == digest::sha256_of(""));
    CHECK(target.has_blob(id));
    CHECK(fs::file_size(target.blob_path(id)) == 0);
}

TEST_CASE("blob writer writes a large piece whole", "[store]") {
    temp_root root;
    store target(root.path);
    blob_writer writer(target, blob_durability::deferred);
    const std::string head = "head";
    const std::string large(3 << 20, 'x');
    writer.write(std::as_bytes(std::span(head)));
    writer.write(std::as_bytes(std::span(large)));
    const digest id = writer.commit();
    CHECK(id == digest::sha256_of(head + large));
    CHECK(target.read_blob(id) == head + large);
}
