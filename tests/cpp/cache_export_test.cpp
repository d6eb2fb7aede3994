// Tests of build cache export and import: option parsing, chains, and a round trip through
// an OCI layout directory between two stores.
#include <catch2/catch.hpp>
#include <dockwright/build/cache_export.hpp>
#include <dockwright/layer/tar_writer.hpp>
#include <dockwright/registry/registry_error.hpp>
#include <dockwright/store/store.hpp>
#include <fstream>

#include "layer_support.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;

namespace {

/// Returns a layer tar holding one regular file `name` with `content`.
std::string file_layer(const std::string& name, const std::string& content) {
    layer::string_sink sink;
    layer::tar_writer tar(sink);
    layer::tar_entry entry;
    entry.name = name;
    entry.mode = 0100644;
    entry.size = static_cast<std::int64_t>(content.size());
    tar.write_header(entry);
    tar.write_data(std::as_bytes(std::span(content)));
    tar.close();
    return sink.data();
}

/// Records an image on top of `parent` whose own layer contains `name`, and returns its ID.
/// The same arguments give the same config bytes, so two stores get the same ID.
digest commit_step(store& target, const std::string& name, const std::optional<digest>& parent) {
    std::vector<digest> diff_ids;
    std::vector<layer_record> layers;
    if (parent) {
        for (const digest& diff_id : target.get(*parent).diff_ids)
            layers.push_back(target.layer(diff_id));
    }
    const std::string tar = file_layer(name, "content of " + name + "\n");
    const digest diff_id = target.write_blob(tar);
    layers.push_back(layer_record{diff_id, tar.size(), std::nullopt, 0});
    image config;
    config.created = timestamp::from_unix(1700000000);
    config.architecture = "amd64";
    config.os = "linux";
    config.config.emplace();
    if (parent) config.config->image = parent->str();
    config.rootfs.emplace();
    for (const layer_record& layer : layers)
        config.rootfs->diff_ids.push_back(layer.diff_id);
    history step;
    step.created = config.created;
    step.created_by = "add " + name;
    config.history.push_back(step);
    return target.commit_image(image_commit{to_json(config), layers, parent, {}}).id;
}

/// Returns the location of the OCI layout `directory`.
cache_location local_cache(const fs::path& directory) {
    cache_location where;
    where.type = cache_location::kind::local;
    where.directory = directory;
    return where;
}

std::string verify_text(const store& images) {
    std::string text;
    for (const verify_problem& problem : images.verify())
        text += problem.subject + ": " + problem.problem + "\n";
    return text;
}

}  // namespace

TEST_CASE("cache-to values parse") {
    const cache_export_request bare = parse_cache_to("localhost:5000/app/cache:1");
    CHECK(bare.location.type == cache_location::kind::registry);
    CHECK(bare.location.ref == "localhost:5000/app/cache:1");
    CHECK(bare.mode == cache_mode::min);
    CHECK_FALSE(bare.ignore_error);

    const cache_export_request full =
        parse_cache_to("type=registry,ref=localhost:5000/c,mode=max,ignore-error=true");
    CHECK(full.location.ref == "localhost:5000/c");
    CHECK(full.mode == cache_mode::max);
    CHECK(full.ignore_error);

    const cache_export_request local = parse_cache_to("type=local,dest=/tmp/cache,tag=v2");
    CHECK(local.location.type == cache_location::kind::local);
    CHECK(local.location.directory == fs::path("/tmp/cache"));
    CHECK(local.location.tag == "v2");
    CHECK(local.location.str() == "/tmp/cache (v2)");

    const cache_export_request buildkit_switches =
        parse_cache_to("type=registry,ref=r/c,image-manifest=true,oci-mediatypes=true");
    CHECK(buildkit_switches.location.ref == "r/c");
}

TEST_CASE("cache-from values parse") {
    CHECK(parse_cache_from("r/c:1").location.ref == "r/c:1");
    CHECK(parse_cache_from("type=registry,ref=r/c:1").location.ref == "r/c:1");
    const cache_import_request local = parse_cache_from("type=local,src=/srv/cache");
    CHECK(local.location.type == cache_location::kind::local);
    CHECK(local.location.directory == fs::path("/srv/cache"));
    CHECK(local.location.tag == "latest");
}

TEST_CASE("cache option errors name the field") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"type=gha",
         "invalid cache-to 'type=gha': unsupported cache type 'gha' (use registry or "
         "local)"},
        {"type=registry", "invalid cache-to 'type=registry': type=registry needs ref=REF"},
        {"type=local", "invalid cache-to 'type=local': type=local needs dest=DIR"},
        {"ref=r/c,mode=all",
         "invalid cache-to 'ref=r/c,mode=all': mode must be min or max, not "
         "'all'"},
        {"ref=r/c,ignore-error=yes",
         "invalid cache-to 'ref=r/c,ignore-error=yes': ignore-error must be true or false, not "
         "'yes'"},
        {"ref=r/c,compression=zstd",
         "invalid cache-to 'ref=r/c,compression=zstd': unknown key 'compression' (accepted: "
         "type, ref, dest, tag, mode, ignore-error)"},
        {"", "invalid cache-to '': the value is empty"},
    };
    for (const auto& [text, message] : cases) {
        INFO(text);
        CHECK_THROWS_WITH(parse_cache_to(text), message);
    }
    CHECK_THROWS_WITH(parse_cache_from("type=local,dest=/x"),
                      "invalid cache-from 'type=local,dest=/x': unknown key 'dest' (accepted: "
                      "type, ref, src, tag)");
    CHECK_THROWS_WITH(parse_cache_from("ref=r/c,mode=max"),
                      "invalid cache-from 'ref=r/c,mode=max': unknown key 'mode' (accepted: "
                      "type, ref, src, tag)");
    CHECK_THROWS_AS(parse_cache_from("Upper/Case"), invalid_value_error);
}

