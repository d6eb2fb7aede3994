// WWW-Authenticate parsing and the Docker config.json credential store.
#include "dockwright/registry/auth.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "dockwright/registry/http_client.hpp"
#include "dockwright/registry/registry_error.hpp"

namespace dockwright::registry {

namespace {

using json = nlohmann::json;

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::strchr("!#$%&'*+-.^_`|~/", c) != nullptr;
}

/// Strips `https://`, `http://` and any path from a credential key: `https://x:5000/v1/` gives
/// `x:5000`.
std::string key_host(std::string_view key) {
    if (key.starts_with("https://"))
        key.remove_prefix(8);
    else if (key.starts_with("http://"))
        key.remove_prefix(7);
    return std::string(key.substr(0, key.find('/')));
}

std::string canonical_registry(std::string_view registry) {
    const std::string host = key_host(registry);
    if (host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io") {
        return "docker.io";
    }
    return host;
}

}  // namespace

std::vector<auth_challenge> parse_www_authenticate(std::string_view header) {
    std::vector<auth_challenge> result;
    std::size_t i = 0;
    auto skip_space = [&] {
        while (i < header.size() && (header[i] == ' ' || header[i] == '\t' || header[i] == ','))
            ++i;
    };
    auto read_token = [&] {
        const std::size_t start = i;
        while (i < header.size() && is_token_char(header[i]))
            ++i;
        return header.substr(start, i - start);
    };
    while (true) {
        skip_space();
        const std::string_view scheme = read_token();
        if (scheme.empty()) break;
        auth_challenge challenge{.scheme = lower(scheme), .parameters = {}};
        // Parameters follow as name=value pairs, separated by commas, until the next scheme.
        while (true) {
            skip_space();
            const std::size_t mark = i;
            const std::string_view name = read_token();
            if (name.empty() || i >= header.size() || header[i] != '=') {
                i = mark;  // A token not followed by `=` starts the next challenge.
                break;
            }
            ++i;
            std::string value;
            if (i < header.size() && header[i] == '"') {
                ++i;
                while (i < header.size() && header[i] != '"') {
                    if (header[i] == '\\' && i + 1 < header.size()) ++i;
                    value += header[i++];
                }
                if (i < header.size()) ++i;
            } else {
                value = read_token();
            }
            challenge.parameters[lower(name)] = value;
        }
        result.push_back(std::move(challenge));
        if (i == header.size()) break;
        if (!is_token_char(header[i]) && header[i] != ' ' && header[i] != ',') break;
    }
    return result;
}

std::string credential_key(std::string_view registry) {
    const std::string host = canonical_registry(registry);
    return host == "docker.io" ? "https://index.docker.io/v1/" : host;
}

std::filesystem::path docker_config::default_path() {
    if (const char* dir = std::getenv("DOCKER_CONFIG"); dir != nullptr && *dir != '\0') {
        return std::filesystem::path(dir) / "config.json";
    }
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home != nullptr ? home : "/") / ".docker" / "config.json";
}

docker_config docker_config::load(const std::filesystem::path& path) {
    docker_config config;
    config.path_ = path;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        if (errno != ENOENT) {
            throw registry_error(path.string(),
                                 std::string("cannot read: ") + std::strerror(errno));
        }
        config.document_ = "{}";
        return config;
    }
    std::ostringstream text;
    text << in.rdbuf();
    config.document_ = text.str();
    if (config.document_.find_first_not_of(" \t\r\n") == std::string::npos) {
        config.document_ = "{}";
    }
    const json document = json::parse(config.document_, nullptr, false);
    if (document.is_discarded() || !document.is_object()) {
        throw registry_error(path.string(), "invalid JSON in the Docker client configuration");
    }
    return config;
}

std::optional<credentials> docker_config::find(std::string_view registry) const {
    const json document = json::parse(document_);
    const auto auths = document.find("auths");
    if (auths == document.end() || !auths->is_object()) return std::nullopt;
    const std::string wanted = canonical_registry(registry);
    for (const auto& [key, entry] : auths->items()) {
        if (canonical_registry(key) != wanted || !entry.is_object()) continue;
        credentials found;
        if (const auto auth = entry.find("auth"); auth != entry.end() && auth->is_string()) {
            const auto decoded = base64_decode(auth->get<std::string>());
            if (!decoded) continue;
            const auto colon = decoded->find(':');
            if (colon == std::string::npos) continue;
            found.username = decoded->substr(0, colon);
            found.password = decoded->substr(colon + 1);
        } else {
            found.username = entry.value("username", "");
            found.password = entry.value("password", "");
        }
        if (const auto token = entry.find("identitytoken");
            token != entry.end() && token->is_string() && !token->get<std::string>().empty()) {
            // Docker sends identity tokens as OAuth2 refresh tokens; a basic password is the
            // closest this client gets.
            found.password = token->get<std::string>();
        }
        if (found.username.empty() && found.password.empty()) continue;
        return found;
    }
    return std::nullopt;
}

void docker_config::set(std::string_view registry, const credentials& value) {
    erase(registry);
    json document = json::parse(document_);
    json& auths = document["auths"];
    if (!auths.is_object()) auths = json::object();
    auths[credential_key(registry)] = {
        {"auth", base64_encode(value.username + ":" + value.password)}};
    document_ = document.dump(1, '\t');
}

bool docker_config::erase(std::string_view registry) {
    json document = json::parse(document_);
    const auto auths = document.find("auths");
    if (auths == document.end() || !auths->is_object()) return false;
    const std::string wanted = canonical_registry(registry);
    std::vector<std::string> keys;
    for (const auto& [key, entry] : auths->items()) {
        if (canonical_registry(key) == wanted) keys.push_back(key);
    }
    for (const std::string& key : keys)
        auths->erase(key);
    document_ = document.dump(1, '\t');
    return !keys.empty();
}

void docker_config::save() const {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (path_.has_parent_path()) fs::create_directories(path_.parent_path(), ec);
    if (ec) throw registry_error(path_.parent_path().string(), "cannot create: " + ec.message());
    const fs::path temp = path_.string() + ".tmp-" + std::to_string(::getpid());
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        throw registry_error(temp.string(), std::string("cannot create: ") + std::strerror(errno));
    const std::string text = document_ + "\n";
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int saved = errno;
            ::close(fd);
            ::unlink(temp.c_str());
            throw registry_error(temp.string(),
                                 std::string("cannot write: ") + std::strerror(saved));
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const int saved = errno;
        ::unlink(temp.c_str());
        throw registry_error(temp.string(), std::string("cannot write: ") + std::strerror(saved));
    }
    if (::rename(temp.c_str(), path_.c_str()) != 0) {
        const int saved = errno;
        ::unlink(temp.c_str());
        throw registry_error(path_.string(),
                             std::string("cannot replace: ") + std::strerror(saved));
    }
}

}  // namespace dockwright::registry
