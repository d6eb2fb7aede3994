// load_archive(): docker-archive and OCI layout input, checked completely before recording.
#include <unistd.h>

#include <set>

#include "archive_io.hpp"
#include "dockwright/core/json.hpp"
#include "dockwright/store/archive.hpp"
#include "files.hpp"

namespace dockwright {

namespace fs = std::filesystem;
using detail::archive_members;

namespace {

/// A checked image waiting to be recorded: its config and its decompressed layer files.
struct prepared_image {
    std::string config;
    std::vector<layer_record> layers;
    std::vector<fs::path> layer_files;
    std::vector<reference> references;
};

/// The state of one load: the input's members and the work directory in the store's tmp/.
class loader {
  public:
    loader(const fs::path& work, archive_members members, const load_limits& limits)
        : work_(work), members_(std::move(members)), limits_(limits) {}

    std::vector<prepared_image> prepare() {
        if (members_.contains("manifest.json")) return prepare_docker();
        if (members_.contains("index.json")) return prepare_oci();
        throw store_error("archive",
                          "neither manifest.json (docker-archive) nor index.json (OCI layout) "
                          "found");
    }

  private:
    std::string read_member(const std::string& name,
                            const std::optional<digest>& expected = std::nullopt,
                            std::optional<std::uint64_t> expected_size = std::nullopt) {
        const auto& member = detail::resolve_member(members_, name);
        const std::string bytes =
            detail::read_small_file(member.location, name, limits_.max_json_size);
        if (expected) {
            const digest actual = digest::sha256_of(bytes);
            if (actual != *expected) {
                throw store_error(
                    "archive member '" + name + "'",
                    "content has digest " + actual.str() + ", expected " + expected->str());
            }
        }
        if (expected_size && *expected_size != bytes.size()) {
            throw store_error("archive member '" + name + "'", "has " +
                                                                   std::to_string(bytes.size()) +
                                                                   " bytes, the descriptor "
                                                                   "says " +
                                                                   std::to_string(*expected_size));
        }
        return bytes;
    }

    json::value parse_json(const std::string& name, const std::string& bytes) {
        try {
            return json::parse(bytes);
        } catch (const json_error& e) {
            throw store_error("archive member '" + name + "'",
                              std::string("is not valid JSON: ") + e.what());
        }
    }

    static const json::value* member_of(const json::value& object, std::string_view key) {
        for (const auto& [name, value] : object.members()) {
            if (name == key) return &value;
        }
        return nullptr;
    }

    static const std::string& string_field(const json::value& object, std::string_view key,
                                           const std::string& where) {
        const json::value* value = member_of(object, key);
        if (!value || value->kind() != json::kind::string) {
            throw store_error(where, "field '" + std::string(key) +
                                         "' is missing or not a "
                                         "string");
        }
        return value->text();
    }

    image decode_config(const std::string& name, const std::string& bytes) {
        try {
            return image_from_json(bytes);
        } catch (const json_error& e) {
            throw store_error("archive member '" + name + "'",
                              std::string("is not a valid image config: ") + e.what());
        }
    }

    /// Decompresses, hashes and checks one layer; compares its diff ID with the config's.
    layer_record prepare_layer(const std::string& name, const digest& expected_diff_id,
                               const std::optional<digest>& blob_digest,
                               std::optional<std::uint64_t> blob_size, fs::path& file) {
        const auto& member = detail::resolve_member(members_, name);
        const std::string subject = "layer '" + name + "'";
        const auto result = [&] {
            if (member.owned && member.content_digest &&
                !detail::looks_compressed(member.location)) {
                // An uncompressed member unpacked into the work directory is the layer file.
                file = member.location;
                detail::fsync_file(file);
                return detail::decompressed_layer{*member.content_digest, member.size,
                                                  *member.content_digest, member.size, false};
            }
            file = work_ / ("layer-" + std::to_string(++layer_count_));
            return detail::decompress_to(member.location, -1, file, subject);
        }();
        if (blob_digest && result.compressed_digest != *blob_digest) {
            throw store_error(subject, "content has digest " + result.compressed_digest.str() +
                                           ", the manifest says " + blob_digest->str());
        }
        if (blob_size && result.compressed_size != *blob_size) {
            throw store_error(subject, "has " + std::to_string(result.compressed_size) +
                                           " bytes, the manifest says " +
                                           std::to_string(*blob_size));
        }
        if (result.diff_id != expected_diff_id) {
            throw store_error(subject, "has diff ID " + result.diff_id.str() +
                                           ", the config lists " + expected_diff_id.str());
        }
        detail::check_layer(file, subject);
        layer_record record{result.diff_id, result.size, std::nullopt, 0};
        if (result.compressed) {
            record.compressed_digest = result.compressed_digest;
            record.compressed_size = result.compressed_size;
        }
        return record;
    }