TEST_CASE("cache chain lists parents first and once") {
    test::temp_dir dir;
    store images(dir / "store");
    const digest base = commit_step(images, "base", std::nullopt);
    const digest child = commit_step(images, "one", base);
    const digest grandchild = commit_step(images, "two", child);
    const digest other = commit_step(images, "other", base);
    const std::vector<digest> tips{grandchild, other};
    CHECK(cache_chain(images, tips) == std::vector<digest>{base, child, grandchild, other});
    const std::vector<digest> single{child};
    CHECK(cache_chain(images, single) == std::vector<digest>{base, child});
}

TEST_CASE("local cache round trip restores the chain") {
    test::temp_dir dir;
    store first(dir / "a");
    const digest base = commit_step(first, "base", std::nullopt);
    const digest child = commit_step(first, "one", base);
    const digest grandchild = commit_step(first, "two", child);
    store second(dir / "b");
    REQUIRE(commit_step(second, "base", std::nullopt) == base);

    registry::registry_client client;
    cache_export_request to;
    to.location = local_cache(dir / "layout");
    const std::vector<digest> tips{grandchild};
    const cache_export_result exported = export_build_cache(first, tips, to, client);
    CHECK(exported.images == 3);
    CHECK(exported.blobs == 7);  // the records document, 3 configs, 3 layers
    CHECK(exported.blobs_skipped == 0);
    CHECK(fs::exists(dir / "layout" / "index.json"));

    const cache_import_result imported =
        import_build_cache(second, cache_import_request{local_cache(dir / "layout")}, client);
    CHECK(imported.manifest_digest == exported.manifest_digest);
    CHECK(imported.images == 3);
    CHECK(imported.images_added == 2);
    CHECK(imported.images_orphaned == 0);
    CHECK(imported.blobs_fetched == 4);
    CHECK(imported.blobs_skipped == 2);
    CHECK(second.children(base) == std::vector<digest>{child});
    CHECK(second.children(child) == std::vector<digest>{grandchild});
    CHECK(second.get(grandchild).parent == child);
    CHECK(second.config_bytes(grandchild) == first.config_bytes(grandchild));
    CHECK(verify_text(second).empty());

    const cache_import_result again =
        import_build_cache(second, cache_import_request{local_cache(dir / "layout")}, client);
    CHECK(again.images_added == 0);
    CHECK(again.blobs_fetched == 0);
    CHECK(again.blobs_skipped == 6);
}

TEST_CASE("cache import records nothing when a blob is damaged") {
    test::temp_dir dir;
    store first(dir / "a");
    const digest base = commit_step(first, "base", std::nullopt);
    const digest child = commit_step(first, "one", base);
    const digest grandchild = commit_step(first, "two", child);
    registry::registry_client client;
    cache_export_request to;
    to.location = local_cache(dir / "layout");
    const std::vector<digest> tips{grandchild};
    (void)export_build_cache(first, tips, to, client);

    // The last layer of `grandchild` is its own, so damaging it leaves the others intact.
    const digest own_layer = first.get(grandchild).diff_ids.back();
    const fs::path blob = dir / "layout" / "blobs" / "sha256" / std::string(own_layer.hex());
    const std::uintmax_t size = fs::file_size(blob);
    fs::remove(blob);
    std::ofstream(blob, std::ios::binary) << std::string(size, 'x');

    store second(dir / "b");
    REQUIRE(commit_step(second, "base", std::nullopt) == base);
    CHECK_THROWS_AS(
        import_build_cache(second, cache_import_request{local_cache(dir / "layout")}, client),
        registry_error);
    CHECK(second.images().size() == 1);
    CHECK_FALSE(second.find(child.str()).has_value());
    CHECK(verify_text(second).empty());
}

TEST_CASE("cache import names a missing layout entry") {
    test::temp_dir dir;
    store first(dir / "a");
    const digest base = commit_step(first, "base", std::nullopt);
    registry::registry_client client;
    cache_export_request to;
    to.location = local_cache(dir / "layout");
    const std::vector<digest> tips{base};
    (void)export_build_cache(first, tips, to, client);
    CHECK_THROWS_WITH(import_build_cache(first, cache_import_request{[&] {
                                             cache_location where = local_cache(dir / "layout");
                                             where.tag = "v9";
                                             return where;
                                         }()},
                                         client),
                      (dir / "layout").string() + ": the OCI layout has no image named 'v9'");
}
