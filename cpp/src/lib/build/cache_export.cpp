// Build cache export and import through a registry or an OCI layout directory.
#include <algorithm>
#include <cstring>
#include <dockwright/build/cache_export.hpp>
#include <dockwright/core/error.hpp>
#include <dockwright/image/image.hpp>
#include <dockwright/registry/oci_layout.hpp>
#include <dockwright/registry/registry_error.hpp>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

namespace dockwright {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using registry::descriptor;

// ---- option parsing -----------------------------------------------------------------------

/// Splits `key=value,key=value`; a field without `=` gets an empty value.
std::vector<std::pair<std::string, std::string>> split_fields(std::string_view text) {
    std::vector<std::pair<std::string, std::string>> fields;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find(',', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view field = text.substr(start, end - start);
        const std::size_t equals = field.find('=');
        fields.emplace_back(std::string(field.substr(0, equals)),
                            equals == std::string_view::npos
                                ? std::string()
                                : std::string(field.substr(equals + 1)));
        start = end + 1;
    }
    return fields;
}

bool parse_bool(const std::string& kind, std::string_view text, const std::string& value) {
    if (value == "true" || value == "1") return true;
    if (value == "false" || value == "0") return false;
    throw invalid_value_error(kind, std::string(text),
                              "ignore-error must be true or false, not '" + value + "'");
}

/// The fields common to both options; `path_key` is `dest` for exports and `src` for imports.
struct parsed_fields {
    cache_location location;
    std::optional<std::string> mode;
    std::optional<std::string> ignore_error;
};

parsed_fields parse_fields(const std::string& kind, std::string_view text,
                           const std::string& path_key) {
    parsed_fields out;
    if (text.empty()) throw invalid_value_error(kind, "", "the value is empty");
    if (text.find('=') == std::string_view::npos) {
        out.location.ref = std::string(text);
        // Rejects a malformed reference now instead of after the build.
        (void)reference::parse_tagged(out.location.ref);
        return out;
    }
    std::string type;
    for (const auto& [key, value] : split_fields(text)) {
        if (key == "type") {
            type = value;
        } else if (key == "ref") {
            out.location.ref = value;
        } else if (key == path_key) {
            out.location.directory = value;
        } else if (key == "tag") {
            out.location.tag = value;
        } else if (key == "mode" && path_key == "dest") {
            out.mode = value;
        } else if (key == "ignore-error" && path_key == "dest") {
            out.ignore_error = value;
        } else if (key == "oci-mediatypes" || key == "image-manifest") {
            // BuildKit's switches for the manifest format; this artifact is always an OCI
            // image manifest, which is what both of them select.
        } else {
            const std::string accepted = path_key == "dest"
                                             ? "type, ref, dest, tag, mode, ignore-error"
                                             : "type, ref, src, tag";
            throw invalid_value_error(kind, std::string(text),
                                      "unknown key '" + key + "' (accepted: " + accepted + ")");
        }
    }
    if (type.empty()) type = "registry";
    if (type == "registry") {
        out.location.type = cache_location::kind::registry;
        if (out.location.ref.empty()) {
            throw invalid_value_error(kind, std::string(text), "type=registry needs ref=REF");
        }
    } else if (type == "local") {
        out.location.type = cache_location::kind::local;
        if (out.location.directory.empty()) {
            throw invalid_value_error(kind, std::string(text),
                                      "type=local needs " + path_key + "=DIR");
        }
    } else {
        throw invalid_value_error(kind, std::string(text),
                                  "unsupported cache type '" + type + "' (use registry or local)");
    }
    if (out.location.tag.empty()) {
        throw invalid_value_error(kind, std::string(text), "tag must not be empty");
    }
    if (out.location.type == cache_location::kind::registry) {
        // Rejects a malformed reference now instead of after the build.
        (void)reference::parse_tagged(out.location.ref);
    }
    return out;
}

// ---- the artifact -------------------------------------------------------------------------

/// Reads a blob from a file from its first byte.
class file_reader final : public registry::blob_reader {
  public:
    explicit file_reader(const fs::path& path) : in_(path, std::ios::binary) {
        if (!in_) throw store_error(path.string(), "cannot open the blob");
    }
    std::size_t read(std::span<std::byte> buffer) override {
        in_.read(reinterpret_cast<char*>(buffer.data()),
                 static_cast<std::streamsize>(buffer.size()));
        return static_cast<std::size_t>(in_.gcount());
    }

