// A container that runs one RUN command in Linux namespaces and turns its changes into a layer.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dockwright/exec/cancel_token.hpp"
#include "dockwright/exec/run_spec.hpp"
#include "dockwright/layer/byte_sink.hpp"
#include "dockwright/layer/layer_writer.hpp"

namespace dockwright::exec {

/// Which of the command's streams a line of output came from. `notice` lines come from the
/// executor itself (the root filesystem fallback, limit warnings).
enum class output_stream { out, err, notice };

/// Receives the command's output one line at a time, without the line feed. A last line that
/// lacks a line feed is delivered when the stream ends.
using output_callback = std::function<void(output_stream, std::string_view line)>;

/// How the root filesystem was assembled for a run.
enum class rootfs_kind { overlay, copy };

/// The outcome of a command that was started.
struct run_result {
    /// The exit status, or 128 + the signal number when a signal ended the command.
    int exit_code = 0;
    bool cancelled = false;
    bool timed_out = false;
    /// The kernel's out-of-memory killer acted in the container's memory cgroup.
    bool oom_killed = false;
    rootfs_kind rootfs = rootfs_kind::overlay;
    /// Warnings also sent to the output callback as `notice` lines.
    std::vector<std::string> warnings;
    /// From the start of run() until the command and its namespaces were gone.
    std::chrono::nanoseconds duration{0};

    [[nodiscard]] bool succeeded() const noexcept {
        return exit_code == 0 && !cancelled && !timed_out;
    }
};

/// Docker 20.10's classic-builder message for a failed RUN: the command words joined by
/// spaces, e.g. `The command '/bin/sh -c exit 3' returned a non-zero code: 3`.
std::string failure_message(const std::vector<std::string>& command, int exit_code);

/// failure_message() plus the reason when the executor has recorded one: out of memory under the
/// memory limit, cancelled, timed out.
std::string describe_failure(const std::vector<std::string>& command, const run_result& result,
                             const resource_limits& limits);

/// Where containers keep their state: one directory per container with the generated /etc
/// files, the init layer, the copy root's snapshot and a record of the process and cgroups to
/// clean. Default: $DOCKWRIGHT_EXEC_STATE, else /run/dockwright/exec as root, else
/// $XDG_RUNTIME_DIR/dockwright/exec, else /tmp/dockwright-exec-<uid>.
std::filesystem::path default_state_dir();

/// Removes what containers of earlier builder processes left behind in `state_dir` when those
/// processes died (e.g. killed with -9): kills their remaining processes, removes their
/// cgroups and deletes their state directories. A container whose builder still runs is left
/// alone. Returns how many containers were cleaned.
std::size_t clean_stale_state(const std::filesystem::path& state_dir);

/// One RUN: prepared by the constructor, executed by run(), turned into a layer by
/// write_layer(). The destructor removes the state directory and the cgroups; the caller owns
/// the upper and work directories.
class container {
  public:
    /// Checks the spec, resolves the user, cleans stale state of dead builders and creates
    /// this container's state directory. Throws exec_error.
    explicit container(run_spec spec, std::filesystem::path state_dir = default_state_dir());
    container(const container&) = delete;
    container& operator=(const container&) = delete;
    ~container();

    /// The 64 hex digit container ID.
    [[nodiscard]] const std::string& id() const noexcept;
    [[nodiscard]] const run_spec& spec() const noexcept;

    /// Runs the command once and waits until it and every process it started are gone and
    /// every mount is released. Output goes to `on_output`; cancelling `cancel` or reaching the
    /// spec's timeout kills the whole process tree. Throws exec_error when the container
    /// cannot be set up (including an argv[0] that is not found) or a limit cannot be applied.
    run_result run(const output_callback& on_output, const cancel_token* cancel = nullptr);

    /// Writes the changes the command made as a layer: the overlayfs upper directory with its
    /// whiteouts and opaque directories, or in the copy fallback the difference to the copied
    /// tree. Files the executor mounts (the /etc files, /dev, /proc, /sys) stay out. Without
    /// changes the layer is an empty tar. Call after run().
    layer::layer_info write_layer(layer::byte_sink& out,
                                  const layer::write_options& options = {}) const;

    struct impl;

  private:
    std::unique_ptr<impl> impl_;
};

}  // namespace dockwright::exec
