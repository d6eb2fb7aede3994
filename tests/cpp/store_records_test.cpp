// Tests of the image store: blobs, records, tags, removal, prune, verify, load and save.
#include <zlib.h>

#include <catch2/catch.hpp>
#include <dockwright/layer/tar_writer.hpp>
#include <dockwright/store/archive.hpp>
#include <dockwright/store/store.hpp>
#include <fstream>

#include "layer_support.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;

namespace {

const std::string busybox_id =
    "sha256:36c3df1f99a17e6dfc2344f4f6fed26d1490d2cd9cf62f5f2c90f5bfee06ee34";
const std::string busybox_diff_id =
    "sha256:1632c58ce452243ee93fd825ec4307e9121cf987a4dd7dfdbb5c09116648ef64";

std::optional<fs::path> busybox_archive() {
    const auto shared = test::shared_dir();
    if (!shared) return std::nullopt;
    const fs::path path = *shared / "oracle" / "bases" / "busybox-local.tar.gz";
    if (!fs::exists(path)) return std::nullopt;
    return path;
}

std::string gunzip(const fs::path& path) {
    gzFile file = gzopen(path.c_str(), "rb");
    REQUIRE(file != nullptr);
    std::string out;
    char buffer[65536];
    int count = 0;
    while ((count = gzread(file, buffer, sizeof buffer)) > 0)
        out.append(buffer, count);
    gzclose(file);
    return out;
}

/// Returns a layer tar holding one regular file `hello.txt`.
std::string one_file_layer(const std::string& content) {
    layer::string_sink sink;
    layer::tar_writer tar(sink);
    layer::tar_entry entry;
    entry.name = "hello.txt";
    entry.mode = 0100644;
    entry.size = static_cast<std::int64_t>(content.size());
    tar.write_header(entry);
    tar.write_data(std::as_bytes(std::span(content)));
    tar.close();
    return sink.data();
}

/// Builds a one-layer image from a single file and records it.
digest commit_small_image(store& target, const std::string& content, const std::string& tag,
                          const std::optional<digest>& parent = std::nullopt) {
    const std::string layer = one_file_layer(content);
    const digest diff_id = target.write_blob(layer);
    image config;
    config.created = timestamp::from_unix(1700000000);
    config.architecture = "amd64";
    config.os = "linux";
    config.config.emplace();
    config.rootfs.emplace();
    config.rootfs->diff_ids = {diff_id};
    history step;
    step.created = config.created;
    step.created_by = "test " + content;
    config.history.push_back(step);
    std::vector<reference> names;
    if (!tag.empty()) names.push_back(reference::parse_tagged(tag));
    return target
        .commit_image(image_commit{
            to_json(config), {{diff_id, layer.size(), std::nullopt, 0}}, parent, names})
        .id;
}

}  // namespace

TEST_CASE("store records and resolves images", "[store]") {
    test::temp_dir root;
    store target(root.path());
    const digest id = commit_small_image(target, "one", "app:1");
    CHECK(target.resolve("app:1").id == id);
    CHECK(target.resolve(id.str()).id == id);
    CHECK(target.resolve(id.short_id()).id == id);
    CHECK(target.resolve("docker.io/library/app:1").id == id);
    CHECK_THROWS_WITH(target.resolve("app:2"), "no such image: app:2");
    const auto images = target.images();
    REQUIRE(images.size() == 1);
    CHECK(images[0].references == std::vector<std::string>{"docker.io/library/app:1"});
    CHECK(images[0].size == 2048);
    CHECK(target.verify().empty());
}

TEST_CASE("store tag moves a reference", "[store]") {
    test::temp_dir root;
    store target(root.path());
    const digest one = commit_small_image(target, "one", "app:1");
    const digest two = commit_small_image(target, "two", "");
    CHECK_FALSE(target.tag(one, reference::parse_tagged("app:latest")));
    const auto previous = target.tag(two, reference::parse_tagged("app"));
    REQUIRE(previous);
    CHECK(*previous == one);
    CHECK(target.resolve("app").id == two);
}

TEST_CASE("store remove untags, then deletes", "[store]") {
    test::temp_dir root;
    store target(root.path());
    const digest id = commit_small_image(target, "one", "app:1");
    target.tag(id, reference::parse_tagged("app:2"));
    CHECK_THROWS_WITH(target.remove(id.short_id(), false),
                      "conflict: unable to delete " + id.short_id() +
                          " (must be forced) - image is referenced in multiple repositories");
    CHECK(target.remove("app:1", false) == std::vector<std::string>{"Untagged: app:1"});
    CHECK(target.remove("app:2", false) ==
          std::vector<std::string>{"Untagged: app:2", "Deleted: " + id.str()});
    CHECK(target.images().empty());
    CHECK_FALSE(target.has_blob(id));
}