  private:
    std::ifstream in_;
};

/// Reads a blob held in memory.
class memory_reader final : public registry::blob_reader {
  public:
    explicit memory_reader(const std::string& bytes) : bytes_(bytes) {}
    std::size_t read(std::span<std::byte> buffer) override {
        const std::size_t count = std::min(buffer.size(), bytes_.size() - offset_);
        std::memcpy(buffer.data(), bytes_.data() + offset_, count);
        offset_ += count;
        return count;
    }

  private:
    const std::string& bytes_;
    std::size_t offset_ = 0;
};

descriptor make_descriptor(std::string_view media_type, const digest& id, std::uint64_t size) {
    descriptor d;
    d.media_type = std::string(media_type);
    d.digest = id;
    d.size = static_cast<std::int64_t>(size);
    return d;
}

json descriptor_json(const descriptor& d) {
    return {{"mediaType", d.media_type}, {"digest", d.digest.str()}, {"size", d.size}};
}

/// The cache artifact of a chain, served from the store as the source of a push.
class cache_source final : public registry::image_source {
  public:
    cache_source(const store& images, const std::vector<digest>& chain) : images_(images) {
        json records = json::array();
        std::vector<descriptor> blobs;
        std::set<digest> seen;
        for (const digest& id : chain) {
            const image_record record = images.get(id);
            json entry = {{"id", id.str()}};
            entry["parent"] = record.parent ? json(record.parent->str()) : json(nullptr);
            records.push_back(std::move(entry));
            const std::uint64_t config_size = fs::file_size(images.blob_path(id));
            if (seen.insert(id).second) {
                blobs.push_back(
                    make_descriptor(registry::media_type::docker_config, id, config_size));
            }
            // NOTE: layers travel as the uncompressed tars the store keeps, so a cache transfer
            // moves more bytes than a pull of the same gzip layers would.
            for (const digest& diff_id : record.diff_ids) {
                if (!seen.insert(diff_id).second) continue;
                blobs.push_back(make_descriptor(registry::media_type::oci_layer, diff_id,
                                                images.layer(diff_id).size));
            }
        }
        records_ = json{{"schemaVersion", 1}, {"images", std::move(records)}}.dump();
        records_descriptor_ = make_descriptor(cache_media_type::records,
                                              digest::sha256_of(records_), records_.size());
        json layers = json::array();
        for (const descriptor& blob : blobs)
            layers.push_back(descriptor_json(blob));
        const json manifest = {{"schemaVersion", 2},
                               {"mediaType", registry::media_type::oci_manifest},
                               {"artifactType", cache_media_type::artifact},
                               {"config", descriptor_json(records_descriptor_)},
                               {"layers", std::move(layers)}};
        manifest_ = manifest.dump();
        images_count_ = chain.size();
        blob_count_ = blobs.size() + 1;
    }

    registry::manifest_document root() override {
        return {std::string(registry::media_type::oci_manifest), manifest_};
    }

    std::unique_ptr<registry::blob_reader> open(const descriptor& blob) override {
        if (blob.digest == records_descriptor_.digest) {
            return std::make_unique<memory_reader>(records_);
        }
        return std::make_unique<file_reader>(images_.blob_path(blob.digest));
    }

    [[nodiscard]] std::size_t images() const noexcept { return images_count_; }
    [[nodiscard]] std::size_t blobs() const noexcept { return blob_count_; }

  private:
    const store& images_;
    std::string records_;
    descriptor records_descriptor_;
    std::string manifest_;
    std::size_t images_count_ = 0;
    std::size_t blob_count_ = 0;
};

/// A blob arriving in the store through a blob_writer, visible only after commit(). The
/// fsync is deferred to store::commit_images(), which syncs every blob its rows name.
class store_incoming_blob final : public registry::incoming_blob {
  public:
    store_incoming_blob(const store& images, const digest& expected)
        : images_(images), expected_(expected) {
        writer_.emplace(images_, blob_durability::deferred);
    }
    void write(std::span<const std::byte> bytes) override { writer_->write(bytes); }
    void restart() override {
        writer_.reset();
        writer_.emplace(images_, blob_durability::deferred);
    }
    void commit() override { writer_->commit(expected_); }