    std::vector<prepared_image> prepare_docker() {
        const std::string text = read_member("manifest.json");
        const json::value manifest = parse_json("manifest.json", text);
        if (manifest.kind() != json::kind::array || manifest.items().empty()) {
            throw store_error("archive member 'manifest.json'", "is not a non-empty array");
        }
        std::vector<prepared_image> images;
        for (std::size_t i = 0; i < manifest.items().size(); ++i) {
            const json::value& item = manifest.items()[i];
            const std::string where = "manifest.json[" + std::to_string(i) + "]";
            if (item.kind() != json::kind::object) throw store_error(where, "is not an object");
            prepared_image result;
            const std::string& config_name = string_field(item, "Config", where);
            result.config = read_member(config_name);
            const image config = decode_config(config_name, result.config);
            const json::value* layers = member_of(item, "Layers");
            if (!layers || layers->kind() != json::kind::array) {
                throw store_error(where, "field 'Layers' is missing or not an array");
            }
            const auto diff_ids = config.rootfs ? config.rootfs->diff_ids : std::vector<digest>{};
            if (diff_ids.size() != layers->items().size()) {
                throw store_error(where, "lists " + std::to_string(layers->items().size()) +
                                             " layers, the config " +
                                             std::to_string(diff_ids.size()));
            }
            for (std::size_t l = 0; l < diff_ids.size(); ++l) {
                const json::value& layer = layers->items()[l];
                if (layer.kind() != json::kind::string) {
                    throw store_error(where, "layer " + std::to_string(l) + " is not a string");
                }
                fs::path file;
                result.layers.push_back(
                    prepare_layer(layer.text(), diff_ids[l], std::nullopt, std::nullopt, file));
                result.layer_files.push_back(file);
            }
            if (const json::value* tags = member_of(item, "RepoTags");
                tags && tags->kind() == json::kind::array) {
                for (const auto& tag : tags->items()) {
                    if (tag.kind() != json::kind::string) {
                        throw store_error(where, "RepoTags contains a value that is not a string");
                    }
                    // docker load rejects an entry with a digest ("invalid tag"), and so does
                    // this loader: loading records no repository digests.
                    reference parsed = reference::parse_tagged(tag.text());
                    if (parsed.digest()) {
                        throw store_error(
                            where, "RepoTags contains '" + tag.text() + "', which is not a tag");
                    }
                    result.references.push_back(std::move(parsed));
                }
            }
            images.push_back(std::move(result));
        }
        return images;
    }

    static std::string blob_name(const digest& id) {
        return "blobs/" + std::string(algorithm_name(id.algorithm())) + "/" + std::string(id.hex());
    }

    struct descriptor {
        std::string media_type;
        digest id;
        std::uint64_t size;
    };

    descriptor read_descriptor(const json::value& value, const std::string& where) {
        if (value.kind() != json::kind::object) throw store_error(where, "is not an object");
        const json::value* size = member_of(value, "size");
        if (!size || size->kind() != json::kind::number) {
            throw store_error(where, "field 'size' is missing or not a number");
        }
        std::uint64_t parsed = 0;
        try {
            std::size_t used = 0;
            parsed = std::stoull(size->text(), &used);
            if (used != size->text().size()) throw std::invalid_argument("size");
        } catch (const std::logic_error&) {
            throw store_error(where, "field 'size' is not a byte count: " + size->text());
        }
        std::optional<digest> id;
        try {
            id = digest::parse(string_field(value, "digest", where));
        } catch (const invalid_value_error& e) {
            throw store_error(where, e.what());
        }
        const json::value* media = member_of(value, "mediaType");
        return descriptor{media && media->kind() == json::kind::string ? media->text() : "", *id,
                          parsed};
    }

    std::optional<reference> annotated_reference(const json::value& descriptor_json) {
        const json::value* annotations = member_of(descriptor_json, "annotations");
        if (!annotations || annotations->kind() != json::kind::object) return std::nullopt;
        if (const auto* name = member_of(*annotations, "io.containerd.image.name");
            name && name->kind() == json::kind::string) {
            return reference::parse_tagged(name->text());
        }
        if (const auto* name = member_of(*annotations, "org.opencontainers.image.ref.name");
            name && name->kind() == json::kind::string &&
            name->text().find_first_of(":/") != std::string::npos) {
            // A bare tag such as "latest" names no repository, so it gives no reference.
            try {
                return reference::parse_tagged(name->text());
            } catch (const invalid_value_error&) {
                return std::nullopt;
            }
        }
        return std::nullopt;
    }

