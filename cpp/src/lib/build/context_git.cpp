// Git contexts: fetching `URL#ref:subdir` with the git command as Docker 20.10's CLI does.
#include <fcntl.h>
#include <linux/openat2.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../core/unique_fd.hpp"
#include "context_internal.hpp"

extern char** environ;

namespace dockwright::detail {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view clone_prefix =
    "unable to prepare context: unable to 'git clone' to temporary context directory: ";

struct command_result {
    int status = 0;      ///< The wait status.
    std::string output;  ///< stdout and stderr together, as Go's CombinedOutput collects them.

    [[nodiscard]] bool ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
    /// The failure as Go's exec.ExitError prints it.
    [[nodiscard]] std::string exit_text() const {
        if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
        if (WIFSIGNALED(status)) return "signal: " + std::string(::strsignal(WTERMSIG(status)));
        return "exit status unknown";
    }
};

std::optional<std::string> find_git() {
    const char* path = std::getenv("PATH");
    std::string_view dirs = path ? path : "";
    while (true) {
        const auto colon = dirs.find(':');
        // One construction and an append: `dir + "/git"` trips GCC 12's false -Wrestrict at -O3.
        const std::string_view dir = dirs.substr(0, colon);
        std::string candidate(dir.empty() ? std::string_view(".") : dir);
        candidate.append("/git");
        struct stat info {};
        if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
        if (colon == std::string_view::npos) break;
        dirs.remove_prefix(colon + 1);
    }
    return std::nullopt;
}

bool is_repository_variable(std::string_view name) {
    static constexpr std::string_view names[] = {
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_CONFIG",
        "GIT_OBJECT_DIRECTORY",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_GRAFT_FILE",
        "GIT_INDEX_FILE",
        "GIT_NO_REPLACE_OBJECTS",
        "GIT_REPLACE_REF_BASE",
        "GIT_PREFIX",
        "GIT_INTERNAL_SUPER_PREFIX",
        "GIT_SHALLOW_FILE",
        "GIT_COMMON_DIR",
    };
    for (const auto candidate : names) {
        if (name == candidate) return true;
    }
    return false;
}

/// Runs `git args...` in `directory` with stdin from /dev/null and collects its output.
command_result run_git(const std::string& git, const fs::path& directory,
                       const std::vector<std::string>& args) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        throw context_error(directory.string(),
                            std::string(clone_prefix) + "pipe: " + errno_text(errno),
                            "check the process's file descriptor limit");
    }
    unique_fd read_end(pipe_fds[0]);
    unique_fd write_end(pipe_fds[1]);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDERR_FILENO);
    posix_spawn_file_actions_addchdir_np(&actions, directory.c_str());

    std::vector<std::string> words{"git"};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& word : words)
        argv.push_back(word.data());
    argv.push_back(nullptr);

    // git must never wait for a password on the terminal, because a build is not
    // interactive. Variables that point git at another repository (GIT_DIR, GIT_WORK_TREE and
    // the rest of `git rev-parse --local-env-vars` but the GIT_CONFIG_* settings, which carry
    // credentials in CI) are dropped, so that the commands act on the checkout only.
    std::vector<std::string> env_words;
    for (char** item = environ; *item; ++item) {
        const std::string_view word = *item;
        const std::string_view name = word.substr(0, word.find('='));
        if (name == "GIT_TERMINAL_PROMPT" || is_repository_variable(name)) continue;
        env_words.emplace_back(word);
    }
    env_words.emplace_back("GIT_TERMINAL_PROMPT=0");
    std::vector<char*> envp;
    for (auto& word : env_words)
        envp.push_back(word.data());
    envp.push_back(nullptr);

    pid_t pid = 0;
    const int spawned =
        ::posix_spawn(&pid, git.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    write_end.reset();
    if (spawned != 0) {
        throw context_error(
            directory.string(),
            std::string(clone_prefix) + "fork/exec " + git + ": " + errno_text(spawned),
            "check that git is installed and runs");
    }
    command_result result;
    char buffer[8192];
    for (;;) {
        const ssize_t count = ::read(read_end.get(), buffer, sizeof buffer);
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) break;
        result.output.append(buffer, static_cast<std::size_t>(count));
    }
    while (::waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
    }
    return result;
}

[[noreturn]] void fail_clone(const std::string& remote, const std::string& reason,
                             const std::string& hint) {
    throw context_error(remote, std::string(clone_prefix) + reason, hint);
}

