// The OCI distribution client: pull, push and login against one or more registries.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dockwright/core/digest.hpp"
#include "dockwright/registry/auth.hpp"
#include "dockwright/registry/blob_sink.hpp"
#include "dockwright/registry/http_client.hpp"
#include "dockwright/registry/image_source.hpp"
#include "dockwright/registry/manifest.hpp"
#include "dockwright/store/reference.hpp"

namespace dockwright::registry {

/// One step of a blob transfer, reported to registry_options::progress.
struct progress_event {
    enum class phase {
        /// The blob is already present at the destination and is skipped.
        exists,
        /// The blob was mounted from another repository of the same registry.
        mounted,
        /// `done` of `total` bytes transferred so far.
        transferring,
        /// A transient failure, so the transfer starts again after a delay. `detail` gives the cause.
        retrying,
        /// The blob is transferred and verified.
        done,
    };
    phase step = phase::transferring;
    dockwright::digest blob;
    std::string media_type;
    std::uint64_t done = 0;
    std::uint64_t total = 0;
    int attempt = 1;
    std::string detail;
};

struct registry_options {
    /// TLS and timeout settings; tls.ca_file applies to every registry.
    http_options http;
    /// Registries (`host[:port]`) reached over plain HTTP when HTTPS fails, with TLS
    /// verification off, as Docker's `--insecure-registry`. Loopback registries (`localhost`,
    /// 127.0.0.0/8, `::1`) may also fall back to plain HTTP, but keep TLS verification.
    std::vector<std::string> insecure_registries;
    /// Credentials per registry (`docker.io`, `host:port`), used before the credential file.
    std::map<std::string, registry::credentials> credentials_by_registry;
    /// The Docker client configuration read for stored credentials; nothing means
    /// docker_config::default_path(), an empty path means none.
    std::optional<std::filesystem::path> docker_config_path;
    /// Tries per request before a transient failure (connection refused or cut, timeout,
    /// HTTP 408, 429, 5xx) is reported.
    int max_attempts = 5;
    /// The delay before the second try; doubled for every further try.
    std::chrono::milliseconds retry_delay{250};
    /// Blobs transferred at the same time.
    unsigned parallel_transfers = 4;
    /// Blobs larger than this are pushed in chunks of this size (PATCH requests with
    /// Content-Range); smaller blobs in one PUT. 0 pushes every blob in one PUT.
    std::uint64_t chunk_size = 0;
    /// Receives progress from the transfer threads, one call at a time.
    std::function<void(const progress_event&)> progress;
};

struct pull_options {
    /// The platform selected from an index; nothing means platform::host().
    std::optional<registry::platform> platform;
};

struct push_options {
    /// Repositories of the target registry (`library/busybox`) from which blobs the target
    /// lacks are mounted, instead of uploaded, when the registry allows it.
    std::vector<std::string> mount_from;
};

/// What a push did.
struct push_result {
    /// The digest of the pushed root manifest or index.
    dockwright::digest digest;
    std::uint64_t bytes_uploaded = 0;
    std::size_t blobs_skipped = 0;
    std::size_t blobs_mounted = 0;
};

/// What a pull did, besides handing the image to the sink.
struct pull_result {
    dockwright::digest manifest_digest;
    std::optional<dockwright::digest> index_digest;
    std::uint64_t bytes_downloaded = 0;
    std::size_t blobs_skipped = 0;
};

/// A distribution API client. Keeps per-registry state (URL scheme, tokens) between calls, so
/// one client serves a pull and a later push. Not safe for concurrent calls on one instance.
/// Every failure throws registry_error (registry_auth_error for rejected credentials),
/// naming the reference or blob it concerns.
class registry_client {
  public:
    explicit registry_client(registry_options options = {});
    ~registry_client();
    registry_client(const registry_client&) = delete;
    registry_client& operator=(const registry_client&) = delete;

    /// Pulls `ref` into `sink`: resolves the manifest (selecting the platform from an index),
    /// downloads and verifies the config and the layers the sink lacks, in parallel, then calls
    /// sink.commit_image(). A reference with a digest is verified against it.
    pull_result pull(const reference& ref, blob_sink& sink, const pull_options& options = {});

    /// Pushes the root manifest of `source` (and, for an index, the manifests it names) with
    /// every blob the registry lacks, then tags it as `ref`'s tag (or stores it by digest).
    push_result push(image_source& source, const reference& ref, const push_options& options = {});

    /// Fetches a manifest or index as stored, with its digest verified. Does not select a
    /// platform.
    manifest_document fetch_manifest(const reference& ref);

    /// Checks `creds` against `registry` (`docker.io`, `host:port`), as `docker login` does.
    /// Throws registry_auth_error when the registry rejects them.
    void login(std::string_view registry, const credentials& creds);

    struct impl;

  private:
    std::unique_ptr<impl> impl_;
};

/// Returns true for `localhost`, 127.0.0.0/8 and `::1`, with or without a port.
[[nodiscard]] bool is_loopback_registry(std::string_view host);

/// Returns the host serving the API of `domain`: `registry-1.docker.io` for `docker.io`,
/// else the domain itself.
[[nodiscard]] std::string api_host(std::string_view domain);

}  // namespace dockwright::registry
