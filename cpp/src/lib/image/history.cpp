// JSON encoding and decoding of history entries and root_fs.
#include <array>
#include <dockwright/image/history.hpp>
#include <ostream>

#include "codec.hpp"

namespace dockwright {

namespace detail {

void read_timestamp(const decoder& in, const json::value& node, const std::string& path,
                    timestamp& out) {
    if (node.is_null()) return;
    if (node.kind() != json::kind::string) in.type_mismatch(node, path, "an RFC 3339 string");
    try {
        out = timestamp::parse(node.text());
    } catch (const invalid_value_error& e) {
        in.fail(node, path, "invalid timestamp: " + e.reason());
    }
}

void write_history(std::string& out, const history& value) {
    object_writer object(out);
    object.string("created", value.created.str());
    if (!value.author.empty()) object.string("author", value.author);
    if (!value.created_by.empty()) object.string("created_by", value.created_by);
    if (!value.comment.empty()) object.string("comment", value.comment);
    if (value.empty_layer) object.boolean("empty_layer", true);
    object.extras(value.extra);
}

void read_history(const decoder& in, const json::value& node, const std::string& path,
                  history& out) {
    static constexpr std::array<std::string_view, 5> names{"created", "author", "created_by",
                                                           "comment", "empty_layer"};
    in.members(
        node, path, names,
        [&](std::size_t field, const json::value& member, const std::string& member_path) {
            switch (field) {
                case 0:
                    read_timestamp(in, member, member_path, out.created);
                    break;
                case 1:
                    in.read(member, member_path, out.author);
                    break;
                case 2:
                    in.read(member, member_path, out.created_by);
                    break;
                case 3:
                    in.read(member, member_path, out.comment);
                    break;
                case 4:
                    in.read(member, member_path, out.empty_layer);
                    break;
            }
        },
        out.extra);
}

void write_root_fs(std::string& out, const root_fs& value) {
    object_writer object(out);
    object.string("type", value.type);
    if (!value.diff_ids.empty()) {
        std::string& list = object.key("diff_ids");
        list += '[';
        for (std::size_t i = 0; i < value.diff_ids.size(); ++i) {
            if (i != 0) list += ',';
            json::append_string(list, value.diff_ids[i].str());
        }
        list += ']';
    }
    object.extras(value.extra);
}

void read_root_fs(const decoder& in, const json::value& node, const std::string& path,
                  root_fs& out) {
    static constexpr std::array<std::string_view, 2> names{"type", "diff_ids"};
    in.members(
        node, path, names,
        [&](std::size_t field, const json::value& member, const std::string& member_path) {
            if (field == 0) {
                in.read(member, member_path, out.type);
                return;
            }
            string_list texts;
            in.read(member, member_path, texts);
            out.diff_ids.clear();
            if (!texts) return;
            for (std::size_t i = 0; i < texts->size(); ++i) {
                const json::value& item = member.items()[i];
                try {
                    out.diff_ids.push_back(digest::parse((*texts)[i]));
                } catch (const invalid_value_error& e) {
                    in.fail(item, member_path + "[" + std::to_string(i) + "]",
                            "invalid digest: " + e.reason());
                }
            }
        },
        out.extra);
}

}  // namespace detail

std::string to_json(const history& value) {
    std::string out;
    detail::write_history(out, value);
    return out;
}

std::string to_json(const root_fs& value) {
    std::string out;
    detail::write_root_fs(out, value);
    return out;
}

history history_from_json(std::string_view text) {
    return detail::decode_document<history>(text, detail::read_history);
}

root_fs root_fs_from_json(std::string_view text) {
    return detail::decode_document<root_fs>(text, detail::read_root_fs);
}

std::ostream& operator<<(std::ostream& out, const history& value) {
    return out << to_json(value);
}
std::ostream& operator<<(std::ostream& out, const root_fs& value) {
    return out << to_json(value);
}

}  // namespace dockwright