bool is_http(const std::string& remote) {
    return remote.starts_with("http://") || remote.starts_with("https://");
}

}  // namespace

fs::path clone_git_context(const git_source& source, const fs::path& dest) {
    const auto git = find_git();
    if (!git) {
        throw context_error("git",
                            "unable to prepare context: unable to find 'git': exec: \"git\": "
                            "executable file not found in $PATH",
                            "install git or build from a directory or archive");
    }
    const std::string root = dest.string();
    if (auto result = run_git(*git, dest, {"init", "--quiet"}); !result.ok()) {
        fail_clone(
            source.remote,
            "failed to init repo at " + root + ": " + result.output + ": " + result.exit_text(),
            "check that the work directory is writable");
    }
    if (auto result = run_git(*git, dest, {"remote", "add", "origin", source.remote});
        !result.ok()) {
        fail_clone(source.remote,
                   "failed add origin repo at " + source.remote + ": " + result.output + ": " +
                       result.exit_text(),
                   "check the repository URL");
    }

    // Docker fetches `master` when the URL names no ref. dockwright does the same, and falls
    // back to the remote's default branch (HEAD) when there is no `master`, where Docker fails.
    std::string ref = source.ref.empty() ? "master" : source.ref;
    const bool shallow = !is_http(source.remote) || is_smart_git_server(source.remote);
    auto fetch = [&](const std::string& name) {
        std::vector<std::string> args{"fetch"};
        if (shallow) args.insert(args.end(), {"--depth", "1"});
        args.insert(args.end(), {"origin", "--", name});
        return run_git(*git, dest, args);
    };
    command_result fetched = fetch(ref);
    if (!fetched.ok() && source.ref.empty() &&
        fetched.output.find("couldn't find remote ref") != std::string::npos) {
        ref = "HEAD";
        fetched = fetch(ref);
    }
    if (!fetched.ok()) {
        fail_clone(source.remote, "error fetching: " + fetched.output + ": " + fetched.exit_text(),
                   "check the repository URL and that the ref exists");
    }

    // A branch checks out by name, anything else (a tag, a commit) as the fetched commit.
    if (auto by_name = run_git(*git, dest, {"checkout", "--quiet", ref}); !by_name.ok()) {
        if (!run_git(*git, dest, {"checkout", "--quiet", "FETCH_HEAD"}).ok()) {
            fail_clone(
                source.remote,
                "error checking out " + ref + ": " + by_name.output + ": " + by_name.exit_text(),
                "check that the ref names a commit");
        }
    }

    fs::path context = dest;
    if (!source.subdir.empty()) {
        // Resolve the folder as if the checkout were the file system root, as Docker's
        // FollowSymlinkInScope does, so that no link leads out of the checkout.
        unique_fd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        open_how how{};
        how.flags = O_PATH | O_CLOEXEC;
        how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        unique_fd sub(static_cast<int>(
            ::syscall(SYS_openat2, root_fd.get(), source.subdir.c_str(), &how, sizeof how)));
        const fs::path shown = dest / source.subdir;
        if (!sub) {
            fail_clone(source.remote,
                       "stat " + shown.lexically_normal().string() + ": " + errno_text(errno),
                       "check the folder named after ':' in the URL");
        }
        struct stat info {};
        ::fstat(sub.get(), &info);
        std::error_code code;
        const fs::path resolved =
            fs::read_symlink("/proc/self/fd/" + std::to_string(sub.get()), code);
        if (code) {
            fail_clone(source.remote, "cannot resolve " + shown.string() + ": " + code.message(),
                       "check the folder named after ':' in the URL");
        }
        if (!S_ISDIR(info.st_mode)) {
            fail_clone(source.remote,
                       "error setting git context, not a directory: " + resolved.string(),
                       "name a folder after ':' in the URL");
        }
        context = resolved;
    }

    // Docker asks for shallow submodules. A dumb http server cannot serve them, so dockwright
    // then fetches them whole where Docker fails.
    command_result submodules =
        run_git(*git, dest, {"submodule", "update", "--init", "--recursive", "--depth=1"});
    if (!submodules.ok() &&
        submodules.output.find("does not support shallow") != std::string::npos) {
        submodules = run_git(*git, dest, {"submodule", "update", "--init", "--recursive"});
    }
    if (const auto& result = submodules; !result.ok()) {
        fail_clone(source.remote,
                   "error initializing submodules: " + result.output + ": " + result.exit_text(),
                   "check that the submodules' URLs are reachable");
    }
    return context;
}

}  // namespace dockwright::detail
