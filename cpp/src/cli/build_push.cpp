// `-o type=registry` and `--push` of `dockwright build`.
#include "build_push.hpp"

#include <dockwright/core/error.hpp>
#include <dockwright/registry/store_source.hpp>
#include <nlohmann/json.hpp>

namespace dockwright::cli {

namespace {

/// Splits a `-o` value into key=value fields as a CSV record: a field may be quoted with `"`
/// so that it contains commas (`"name=a:1,b:2"`), and `""` inside quotes is one `"`.
std::vector<std::pair<std::string, std::string>> csv_fields(const std::string& text) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '"') {
            if (quoted && i + 1 < text.size() && text[i + 1] == '"') {
                fields.back() += '"';
                ++i;
            } else {
                quoted = !quoted;
            }
        } else if (c == ',' && !quoted) {
            fields.emplace_back();
        } else {
            fields.back() += c;
        }
    }
    if (quoted) throw invalid_value_error("output", text, "a quote is not closed");
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& field : fields) {
        const std::size_t equals = field.find('=');
        out.emplace_back(field.substr(0, equals),
                         equals == std::string::npos ? "" : field.substr(equals + 1));
    }
    return out;
}

}  // namespace

bool is_image_output(const std::string& text) {
    for (const auto& [key, value] : csv_fields(text)) {
        if (key == "type") return value == "registry" || value == "image";
    }
    return false;
}

image_output parse_image_output(const std::string& text) {
    image_output out;
    bool push_given = false;
    std::string type;
    for (const auto& [key, value] : csv_fields(text)) {
        if (key == "type") {
            type = value;
        } else if (key == "name") {
            std::size_t start = 0;
            while (start <= value.size()) {
                const std::size_t comma = std::min(value.find(',', start), value.size());
                const std::string name = value.substr(start, comma - start);
                if (!name.empty()) {
                    try {
                        out.names.push_back(reference::parse_tagged(name));
                    } catch (const invalid_value_error&) {
                        throw invalid_value_error("output", text,
                                                  "invalid reference format: " + name);
                    }
                }
                start = comma + 1;
            }
        } else if (key == "push") {
            if (value != "true" && value != "false") {
                throw invalid_value_error("output", text, "push must be true or false");
            }
            out.push = value == "true";
            push_given = true;
        } else {
            throw invalid_value_error(
                "output", text,
                "unknown key " + key + " for type=" + type + " (use name=REF and push=true|false)");
        }
    }
    if (type == "registry") {
        if (push_given && !out.push) {
            throw invalid_value_error("output", text, "type=registry always pushes");
        }
        out.push = true;
    }
    if (out.names.empty()) {
        throw invalid_value_error("output", text, "type=" + type + " needs name=REF");
    }
    return out;
}

void push_built_image(store& images, const digest& id, const std::vector<reference>& targets,
                      const registry::registry_options& options, std::ostream* out, bool json) {
    if (targets.empty()) return;
    registry::registry_client client(options);
    for (const reference& target : targets) {
        const registry::push_result result = registry::push_from_store(images, id, target, client);
        if (out == nullptr) continue;
        const std::string line = target.familiar() + ": digest: " + result.digest.str() + " pushed";
        if (json) {
            *out << nlohmann::json{{"stream", line + "\n"}}.dump() << "\r\n";
        } else {
            *out << line << '\n';
        }
    }
    if (out != nullptr) out->flush();
}

}  // namespace dockwright::cli
