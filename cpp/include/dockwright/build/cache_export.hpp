// Build cache export and import (`--cache-to`, `--cache-from`): the classic cache's image
// chains travel as one OCI artifact through a registry or an OCI layout directory.
//
// The classic cache probe finds a step's earlier result as a stored image whose parent is the
// current image and whose container_config matches (see local_backend::probe_cache). Exporting
// that cache therefore means exporting the images of a chain: each image's config blob, its
// layer blobs and its parent link. The artifact is an OCI image manifest with
//   artifactType  application/vnd.dockwright.build-cache.v1
//   config        the records document (media type cache_media_type::records) that lists
//                 the images parents first, each with its parent
//   layers        every image config (Docker's config media type) and every layer as the
//                 uncompressed tar the store keeps (OCI's `tar` layer media type)
// so the registry client pushes and pulls it like an image.
#pragma once

#include <cstddef>
#include <cstdint>
#include <dockwright/build/build_event.hpp>
#include <dockwright/build/build_result.hpp>
#include <dockwright/core/digest.hpp>
#include <dockwright/registry/client.hpp>
#include <dockwright/store/store.hpp>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dockwright {

namespace cache_media_type {
/// The manifest's `artifactType`.
inline constexpr std::string_view artifact = "application/vnd.dockwright.build-cache.v1";
/// The media type of the records document, the manifest's config.
inline constexpr std::string_view records =
    "application/vnd.dockwright.build-cache.records.v1+json";
}  // namespace cache_media_type

/// Where exported build cache goes or imported build cache comes from.
struct cache_location {
    enum class kind { registry, local };
    kind type = kind::registry;
    /// The registry reference (`host/repo:tag`) for kind::registry.
    std::string ref;
    /// The OCI layout directory for kind::local.
    std::filesystem::path directory;
    /// The index.json entry name (`org.opencontainers.image.ref.name`) for kind::local.
    std::string tag = "latest";

    /// The location as messages name it: the reference, or the directory.
    [[nodiscard]] std::string str() const;
};

/// Which images an export contains, with BuildKit's meanings of the two modes.
enum class cache_mode {
    min,  ///< The target stage's chain only (BuildKit's default).
    max,  ///< The chains of every stage that was built.
};

/// One `--cache-to`.
struct cache_export_request {
    cache_location location;
    cache_mode mode = cache_mode::min;
    /// `ignore-error=true`: a failed export is a warning instead of a failed build.
    bool ignore_error = false;
};

/// One `--cache-from`.
struct cache_import_request {
    cache_location location;
};

/// Parses a `--cache-to` value: `type=registry,ref=REF[,mode=min|max][,ignore-error=BOOL]`,
/// `type=local,dest=DIR[,tag=NAME][,mode=...]`, or a bare `REF` for the registry type.
/// Throws invalid_value_error of kind "cache-to" naming the bad field and the accepted ones.
[[nodiscard]] cache_export_request parse_cache_to(std::string_view text);

/// Parses a `--cache-from` value: `type=registry,ref=REF`, `type=local,src=DIR[,tag=NAME]`, or
/// a bare `REF`. Throws invalid_value_error of kind "cache-from".
[[nodiscard]] cache_import_request parse_cache_from(std::string_view text);

/// What an export wrote.
struct cache_export_result {
    /// The digest of the pushed or written manifest.
    digest manifest_digest = digest::sha256_of("");
    std::size_t images = 0;
    /// Distinct blobs the artifact names: the records document, image configs and layers.
    std::size_t blobs = 0;
    /// Of those, blobs the destination already had, so they were not transferred.
    std::size_t blobs_skipped = 0;
};

/// What an import did.
struct cache_import_result {
    digest manifest_digest = digest::sha256_of("");
    /// Images the artifact lists.
    std::size_t images = 0;
    /// Images recorded in the store by this import.
    std::size_t images_added = 0;
    /// Images left out because their parent is neither in the store nor in the artifact.
    std::size_t images_orphaned = 0;
    /// Image config and layer blobs transferred into the store.
    std::size_t blobs_fetched = 0;
    /// Image config and layer blobs the store already had, so they were not transferred.
    std::size_t blobs_skipped = 0;
};

/// Returns the images of the chains ending at `tips`, parents first and each once: every tip
/// and its parents, grandparents and so on up to an image without a parent.
[[nodiscard]] std::vector<digest> cache_chain(const store& images, std::span<const digest> tips);

/// Exports the chains ending at `tips` to `request.location`. The registry type pushes with
/// `client`, the local type writes an OCI layout. Throws registry_error and store_error.
cache_export_result export_build_cache(const store& images, std::span<const digest> tips,
                                       const cache_export_request& request,
                                       registry::registry_client& client);

/// Imports the cache artifact at `request.location` into `images`: fetches the blobs the store
/// lacks, then records every listed image whose parent is known in one transaction, so a
/// failed import records nothing. Images the store already holds are kept as they are.
/// Throws registry_error for a missing or damaged artifact and store_error.
cache_import_result import_build_cache(store& images, const cache_import_request& request,
                                       registry::registry_client& client);

/// A function returning the registry client that a build shares between its pulls and its
/// cache transfers.
using registry_client_factory = std::function<registry::registry_client&()>;

/// Runs every import of a build in order. A failed import is reported to `sink` as a warning
/// event and the build goes on without that cache, as BuildKit does. Returns the results of
/// the imports that succeeded.
std::vector<cache_import_result> import_build_caches(store& images,
                                                     std::span<const cache_import_request> from,
                                                     const registry_client_factory& client,
                                                     const build_event_sink& sink);

/// Runs every export of a finished build: `cache_mode::min` exports the target stage's chain,
/// `cache_mode::max` the chains of all built stages. Throws `error` naming the location when
/// an export fails, unless it set ignore_error, which makes the failure a warning event.
std::vector<cache_export_result> export_build_caches(const store& images,
                                                     std::span<const cache_export_request> to,
                                                     const build_result& built,
                                                     const registry_client_factory& client,
                                                     const build_event_sink& sink);

}  // namespace dockwright
