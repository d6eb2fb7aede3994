// Registry authentication: WWW-Authenticate challenges and Docker's credential file.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dockwright::registry {

/// The user name that marks credentials whose password is an identity token: an OAuth2
/// refresh token exchanged for bearer tokens, as Docker's credential helpers and its
/// `identitytoken` entries use it.
inline constexpr std::string_view identity_token_username = "<token>";

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

/// A Docker credential helper: the program `docker-credential-<name>` found in PATH, run with
/// one action argument (`get`, `store`, `erase`) and speaking JSON on standard input and
/// output as docker-credential-helpers defines it. `server` is the credential key of a
/// registry (credential_key()). Failures throw registry_error naming the program, with the
/// helper's own message.
class credential_helper {
  public:
    explicit credential_helper(std::string name);

    /// Returns the stored credentials, or nothing when the helper reports none for `server`.
    [[nodiscard]] std::optional<credentials> get(std::string_view server) const;
    void store(std::string_view server, const credentials& value) const;
    /// Removes the credentials of `server`. Returns false when the helper had none.
    bool erase(std::string_view server) const;

    /// The program name: `docker-credential-<name>`.
    [[nodiscard]] std::string program() const;

  private:
    struct outcome {
        int exit_status = 0;
        std::string output;
    };
    outcome run(std::string_view action, std::string_view input) const;

    std::string name_;
};

/// Docker's client configuration file, read and written with the keys other tools rely on
/// kept unchanged. Credentials live under `auths.<registry>.auth` as base64 `user:password`,
/// or in a credential helper named by `credHelpers.<registry>` or, for every other registry,
/// by `credsStore`.
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
    /// Returns the credential helper configured for `registry`: its `credHelpers` entry, else
    /// `credsStore`, else nothing.
    [[nodiscard]] std::optional<credential_helper> helper_for(std::string_view registry) const;
    /// Finds the credentials of `registry` as Docker does: through its credential helper when
    /// one is configured (and only there), else in the file.
    [[nodiscard]] std::optional<credentials> lookup(std::string_view registry) const;
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
