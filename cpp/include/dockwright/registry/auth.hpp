// Registry authentication: WWW-Authenticate challenges and Docker's credential file.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockwright::registry {

/// A user name and password (or identity token) for one registry.
struct credentials {
    std::string username;
    std::string password;

    friend bool operator==(const credentials&, const credentials&) = default;
};

/// One challenge of a `WWW-Authenticate` header: the scheme (`Basic`, `Bearer`) in lower case
/// and its parameters (`realm`, `service`, `scope`) with names in lower case.
struct auth_challenge {
    std::string scheme;
    std::map<std::string, std::string> parameters;
};

/// Parses a `WWW-Authenticate` header value as RFC 7235 defines it, with quoted-string
/// parameters. Returns every challenge it holds; an unparseable tail is ignored.
[[nodiscard]] std::vector<auth_challenge> parse_www_authenticate(std::string_view header);

/// Docker's client configuration file, read and written with the keys other tools rely on
/// kept unchanged. Credentials live under `auths.<registry>.auth` as base64 `user:password`.
/// NOTE: credential helpers (`credsStore`, `credHelpers`) are not run; a registry configured
/// only through a helper is treated as having no stored credentials.
class docker_config {
  public:
    /// Returns `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
    [[nodiscard]] static std::filesystem::path default_path();

    /// Reads the file at `path`; a missing file gives an empty configuration. Throws
    /// registry_error naming the file when it is not valid JSON.
    [[nodiscard]] static docker_config load(const std::filesystem::path& path);

    /// Finds the credentials for `registry` (`docker.io`, `localhost:5000`). Entries may be keyed
    /// by host or by URL (`https://index.docker.io/v1/`), as Docker writes them.
    [[nodiscard]] std::optional<credentials> find(std::string_view registry) const;
    void set(std::string_view registry, const credentials& value);
    /// Removes the credentials of `registry`. Returns false when there were none.
    bool erase(std::string_view registry);

    /// Writes the file (mode 0600, created with its folder) through a temporary file and a
    /// rename. Throws registry_error naming the file.
    void save() const;

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

  private:
    std::filesystem::path path_;
    std::string document_;  // The whole file as JSON text, so unknown keys survive a save().
};

/// The key under which Docker stores credentials for `registry`: Docker Hub is keyed
/// `https://index.docker.io/v1/`, every other registry by its host[:port].
[[nodiscard]] std::string credential_key(std::string_view registry);

}  // namespace dockwright::registry
