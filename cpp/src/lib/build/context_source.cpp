// prepare_context(): telling the context forms apart, local directories and the Dockerfile
// checks, following Docker 20.10's CLI (cli/command/image/build) and classic builder.
#include "dockwright/build/context_source.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>
#include <vector>

#include "../core/unique_fd.hpp"
#include "context_internal.hpp"
#include "dockwright/dockerfile/dockerignore.hpp"

namespace dockwright {

namespace fs = std::filesystem;

namespace {

using detail::errno_text;
using detail::go_quote;

constexpr std::string_view prepare_prefix = "unable to prepare context: ";
constexpr std::string_view default_dockerfile = "Dockerfile";
constexpr std::size_t archive_header_size = 512;

/// Makes a path absolute and cleans it lexically, as Go's filepath.Abs does.
fs::path go_abs(const fs::path& path) {
    fs::path absolute = path.is_absolute() ? path : fs::current_path() / path;
    fs::path clean = absolute.lexically_normal();
    std::string text = clean.string();
    while (text.size() > 1 && text.back() == '/')
        text.pop_back();
    return text;
}

/// Resolves every symbolic link in an absolute path, as Go's filepath.EvalSymlinks does.
/// Throws context_error with `what` and Go's `lstat <path>: <reason>` text when a component
/// is missing.
fs::path eval_symlinks(const fs::path& path, std::string_view what, const std::string& hint) {
    std::error_code code;
    fs::path resolved = fs::canonical(path, code);
    if (!code) return resolved;
    // Find the first component that fails, to name it as Go does.
    fs::path prefix = "/";
    fs::path failed = path;
    int reason = code.value();
    for (const auto& part : path.relative_path()) {
        fs::path next = prefix / part;
        struct stat info {};
        if (::stat(next.c_str(), &info) != 0) {
            reason = errno;
            std::error_code parent_code;
            const fs::path parent = fs::canonical(prefix, parent_code);
            failed = parent_code ? next : parent / part;
            break;
        }
        prefix = next;
    }
    throw context_error(path.string(),
                        std::string(prepare_prefix) + std::string(what) + ": lstat " +
                            failed.string() + ": " + errno_text(reason),
                        hint);
}

/// The steps of Docker's ResolveAndValidateContextPath: absolute, symlinks resolved, a
/// directory.
fs::path resolve_context_directory(const fs::path& given) {
    const fs::path absolute = go_abs(given);
    const fs::path resolved = eval_symlinks(absolute, "unable to evaluate symlinks in context path",
                                            "check that every directory on the path exists");
    struct stat info {};
    if (::lstat(resolved.c_str(), &info) != 0) {
        throw context_error(resolved.string(),
                            std::string(prepare_prefix) + "unable to stat context directory " +
                                go_quote(resolved.string()) + ": lstat " + resolved.string() +
                                ": " + errno_text(errno),
                            "check the path and its permissions");
    }
    if (!S_ISDIR(info.st_mode)) {
        throw context_error(
            resolved.string(),
            std::string(prepare_prefix) + "context must be a directory: " + resolved.string(),
            "give the directory that contains the files to build from, and "
            "name a Dockerfile with -f");
    }
    return resolved;
}

bool starts_with_parent(const std::string& relative) {
    return relative == ".." || relative.starts_with("../");
}

/// The Dockerfile's path relative to the context, as Docker's getDockerfileRelPath computes
/// it. `given` is empty for the default name, `-` for stdin, or a path that is absolute or
/// relative to the context.
std::string dockerfile_relative_path(const fs::path& context, const std::string& given) {
    if (given == "-") return given;
    fs::path absolute;
    if (given.empty()) {
        absolute = context / default_dockerfile;
        struct stat info {};
        if (::lstat(absolute.c_str(), &info) != 0 && errno == ENOENT) {
            // Docker also takes `dockerfile` when `Dockerfile` does not exist.
            const fs::path lower = context / "dockerfile";
            if (::lstat(lower.c_str(), &info) == 0) absolute = lower;
        }
    } else {
        absolute = fs::path(given).is_absolute() ? fs::path(given) : context / given;
        absolute = go_abs(absolute);
    }
    const fs::path resolved =
        eval_symlinks(absolute, "unable to evaluate symlinks in Dockerfile path",
                      given.empty() ? "add a Dockerfile to the context or name one with -f"
                                    : "check the path given with -f");
    return resolved.lexically_relative(context).generic_string();
}

/// Reads a whole file. Throws context_error with Go's texts (`open <path>: ...`,
/// `read <path>: is a directory`) behind `what`.
std::string read_whole_file(const fs::path& path, const std::string& shown,
                            std::string_view open_what, bool from_daemon) {
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw context_error(shown,
                            std::string(open_what) + "open " + shown + ": " + errno_text(errno),
                            "check that the Dockerfile exists and is readable");
    }
    std::string text;
    char buffer[65536];
    for (;;) {
        const ssize_t count = ::read(fd.get(), buffer, sizeof buffer);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) {
            const int reason = errno;
            std::string message = "read " + shown + ": " + errno_text(reason);
            if (from_daemon) message = "unexpected error reading Dockerfile: " + message;
            throw context_error(shown, message,
                                reason == EISDIR ? "name a file, not a directory, with -f"
                                                 : "check the Dockerfile's permissions",
                                from_daemon);
        }
        if (count == 0) break;
        text.append(buffer, static_cast<std::size_t>(count));
    }
    return text;
}

