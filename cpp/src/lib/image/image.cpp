// JSON encoding and decoding of v1_image and image, and the image ID.
#include <algorithm>
#include <array>
#include <dockwright/image/image.hpp>
#include <ostream>

#include "codec.hpp"

namespace dockwright {

namespace {

using detail::decoder;

/// The JSON keys of Docker's V1Image in its struct order, then those Image adds.
constexpr std::array<std::string_view, 17> image_names{
    "id",         "parent",           "comment",        "created",
    "container",  "container_config", "docker_version", "author",
    "config",     "architecture",     "variant",        "os",
    "Size",       "rootfs",           "history",        "os.version",
    "os.features"};
constexpr std::size_t v1_count = 13;

void read_v1_field(const decoder& in, std::size_t field, const json::value& member,
                   const std::string& path, v1_image& out) {
    switch (field) {
        case 0:
            in.read(member, path, out.id);
            break;
        case 1:
            in.read(member, path, out.parent);
            break;
        case 2:
            in.read(member, path, out.comment);
            break;
        case 3:
            detail::read_timestamp(in, member, path, out.created);
            break;
        case 4:
            in.read(member, path, out.container);
            break;
        case 5:
            detail::read_config(in, member, path, out.container_config);
            break;
        case 6:
            in.read(member, path, out.docker_version);
            break;
        case 7:
            in.read(member, path, out.author);
            break;
        case 8:
            if (member.is_null()) {
                out.config.reset();
            } else {
                if (!out.config) out.config.emplace();
                detail::read_config(in, member, path, *out.config);
            }
            break;
        case 9:
            in.read(member, path, out.architecture);
            break;
        case 10:
            in.read(member, path, out.variant);
            break;
        case 11:
            in.read(member, path, out.os);
            break;
        case 12:
            in.read(member, path, out.size);
            break;
    }
}

void read_v1_image(const decoder& in, const json::value& node, const std::string& path,
                   v1_image& out) {
    in.members(
        node, path, std::span(image_names).first(v1_count),
        [&](std::size_t field, const json::value& member, const std::string& member_path) {
            read_v1_field(in, field, member, member_path, out);
        },
        out.extra);
}

void read_image(const decoder& in, const json::value& node, const std::string& path, image& out) {
    in.members(
        node, path, image_names,
        [&](std::size_t field, const json::value& member, const std::string& member_path) {
            if (field < v1_count) {
                read_v1_field(in, field, member, member_path, out);
                return;
            }
            switch (field - v1_count) {
                case 0:
                    if (member.is_null()) {
                        out.rootfs.reset();
                    } else {
                        if (!out.rootfs) out.rootfs.emplace();
                        detail::read_root_fs(in, member, member_path, *out.rootfs);
                    }
                    break;
                case 1: {
                    if (!member.is_null() && member.kind() != json::kind::array) {
                        in.type_mismatch(member, member_path, "an array of history entries");
                    }
                    out.history.clear();
                    for (std::size_t i = 0; i < member.items().size(); ++i) {
                        detail::read_history(in, member.items()[i],
                                             member_path + "[" + std::to_string(i) + "]",
                                             out.history.emplace_back());
                    }
                    break;
                }
                case 2:
                    in.read(member, member_path, out.os_version);
                    break;
                case 3: {
                    string_list features;
                    in.read(member, member_path, features);
                    out.os_features = features.value_or(std::vector<std::string>{});
                    break;
                }
            }
        },
        out.extra);
}

/// Lists the members of a V1Image as (key, JSON) pairs in struct order, omitempty applied.
std::vector<std::pair<std::string, std::string>> v1_members(const v1_image& value) {
    std::vector<std::pair<std::string, std::string>> members;
    const auto add_string = [&](std::string key, const std::string& text) {
        if (text.empty()) return;
        std::string encoded;
        json::append_string(encoded, text);
        members.emplace_back(std::move(key), std::move(encoded));
    };
    add_string("id", value.id);
    add_string("parent", value.parent);
    add_string("comment", value.comment);
    std::string created;
    json::append_string(created, value.created.str());
    members.emplace_back("created", std::move(created));
    add_string("container", value.container);
    members.emplace_back("container_config", to_json(value.container_config));
    add_string("docker_version", value.docker_version);
    add_string("author", value.author);
    if (value.config) members.emplace_back("config", to_json(*value.config));
    add_string("architecture", value.architecture);
    add_string("variant", value.variant);
    add_string("os", value.os);
    if (value.size != 0) members.emplace_back("Size", std::to_string(value.size));
    return members;
}

void write_members(std::string& out, const std::vector<std::pair<std::string, std::string>>& all,
                   const extra_fields& extra) {
    detail::object_writer object(out);
    for (const auto& [key, json_text] : all)
        object.raw(key, json_text);
    object.extras(extra);
}

}  // namespace

std::string to_json(const v1_image& value) {
    std::string out;
    write_members(out, v1_members(value), value.extra);
    return out;
}

std::string to_json(const image& value) {
    auto members = v1_members(value);
    if (value.rootfs) members.emplace_back("rootfs", to_json(*value.rootfs));
    if (!value.history.empty()) {
        std::string list = "[";
        for (std::size_t i = 0; i < value.history.size(); ++i) {
            if (i != 0) list += ',';
            detail::write_history(list, value.history[i]);
        }
        members.emplace_back("history", list + "]");
    }
    if (!value.os_version.empty()) {
        std::string encoded;
        json::append_string(encoded, value.os_version);
        members.emplace_back("os.version", std::move(encoded));
    }
    if (!value.os_features.empty()) {
        std::string encoded;
        detail::write_list(encoded, value.os_features);
        members.emplace_back("os.features", std::move(encoded));
    }
    // Docker marshals the image through a map, so every top-level key, unknown ones included,
    // comes out sorted byte-wise. A known key wins over an unknown one of the same name.
    for (const auto& field : value.extra) {
        const bool known = std::any_of(members.begin(), members.end(), [&](const auto& member) {
            return member.first == field.first;
        });
        if (!known) members.push_back(field);
    }
    std::sort(members.begin(), members.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out;
    write_members(out, members, {});
    return out;
}

v1_image v1_image_from_json(std::string_view text) {
    return detail::decode_document<v1_image>(text, read_v1_image);
}

image image_from_json(std::string_view text) {
    return detail::decode_document<image>(text, read_image);
}

digest image::computed_id() const {
    return digest::sha256_of(to_json(*this));
}

digest image_id_of(std::string_view config_bytes) {
    return digest::sha256_of(config_bytes);
}

std::ostream& operator<<(std::ostream& out, const v1_image& value) {
    return out << to_json(value);
}

std::ostream& operator<<(std::ostream& out, const image& value) {
    return out << to_json(value);
}

}  // namespace dockwright