  private:
    const store& images_;
    digest expected_;
    std::optional<blob_writer> writer_;
};

/// Receives a cache artifact into the store: blobs through blob_writer, then the images of
/// the records document in one store transaction.
class cache_sink final : public registry::blob_sink {
  public:
    cache_sink(store& images, std::string subject)
        : images_(images), subject_(std::move(subject)) {}

    bool has_blob(const descriptor& blob) override {
        // The records document is read from pulled_image::config_bytes, never stored.
        if (blob.media_type == cache_media_type::records) return true;
        const bool present = images_.has_blob(blob.digest);
        std::lock_guard lock(mutex_);
        ++(present ? skipped_ : fetched_);
        return present;
    }

    std::unique_ptr<registry::incoming_blob> open_blob(const descriptor& blob) override {
        return std::make_unique<store_incoming_blob>(images_, blob.digest);
    }

    void commit_image(const registry::pulled_image& pulled) override {
        result_.manifest_digest = pulled.manifest_digest;
        result_.blobs_fetched = fetched_;
        result_.blobs_skipped = skipped_;
        const json records = parse_records(pulled.config_bytes);
        std::set<digest> listed;
        for (const descriptor& blob : pulled.manifest.layers)
            listed.insert(blob.digest);

        std::vector<image_commit> batch;
        std::set<digest> known;
        for (const json& entry : records.at("images")) {
            ++result_.images;
            const digest id = digest::parse(entry.at("id").get<std::string>());
            std::optional<digest> parent;
            if (!entry.at("parent").is_null()) {
                parent = digest::parse(entry.at("parent").get<std::string>());
            }
            if (images_.find(id.str())) {
                known.insert(id);
                continue;
            }
            if (parent && !known.contains(*parent) && !images_.find(parent->str())) {
                ++result_.images_orphaned;
                continue;
            }
            if (!listed.contains(id)) {
                throw registry_error(subject_, "the cache lists image " + id.str() +
                                                   " but the manifest does not name its config");
            }
            batch.push_back(image_request(id, parent, listed));
            known.insert(id);
        }
        result_.images_added = batch.size();
        images_.commit_images(batch);
    }

    [[nodiscard]] const cache_import_result& result() const noexcept { return result_; }

  private:
    json parse_records(const std::string& bytes) const {
        json records;
        try {
            records = json::parse(bytes);
            if (records.at("schemaVersion").get<int>() != 1) {
                throw registry_error(subject_, "unsupported build cache schema version " +
                                                   records.at("schemaVersion").dump());
            }
            if (!records.at("images").is_array()) {
                throw registry_error(subject_,
                                     "invalid build cache records: 'images' is not "
                                     "an array");
            }
            for (const json& entry : records.at("images")) {
                (void)digest::parse(entry.at("id").get<std::string>());
                const json& parent = entry.at("parent");
                if (!parent.is_null()) (void)digest::parse(parent.get<std::string>());
            }
        } catch (const json::exception& e) {
            throw registry_error(subject_, std::string("invalid build cache records: ") + e.what());
        } catch (const invalid_value_error& e) {
            throw registry_error(subject_, std::string("invalid build cache records: ") + e.what());
        }
        return records;
    }

    /// The store request for one listed image; its config and layer blobs are in the store.
    image_commit image_request(const digest& id, const std::optional<digest>& parent,
                               const std::set<digest>& listed) const {
        image_commit request;
        request.config = images_.read_blob(id);
        request.parent = parent;
        const image config = image_from_json(request.config);
        if (config.rootfs) {
            for (const digest& diff_id : config.rootfs->diff_ids) {
                if (!listed.contains(diff_id) && !images_.has_blob(diff_id)) {
                    throw registry_error(subject_, "the cache lacks layer " + diff_id.str() +
                                                       " of image " + id.str());
                }
                request.layers.push_back(layer_record{
                    diff_id, fs::file_size(images_.blob_path(diff_id)), std::nullopt, 0});
            }
        }
        return request;
    }

