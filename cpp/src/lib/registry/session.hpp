// Internals shared by the pull, push and login code: per-registry state, authorized requests,
// retries and the transfer thread pool.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dockwright/registry/client.hpp"

namespace dockwright::registry {

/// What the client knows about one registry: where its API is and how to authenticate.
struct registry_session {
    std::string domain;    // As in references: `docker.io`, `127.0.0.1:5000`.
    std::string base_url;  // `https://registry-1.docker.io`, without a trailing slash.
    http_options http;
    std::optional<credentials> creds;
    std::mutex mutex;  // Guards challenge and tokens.
    std::optional<auth_challenge> challenge;
    std::map<std::string, std::string> tokens;  // Bearer token per scope.
};

struct registry_client::impl {
    registry_options options;
    std::map<std::string, std::unique_ptr<registry_session>> sessions;
    std::mutex progress_mutex;
    std::atomic<bool> cancelled{false};

    /// Returns the session of `domain`, creating it and probing `/v2/` on first use.
    registry_session& session(const std::string& domain);
    [[nodiscard]] http_client make_client(const registry_session& s) const;

    /// Sends `request` with the session's authorization for `scope` (`repository:x:pull`),
    /// fetching or refreshing a token on a 401 response. Throws registry_auth_error when the
    /// registry keeps refusing.
    http_response send(http_client& client, registry_session& s, http_request request,
                       const std::string& scope);

    /// Runs `attempt(n)` until it succeeds or fails for a reason that is not transient, at most
    /// options.max_attempts times, sleeping with exponential backoff in between. `on_retry`
    /// receives the attempt number about to start and the failure.
    void with_retries(const std::function<void(int)>& attempt,
                      const std::function<void(int, const std::string&)>& on_retry);

    /// Runs `work` for every item on options.parallel_transfers threads, each with its own
    /// HTTP client. The first failure cancels the rest and is rethrown.
    void for_each_parallel(registry_session& s, const std::vector<descriptor>& items,
                           const std::function<void(http_client&, const descriptor&)>& work);

    void report(const progress_event& event);

    /// GETs a manifest by tag or digest with every supported type accepted, verifying the
    /// digest when it is known (from `expected` or the Docker-Content-Digest header).
    manifest_document get_manifest(http_client& client, registry_session& s,
                                   const std::string& repository, const std::string& tag_or_digest,
                                   const std::optional<digest>& expected,
                                   const std::string& subject);

    void probe(registry_session& s);
    std::string authorization(http_client& client, registry_session& s, const std::string& scope,
                              const std::string& rejected);
};

/// Builds the error for an unexpected HTTP status, with the registry's own error codes and
/// messages from the body when it has them.
[[nodiscard]] registry_error response_error(const std::string& subject,
                                            const http_response& response);

/// Resolves an upload Location header against the registry's base URL.
[[nodiscard]] std::string resolve_location(const registry_session& s, const std::string& location);

/// Returns true for statuses worth retrying: 408, 429 and 5xx except 501 and 505.
[[nodiscard]] bool transient_status(long status) noexcept;

}  // namespace dockwright::registry
