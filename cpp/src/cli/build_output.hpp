// The renderer of `dockwright build`: Docker's classic lines, Docker's jsonmessage stream, or
// only the image ID.
#pragma once

#include <chrono>
#include <dockwright/build/build_event.hpp>
#include <dockwright/store/reference.hpp>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace dockwright::cli {

/// The output styles of `--progress` and `-q`.
enum class render_style {
    classic,  ///< Docker's classic lines, for logs and pipes.
    tty,      ///< The classic lines in colour, each step's duration and the build's total.
    json,     ///< Docker's jsonmessage stream.
    quiet,    ///< Only the image ID.
};

/// Turns build events into the lines `docker build` prints.
class build_renderer {
  public:
    build_renderer(std::ostream& out, render_style style, bool explain_cache)
        : out_(out), style_(style), explain_cache_(explain_cache) {}

    /// `Sending build context to Docker daemon  <size>`.
    void context_size(std::uint64_t bytes);
    void on(const build_event& event);
    /// The parser's warnings, printed before the first step as Docker prints them (in red).
    void parser_warnings(const std::string& text);
    /// The error line a failed build ends with (on standard error for the classic style).
    void failed(const std::string& message);
    /// `Successfully built <id>` and one `Successfully tagged <name>` per tag.
    void succeeded(const digest& id, const std::vector<reference>& tags);

  private:
    void line(const std::string& text, bool is_stderr = false);

    std::ostream& out_;
    render_style style_;
    bool explain_cache_;
    std::string container_;
    std::chrono::steady_clock::time_point build_start_ = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point step_start_ = build_start_;
};

/// The size of the tar the docker CLI would send for `context`: the entries .dockerignore
/// keeps, 512-byte headers, contents padded to 512 bytes, and the 1024-byte end marker.
std::uint64_t context_upload_size(const std::filesystem::path& context);

/// Writes the directory `root` as one tar file at `dest`.
void write_rootfs_tar(const std::filesystem::path& root, const std::filesystem::path& dest);

}  // namespace dockwright::cli