    store& images_;
    std::string subject_;
    std::mutex mutex_;
    std::size_t fetched_ = 0;
    std::size_t skipped_ = 0;
    cache_import_result result_;
};

/// Copies the manifest of `source` and the blobs `sink` lacks into `sink`, checking every
/// blob's size and digest, then commits the image, as a pull does between a registry and a
/// sink. Returns the number of blobs the sink already had.
std::size_t copy_artifact(registry::image_source& source, registry::blob_sink& sink,
                          const std::string& subject) {
    const registry::manifest_document document = source.root();
    if (!registry::is_manifest_media_type(document.media_type)) {
        throw registry_error(subject, "unsupported manifest type '" + document.media_type + "'");
    }
    registry::pulled_image image{
        .reference = reference::parse_tagged("localhost/dockwright-build-cache"),
        .manifest_bytes = document.bytes,
        .manifest_digest = digest::sha256_of(document.bytes),
        .manifest = registry::parse_image_manifest(document.bytes, document.media_type),
        .index_digest = std::nullopt,
        .config_bytes = {}};

    std::size_t skipped = 0;
    auto copy_blob = [&](const descriptor& blob, std::string* keep) {
        const bool present = sink.has_blob(blob);
        if (present && !keep) {
            ++skipped;
            return;
        }
        std::unique_ptr<registry::blob_reader> reader = source.open(blob);
        std::unique_ptr<registry::incoming_blob> out = present ? nullptr : sink.open_blob(blob);
        hasher h(blob.digest.algorithm());
        std::uint64_t received = 0;
        std::vector<std::byte> buffer(1 << 20);
        while (const std::size_t count = reader->read(buffer)) {
            const std::span<const std::byte> bytes(buffer.data(), count);
            h.update(bytes);
            received += count;
            if (received > static_cast<std::uint64_t>(blob.size)) break;
            if (out) out->write(bytes);
            if (keep) keep->append(reinterpret_cast<const char*>(buffer.data()), count);
        }
        if (received != static_cast<std::uint64_t>(blob.size) || h.finish() != blob.digest) {
            throw registry_error(
                subject, "blob " + blob.digest.str() + " does not match its size or digest");
        }
        if (out) out->commit();
        if (present) ++skipped;
    };
    copy_blob(image.manifest.config, &image.config_bytes);
    std::set<digest> seen;
    for (const descriptor& blob : image.manifest.layers) {
        if (seen.insert(blob.digest).second) copy_blob(blob, nullptr);
    }
    sink.commit_image(image);
    return skipped;
}

/// Checks that a fetched manifest is a build cache artifact before any blob is fetched.
void check_artifact(const std::string& subject, const registry::manifest_document& document) {
    if (!registry::is_manifest_media_type(document.media_type)) {
        throw registry_error(
            subject, "not a build cache: the manifest type is '" + document.media_type + "'");
    }
    const registry::image_manifest manifest =
        registry::parse_image_manifest(document.bytes, document.media_type);
    if (manifest.config.media_type != cache_media_type::records) {
        throw registry_error(subject, "not a build cache: the config type is '" +
                                          manifest.config.media_type + "', expected '" +
                                          std::string(cache_media_type::records) + "'");
    }
}

}  // namespace

// ---- public functions ---------------------------------------------------------------------

std::string cache_location::str() const {
    return type == kind::registry ? ref : directory.string() + " (" + tag + ")";
}

cache_export_request parse_cache_to(std::string_view text) {
    const parsed_fields fields = parse_fields("cache-to", text, "dest");
    cache_export_request request;
    request.location = fields.location;
    if (fields.mode) {
        if (*fields.mode == "min") {
            request.mode = cache_mode::min;
        } else if (*fields.mode == "max") {
            request.mode = cache_mode::max;
        } else {
            throw invalid_value_error("cache-to", std::string(text),
                                      "mode must be min or max, not '" + *fields.mode + "'");
        }
    }
    if (fields.ignore_error) {
        request.ignore_error = parse_bool("cache-to", text, *fields.ignore_error);
    }
    return request;
}

