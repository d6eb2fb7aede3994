// Content hashes of build-context sources, as Docker 20.10's classic builder computes them.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <dockwright/build/context_hash.hpp>
#include <dockwright/core/digest.hpp>
#include <dockwright/core/error.hpp>
#include <dockwright/layer/data_redirect.hpp>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <system_error>

namespace dockwright {

namespace fs = std::filesystem;

namespace {

std::string sha256_hex(std::string_view text) {
    return std::string(digest::sha256_of(text).hex());
}

/// The host's name for a numeric owner, looked up once per process and id: every lookup
/// reads the passwd or group file again, and an image tree of a few hundred files has one or
/// two owners.
template <typename Lookup>
std::string cached_name(std::map<unsigned, std::string>& cache, unsigned id, Lookup lookup) {
    static std::mutex guard;
    const std::lock_guard lock(guard);
    if (const auto found = cache.find(id); found != cache.end()) return found->second;
    return cache.emplace(id, lookup(id)).first->second;
}

std::string host_user_name(uid_t uid) {
    static std::map<unsigned, std::string> names;
    return cached_name(names, uid, [](unsigned id) -> std::string {
        struct passwd entry {};
        struct passwd* found = nullptr;
        std::vector<char> buffer(16384);
        if (::getpwuid_r(id, &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
            return {};
        }
        return found->pw_name;
    });
}

std::string host_group_name(gid_t gid) {
    static std::map<unsigned, std::string> names;
    return cached_name(names, gid, [](unsigned id) -> std::string {
        struct group entry {};
        struct group* found = nullptr;
        std::vector<char> buffer(16384);
        if (::getgrgid_r(id, &entry, buffer.data(), buffer.size(), &found) != 0 || !found) {
            return {};
        }
        return found->gr_name;
    });
}

/// The tarsum v1 digest of one context entry as the docker CLI puts it into the tar.
std::string tarsum_entry(const fs::path& full, const std::string& name, bool keep_owner = false) {
    struct stat info {};
    if (::lstat(full.c_str(), &info) != 0) {
        throw error("cannot stat " + full.string() + ": " +
                    std::error_code(errno, std::generic_category()).message());
    }
    std::string header_name = name;
    char type = '0';
    std::string link;
    bool regular = false;
    if (S_ISDIR(info.st_mode)) {
        type = '5';
        header_name += '/';
    } else if (S_ISLNK(info.st_mode)) {
        type = '2';
        std::string buffer(4096, '\0');
        const ssize_t n = ::readlink(full.c_str(), buffer.data(), buffer.size());
        if (n > 0) link.assign(buffer.data(), static_cast<std::size_t>(n));
    } else if (S_ISREG(info.st_mode)) {
        regular = true;
    } else if (S_ISFIFO(info.st_mode)) {
        type = '6';
    }
    // An image source is hashed by the engine from the files themselves: Docker 20.10 then
    // adds the file-type bits to the mode and fills the owner names from the host's files.
    const auto mode = static_cast<long>(keep_owner ? info.st_mode : info.st_mode & 07777);
    const std::string uid = keep_owner ? std::to_string(info.st_uid) : "0";
    const std::string gid = keep_owner ? std::to_string(info.st_gid) : "0";
    const std::string uname = keep_owner ? host_user_name(info.st_uid) : "";
    const std::string gname = keep_owner ? host_group_name(info.st_gid) : "";
    std::string text = "name" + header_name + "mode" + std::to_string(mode) + "uid" + uid + "gid" +
                       gid + "size" + std::to_string(regular ? info.st_size : 0) + "typeflag" +
                       type + "linkname" + link + "uname" + uname + "gname" + gname +
                       "devmajor0devminor0";
    hasher h;
    h.update(text);
    if (regular) {
        const int fd = ::open(full.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            throw error("cannot open " + full.string() + ": " +
                        std::error_code(errno, std::generic_category()).message());
        }
        // One buffer per thread, not zero-filled: a fresh megabyte per file cost more than
        // reading the small files of a typical tree.
        constexpr std::size_t buffer_size = std::size_t{1} << 20;
        static thread_local const std::unique_ptr<char[]> buffer =
            std::make_unique_for_overwrite<char[]>(buffer_size);
        while (true) {
            const ssize_t n = ::read(fd, buffer.get(), buffer_size);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            h.update(std::string_view(buffer.get(), static_cast<std::size_t>(n)));
        }
        ::close(fd);
    }
    return std::string(h.finish().hex());
}

bool match_class(std::string_view& pattern, char c, bool& ok) {
    // pattern starts after '['.
    bool negate = false;
    if (!pattern.empty() && pattern.front() == '^') {
        negate = true;
        pattern.remove_prefix(1);
    }
    bool matched = false;
    bool first = true;
    while (true) {
        if (pattern.empty()) {
            ok = false;
            return false;
        }
        if (pattern.front() == ']' && !first) {
            pattern.remove_prefix(1);
            break;
        }
        first = false;
        auto take = [&](char& out) {
            if (pattern.empty()) return false;
            if (pattern.front() == '\\') {
                pattern.remove_prefix(1);
                if (pattern.empty()) return false;
            }
            out = pattern.front();
            pattern.remove_prefix(1);
            return true;
        };
        char lo = 0;
        if (!take(lo)) {
            ok = false;
            return false;
        }
        char hi = lo;
        if (pattern.size() >= 2 && pattern.front() == '-' && pattern[1] != ']') {
            pattern.remove_prefix(1);
            if (!take(hi)) {
                ok = false;
                return false;
            }
        }
        if (lo <= c && c <= hi) matched = true;
    }
    return matched != negate;
}

bool match_here(std::string_view pattern, std::string_view name, bool& ok) {
    while (!pattern.empty()) {
        const char p = pattern.front();
        if (p == '*') {
            while (!pattern.empty() && pattern.front() == '*')
                pattern.remove_prefix(1);
            if (pattern.empty()) return name.find('/') == std::string_view::npos;
            for (std::size_t i = 0; i <= name.size(); ++i) {
                if (match_here(pattern, name.substr(i), ok)) return true;
                if (!ok) return false;
                if (i < name.size() && name[i] == '/') return false;
            }
            return false;
        }
        if (name.empty()) return false;
        if (p == '?') {
            if (name.front() == '/') return false;
            pattern.remove_prefix(1);
        } else if (p == '[') {
            if (name.front() == '/') return false;
            pattern.remove_prefix(1);
            if (!match_class(pattern, name.front(), ok)) return false;
        } else {
            char literal = p;
            if (p == '\\') {
                pattern.remove_prefix(1);
                if (pattern.empty()) {
                    ok = false;
                    return false;
                }
                literal = pattern.front();
            }
            if (name.front() != literal) return false;
            pattern.remove_prefix(1);
        }
        name.remove_prefix(1);
    }
    return name.empty();
}

std::string strip_source(std::string_view source) {
    std::string path(source);
    if (path.rfind('/', 0) == 0) path.erase(0, 1);
    if (path.rfind("./", 0) == 0) path.erase(0, 2);
    return path;
}

}  // namespace

bool go_path_match(std::string_view pattern, std::string_view name) {
    bool ok = true;
    const bool matched = match_here(pattern, name, ok);
    return ok && matched;
}

bool contains_wildcards(std::string_view path) {
    for (std::size_t i = 0; i < path.size(); ++i) {
        if (path[i] == '\\') {
            ++i;
        } else if (path[i] == '*' || path[i] == '?' || path[i] == '[') {
            return true;
        }
    }
    return false;
}

build_context_index::build_context_index(fs::path root, const dockerignore& ignore)
    : root_(std::move(root)) {
    if (!root_.empty()) walk(root_, "", ignore);
}

build_context_index::build_context_index(fs::path root, fs::path hash_cache,
                                         const build_event_sink& progress)
    : root_(root) {
    const dockerignore ignore = fs::exists(root / ".dockerignore")
                                    ? dockerignore::from_file(root / ".dockerignore")
                                    : dockerignore();
    caching_ = !hash_cache.empty();
    if (caching_) {
        std::ifstream in(hash_cache, std::ios::binary);
        std::string line;
        while (std::getline(in, line)) {
            const std::size_t tab = line.find('\t');
            if (tab != std::string::npos) known_.emplace(line.substr(tab + 1), line.substr(0, tab));
        }
    }
    if (!root_.empty()) {
        // The walk lists the entries first, so the hashing that follows knows its total.
        defer_hashing_ = true;
        walk(root_, "", ignore);
        defer_hashing_ = false;
        std::uint64_t total = 0;
        for (const pending_hash& item : pending_)
            total += item.size;
        progress_reporter reporter(progress, "context", total);
        for (pending_hash& item : pending_) {
            entry& target = entries_[item.index];
            target.hash = entry_sum(root_ / target.path, target.path, std::move(item.key));
            reporter.add(item.size);
        }
        pending_.clear();
    }
    if (hash_cache.empty() || seen_.empty()) return;
    // Keep the entries of other contexts, replace this context's with what was seen now.
    const std::string prefix = fs::absolute(root_).lexically_normal().string() + "/";
    std::map<std::string, std::string> merged;
    std::size_t known_here = 0;
    for (auto& [key, hash] : known_) {
        const std::size_t tab = key.rfind('\t');
        if (key.compare(tab + 1, prefix.size(), prefix) != 0) {
            merged.emplace(key, hash);
        } else {
            ++known_here;
        }
    }
    // Every hash came from the cache and no cached file of this context went away: the file
    // would be written again byte for byte.
    if (computed_ == 0 && known_here == seen_.size()) return;
    merged.insert(seen_.begin(), seen_.end());
    std::error_code ignored;
    fs::create_directories(hash_cache.parent_path(), ignored);
    const fs::path temp = hash_cache.string() + ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        for (const auto& [key, hash] : merged)
            out << hash << '\t' << key << '\n';
        if (!out) {
            fs::remove(temp, ignored);
            return;  // a cache that cannot be written only costs time
        }
    }
    fs::rename(temp, hash_cache, ignored);
}

std::string build_context_index::entry_sum(const fs::path& full, const std::string& rel,
                                           std::string key) {
    if (key.empty()) return tarsum_entry(full, rel);
    if (const auto found = known_.find(key); found != known_.end()) {
        seen_.emplace(key, found->second);
        return found->second;
    }
    std::string hash = tarsum_entry(full, rel);
    ++computed_;
    seen_.emplace(std::move(key), hash);
    return hash;
}

void build_context_index::walk(const fs::path& dir, const std::string& prefix,
                               const dockerignore& ignore) {
    // Names come from one readdir and each stat is relative to the directory's descriptor,
    // which costs one path component of lookup instead of the whole path per entry.
    // NOTE: each directory is opened by its whole path, so a context whose path exceeds
    // PATH_MAX (4096 bytes) fails here with "File name too long", as Docker's client does.
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) {
        throw error("cannot read the directory " + dir.string() + ": " +
                    std::error_code(errno, std::generic_category()).message());
    }
    std::unique_ptr<DIR, int (*)(DIR*)> listing(::fdopendir(dir_fd), &::closedir);
    if (!listing) {
        ::close(dir_fd);
        throw error("cannot read the directory " + dir.string());
    }
    std::vector<std::string> names;
    while (const dirent* item = ::readdir(listing.get())) {
        const std::string_view name = item->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    std::sort(names.begin(), names.end());
    // Every entry is stat'ed before the directory is closed and before any subdirectory is
    // walked, so the walk holds one descriptor at a time however deep the tree is.
    std::vector<std::optional<struct stat>> infos(names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        struct stat info {};
        if (::fstatat(dir_fd, names[i].c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0) infos[i] = info;
    }
    listing.reset();
    for (std::size_t i = 0; i < names.size(); ++i) {
        const std::string& name = names[i];
        const std::string rel = prefix.empty() ? name : prefix + "/" + name;
        const fs::path full = dir / name;
        const bool known = infos[i].has_value();
        struct stat info {};
        if (known) info = *infos[i];
        const bool is_dir = known && S_ISDIR(info.st_mode);
        const bool excluded = ignore.matches(rel);
        if (excluded && (!is_dir || ignore.can_skip_directory(rel))) continue;
        by_path_[rel] = entries_.size();
        const bool regular = known && S_ISREG(info.st_mode);
        std::string key;
        if (caching_ && regular && !excluded) {
            // Size, times, inode and mode: a file whose key is unchanged keeps its hash.
            key = std::to_string(info.st_size) + " " + std::to_string(info.st_mtim.tv_sec) + "." +
                  std::to_string(info.st_mtim.tv_nsec) + " " + std::to_string(info.st_ctim.tv_sec) +
                  "." + std::to_string(info.st_ctim.tv_nsec) + " " + std::to_string(info.st_ino) +
                  " " + std::to_string(info.st_mode) + "\t" + rel + "\t" +
                  fs::absolute(full).lexically_normal().string();
        }
        std::optional<file_state> state;
        if (regular) {
            state = file_state{
                static_cast<std::uint64_t>(info.st_dev), static_cast<std::uint64_t>(info.st_ino),
                static_cast<std::uint64_t>(info.st_size), layer::change_time_ns(info.st_ctim)};
        }
        if (defer_hashing_ && !excluded) {
            pending_.push_back({entries_.size(),
                                regular ? static_cast<std::uint64_t>(info.st_size) : 0,
                                std::move(key)});
            entries_.push_back({rel, std::string(), is_dir, excluded, state});
        } else {
            entries_.push_back({rel, excluded ? rel : entry_sum(full, rel, std::move(key)), is_dir,
                                excluded, state});
        }
        if (is_dir) walk(full, rel, ignore);
    }
}

void build_context_index::check_unchanged(const std::string& path, int fd) const {
    const auto found = by_path_.find(path);
    if (found == by_path_.end() || !entries_[found->second].state) return;
    const file_state& listed = *entries_[found->second].state;
    struct stat now {};
    if (::fstat(fd, &now) != 0) {
        throw error("cannot stat " + (root_ / path).string() + ": " +
                    std::error_code(errno, std::generic_category()).message());
    }
    if (static_cast<std::uint64_t>(now.st_dev) != listed.device ||
        static_cast<std::uint64_t>(now.st_ino) != listed.inode ||
        static_cast<std::uint64_t>(now.st_size) != listed.size ||
        layer::change_time_ns(now.st_ctim) != listed.change_ns) {
        throw error("the build context file " + path +
                    " changed after the context was hashed, so its hash no longer matches its "
                    "bytes; build again once it no longer changes");
    }
}

std::string build_context_index::entry_hash(const std::string& path) const {
    const auto found = by_path_.find(path);
    return found == by_path_.end() ? path : entries_[found->second].hash;
}

copy_source_info build_context_index::info_for(const std::string& path) const {
    // Follow a symlink given as the source itself, staying inside the context.
    std::string resolved = path;
    for (int hops = 0; hops < 32; ++hops) {
        const auto found = by_path_.find(resolved);
        if (found == by_path_.end()) break;
        const fs::path full = root_ / resolved;
        if (!fs::is_symlink(full)) break;
        fs::path target = fs::read_symlink(full);
        target = target.is_absolute() ? target.relative_path()
                                      : fs::path(resolved).parent_path() / target;
        resolved = clean_path(target.generic_string());
        if (resolved == ".") resolved.clear();
    }
    const std::string clean = path.empty() ? std::string() : clean_path(path);
    if (!resolved.empty() && resolved != "." && !by_path_.contains(resolved)) {
        throw error("file not found in build context or excluded by .dockerignore: stat " + clean +
                    ": file does not exist");
    }
    const bool whole = resolved.empty() || resolved == ".";
    if (!whole && !entries_[by_path_.at(resolved)].directory) {
        return {resolved, "file:" + entry_hash(resolved), path, false, {}};
    }
    std::vector<std::string> hashes;
    const std::string prefix = whole ? std::string() : resolved + "/";
    for (const entry& e : entries_) {
        if (whole || e.path == resolved || e.path.rfind(prefix, 0) == 0) hashes.push_back(e.hash);
    }
    std::sort(hashes.begin(), hashes.end());
    std::string joined;
    for (std::size_t i = 0; i < hashes.size(); ++i)
        joined += (i ? "," : "") + hashes[i];
    return {whole ? "." : resolved, "dir:" + sha256_hex(joined), path, true, {}};
}

std::vector<std::string> build_context_index::entries_below(const std::string& path) const {
    std::vector<std::string> out;
    const std::string prefix = path.empty() || path == "." ? std::string() : path + "/";
    for (const entry& e : entries_) {
        if (!e.excluded && e.path.rfind(prefix, 0) == 0) out.push_back(e.path);
    }
    return out;
}

copy_source_info tree_source_info(const fs::path& root, const std::string& path) {
    const auto host_of = [&root](const std::string& rel) {
        return rel.empty() ? root : root / rel;
    };
    const auto names_in = [&host_of](const std::string& rel) {
        std::vector<std::string> names;
        for (const auto& child : fs::directory_iterator(host_of(rel)))
            names.push_back(child.path().filename().string());
        return names;
    };
    return tree_source_info(path, host_of, names_in);
}

copy_source_info tree_source_info(
    const std::string& path, const std::function<fs::path(const std::string&)>& host_of,
    const std::function<std::vector<std::string>(const std::string&)>& names_in) {
    const fs::path top = host_of(path);
    struct stat info {};
    if (::lstat(top.c_str(), &info) != 0) {
        throw error("file not found in build context or excluded by .dockerignore: stat " + path +
                    ": file does not exist");
    }
    if (!S_ISDIR(info.st_mode)) {
        return {path, "file:" + tarsum_entry(top, path, true), path, false, {}};
    }
    std::vector<std::string> hashes;
    std::vector<std::string> pending{path};
    while (!pending.empty()) {
        const std::string rel = std::move(pending.back());
        pending.pop_back();
        hashes.push_back(tarsum_entry(host_of(rel), rel.empty() ? "." : rel, true));
        for (const std::string& name : names_in(rel)) {
            const std::string child_rel = rel.empty() ? name : rel + "/" + name;
            const fs::path child = host_of(child_rel);
            struct stat child_info {};
            if (::lstat(child.c_str(), &child_info) == 0 && S_ISDIR(child_info.st_mode)) {
                pending.push_back(child_rel);
            } else {
                hashes.push_back(tarsum_entry(child, child_rel, true));
            }
        }
    }
    std::sort(hashes.begin(), hashes.end());
    std::string joined;
    for (std::size_t i = 0; i < hashes.size(); ++i)
        joined += (i ? "," : "") + hashes[i];
    return {path, "dir:" + sha256_hex(joined), path, true, {}};
}

std::vector<copy_source_info> build_context_index::resolve(std::string_view source) const {
    const std::string path = strip_source(source);
    if (!contains_wildcards(path)) {
        const std::string clean = path.empty() ? std::string() : clean_path(path);
        return {info_for(clean == "." ? "" : clean)};
    }
    std::vector<copy_source_info> infos;
    for (const entry& e : entries_) {
        if (go_path_match(path, e.path)) infos.push_back(info_for(e.path));
    }
    return infos;
}

std::string combined_source_hash(const std::vector<copy_source_info>& sources) {
    if (sources.size() == 1) return sources.front().hash;
    std::string joined;
    for (std::size_t i = 0; i < sources.size(); ++i)
        joined += (i ? "," : "") + sources[i].hash;
    return "multi:" + sha256_hex(joined);
}

}  // namespace dockwright