std::string read_all_fd(int fd, const std::string& subject) {
    std::string text;
    char buffer[65536];
    for (;;) {
        const ssize_t count = ::read(fd, buffer, sizeof buffer);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) {
            throw context_error(subject, "read " + subject + ": " + errno_text(errno),
                                "check that stdin is readable");
        }
        if (count == 0) break;
        text.append(buffer, static_cast<std::size_t>(count));
    }
    return text;
}

/// The classic builder's own check: the Dockerfile must not be empty.
void require_content(const std::string& text, const std::string& name) {
    if (text.empty()) {
        throw context_error(name, "the Dockerfile (" + name + ") cannot be empty",
                            "write at least a FROM instruction into it", true);
    }
}

/// Whether the process may read any file regardless of its mode: CAP_DAC_OVERRIDE or
/// CAP_DAC_READ_SEARCH is in the effective set, as it is for root.
bool reads_any_file() {
    __user_cap_header_struct header{};
    header.version = _LINUX_CAPABILITY_VERSION_3;
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &header, data) != 0) return false;
    const auto effective = data[0].effective;
    return (effective & (1U << CAP_DAC_OVERRIDE)) != 0 ||
           (effective & (1U << CAP_DAC_READ_SEARCH)) != 0;
}

/// Docker's ValidateContextDirectory: every file that the context sends must be readable.
/// Excluded paths, symbolic links and named pipes are not checked.
void validate_context_directory(const fs::path& root, const dockerignore& ignore, int parent,
                                const std::string& name, const std::string& relative,
                                bool check_files) {
    const fs::path path = relative.empty() ? root : root / relative;
    const int opened =
        ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (opened < 0) {
        if (errno == EACCES || errno == EPERM) {
            throw context_error(path.string(),
                                "error checking context: 'can't stat '" + path.string() + "''.",
                                "make the directory readable or list it in .dockerignore");
        }
        return;
    }
    // fdopendir() owns the descriptor from here on.
    const std::unique_ptr<DIR, int (*)(DIR*)> stream(::fdopendir(opened), ::closedir);
    if (!stream) {
        ::close(opened);
        return;
    }
    const int directory = ::dirfd(stream.get());
    std::vector<std::pair<std::string, unsigned char>> entries;
    while (const dirent* entry = ::readdir(stream.get())) {
        const std::string_view entry_name = entry->d_name;
        if (entry_name == "." || entry_name == "..") continue;
        entries.emplace_back(entry_name, entry->d_type);
    }
    // Go's filepath.Walk visits names in lexical order, which decides the error reported.
    std::sort(entries.begin(), entries.end());
    const bool filtering = !ignore.patterns().empty();
    for (auto& [child_name, type] : entries) {
        const std::string child = relative.empty() ? child_name : relative + "/" + child_name;
        if (filtering) {
            bool excluded = false;
            try {
                excluded = ignore.matches(child);
            } catch (const invalid_value_error& failure) {
                throw context_error(
                    root.string(), std::string("error checking context: '") + failure.what() + "'.",
                    "fix the pattern in .dockerignore");
            }
            if (excluded) continue;
        }
        if (type == DT_UNKNOWN) {
            struct stat info {};
            if (::fstatat(directory, child_name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) continue;
            type = S_ISDIR(info.st_mode)    ? DT_DIR
                   : S_ISLNK(info.st_mode)  ? DT_LNK
                   : S_ISFIFO(info.st_mode) ? DT_FIFO
                                            : DT_REG;
        }
        if (type == DT_LNK || type == DT_FIFO) continue;
        if (type == DT_DIR) {
            validate_context_directory(root, ignore, directory, child_name, child, check_files);
            continue;
        }
        // Docker opens each file; checking read access with the effective ids gives the same
        // answer without the open. A process that reads any file skips the check.
        // NOTE: on NFS with root_squash, root passes this check and fails later in COPY.
        if (!check_files) continue;
        if (::faccessat(directory, child_name.c_str(), R_OK, AT_EACCESS) != 0 &&
            (errno == EACCES || errno == EPERM)) {
            const fs::path file = root / child;
            throw context_error(
                file.string(),
                "error checking context: 'no permission to read from '" + file.string() + "''.",
                "make the file readable or list it in .dockerignore");
        }
    }
}

long openat2_syscall(int dirfd, const char* path, open_how* how) {
    return ::syscall(SYS_openat2, dirfd, path, how, sizeof(open_how));
}

/// Reads the context's .dockerignore. A symbolic link is resolved inside the context, so a
/// cloned repository cannot make dockwright read a file of the host.
dockerignore read_context_dockerignore(const fs::path& context) {
    const fs::path file = context / ".dockerignore";
    unique_fd root(::open(context.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    unique_fd fd(root ? static_cast<int>(openat2_syscall(root.get(), ".dockerignore", &how)) : -1);
    if (!fd) {
        if (errno == ENOENT) return {};
        throw context_error(file.string(), "open " + file.string() + ": " + errno_text(errno),
                            "make .dockerignore readable");
    }
    std::string text;
    char buffer[65536];
    for (;;) {
        const ssize_t count = ::read(fd.get(), buffer, sizeof buffer);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) {
            throw context_error(file.string(), "read " + file.string() + ": " + errno_text(errno),
                                "make .dockerignore a readable file");
        }
        if (count == 0) break;
        text.append(buffer, static_cast<std::size_t>(count));
    }
    try {
        return dockerignore::parse(text);
    } catch (const invalid_value_error& failure) {
        throw context_error(file.string(),
                            std::string("error checking context: '") + failure.what() + "'.",
                            "fix the pattern in .dockerignore");
    }
}

/// Finishes a directory context (local or git): .dockerignore, the readability check, then
/// the Dockerfile. `relative` is the Dockerfile's path relative to the context (`-` for
/// stdin); `outside` is set when that path leads out of the context.
prepared_context finish_directory_context(const fs::path& context, const std::string& relative,
                                          const context_request& request, bool outside,
                                          fs::path owned_root) {
    std::string text;
    std::string name;
    std::optional<std::string> in_context;
    if (relative == "-") {
        name = "-";
    } else if (outside) {
        // Docker's CLI reads a Dockerfile outside the context itself, by the path as given.
        // A default `Dockerfile` that is a symbolic link out of the context has no -f path,
        // where Docker fails to open "", so dockwright reads it through the link.
        name = request.dockerfile.empty() ? std::string(default_dockerfile) : request.dockerfile;
        const fs::path path = request.dockerfile.empty() ? context / default_dockerfile
                                                         : fs::path(request.dockerfile);
        text = read_whole_file(path, name, "unable to open Dockerfile: ", false);
    }
    const dockerignore ignore = read_context_dockerignore(context);
    validate_context_directory(context, ignore, AT_FDCWD, context.string(), "", !reads_any_file());
    if (relative == "-") {
        text = read_all_fd(request.stdin_fd, "stdin");
    } else if (!outside) {
        name = relative;
        in_context = relative;
        text = read_whole_file(context / relative, (context / relative).string(), "", true);
    }
    require_content(text, name);
    return prepared_context(context, std::move(text), std::move(name), std::move(in_context),
                            std::move(owned_root));
}

prepared_context from_local_directory(const context_request& request) {
    const fs::path context = resolve_context_directory(request.location);
    std::string given = request.dockerfile;
    // With a local context, -f is relative to the current directory, not to the context.
    if (!given.empty() && given != "-") given = go_abs(given).string();
    const std::string relative = dockerfile_relative_path(context, given);
    const bool outside = relative != "-" && starts_with_parent(relative);
    return finish_directory_context(context, relative, request, outside, {});
}

prepared_context from_git(const context_request& request) {
    const git_source source = parse_git_url(request.location);
    detail::temp_tree tree(request.work_dir, "context-git-");
    const fs::path checkout = detail::clone_git_context(source, tree.path());
    const fs::path context = resolve_context_directory(checkout);
    const std::string relative = dockerfile_relative_path(context, request.dockerfile);
    if (relative != "-" && starts_with_parent(relative)) {
        throw context_error(request.location,
                            std::string(prepare_prefix) + "the Dockerfile (" + request.dockerfile +
                                ") must be within the build context",
                            "give -f a path inside the repository");
    }
    prepared_context prepared =
        finish_directory_context(context, relative, request, false, tree.path());
    // The context owns the tree from here on.
    static_cast<void>(tree.release());
    return prepared;
}

/// Reads the Dockerfile out of an unpacked archive as the classic builder does: the path is
/// resolved inside the context root (symbolic links and `..` cannot leave it), and the
/// default name falls back to `dockerfile`.
prepared_context finish_archive_context(detail::temp_tree& tree, fs::path context,
                                        const context_request& request) {
    if (request.dockerfile == "-") {
        std::string text = read_all_fd(request.stdin_fd, "stdin");
        require_content(text, "-");
        return prepared_context(context, std::move(text), "-", std::nullopt, tree.release());
    }
    std::string name =
        request.dockerfile.empty() ? std::string(default_dockerfile) : request.dockerfile;
    unique_fd root(::open(context.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) {
        throw context_error(context.string(), "open " + context.string() + ": " + errno_text(errno),
                            "check the work directory");
    }
    auto open_in_root = [&](const std::string& path) {
        open_how how{};
        how.flags = O_RDONLY | O_CLOEXEC;
        how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        return unique_fd(static_cast<int>(openat2_syscall(root.get(), path.c_str(), &how)));
    };
    unique_fd file = open_in_root(name);
    if (!file && errno == ENOENT && request.dockerfile.empty()) {
        name = "dockerfile";
        file = open_in_root(name);
        if (!file && errno == ENOENT) name = std::string(default_dockerfile);
    }
    if (!file) {
        if (errno == ENOENT || errno == ENOTDIR) {
            throw context_error(name, "Cannot locate specified Dockerfile: " + name,
                                "put a Dockerfile at the archive's root or name its path "
                                "inside the archive with -f",
                                true);
        }
        throw context_error(name, "open " + name + ": " + errno_text(errno),
                            "check the Dockerfile in the archive", true);
    }
    // The classic builder resolves the name inside the context root, where `/` and `..`
    // stop at the root.
    const std::string clean = clean_path("/" + name).substr(1);
    const std::string shown = (context / clean).string();
    std::string text;
    char buffer[65536];
    for (;;) {
        const ssize_t count = ::read(file.get(), buffer, sizeof buffer);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) {
            const int reason = errno;
            throw context_error(
                shown,
                "unexpected error reading Dockerfile: read " + shown + ": " + errno_text(reason),
                reason == EISDIR ? "name a file, not a directory, with -f"
                                 : "check the Dockerfile in the archive",
                true);
        }
        if (count == 0) break;
        text.append(buffer, static_cast<std::size_t>(count));
    }
    require_content(text, name);
    std::optional<std::string> in_context = clean;
    return prepared_context(context, std::move(text), std::move(name), std::move(in_context),
                            tree.release());
}

/// A context that is a Dockerfile alone (from stdin or a URL): Docker wraps it into a context
/// that contains only the file `Dockerfile`.
prepared_context dockerfile_only_context(detail::temp_tree& tree, fs::path context,
                                         std::string text) {
    const fs::path file = context / default_dockerfile;
    unique_fd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd) {
        throw context_error(file.string(), "open " + file.string() + ": " + errno_text(errno),
                            "check the work directory's free space and permissions");
    }
    std::string_view rest = text;
    while (!rest.empty()) {
        const ssize_t count = ::write(fd.get(), rest.data(), rest.size());
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) {
            throw context_error(file.string(), "write " + file.string() + ": " + errno_text(errno),
                                "free space in the work directory");
        }
        rest.remove_prefix(static_cast<std::size_t>(count));
    }
    require_content(text, std::string(default_dockerfile));
    return prepared_context(context, std::move(text), std::string(default_dockerfile),
                            std::string(default_dockerfile), tree.release());
}

