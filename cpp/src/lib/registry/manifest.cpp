// Decoding of manifests and indexes, and platform selection.
#include "dockwright/registry/manifest.hpp"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include "dockwright/core/error.hpp"
#include "dockwright/registry/registry_error.hpp"

namespace dockwright::registry {

namespace {

using json = nlohmann::json;

json parse_document(std::string_view bytes) {
    try {
        json document = json::parse(bytes);
        if (!document.is_object()) throw registry_error("manifest", "not a JSON object");
        return document;
    } catch (const json::exception& e) {
        throw registry_error("manifest", std::string("invalid JSON: ") + e.what());
    }
}

std::string string_field(const json& object, const char* name, const std::string& where) {
    const auto it = object.find(name);
    if (it == object.end() || !it->is_string()) {
        throw registry_error("manifest", where + ": missing or non-string field '" + name + "'");
    }
    return it->get<std::string>();
}

descriptor parse_descriptor(const json& object, const std::string& where) {
    if (!object.is_object()) throw registry_error("manifest", where + ": not a JSON object");
    descriptor result{.media_type = string_field(object, "mediaType", where),
                      .digest = digest::sha256_of(""),
                      .size = 0,
                      .urls = {},
                      .annotations = {},
                      .platform = std::nullopt};
    const std::string text = string_field(object, "digest", where);
    try {
        result.digest = digest::parse(text);
    } catch (const invalid_value_error& e) {
        throw registry_error("manifest", where + ": " + e.what());
    }
    const auto size = object.find("size");
    if (size == object.end() || !size->is_number_integer() || size->get<std::int64_t>() < 0) {
        throw registry_error("manifest", where + ": missing or invalid field 'size'");
    }
    result.size = size->get<std::int64_t>();
    if (const auto urls = object.find("urls"); urls != object.end() && urls->is_array()) {
        for (const json& url : *urls) {
            if (url.is_string()) result.urls.push_back(url.get<std::string>());
        }
    }
    if (const auto notes = object.find("annotations");
        notes != object.end() && notes->is_object()) {
        for (const auto& [key, value] : notes->items()) {
            if (value.is_string()) result.annotations[key] = value.get<std::string>();
        }
    }
    if (const auto p = object.find("platform"); p != object.end() && p->is_object()) {
        platform found;
        found.os = p->value("os", "");
        found.architecture = p->value("architecture", "");
        found.variant = p->value("variant", "");
        found.os_version = p->value("os.version", "");
        result.platform = found;
    }
    return result;
}

std::string normalize_architecture(std::string arch) {
    if (arch == "x86_64") return "amd64";
    if (arch == "aarch64") return "arm64";
    if (arch == "i386" || arch == "i686") return "386";
    return arch;
}

}  // namespace

std::string manifest_accept_header() {
    std::string text;
    for (const std::string_view type :
         {media_type::oci_index, media_type::oci_manifest, media_type::docker_manifest_list,
          media_type::docker_manifest}) {
        if (!text.empty()) text += ", ";
        text += type;
    }
    return text;
}

platform platform::parse(std::string_view text) {
    platform result;
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const auto slash = text.find('/', start);
        parts.emplace_back(text.substr(start, slash - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty()) {
        throw invalid_value_error("platform", std::string(text),
                                  "expected os/architecture[/variant]");
    }
    result.os = parts[0];
    result.architecture = normalize_architecture(parts[1]);
    if (parts.size() == 3) result.variant = parts[2];
    return result;
}

platform platform::host() {
    platform result;
    result.os = "linux";
    utsname name{};
    if (::uname(&name) == 0) {
        result.architecture = normalize_architecture(name.machine);
    }
    if (result.architecture == "arm64") result.variant = "v8";
    if (result.architecture.starts_with("armv7")) {
        result.architecture = "arm";
        result.variant = "v7";
    }
    return result;
}

std::string platform::str() const {
    std::string text = os + "/" + architecture;
    if (!variant.empty()) text += "/" + variant;
    return text;
}

bool is_index_media_type(std::string_view type) noexcept {
    return type == media_type::oci_index || type == media_type::docker_manifest_list;
}

bool is_manifest_media_type(std::string_view type) noexcept {
    return type == media_type::oci_manifest || type == media_type::docker_manifest;
}

std::string detect_media_type(std::string_view bytes, std::string_view content_type) {
    const json document = parse_document(bytes);
    if (const auto it = document.find("mediaType"); it != document.end() && it->is_string()) {
        const std::string type = it->get<std::string>();
        if (is_index_media_type(type) || is_manifest_media_type(type)) return type;
        throw registry_error("manifest", "unsupported media type '" + type + "'");
    }
    // Strip parameters such as `; charset=utf-8`.
    const std::string_view header = content_type.substr(0, content_type.find(';'));
    if (is_index_media_type(header) || is_manifest_media_type(header)) return std::string(header);
    if (document.contains("schemaVersion") && document["schemaVersion"] == 1) {
        throw registry_error("manifest", "Docker schema 1 manifests are not supported");
    }
    if (document.contains("manifests")) return std::string(media_type::oci_index);
    if (document.contains("config") && document.contains("layers")) {
        return std::string(media_type::oci_manifest);
    }
    throw registry_error("manifest", "unknown manifest type '" + std::string(content_type) + "'");
}

image_manifest parse_image_manifest(std::string_view bytes, std::string_view media_type) {
    const json document = parse_document(bytes);
    image_manifest result;
    result.media_type = media_type;
    const auto config = document.find("config");
    if (config == document.end()) throw registry_error("manifest", "missing field 'config'");
    result.config = parse_descriptor(*config, "config");
    const auto layers = document.find("layers");
    if (layers == document.end() || !layers->is_array()) {
        throw registry_error("manifest", "missing or non-array field 'layers'");
    }
    for (std::size_t i = 0; i < layers->size(); ++i) {
        result.layers.push_back(
            parse_descriptor((*layers)[i], "layers[" + std::to_string(i) + "]"));
    }
    return result;
}

image_index parse_image_index(std::string_view bytes, std::string_view media_type) {
    const json document = parse_document(bytes);
    image_index result;
    result.media_type = media_type;
    const auto manifests = document.find("manifests");
    if (manifests == document.end() || !manifests->is_array()) {
        throw registry_error("manifest", "missing or non-array field 'manifests'");
    }
    for (std::size_t i = 0; i < manifests->size(); ++i) {
        result.manifests.push_back(
            parse_descriptor((*manifests)[i], "manifests[" + std::to_string(i) + "]"));
    }
    return result;
}

std::optional<descriptor> select_platform(const image_index& index, const platform& wanted) {
    auto default_variant = [](const platform& p) -> std::string {
        if (!p.variant.empty()) return p.variant;
        if (p.architecture == "arm64") return "v8";
        if (p.architecture == "arm") return "v7";
        return "";
    };
    for (const descriptor& entry : index.manifests) {
        if (!entry.platform || !is_manifest_media_type(entry.media_type)) continue;
        const platform& offered = *entry.platform;
        if (offered.os != wanted.os || offered.architecture != wanted.architecture) continue;
        if (default_variant(offered) != default_variant(wanted)) continue;
        return entry;
    }
    return std::nullopt;
}

}  // namespace dockwright::registry
