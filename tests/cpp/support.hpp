// Helpers shared by the C++ tests: locating test data and reading files.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

namespace dockwright::test {

/// The shared reference corpus (conformance vectors, Docker oracle): $DOCKWRIGHT_SHARED if set,
/// else the folder `shared` beside the repository. Empty when neither exists.
inline std::optional<std::filesystem::path> shared_dir() {
    namespace fs = std::filesystem;
    if (const char* env = std::getenv("DOCKWRIGHT_SHARED"); env && *env) {
        if (fs::is_directory(env)) return fs::path(env);
        return std::nullopt;
    }
    const fs::path beside = fs::path(DOCKWRIGHT_TEST_DATA).parent_path().parent_path().parent_path()
                            / "shared";
    if (fs::is_directory(beside)) return beside;
    return std::nullopt;
}

/// The project's own test data folder, tests/data.
inline std::filesystem::path data_dir() { return DOCKWRIGHT_TEST_DATA; }

/// Reads a whole file as bytes; throws std::runtime_error naming the path when it fails.
inline std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open test file " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace dockwright::test