cache_import_request parse_cache_from(std::string_view text) {
    return cache_import_request{parse_fields("cache-from", text, "src").location};
}

std::vector<digest> cache_chain(const store& images, std::span<const digest> tips) {
    std::vector<digest> chain;
    std::set<digest> seen;
    for (const digest& tip : tips) {
        std::vector<digest> walk;
        std::optional<digest> next = tip;
        while (next && !seen.contains(*next)) {
            walk.push_back(*next);
            seen.insert(*next);
            next = images.get(*next).parent;
        }
        chain.insert(chain.end(), walk.rbegin(), walk.rend());
    }
    return chain;
}

cache_export_result export_build_cache(const store& images, std::span<const digest> tips,
                                       const cache_export_request& request,
                                       registry::registry_client& client) {
    cache_source source(images, cache_chain(images, tips));
    cache_export_result result;
    result.images = source.images();
    result.blobs = source.blobs();
    const cache_location& where = request.location;
    if (where.type == cache_location::kind::registry) {
        const registry::push_result pushed =
            client.push(source, reference::parse_tagged(where.ref));
        result.manifest_digest = pushed.digest;
        result.blobs_skipped = pushed.blobs_skipped;
        return result;
    }
    registry::oci_layout_sink layout(where.directory, where.tag);
    result.blobs_skipped = copy_artifact(source, layout, where.str());
    result.manifest_digest = digest::sha256_of(source.root().bytes);
    return result;
}

cache_import_result import_build_cache(store& images, const cache_import_request& request,
                                       registry::registry_client& client) {
    const cache_location& where = request.location;
    cache_sink sink(images, where.str());
    // Held until the rows exist, so a concurrent prune does not remove the fetched blobs.
    const store::writer_lock lock = images.lock_for_writing();
    if (where.type == cache_location::kind::registry) {
        const reference ref = reference::parse_tagged(where.ref);
        const registry::manifest_document document = client.fetch_manifest(ref);
        check_artifact(where.str(), document);
        // Pulls exactly the manifest that was checked.
        const reference pinned =
            reference::parse(ref.name() + "@" + digest::sha256_of(document.bytes).str());
        client.pull(pinned, sink);
        return sink.result();
    }
    registry::oci_layout_source layout(where.directory, where.tag);
    check_artifact(where.str(), layout.root());
    copy_artifact(layout, sink, where.str());
    return sink.result();
}

namespace {

void warn(const build_event_sink& sink, std::string text) {
    build_event event;
    event.kind = build_event_kind::warning;
    event.text = std::move(text);
    emit(sink, event);
}

}  // namespace

std::vector<cache_import_result> import_build_caches(store& images,
                                                     std::span<const cache_import_request> from,
                                                     const registry_client_factory& client,
                                                     const build_event_sink& sink) {
    std::vector<cache_import_result> results;
    for (const cache_import_request& request : from) {
        try {
            results.push_back(import_build_cache(images, request, client()));
        } catch (const error& e) {
            warn(sink, "WARNING: failed to import the build cache from " + request.location.str() +
                           ", building without it: " + e.what());
        }
    }
    return results;
}

std::vector<cache_export_result> export_build_caches(const store& images,
                                                     std::span<const cache_export_request> to,
                                                     const build_result& built,
                                                     const registry_client_factory& client,
                                                     const build_event_sink& sink) {
    std::vector<cache_export_result> results;
    for (const cache_export_request& request : to) {
        std::vector<digest> tips;
        if (request.mode == cache_mode::max) {
            for (const stage_result& stage : built.stages) {
                if (stage.image_id) tips.push_back(*stage.image_id);
            }
        } else if (built.target().image_id) {
            tips.push_back(*built.target().image_id);
        }
        try {
            results.push_back(export_build_cache(images, tips, request, client()));
        } catch (const error& e) {
            const std::string message =
                "failed to export the build cache to " + request.location.str() + ": " + e.what();
            if (!request.ignore_error) throw error(message);
            warn(sink, "WARNING: " + message + " (ignored: ignore-error=true)");
        }
    }
    return results;
}

}  // namespace dockwright
