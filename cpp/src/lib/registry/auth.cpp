// WWW-Authenticate parsing and the Docker config.json credential store.
#include "dockwright/registry/auth.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
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

extern "C" char** environ;

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
            // An entry with an identity token may carry an empty or partial `auth`.
            const auto decoded = base64_decode(auth->get<std::string>());
            const auto colon = decoded ? decoded->find(':') : std::string::npos;
            if (colon != std::string::npos) {
                found.username = decoded->substr(0, colon);
                found.password = decoded->substr(colon + 1);
            }
        } else {
            found.username = entry.value("username", "");
            found.password = entry.value("password", "");
        }
        if (const auto token = entry.find("identitytoken");
            token != entry.end() && token->is_string() && !token->get<std::string>().empty()) {
            // Docker sends identity tokens as OAuth2 refresh tokens instead of the password.
            found.username = std::string(identity_token_username);
            found.password = token->get<std::string>();
        }
        if (found.username.empty() && found.password.empty()) continue;
        return found;
    }
    return std::nullopt;
}

std::optional<credential_helper> docker_config::helper_for(std::string_view registry) const {
    const json document = json::parse(document_);
    const std::string wanted = canonical_registry(registry);
    if (const auto helpers = document.find("credHelpers");
        helpers != document.end() && helpers->is_object()) {
        for (const auto& [key, name] : helpers->items()) {
            if (canonical_registry(key) == wanted && name.is_string() &&
                !name.get<std::string>().empty()) {
                return credential_helper(name.get<std::string>());
            }
        }
    }
    if (const auto store = document.find("credsStore");
        store != document.end() && store->is_string() && !store->get<std::string>().empty()) {
        return credential_helper(store->get<std::string>());
    }
    return std::nullopt;
}

std::optional<credentials> docker_config::lookup(std::string_view registry) const {
    if (const auto helper = helper_for(registry)) return helper->get(credential_key(registry));
    return find(registry);
}

namespace {

/// Closes a descriptor on destruction.
struct fd_closer {
    int fd = -1;
    fd_closer() = default;
    fd_closer(const fd_closer&) = delete;
    fd_closer& operator=(const fd_closer&) = delete;
    ~fd_closer() {
        if (fd >= 0) ::close(fd);
    }
    void close() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

/// Returns the helper's output without the trailing newline, for an error message.
std::string helper_message(const std::string& output) {
    std::string text = output;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.pop_back();
    return text.empty() ? "no message" : text;
}

/// Writes to a pipe whose reader may have exited: SIGPIPE is blocked for this thread during
/// the write, and a SIGPIPE it raised is consumed, so the write fails with EPIPE instead.
ssize_t write_without_sigpipe(int fd, std::string_view bytes) {
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    sigset_t previous;
    pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EPIPE) {
        const timespec no_wait{};
        while (sigtimedwait(&pipe_signal, nullptr, &no_wait) == SIGPIPE) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return n;
}

/// docker-credential-helpers' message when a server has no credentials.
constexpr std::string_view not_found_message = "credentials not found in native keychain";

}  // namespace

credential_helper::credential_helper(std::string name) : name_(std::move(name)) {}

std::string credential_helper::program() const {
    return "docker-credential-" + name_;
}

credential_helper::outcome credential_helper::run(std::string_view action,
                                                  std::string_view input) const {
    const std::string name = program();
    int input_pipe[2];
    int output_pipe[2];
    if (::pipe2(input_pipe, O_CLOEXEC) != 0) {
        throw registry_error(name, std::string("cannot create a pipe: ") + std::strerror(errno));
    }
    fd_closer input_read{};
    fd_closer input_write{};
    input_read.fd = input_pipe[0];
    input_write.fd = input_pipe[1];
    if (::pipe2(output_pipe, O_CLOEXEC) != 0) {
        throw registry_error(name, std::string("cannot create a pipe: ") + std::strerror(errno));
    }
    fd_closer output_read{};
    fd_closer output_write{};
    output_read.fd = output_pipe[0];
    output_write.fd = output_pipe[1];

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, input_read.fd, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, output_write.fd, STDOUT_FILENO);
    // Helpers print failures on standard output. Standard error goes there too, so that the
    // message of a helper that uses it also reaches the error.
    posix_spawn_file_actions_adddup2(&actions, output_write.fd, STDERR_FILENO);
    const std::string action_text(action);
    char* argv[] = {const_cast<char*>(name.c_str()), const_cast<char*>(action_text.c_str()),
                    nullptr};
    pid_t pid = 0;
    const int spawned = ::posix_spawnp(&pid, name.c_str(), &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) {
        if (spawned == ENOENT) {
            throw registry_error(
                name, "the credential helper is not installed: " + name + " was not found in PATH");
        }
        throw registry_error(name, std::string("cannot run: ") + std::strerror(spawned));
    }
    input_read.close();
    output_write.close();

    // The input is small, but a helper may write its output before reading all of it, so both
    // pipes are served together.
    outcome result;
    std::size_t written = 0;
    if (input.empty()) input_write.close();
    while (output_read.fd >= 0) {
        pollfd fds[2] = {{output_read.fd, POLLIN, 0}, {input_write.fd, POLLOUT, 0}};
        const nfds_t count = input_write.fd >= 0 ? 2 : 1;
        if (::poll(fds, count, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (count == 2 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
            const ssize_t n = write_without_sigpipe(input_write.fd, input.substr(written));
            if (n > 0) written += static_cast<std::size_t>(n);
            if (n < 0 || written == input.size()) input_write.close();
        }
        if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
            char buffer[4096];
            const ssize_t n = ::read(output_read.fd, buffer, sizeof buffer);
            if (n > 0) {
                result.output.append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                output_read.close();
            }
        }
    }
    input_write.close();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::optional<credentials> credential_helper::get(std::string_view server) const {
    const outcome result = run("get", server);
    if (result.exit_status != 0) {
        if (result.output.find(not_found_message) != std::string::npos) return std::nullopt;
        throw registry_error(program(), "get for " + std::string(server) +
                                            " failed: " + helper_message(result.output));
    }
    const json document = json::parse(result.output, nullptr, false);
    if (document.is_discarded() || !document.is_object()) {
        throw registry_error(program(), "get for " + std::string(server) +
                                            " returned output that is not a JSON object");
    }
    credentials found{document.value("Username", ""), document.value("Secret", "")};
    if (found.username.empty() && found.password.empty()) return std::nullopt;
    return found;
}

void credential_helper::store(std::string_view server, const credentials& value) const {
    const json document = {{"ServerURL", std::string(server)},
                           {"Username", value.username},
                           {"Secret", value.password}};
    const outcome result = run("store", document.dump());
    if (result.exit_status != 0) {
        throw registry_error(program(), "store for " + std::string(server) +
                                            " failed: " + helper_message(result.output));
    }
}

bool credential_helper::erase(std::string_view server) const {
    const outcome result = run("erase", server);
    if (result.exit_status == 0) return true;
    if (result.output.find(not_found_message) != std::string::npos) return false;
    throw registry_error(program(), "erase for " + std::string(server) +
                                        " failed: " + helper_message(result.output));
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