prepared_context from_stdin(const context_request& request) {
    const std::string prefix = detail::read_prefix(request.stdin_fd, archive_header_size, "stdin");
    detail::temp_tree tree(request.work_dir, "context-stdin-");
    if (is_archive_header(prefix)) {
        detail::extract_context_archive(request.stdin_fd, prefix, tree.path(), "stdin");
        return finish_archive_context(tree, tree.path(), request);
    }
    std::string text = prefix + read_all_fd(request.stdin_fd, "stdin");
    return dockerfile_only_context(tree, tree.path(), std::move(text));
}

prepared_context from_url(const context_request& request) {
    detail::temp_tree tree(request.work_dir, "context-url-");
    const fs::path download = tree.path() / "download";
    const fs::path context = tree.path() / "context";
    // NOTE: the response is saved whole before it is unpacked, so an archive briefly needs
    // room for both its compressed and its unpacked form.
    detail::download_context(request.location, download, request.progress);
    if (::mkdir(context.c_str(), 0700) != 0) {
        throw context_error(context.string(),
                            "mkdir " + context.string() + ": " + errno_text(errno),
                            "check the work directory");
    }
    unique_fd fd(::open(download.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
        throw context_error(download.string(),
                            "open " + download.string() + ": " + errno_text(errno),
                            "check the work directory");
    }
    const std::string prefix = detail::read_prefix(fd.get(), archive_header_size, request.location);
    if (is_archive_header(prefix)) {
        detail::extract_context_archive(fd.get(), prefix, context, request.location);
        fd.reset();
        ::unlink(download.c_str());
        return finish_archive_context(tree, context, request);
    }
    if (request.dockerfile == "-") {
        throw context_error(request.location,
                            std::string(prepare_prefix) + "build context is not an archive",
                            "with -f -, the URL must name a tar archive");
    }
    std::string text = prefix + read_all_fd(fd.get(), request.location);
    fd.reset();
    ::unlink(download.c_str());
    return dockerfile_only_context(tree, context, std::move(text));
}

}  // namespace