    void prepare_manifest(const descriptor& manifest_descriptor,
                          const std::optional<reference>& name, std::vector<prepared_image>& images,
                          int depth) {
        const std::string member = blob_name(manifest_descriptor.id);
        const std::string text =
            read_member(member, manifest_descriptor.id, manifest_descriptor.size);
        const json::value document = parse_json(member, text);
        if (document.kind() != json::kind::object) {
            throw store_error("archive member '" + member + "'", "is not a JSON object");
        }
        if (const json::value* nested = member_of(document, "manifests")) {
            if (depth > 4 || nested->kind() != json::kind::array || nested->items().empty()) {
                throw store_error("archive member '" + member + "'",
                                  "is an index without usable manifests");
            }
            // Pick the linux/amd64 manifest of a multi-platform index, else the first.
            const json::value* chosen = &nested->items().front();
            for (const auto& entry : nested->items()) {
                const json::value* platform = member_of(entry, "platform");
                if (platform && platform->kind() == json::kind::object) {
                    const auto* arch = member_of(*platform, "architecture");
                    const auto* os = member_of(*platform, "os");
                    if (arch && os && arch->text() == "amd64" && os->text() == "linux") {
                        chosen = &entry;
                        break;
                    }
                }
            }
            prepare_manifest(read_descriptor(*chosen, member + " manifests"), name, images,
                             depth + 1);
            return;
        }
        const json::value* config_json = member_of(document, "config");
        if (!config_json) throw store_error("archive member '" + member + "'", "has no config");
        const descriptor config_descriptor = read_descriptor(*config_json, member + " config");
        prepared_image result;
        const std::string config_name = blob_name(config_descriptor.id);
        result.config = read_member(config_name, config_descriptor.id, config_descriptor.size);
        const image config = decode_config(config_name, result.config);
        const json::value* layers = member_of(document, "layers");
        if (!layers || layers->kind() != json::kind::array) {
            throw store_error("archive member '" + member + "'", "has no layers array");
        }
        const auto diff_ids = config.rootfs ? config.rootfs->diff_ids : std::vector<digest>{};
        if (diff_ids.size() != layers->items().size()) {
            throw store_error("archive member '" + member + "'",
                              "lists " + std::to_string(layers->items().size()) +
                                  " layers, the config " + std::to_string(diff_ids.size()));
        }
        for (std::size_t l = 0; l < diff_ids.size(); ++l) {
            const descriptor layer =
                read_descriptor(layers->items()[l], member + " layers[" + std::to_string(l) + "]");
            fs::path file;
            result.layers.push_back(
                prepare_layer(blob_name(layer.id), diff_ids[l], layer.id, layer.size, file));
            result.layer_files.push_back(file);
        }
        // A name with a digest is loaded without it: loading records no repository digests.
        if (name && name->digest() && name->tag()) {
            result.references.push_back(name->with_tag(*name->tag()));
        } else if (name && !name->digest()) {
            result.references.push_back(*name);
        }
        images.push_back(std::move(result));
    }

    std::vector<prepared_image> prepare_oci() {
        const std::string text = read_member("index.json");
        const json::value index = parse_json("index.json", text);
        const json::value* manifests =
            index.kind() == json::kind::object ? member_of(index, "manifests") : nullptr;
        if (!manifests || manifests->kind() != json::kind::array || manifests->items().empty()) {
            throw store_error("archive member 'index.json'", "has no manifests");
        }
        std::vector<prepared_image> images;
        for (std::size_t i = 0; i < manifests->items().size(); ++i) {
            const json::value& entry = manifests->items()[i];
            const descriptor found =
                read_descriptor(entry, "index.json manifests[" + std::to_string(i) + "]");
            prepare_manifest(found, annotated_reference(entry), images, 0);
        }
        return images;
    }

    fs::path work_;
    archive_members members_;
    load_limits limits_;
    int layer_count_ = 0;
};

/// Moves a checked, fsync'ed layer file into blobs/ under its diff ID.
void adopt_layer(store& target, const fs::path& file, const digest& diff_id) {
    const fs::path destination = target.blob_path(diff_id);
    if (target.has_blob(diff_id)) return;
    fs::rename(file, destination);
    detail::fsync_directory(destination.parent_path());
}

}  // namespace

std::vector<loaded_image> load_archive(store& target, const fs::path& input,
                                       const load_limits& limits) {
    const auto lock = target.lock_for_writing();
    const fs::path work = target.make_temp_dir("load-");
    struct cleanup {
        fs::path path;
        ~cleanup() { detail::remove_tree(path); }
    } remove_work{work};

    std::error_code ignored;
    archive_members members = input != "-" && fs::is_directory(input, ignored)
                                  ? detail::scan_directory(input, limits)
                                  : detail::unpack_archive(input, work, limits);
    loader reader(work, std::move(members), limits);
    std::vector<prepared_image> images = reader.prepare();

    std::vector<loaded_image> loaded;
    for (auto& prepared : images) {
        for (std::size_t i = 0; i < prepared.layers.size(); ++i) {
            adopt_layer(target, prepared.layer_files[i], prepared.layers[i].diff_id);
        }
        const commit_result committed = target.commit_image(
            image_commit{prepared.config, prepared.layers, std::nullopt, prepared.references});
        loaded.push_back(
            loaded_image{committed.id, prepared.references, committed.moved_references});
    }
    return loaded;
}

}  // namespace dockwright
