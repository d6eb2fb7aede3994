// Build contexts: turning the LOCATION and -f of `dockwright build [-f FILE] LOCATION` into a
// context directory and the Dockerfile's text, as Docker 20.10's CLI and classic builder do.
#pragma once

#include <cstdint>
#include <dockwright/core/error.hpp>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace dockwright {

/// A build context or its Dockerfile that cannot be prepared.
///
/// `docker_message()` is the line Docker 20.10 ends the build with, without the `Error response
/// from daemon: ` prefix that the CLI adds when `from_daemon()` is true (the classic builder
/// checks the Dockerfile's content on the engine side). `hint()` says what to do.
/// `subject()` is the path or URL that failed. what() is the Docker text followed by the hint.
class context_error : public error {
  public:
    context_error(std::string subject, std::string docker_message, std::string hint,
                  bool from_daemon = false)
        : error(docker_message + (hint.empty() ? "" : " (" + hint + ")")),
          subject_(std::move(subject)),
          docker_message_(std::move(docker_message)),
          hint_(std::move(hint)),
          from_daemon_(from_daemon) {}

    [[nodiscard]] const std::string& subject() const noexcept { return subject_; }
    [[nodiscard]] const std::string& docker_message() const noexcept { return docker_message_; }
    [[nodiscard]] const std::string& hint() const noexcept { return hint_; }
    [[nodiscard]] bool from_daemon() const noexcept { return from_daemon_; }

  private:
    std::string subject_;
    std::string docker_message_;
    std::string hint_;
    bool from_daemon_;
};

/// What the user gave: `dockwright build [-f FILE] LOCATION`.
struct context_request {
    /// A directory, `-` (a tar stream or a Dockerfile on stdin), a git URL or an http(s) URL.
    std::string location;
    /// The -f value: empty for the default `Dockerfile`, `-` for stdin. For a local directory
    /// it is relative to the current directory; for a git, tar or URL context, to the
    /// context's root.
    std::string dockerfile;
    /// The descriptor that `-` reads from. It is read but not closed.
    int stdin_fd = 0;
    /// Where temporary trees go. The caller passes the store's temporary directory, so that
    /// a context can later be moved or hard-linked into the store on the same filesystem.
    /// It is created when missing; empty means the system's temporary directory.
    std::filesystem::path work_dir;
    /// Called while an http(s) context downloads, with the bytes received so far and the
    /// total when the server sent a Content-Length.
    std::function<void(std::uint64_t received, std::optional<std::uint64_t> total)> progress;
};

/// A context ready to build: a directory (the user's own, or a temporary tree removed by the
/// destructor), the Dockerfile's bytes and the name errors show for it.
class prepared_context {
  public:
    prepared_context() = default;
    prepared_context(const prepared_context&) = delete;
    prepared_context& operator=(const prepared_context&) = delete;
    prepared_context(prepared_context&& other) noexcept;
    prepared_context& operator=(prepared_context&& other) noexcept;
    /// Removes the temporary tree, if this context owns one.
    ~prepared_context();

    /// The context root: the directory COPY and ADD read from.
    [[nodiscard]] const std::filesystem::path& directory() const noexcept { return directory_; }
    /// The Dockerfile's bytes, never empty.
    [[nodiscard]] const std::string& dockerfile_text() const noexcept { return text_; }
    /// The Dockerfile's name as Docker reports it: the slash-separated path relative to the
    /// context root (`Dockerfile`, `sub/Dockerfile.dev`), the path as given with -f for a
    /// Dockerfile outside the context, and `-` for one read from stdin.
    [[nodiscard]] const std::string& dockerfile_name() const noexcept { return name_; }
    /// The Dockerfile's path relative to directory() when the Dockerfile is a file inside the
    /// context. The classic builder leaves it out of the context when .dockerignore matches
    /// it. Empty for a Dockerfile from stdin or from outside the context.
    [[nodiscard]] const std::optional<std::string>& dockerfile_in_context() const noexcept {
        return in_context_;
    }
    /// Whether directory() is a temporary tree that this object removes.
    [[nodiscard]] bool temporary() const noexcept { return !owned_root_.empty(); }

    /// Assembles a context; `owned_root` (empty for none) is removed by the destructor and
    /// contains `directory`.
    prepared_context(std::filesystem::path directory, std::string text, std::string name,
                     std::optional<std::string> in_context, std::filesystem::path owned_root);

  private:
    void remove_tree() noexcept;

    std::filesystem::path directory_;
    std::string text_;
    std::string name_;
    std::optional<std::string> in_context_;
    std::filesystem::path owned_root_;
};

/// Prepares the build context that `request` names, with Docker 20.10's rules for telling the
/// forms apart: `-` is stdin, an existing path a local directory, then a git URL
/// (is_git_url()), then an http(s) URL. Throws context_error with Docker's message.
[[nodiscard]] prepared_context prepare_context(const context_request& request);

/// Whether `location` is an http:// or https:// URL, as Docker's urlutil.IsURL decides.
[[nodiscard]] bool is_url(std::string_view location);

/// Whether `location` names a git repository, as Docker 20.10's urlutil.IsGitURL decides: it
/// starts with `git://`, `git@` or `github.com/`, or it is an http(s) URL whose text ends with
/// any character followed by `git`, optionally followed by `#fragment`. dockwright also takes
/// `file://` URLs that match the same ending, which Docker does not.
[[nodiscard]] bool is_git_url(std::string_view location);

/// A git context split as Docker reads `URL#ref:subdir`.
struct git_source {
    std::string remote;  ///< The URL to fetch from, without the fragment.
    std::string ref;     ///< The ref to fetch; empty when the fragment names none.
    std::string subdir;  ///< The context's folder inside the repository; empty for the root.

    friend bool operator==(const git_source&, const git_source&) = default;
};

/// Splits a git URL. A location without a scheme (`github.com/user/repo`) gets `https://`.
/// Throws context_error for a ref that starts with `-`, which git would read as an option.
[[nodiscard]] git_source parse_git_url(std::string_view location);

/// Whether `header` (the first bytes of a stream, up to 512) starts an archive, as Docker's
/// CLI decides between a context archive and a Dockerfile: the magic bytes of gzip, bzip2, xz
/// or zstd, or a tar header with a valid checksum.
[[nodiscard]] bool is_archive_header(std::string_view header);

}  // namespace dockwright
