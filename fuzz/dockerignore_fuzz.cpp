// libFuzzer target: .dockerignore reading and matching. The input is read as a .dockerignore
// file, and each of its first lines is also matched as a path and compiled as a raw pattern.
#include <cstddef>
#include <cstdint>
#include <dockwright/core/error.hpp>
#include <dockwright/dockerfile/dockerignore.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace {

std::vector<std::string> first_lines(std::string_view text, std::size_t limit) {
    std::vector<std::string> lines;
    while (!text.empty() && lines.size() < limit) {
        const std::size_t newline = text.find('\n');
        lines.emplace_back(text.substr(0, newline));
        if (newline == std::string_view::npos) break;
        text.remove_prefix(newline + 1);
    }
    return lines;
}

void match_all(const dockwright::dockerignore& ignore, const std::vector<std::string>& paths) {
    for (const std::string& path : paths) {
        try {
            (void)ignore.matches(path);
            (void)ignore.can_skip_directory(path);
        } catch (const dockwright::invalid_value_error&) {
            // A pattern that is not a valid regular expression fails when it is evaluated.
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::vector<std::string> lines = first_lines(text, 64);
    const std::vector<std::string> paths = {"a", "a/b", "dir/file.txt", ".foo", "/", "x/y/z/w"};

    try {
        match_all(dockwright::dockerignore::parse(text), paths);
        match_all(dockwright::dockerignore::parse(text), lines);
    } catch (const dockwright::invalid_value_error&) {
        // Rejecting a malformed pattern is a valid outcome.
    }
    for (const std::string& line : lines) {
        try {
            match_all(dockwright::dockerignore({line}), paths);
        } catch (const dockwright::invalid_value_error&) {
        }
    }
    return 0;
}
