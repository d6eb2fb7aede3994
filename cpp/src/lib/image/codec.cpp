// Go-compatible decoding of JSON nodes into the image value types' building blocks.
#include "codec.hpp"

#include <limits>

namespace dockwright::detail {

namespace {

bool equal_ignoring_ascii_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::string index_path(const std::string& path, std::size_t index) {
    return path + "[" + std::to_string(index) + "]";
}

}  // namespace

void decoder::members(
    const json::value& object, const std::string& path, std::span<const std::string_view> names,
    const std::function<void(std::size_t, const json::value&, const std::string&)>& on_field,
    extra_fields& extra) const {
    if (object.is_null()) return;
    if (object.kind() != json::kind::object) type_mismatch(object, path, "an object");

    for (const auto& member : object.members()) {
        const std::string& key = member.first;
        const json::value& node = member.second;
        std::size_t match = names.size();
        std::size_t index = 0;
        for (const auto name : names) {
            if (name == key) {
                match = index;
                break;
            }
            if (match == names.size() && equal_ignoring_ascii_case(name, key)) match = index;
            ++index;
        }
        if (match == names.size()) {
            // A repeated unknown key keeps its last value, as a Go map would.
            std::erase_if(extra, [&](const auto& field) { return field.first == key; });
            extra.emplace_back(key, raw(node));
            continue;
        }
        on_field(match, node, join_path(path, key));
    }
}

void decoder::read(const json::value& node, const std::string& path, std::string& out) const {
    if (node.is_null()) return;
    if (node.kind() != json::kind::string) type_mismatch(node, path, "a string");
    out = node.text();
}

void decoder::read(const json::value& node, const std::string& path, bool& out) const {
    if (node.is_null()) return;
    if (node.kind() != json::kind::boolean) type_mismatch(node, path, "true or false");
    out = node.boolean();
}

void decoder::read(const json::value& node, const std::string& path, std::int64_t& out) const {
    if (node.is_null()) return;
    if (node.kind() != json::kind::number) type_mismatch(node, path, "an integer");
    const std::string& text = node.text();
    if (text.find_first_of(".eE") != std::string::npos) {
        fail(node, path, "expected an integer, got a number with a fraction or exponent");
    }
    std::int64_t number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || end != text.data() + text.size()) {
        fail(node, path, "integer out of the range of a 64-bit signed integer");
    }
    out = number;
}

void decoder::read(const json::value& node, const std::string& path, string_list& out) const {
    if (node.is_null()) {
        out.reset();
        return;
    }
    if (node.kind() != json::kind::array) type_mismatch(node, path, "an array of strings");
    std::vector<std::string> items;
    items.reserve(node.items().size());
    for (std::size_t i = 0; i < node.items().size(); ++i) {
        items.emplace_back();
        read(node.items()[i], index_path(path, i), items.back());
    }
    out = std::move(items);
}

void decoder::read_command(const json::value& node, const std::string& path,
                           string_list& out) const {
    if (node.kind() == json::kind::string) {
        out = std::vector<std::string>{node.text()};
        return;
    }
    if (!node.is_null() && node.kind() != json::kind::array) {
        type_mismatch(node, path, "an array of strings or a string");
    }
    read(node, path, out);
}

void decoder::read(const json::value& node, const std::string& path, string_set& out) const {
    if (node.is_null()) {
        out.reset();
        return;
    }
    if (node.kind() != json::kind::object) type_mismatch(node, path, "an object");
    std::set<std::string> keys;
    for (const auto& [key, member] : node.members()) {
        if (!member.is_null() && member.kind() != json::kind::object) {
            type_mismatch(member, join_path(path, key), "an empty object {}");
        }
        keys.insert(key);
    }
    out = std::move(keys);
}

void decoder::read(const json::value& node, const std::string& path, string_map& out) const {
    if (node.is_null()) {
        out.reset();
        return;
    }
    if (node.kind() != json::kind::object) type_mismatch(node, path, "an object of strings");
    std::map<std::string, std::string> entries;
    for (const auto& [key, member] : node.members()) {
        std::string text;
        read(member, join_path(path, key), text);
        entries[key] = std::move(text);
    }
    out = std::move(entries);
}

void write_list(std::string& out, const string_list& list) {
    if (!list) {
        out += "null";
        return;
    }
    out += '[';
    for (std::size_t i = 0; i < list->size(); ++i) {
        if (i != 0) out += ',';
        json::append_string(out, (*list)[i]);
    }
    out += ']';
}

void write_set(std::string& out, const string_set& set) {
    if (!set) {
        out += "null";
        return;
    }
    object_writer object(out);
    for (const auto& key : *set)
        object.raw(key, "{}");
}

void write_map(std::string& out, const string_map& map) {
    if (!map) {
        out += "null";
        return;
    }
    object_writer object(out);
    for (const auto& [key, value] : *map)
        object.string(key, value);
}

}  // namespace dockwright::detail
