// A blocking HTTP/1.1 client over libcurl, one connection cache per instance.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dockwright/registry/registry_error.hpp"

namespace dockwright::registry {

/// TLS settings of a client.
struct tls_options {
    /// Verify the server certificate and host name. Turned off only for registries the user
    /// names as insecure.
    bool verify = true;
    /// A PEM file of CA certificates used instead of the system bundle.
    std::optional<std::filesystem::path> ca_file;
    /// A PEM client certificate and key for registries that require mutual TLS.
    std::optional<std::filesystem::path> client_certificate;
    std::optional<std::filesystem::path> client_key;
};

struct http_options {
    tls_options tls;
    std::chrono::seconds connect_timeout{30};
    /// A transfer slower than `low_speed_limit` bytes per second for `low_speed_time` fails
    /// with a timeout, which catches stalled connections without limiting long downloads.
    std::chrono::seconds low_speed_time{60};
    long low_speed_limit = 1;
};

/// A response header, name in the case the server sent it.
using http_header = std::pair<std::string, std::string>;

struct http_request {
    std::string method = "GET";
    std::string url;
    std::vector<http_header> headers;
    /// The request body, sent as is. Ignored when `body_reader` is set.
    std::string_view body;
    /// Streams the request body: fills the buffer and returns the number of bytes written,
    /// 0 at the end. `body_size` must then give the exact length.
    std::function<std::size_t(std::span<char>)> body_reader;
    std::uint64_t body_size = 0;
    /// Receives the response body in pieces instead of collecting it in
    /// http_response::body. Called only for responses with a 2xx status; an exception thrown
    /// by it aborts the transfer and is rethrown by http_client::send().
    std::function<void(std::string_view)> body_writer;
    /// Called once with the status and headers of a 2xx response, before its first body
    /// piece reaches body_writer (a download resumed with `Range` checks the reply here). An
    /// exception thrown by it aborts the transfer and is rethrown by http_client::send().
    std::function<void(long, const std::vector<http_header>&)> body_start;
    /// Follow redirects (blob downloads are often redirected to a storage service).
    bool follow_redirects = true;
};

/// Returns a request without headers or body.
[[nodiscard]] inline http_request make_request(std::string method, std::string url) {
    http_request request;
    request.method = std::move(method);
    request.url = std::move(url);
    return request;
}

struct http_response {
    long status = 0;
    std::vector<http_header> headers;
    std::string body;
    /// The URL after redirects.
    std::string effective_url;

    /// Returns the first header named `name` (compared without case), if any.
    [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
};

/// How a transfer failed below HTTP: no connection, TLS, timeout or a cut connection.
enum class transport_failure {
    connect,
    tls_handshake,
    tls_verification,
    timeout,
    interrupted,
    other,
};

/// A transfer that failed below HTTP; subject() is the URL. transient() is true for the
/// failures that trying again may cure: no connection, a timeout, a cut connection.
class transport_error : public registry_error {
  public:
    transport_error(std::string url, transport_failure kind, std::string detail)
        : registry_error(std::move(url), std::move(detail)), kind_(kind) {}
    [[nodiscard]] transport_failure kind() const noexcept { return kind_; }
    [[nodiscard]] bool transient() const noexcept {
        return kind_ == transport_failure::connect || kind_ == transport_failure::timeout ||
               kind_ == transport_failure::interrupted;
    }

  private:
    transport_failure kind_;
};

/// One libcurl easy handle with its connection cache. Not thread-safe: use one client per
/// thread. send() throws transport_error for failures below HTTP and returns every HTTP status,
/// including errors, to the caller.
class http_client {
  public:
    explicit http_client(http_options options = {});
    ~http_client();
    http_client(http_client&&) noexcept;
    http_client& operator=(http_client&&) noexcept;

    http_response send(const http_request& request);
    [[nodiscard]] const http_options& options() const noexcept;

  private:
    struct state;
    std::unique_ptr<state> state_;
};

/// Encodes `text` for a URL query value (RFC 3986 unreserved characters stay as they are).
[[nodiscard]] std::string url_encode(std::string_view text);

/// Encodes bytes as standard base64 with padding.
[[nodiscard]] std::string base64_encode(std::string_view bytes);
/// Decodes standard base64 (padding optional). Returns nothing for invalid input.
[[nodiscard]] std::optional<std::string> base64_decode(std::string_view text);

}  // namespace dockwright::registry
