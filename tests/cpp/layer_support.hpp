// Helpers for the layer tests: temporary directories and a raw tar header parser that reads
// the bytes themselves, independent of the code under test and of libarchive.
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace dockwright::test {

/// Lowers the soft RLIMIT_NOFILE for the scope of the object and restores it afterwards.
class descriptor_limit {
  public:
    explicit descriptor_limit(rlim_t soft) {
        if (::getrlimit(RLIMIT_NOFILE, &saved_) != 0) throw std::runtime_error("getrlimit");
        rlimit lowered = saved_;
        lowered.rlim_cur = soft;
        if (::setrlimit(RLIMIT_NOFILE, &lowered) != 0) throw std::runtime_error("setrlimit");
    }
    descriptor_limit(const descriptor_limit&) = delete;
    descriptor_limit& operator=(const descriptor_limit&) = delete;
    ~descriptor_limit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

  private:
    rlimit saved_{};
};

/// A fresh directory under /tmp, removed with its contents on destruction.
class temp_dir {
  public:
    temp_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "dw-layer-XXXXXX");
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
    [[nodiscard]] std::filesystem::path operator/(const std::string& name) const {
        return path_ / name;
    }

  private:
    std::filesystem::path path_;
};

inline void write_text(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

/// Sets the mtime (and atime) of `path` without following a symlink.
inline void set_mtime(const std::filesystem::path& path, long seconds) {
    const timespec times[2] = {{seconds, 0}, {seconds, 0}};
    if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
        throw std::runtime_error("utimensat failed on " + path.string());
    }
}

/// One header of a tar stream with its raw fields, as stored.
struct raw_entry {
    std::string name;  // prefix + "/" + name for split ustar names
    char type = 0;
    std::string mode;  // the 7 octal digits of the mode field
    long uid = 0;
    long gid = 0;
    std::string uname;
    std::string gname;
    long long size = 0;
    long long mtime = 0;
    std::string linkname;
    std::string magic;                       // magic and version, "ustar\0" "00"
    std::map<std::string, std::string> pax;  // records of the preceding 'x' header
    std::string data;
};

inline std::string field_text(const std::string& block, std::size_t offset, std::size_t width) {
    std::string text = block.substr(offset, width);
    const std::size_t nul = text.find('\0');
    return nul == std::string::npos ? text : text.substr(0, nul);
}

inline long long field_octal(const std::string& block, std::size_t offset, std::size_t width) {
    const std::string text = field_text(block, offset, width);
    return text.empty() ? 0 : std::stoll(text, nullptr, 8);
}

/// Parses a tar stream that ends with two zero blocks; PAX records attach to the next entry.
inline std::vector<raw_entry> parse_tar(const std::string& bytes) {
    std::vector<raw_entry> entries;
    std::map<std::string, std::string> pending;
    std::size_t at = 0;
    while (at + 512 <= bytes.size()) {
        const std::string block = bytes.substr(at, 512);
        at += 512;
        if (block == std::string(512, '\0')) break;
        raw_entry entry;
        entry.name = field_text(block, 0, 100);
        const std::string prefix = field_text(block, 345, 155);
        if (!prefix.empty()) entry.name = prefix + "/" + entry.name;
        entry.mode = field_text(block, 100, 8);
        entry.uid = static_cast<long>(field_octal(block, 108, 8));
        entry.gid = static_cast<long>(field_octal(block, 116, 8));
        entry.size = field_octal(block, 124, 12);
        entry.mtime = field_octal(block, 136, 12);
        entry.type = block[156];
        entry.linkname = field_text(block, 157, 100);
        entry.magic = block.substr(257, 8);
        entry.uname = field_text(block, 265, 32);
        entry.gname = field_text(block, 297, 32);
        entry.data = bytes.substr(at, static_cast<std::size_t>(entry.size));
        at += (static_cast<std::size_t>(entry.size) + 511) / 512 * 512;
        if (entry.type == 'x') {
            for (std::size_t pos = 0; pos < entry.data.size();) {
                const std::size_t space = entry.data.find(' ', pos);
                const std::size_t length = std::stoul(entry.data.substr(pos, space - pos));
                const std::string record = entry.data.substr(space + 1, pos + length - space - 2);
                const std::size_t equals = record.find('=');
                pending[record.substr(0, equals)] = record.substr(equals + 1);
                pos += length;
            }
            continue;
        }
        entry.pax = std::move(pending);
        pending.clear();
        entries.push_back(std::move(entry));
    }
    return entries;
}

/// Lists entries as "<name> <type> <mode> <uid>/<gid>[ -> linkname]", one per entry.
inline std::vector<std::string> listing(const std::vector<raw_entry>& entries) {
    std::vector<std::string> lines;
    for (const raw_entry& e : entries) {
        std::string line = e.name + " " + std::string(1, e.type) + " " + e.mode + " " +
                           std::to_string(e.uid) + "/" + std::to_string(e.gid);
        if (!e.linkname.empty()) line += " -> " + e.linkname;
        lines.push_back(line);
    }
    return lines;
}

}  // namespace dockwright::test
