// The renderer of `dockwright build`: Docker's classic lines, a live terminal display, Docker's
// jsonmessage stream, or only the image ID.
#pragma once

#include <chrono>
#include <dockwright/build/build_event.hpp>
#include <dockwright/store/reference.hpp>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace dockwright::cli {

/// The output styles of `--progress` and `-q`.
enum class render_style {
    classic,  ///< Docker's classic lines, for logs and pipes.
    tty,      ///< A live display redrawn in place (live_display), then the result lines.
    json,     ///< Docker's jsonmessage stream.
    quiet,    ///< Only the image ID.
};

class live_display;

/// Turns build events into the lines `docker build` prints.
class build_renderer {
  public:
    /// Renders to `out`. With render_style::tty the live display draws on the terminal at
    /// `terminal_fd` and `out` receives only the result lines.
    build_renderer(std::ostream& out, render_style style, bool explain_cache, int terminal_fd = -1);
    ~build_renderer();
    build_renderer(const build_renderer&) = delete;
    build_renderer& operator=(const build_renderer&) = delete;

    /// `--rm` and `--force-rm`: which `Removing intermediate container` lines to print. As
    /// Docker 20.10, a successful step's container is removed with either flag and a failed
    /// step's only with `force_remove`.
    void set_container_removal(bool remove, bool force_remove) {
        remove_ = remove;
        force_remove_ = force_remove;
    }

    /// `Sending build context to Docker daemon  <size>`.
    void context_size(std::uint64_t bytes);
    void on(const build_event& event);
    /// The parser's warnings, printed before the first step as Docker prints them (in red).
    void parser_warnings(const std::string& text);
    /// The error line a failed build ends with (on standard error for the classic style).
    void failed(const std::string& message);
    /// Ends the live display with its final frame, so that plain lines can follow; the
    /// other styles do nothing. failed() and succeeded() call it too.
    void finish_display(bool succeeded);
    /// `Exported type=<type> to <dest>: <bytes> bytes` once an `-o` output is written, for the
    /// classic and json styles; the live display shows the export's finished bar instead.
    void exported(const std::string& type, const std::string& dest, std::uint64_t bytes);
    /// `Successfully built <id>` and one `Successfully tagged <name>` per tag.
    void succeeded(const digest& id, const std::vector<reference>& tags);

  private:
    void line(const std::string& text, bool is_stderr = false);

    std::ostream& out_;
    render_style style_;
    bool explain_cache_;
    bool remove_ = true;
    bool force_remove_ = false;
    std::unique_ptr<live_display> display_;
    std::string container_;
};

/// The size of the tar the docker CLI would send for `context`: the entries .dockerignore
/// keeps, 512-byte headers, contents padded to 512 bytes, and the 1024-byte end marker.
std::uint64_t context_upload_size(const std::filesystem::path& context);

}  // namespace dockwright::cli