prepared_context::prepared_context(fs::path directory, std::string text, std::string name,
                                   std::optional<std::string> in_context, fs::path owned_root)
    : directory_(std::move(directory)),
      text_(std::move(text)),
      name_(std::move(name)),
      in_context_(std::move(in_context)),
      owned_root_(std::move(owned_root)) {}

prepared_context::prepared_context(prepared_context&& other) noexcept
    : directory_(std::move(other.directory_)),
      text_(std::move(other.text_)),
      name_(std::move(other.name_)),
      in_context_(std::move(other.in_context_)),
      owned_root_(std::exchange(other.owned_root_, {})) {}

prepared_context& prepared_context::operator=(prepared_context&& other) noexcept {
    if (this != &other) {
        remove_tree();
        directory_ = std::move(other.directory_);
        text_ = std::move(other.text_);
        name_ = std::move(other.name_);
        in_context_ = std::move(other.in_context_);
        owned_root_ = std::exchange(other.owned_root_, {});
    }
    return *this;
}

prepared_context::~prepared_context() {
    remove_tree();
}

void prepared_context::remove_tree() noexcept {
    if (!owned_root_.empty()) detail::remove_tree_quietly(owned_root_);
    owned_root_.clear();
}

bool is_url(std::string_view location) {
    return location.starts_with("http://") || location.starts_with("https://");
}