TEST_CASE("store remove rejects parents unless forced", "[store]") {
    test::temp_dir root;
    store target(root.path());
    const digest parent = commit_small_image(target, "base", "");
    const digest child = commit_small_image(target, "child", "child:1", parent);
    CHECK(target.children(parent) == std::vector<digest>{child});
    CHECK_THROWS_WITH(target.remove(parent.str(), false),
                      "conflict: unable to delete " + parent.short_id() +
                          " (cannot be forced without -f) - image has dependent child images");
    CHECK(target.remove(parent.str(), true) ==
          std::vector<std::string>{"Deleted: " + parent.str()});
    CHECK_FALSE(target.get(child).parent);
    CHECK(target.verify().empty());
}

TEST_CASE("store prune collects unused blobs", "[store]") {
    test::temp_dir root;
    store target(root.path());
    commit_small_image(target, "kept", "app:1");
    const digest dangling = commit_small_image(target, "dangling", "");
    const digest stray = target.write_blob("not referenced");
    { std::ofstream(root.path() / "tmp" / "leftover") << "x"; }
    const prune_report report = target.prune();
    CHECK(report.images == std::vector<digest>{dangling});
    CHECK(report.blobs == 3);  // the dangling config and layer, and the stray blob
    CHECK(report.temporary_files == 1);
    CHECK_FALSE(target.has_blob(stray));
    CHECK(target.images().size() == 1);
    CHECK(target.verify().empty());
}

TEST_CASE("store verify reports a corrupt blob", "[store]") {
    test::temp_dir root;
    store target(root.path());
    const digest id = commit_small_image(target, "one", "app:1");
    const auto layer = target.get(id).diff_ids.at(0);
    {
        std::fstream file(target.blob_path(layer), std::ios::in | std::ios::out | std::ios::binary);
        file.seekp(600);
        file.put('X');
    }
    const auto problems = target.verify();
    REQUIRE(problems.size() == 2);
    CHECK(problems[0].subject == layer.str());
    CHECK_THAT(problems[0].problem, Catch::StartsWith("blob content has digest sha256:"));
    CHECK(problems[1].subject == "layer " + layer.str());
    CHECK(problems[1].problem == "blob is missing or corrupt");
}

TEST_CASE("store unpack applies the layers", "[store]") {
    test::temp_dir root;
    store target(root.path());
    const digest id = commit_small_image(target, "content", "app:1");
    const fs::path rootfs = target.unpack(id);
    CHECK(test::read_file(rootfs / "hello.txt") == "content");
    CHECK(target.unpack(id) == rootfs);
    CHECK(target.verify().empty());
}

TEST_CASE("load keeps the docker-written busybox ID", "[store]") {
    const auto archive = busybox_archive();
    if (!archive) {
        WARN("skipped: oracle/bases/busybox-local.tar.gz of the shared corpus is missing");
        return;
    }
    test::temp_dir root;
    store target(root.path());
    const auto loaded = load_archive(target, *archive);
    REQUIRE(loaded.size() == 1);
    CHECK(loaded[0].id.str() == busybox_id);
    REQUIRE(loaded[0].references.size() == 1);
    CHECK(loaded[0].references[0].familiar() == "busybox:local");
    CHECK(target.get(loaded[0].id).diff_ids.at(0).str() == busybox_diff_id);
    CHECK(legacy_layer_ids(target.config(loaded[0].id)).at(0).hex() ==
          "2951a58c4df1414f34572872bbe6f5cbaadb374f01168b2aa55a27c99a4e81f0");
    CHECK(target.verify().empty());
}

TEST_CASE("save writes docker save's bytes", "[store]") {
    const auto archive = busybox_archive();
    if (!archive) {
        WARN("skipped: oracle/bases/busybox-local.tar.gz of the shared corpus is missing");
        return;
    }
    test::temp_dir root;
    store target(root.path());
    load_archive(target, *archive);
    const std::vector<std::string> names{"busybox:local"};
    save_archive(target, names, root.path() / "out.tar", archive_format::docker);
    CHECK(test::read_file(root.path() / "out.tar") == gunzip(*archive));
}
