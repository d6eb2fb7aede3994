// Moving images in and out of the store: docker-archive and OCI layout, and docker import.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dockwright/core/digest.hpp"
#include "dockwright/layer/compression.hpp"
#include "dockwright/store/reference.hpp"
#include "dockwright/store/store.hpp"

namespace dockwright {

/// The archive formats save writes and load reads.
enum class archive_format {
    /// What `docker save` writes: manifest.json, repositories, one folder per layer.
    docker,
    /// An OCI image layout: oci-layout, index.json and blobs/sha256.
    oci,
};

/// One image that load_archive() recorded, with the references it received and, for each
/// reference that pointed at another image before, that image.
struct loaded_image {
    digest id;
    std::vector<reference> references;
    std::vector<std::pair<reference, digest>> moved_references;
};

/// Limits that protect load_archive() from hostile input.
struct load_limits {
    /// Maximum size in bytes of a JSON document (manifest, index, config).
    std::uint64_t max_json_size = 16 << 20;
    /// Maximum number of entries of the archive.
    std::uint64_t max_entries = 1'000'000;
};

/// Loads every image of a docker-archive or OCI layout into the store. `input` is a tar
/// (plain, gzip, zstd, bzip2 or xz compressed), a directory holding an OCI layout, or `-` for
/// standard input. Every file is checked before anything becomes visible: JSON documents must
/// decode, blob digests and sizes must match their descriptors, each layer's diff ID must
/// match the config, and layer tars may not hold absolute names, `..`, entries below a
/// symlink of the same layer, or hard links to names they do not contain. On any error
/// store_error names the archive member and nothing is recorded.
std::vector<loaded_image> load_archive(store& target, const std::filesystem::path& input,
                                       const load_limits& limits = {});

/// Receives the progress of save_archive(): the bytes written so far and the total it will
/// write (the archive file, or every file of an OCI layout directory).
using save_progress = std::function<void(std::uint64_t written, std::uint64_t total)>;

/// Writes the images named by `names` (references or IDs) as one archive. `output` is a file
/// path, `-` for standard output, or for archive_format::oci a directory (existing, or given
/// with a trailing `/`), which then receives the layout itself instead of a tar of it. A
/// repository name without tag selects every tag of that repository, as docker save does.
/// `layer_compression` applies to OCI layouts only, whose layers it compresses (media type
/// `...layer.v1.tar+gzip` or `+zstd`); docker-archive layers are always uncompressed.
/// `progress`, when set, is called with `(0, total)` before the first byte is written and
/// then after each write; the last call has `written == total`. Files of an OCI layout
/// directory that exist already are not written and do not count.
void save_archive(const store& source, std::span<const std::string> names,
                  const std::filesystem::path& output, archive_format format,
                  layer::compression layer_compression = layer::compression::none,
                  const save_progress& progress = {});

/// What import_rootfs() records.
struct import_options {
    std::optional<reference> target;
    /// Dockerfile instructions applied to the config, as `docker import --change`:
    /// CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR.
    std::vector<std::string> changes;
    /// The history comment; empty gives `Imported from <source>`.
    std::string message;
    /// The name shown in the default comment: `-` for standard input, as docker import does
    /// for a file it is given, else the URL.
    std::string source = "-";
    /// The config's `docker_version`. Docker writes its engine version there
    /// (`20.10.24+dfsg1`), and this default names the program, as dockwright builds do.
    std::string docker_version = std::string("dockwright ") + DOCKWRIGHT_VERSION;
};

/// Imports a root filesystem tar (plain or compressed; `-` reads standard input) as a
/// one-layer image like `docker import`, and returns its ID.
digest import_rootfs(store& target, const std::filesystem::path& input,
                     const import_options& options = {});

/// One entry of a layer tar, as listed by list_layer().
struct layer_file {
    std::string path;
    /// `file`, `dir`, `symlink`, `hardlink`, `char`, `block`, `fifo`.
    std::string type;
    std::uint64_t size = 0;
    std::uint32_t mode = 0;
    std::int64_t uid = 0;
    std::int64_t gid = 0;
    std::int64_t mtime = 0;
    std::string link;
};

/// Lists the entries of an uncompressed layer tar, in archive order.
[[nodiscard]] std::vector<layer_file> list_layer(const std::filesystem::path& tar);

/// Computes the ID docker save gives the folder of layer `index` (0-based) of `config`: the
/// SHA-256 of the legacy v1 JSON with `layer_id` (the chain ID) and `parent` added, as the
/// legacy v1 ID Docker 20.10 computes.
[[nodiscard]] std::vector<digest> legacy_layer_ids(const image& config);

}  // namespace dockwright
