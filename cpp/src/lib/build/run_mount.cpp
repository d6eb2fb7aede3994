// Parsing `RUN --mount` values.
#include <charconv>
#include <dockwright/build/run_mount.hpp>
#include <dockwright/core/error.hpp>
#include <vector>

namespace dockwright {

namespace {

std::vector<std::string> split_fields(std::string_view text) {
    // BuildKit reads the value as one CSV record: a field may be quoted to hold a comma.
    std::vector<std::string> fields;
    std::string current;
    bool quoted = false;
    for (const char c : text) {
        if (c == '"') {
            quoted = !quoted;
        } else if (c == ',' && !quoted) {
            fields.push_back(current);
            current.clear();
        } else {
            current += c;
        }
    }
    fields.push_back(current);
    return fields;
}

template <class T>
T parse_number(std::string_view text, int base, const std::string& whole, const std::string& key) {
    T value{};
    const auto [end, failure] =
        std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (failure != std::errc() || end != text.data() + text.size() || text.empty()) {
        throw invalid_value_error("mount", whole,
                                  "invalid value for " + key + ": " + std::string(text));
    }
    return value;
}

bool parse_bool(std::string_view value, const std::string& whole, const std::string& key) {
    if (value.empty() || value == "true" || value == "1") return true;
    if (value == "false" || value == "0") return false;
    throw invalid_value_error("mount", whole,
                              "invalid value for " + key + ": " + std::string(value));
}

}  // namespace

run_mount parse_run_mount(std::string_view text) {
    const std::string whole(text);
    run_mount mount;
    bool readonly_set = false;
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const std::string& field : split_fields(text)) {
        if (field.empty()) continue;
        const std::size_t equals = field.find('=');
        std::string key = field.substr(0, equals);
        for (char& c : key)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const std::string value = equals == std::string::npos ? "" : field.substr(equals + 1);
        if (key == "type") {
            if (value == "bind") {
                mount.type = run_mount::kind::bind;
            } else if (value == "cache") {
                mount.type = run_mount::kind::cache;
            } else if (value == "tmpfs") {
                mount.type = run_mount::kind::tmpfs;
            } else if (value == "secret") {
                mount.type = run_mount::kind::secret;
            } else if (value == "ssh") {
                mount.type = run_mount::kind::ssh;
            } else {
                throw invalid_value_error("mount", whole,
                                          "unsupported mount type \"" + value +
                                              "\" (use bind, cache, tmpfs, "
                                              "secret or ssh)");
            }
            continue;
        }
        pairs.emplace_back(key, value);
    }
    for (const auto& [key, value] : pairs) {
        if (key == "target" || key == "dst" || key == "destination") {
            mount.target = value;
        } else if (key == "source" || key == "src") {
            mount.source = value;
        } else if (key == "from") {
            mount.from = value;
        } else if (key == "id") {
            mount.id = value;
        } else if (key == "readonly" || key == "ro") {
            mount.readonly = parse_bool(value, whole, key);
            readonly_set = true;
        } else if (key == "readwrite" || key == "rw") {
            mount.readonly = !parse_bool(value, whole, key);
            readonly_set = true;
        } else if (key == "required") {
            mount.required = parse_bool(value, whole, key);
        } else if (key == "mode") {
            mount.mode = parse_number<mode_t>(value, 8, whole, key);
        } else if (key == "uid") {
            mount.uid = parse_number<uid_t>(value, 10, whole, key);
        } else if (key == "gid") {
            mount.gid = parse_number<gid_t>(value, 10, whole, key);
        } else if (key == "sharing") {
            if (value != "shared" && value != "private" && value != "locked") {
                throw invalid_value_error(
                    "mount", whole,
                    "unsupported sharing value \"" + value + "\" (use shared, private or locked)");
            }
            mount.sharing = value;
        } else if (key == "size") {
            mount.size = value;
        } else if (key == "env") {
            throw invalid_value_error("mount", whole,
                                      "secrets as environment variables (env=) are not "
                                      "supported; mount the secret as a file");
        } else {
            throw invalid_value_error("mount", whole,
                                      "unexpected key '" + key + "' in '" + whole + "'");
        }
    }
    if (!readonly_set) {
        mount.readonly =
            mount.type == run_mount::kind::bind || mount.type == run_mount::kind::secret;
    }
    if (mount.type == run_mount::kind::secret) {
        if (mount.id.empty() && !mount.target.empty()) {
            const std::size_t slash = mount.target.rfind('/');
            mount.id = slash == std::string::npos ? mount.target : mount.target.substr(slash + 1);
        }
        if (mount.id.empty()) {
            throw invalid_value_error("mount", whole, "a secret mount needs id= or target=");
        }
        if (mount.target.empty()) mount.target = "/run/secrets/" + mount.id;
    }
    if (mount.type == run_mount::kind::ssh && mount.target.empty()) {
        mount.target = "/run/buildkit/ssh_agent.0";
    }
    if (mount.target.empty()) {
        throw invalid_value_error("mount", whole, "the mount needs target=PATH");
    }
    if (mount.type == run_mount::kind::cache && mount.id.empty()) mount.id = mount.target;
    return mount;
}

}  // namespace dockwright
