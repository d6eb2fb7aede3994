// Writing a built image out as `-o` asks: a docker-archive, an OCI layout, a root filesystem
// tar or a root filesystem directory, with progress events that carry the total.
#pragma once

#include <cstdint>
#include <dockwright/build/build_event.hpp>
#include <dockwright/core/digest.hpp>
#include <dockwright/store/store.hpp>
#include <filesystem>
#include <string>

namespace dockwright {

/// One `-o type=...,dest=...` output of a build that writes files.
struct export_request {
    std::string type = "docker";  ///< `docker`, `oci`, `tar` or `local`.
    /// The file or directory written. Empty only for type=docker, whose image the store
    /// already contains, so nothing is written.
    std::filesystem::path dest;
};

/// Parses an `-o` value of `docker build`: `type=docker|oci|tar|local[,dest=PATH]`, or a bare
/// PATH meaning type=local. Throws invalid_value_error of kind `output` for an unknown key or
/// type, or a missing dest= where the type needs one.
[[nodiscard]] export_request parse_export_request(const std::string& text);

/// Returns the progress task name of `request`: `export <type>`.
[[nodiscard]] std::string export_task_name(const export_request& request);

/// Writes image `id` of `images` as `request` asks and returns the bytes written:
/// - `docker`: a docker-archive tar, as `docker save` writes it;
/// - `oci`: an OCI layout, as a tar or, when `dest` is a directory, into it;
/// - `tar`: the image's root filesystem as one tar, in layer tar encoding;
/// - `local`: the root filesystem copied into the directory `dest` (regular files, directories,
///   symlinks and FIFOs; hard links become separate files, owners are not kept).
/// Sends `progress` events of task export_task_name(request) to `events`. The first carries
/// the total before anything is written: the bytes of every file the export writes (for
/// `local`, the regular files' contents). The last has `finished` set and `current` equal to
/// the bytes written.
std::uint64_t export_image(store& images, const digest& id, const export_request& request,
                           const build_event_sink& events = {});

/// Computes the size of the tar layer::write_tree_layer() writes for `root` with its default
/// options, from one walk that reads metadata only: headers (PAX records included) and file
/// data padded to 512 bytes.
[[nodiscard]] std::uint64_t tree_tar_size(const std::filesystem::path& root);

}  // namespace dockwright