bool is_git_url(std::string_view location) {
    if (location.starts_with("git://") || location.starts_with("github.com/") ||
        location.starts_with("git@")) {
        return true;
    }
    if (!is_url(location) && !location.starts_with("file://")) return false;
    // Docker's pattern is `.git(?:#.+)?$` with an unescaped dot: any character, then `git`,
    // at the end or before a non-empty fragment. Go's regexp finds the leftmost match, so a
    // `#` inside the fragment does not matter.
    for (std::size_t at = 1; at + 3 <= location.size(); ++at) {
        if (location.substr(at, 3) != "git") continue;
        const std::string_view rest = location.substr(at + 3);
        if (rest.empty()) return true;
        if (rest.size() >= 2 && rest.front() == '#' && rest.find('\n') == std::string_view::npos)
            return true;
    }
    return false;
}

git_source parse_git_url(std::string_view location) {
    std::string text(location);
    const bool transport = text.starts_with("git@") || text.starts_with("git://") || is_url(text) ||
                           text.starts_with("ssh://") || text.starts_with("file://");
    if (!transport) text = "https://" + text;
    git_source source;
    const auto hash = text.find('#');
    source.remote = text.substr(0, hash);
    if (hash != std::string::npos) {
        const std::string fragment = text.substr(hash + 1);
        const auto colon = fragment.find(':');
        source.ref = fragment.substr(0, colon);
        if (colon != std::string::npos) source.subdir = fragment.substr(colon + 1);
    }
    if (source.ref.starts_with("-")) {
        throw context_error(std::string(location),
                            std::string(prepare_prefix) +
                                "unable to 'git clone' to temporary context directory: "
                                "invalid refspec: " +
                                source.ref,
                            "name a branch, tag or commit after '#'");
    }
    return source;
}

