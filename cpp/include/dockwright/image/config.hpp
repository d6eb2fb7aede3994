// The container configuration of an image (Docker 20.10's container.Config) and HEALTHCHECK.
#pragma once

#include <cstdint>
#include <dockwright/image/fields.hpp>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace dockwright {

/// A HEALTHCHECK setting, Docker's container.HealthConfig. Durations are nanoseconds and 0
/// means "inherit / default", as in Docker.
struct health_config {
    /// `["NONE"]`, `["CMD", args...]` or `["CMD-SHELL", command]`; nil when unset.
    string_list test;
    std::int64_t interval = 0;
    std::int64_t timeout = 0;
    std::int64_t start_period = 0;
    /// A Go `int`: 64 bits on the platforms Docker builds for.
    std::int64_t retries = 0;
    extra_fields extra;

    friend bool operator==(const health_config&, const health_config&) = default;
};

/// The configuration a container starts with, as stored in an image's `config` and
/// `container_config`; the fields and their JSON names are Docker 20.10's container.Config.
struct config {
    std::string hostname;
    std::string domainname;
    std::string user;
    bool attach_stdin = false;
    bool attach_stdout = false;
    bool attach_stderr = false;
    /// Keys such as `80/tcp`; left out of the JSON when empty.
    string_set exposed_ports;
    bool tty = false;
    bool open_stdin = false;
    bool stdin_once = false;
    string_list env;
    string_list cmd;
    std::optional<health_config> healthcheck;
    /// Windows only: the command line is already escaped. Left out of the JSON when false.
    bool args_escaped = false;
    /// The parent image ID while building (`sha256:...`).
    std::string image;
    string_set volumes;
    std::string working_dir;
    string_list entrypoint;
    bool network_disabled = false;
    std::string mac_address;
    string_list on_build;
    string_map labels;
    std::string stop_signal;
    /// Seconds; a Go `*int`, so unset and 0 differ.
    std::optional<std::int64_t> stop_timeout;
    /// Left out of the JSON when nil or empty.
    string_list shell;
    extra_fields extra;

    friend bool operator==(const config&, const config&) = default;
};

/// Encodes as Go's encoding/json writes Docker's struct: field order, omitempty, escaping.
[[nodiscard]] std::string to_json(const config& value);
[[nodiscard]] std::string to_json(const health_config& value);

/// Decodes JSON text with Go's rules (case-insensitive keys, `null` leaves a scalar unset,
/// a single string for a command is a one-element list). Unknown members are kept in
/// `extra`. Throws json_error naming the field path and the offending value.
[[nodiscard]] config config_from_json(std::string_view text);
[[nodiscard]] health_config health_config_from_json(std::string_view text);

std::ostream& operator<<(std::ostream& out, const config& value);
std::ostream& operator<<(std::ostream& out, const health_config& value);

}  // namespace dockwright
