// Private helpers of the image codecs: decoding JSON nodes with Go's rules and writing
// objects in a fixed member order.
#pragma once

#include <charconv>
#include <cstdint>
#include <dockwright/core/error.hpp>
#include <dockwright/core/json.hpp>
#include <dockwright/image/config.hpp>
#include <dockwright/image/fields.hpp>
#include <dockwright/image/history.hpp>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace dockwright::detail {

/// Decodes nodes of one parsed document; `source` is the document text, used to keep the raw
/// text of unknown members and to quote offending values in errors.
class decoder {
  public:
    explicit decoder(std::string_view source) : source_(source) {}

    [[noreturn]] void fail(const json::value& node, const std::string& path,
                           const std::string& reason) const {
        throw json_error(path, reason, json::excerpt(raw_text(node)), node.begin());
    }

    [[noreturn]] void type_mismatch(const json::value& node, const std::string& path,
                                    std::string_view expected) const {
        fail(node, path,
             "expected " + std::string(expected) + ", got " +
                 std::string(json::kind_name(node.kind())));
    }

    [[nodiscard]] std::string_view raw_text(const json::value& node) const {
        return source_.substr(node.begin(), node.end() - node.begin());
    }

    [[nodiscard]] std::string raw(const json::value& node) const {
        return json::compact(raw_text(node));
    }

    /// Calls `on_field(index, node, path)` for every member of `object` whose key matches one of
    /// `names` (exactly, else ignoring ASCII case, as Go matches struct fields); the other
    /// members go to `extra`. `null` for the object itself leaves everything unset.
    void members(
        const json::value& object, const std::string& path, std::span<const std::string_view> names,
        const std::function<void(std::size_t, const json::value&, const std::string&)>& on_field,
        extra_fields& extra) const;

    void read(const json::value& node, const std::string& path, std::string& out) const;
    void read(const json::value& node, const std::string& path, bool& out) const;
    void read(const json::value& node, const std::string& path, std::int64_t& out) const;
    /// A Go []string: null is nil, a null element is "".
    void read(const json::value& node, const std::string& path, string_list& out) const;
    /// A Go map[string]struct{}: the values must be objects and are otherwise ignored.
    void read(const json::value& node, const std::string& path, string_set& out) const;
    void read(const json::value& node, const std::string& path, string_map& out) const;
    /// Docker's strslice.StrSlice: a list of strings or one string.
    void read_command(const json::value& node, const std::string& path, string_list& out) const;

  private:
    std::string_view source_;
};

/// Joins a field path: `config` + `Env` gives `config.Env`.
[[nodiscard]] inline std::string join_path(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

/// Writes one JSON object member by member; `first` tracks the separating commas.
class object_writer {
  public:
    explicit object_writer(std::string& out) : out_(out) { out_ += '{'; }
    object_writer(const object_writer&) = delete;
    object_writer& operator=(const object_writer&) = delete;
    ~object_writer() { out_ += '}'; }

    /// Writes the key and returns the buffer, positioned for the value.
    std::string& key(std::string_view name) {
        if (!first_) out_ += ',';
        first_ = false;
        json::append_string(out_, name);
        out_ += ':';
        return out_;
    }

    void string(std::string_view name, std::string_view value) {
        json::append_string(key(name), value);
    }
    void boolean(std::string_view name, bool value) { key(name) += value ? "true" : "false"; }
    void integer(std::string_view name, std::int64_t value) {
        json::append_integer(key(name), value);
    }
    void raw(std::string_view name, std::string_view json_text) { key(name) += json_text; }
    void extras(const extra_fields& fields) {
        for (const auto& [name, json_text] : fields)
            raw(name, json_text);
    }

  private:
    std::string& out_;
    bool first_ = true;
};

void write_list(std::string& out, const string_list& list);
void write_config(std::string& out, const config& value);
void write_health_config(std::string& out, const health_config& value);
void write_history(std::string& out, const history& value);
void write_root_fs(std::string& out, const root_fs& value);
void read_config(const decoder& in, const json::value& node, const std::string& path, config& out);
void read_health_config(const decoder& in, const json::value& node, const std::string& path,
                        health_config& out);
void read_history(const decoder& in, const json::value& node, const std::string& path,
                  history& out);
void read_root_fs(const decoder& in, const json::value& node, const std::string& path,
                  root_fs& out);
void read_timestamp(const decoder& in, const json::value& node, const std::string& path,
                    timestamp& out);

/// Parses `text` and decodes it with `read` into a fresh T; a top-level `null` is rejected.
template <class T, class Read>
T decode_document(std::string_view text, Read read) {
    const json::value document = json::parse(text);
    const decoder in(text);
    if (document.kind() != json::kind::object) in.type_mismatch(document, "", "an object");
    T result;
    read(in, document, "", result);
    return result;
}
void write_set(std::string& out, const string_set& set);
void write_map(std::string& out, const string_map& map);

}  // namespace dockwright::detail