bool is_archive_header(std::string_view header) {
    auto has_magic = [&](std::string_view magic) { return header.starts_with(magic); };
    if (has_magic("\x1f\x8b\x08") || has_magic("BZh") ||
        has_magic(std::string_view("\xfd\x37\x7a\x58\x5a\x00", 6)) ||
        has_magic("\x28\xb5\x2f\xfd")) {
        return true;
    }
    // Go's tar reader accepts a first block whose checksum field matches the sum of the
    // block's bytes, the field itself counted as spaces, summed as unsigned or signed bytes.
    if (header.size() < archive_header_size) return false;
    const std::string_view block = header.substr(0, archive_header_size);
    if (std::all_of(block.begin(), block.end(), [](char c) { return c == 0; })) return false;
    const std::string_view field = block.substr(148, 8);
    std::int64_t recorded = 0;
    bool digits = false;
    for (const char c : field) {
        if (c >= '0' && c <= '7') {
            recorded = recorded * 8 + (c - '0');
            digits = true;
        } else if (c == ' ' || c == '\0') {
            if (digits) break;
        } else {
            return false;
        }
    }
    if (!digits) return false;
    std::int64_t unsigned_sum = 0;
    std::int64_t signed_sum = 0;
    for (std::size_t i = 0; i < block.size(); ++i) {
        const char c = (i >= 148 && i < 156) ? ' ' : block[i];
        unsigned_sum += static_cast<unsigned char>(c);
        signed_sum += static_cast<signed char>(c);
    }
    return recorded == unsigned_sum || recorded == signed_sum;
}

prepared_context prepare_context(const context_request& request) {
    const std::string& location = request.location;
    if (request.dockerfile == "-" && location == "-") {
        throw context_error("-",
                            "invalid argument: can't use stdin for both build context and "
                            "dockerfile",
                            "give the context as a directory or URL when the Dockerfile comes "
                            "from stdin");
    }
    if (location == "-") return from_stdin(request);
    struct stat info {};
    if (!location.empty() && ::stat(location.c_str(), &info) == 0) {
        return from_local_directory(request);
    }
    if (is_git_url(location)) return from_git(request);
    if (is_url(location)) return from_url(request);
    throw context_error(location,
                        std::string(prepare_prefix) + "path " + go_quote(location) + " not found",
                        "give an existing directory, '-' for stdin, a git URL or an http(s) URL");
}

}  // namespace dockwright
