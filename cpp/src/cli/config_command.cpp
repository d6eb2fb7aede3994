// `dockwright config` and `dockwright digest`: the commands that work on image configs.
#include <dockwright/core/digest.hpp>
#include <dockwright/core/error.hpp>
#include <dockwright/image/image.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"

namespace dockwright::cli {

namespace {

std::string read_input(const std::string& path) {
    if (path == "-") {
        std::ostringstream text;
        text << std::cin.rdbuf();
        return text.str();
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) throw error("cannot open '" + path + "': " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string pad(std::string text, std::size_t width) {
    if (text.size() < width) text.append(width - text.size(), ' ');
    return text;
}

void print_config(const std::string& path, bool raw_only) {
    const std::string bytes = read_input(path);
    image decoded;
    try {
        decoded = image_from_json(bytes);
    } catch (const json_error& e) {
        throw error(path + ": " + e.what());
    }
    const std::string encoded = to_json(decoded);
    if (raw_only) {
        std::cout << encoded << '\n';
        return;
    }
    std::cout << "ID:           " << image_id_of(bytes) << '\n';
    if (encoded != bytes) {
        std::cout << "Re-encoded:   " << decoded.computed_id()
                  << " (the input is not in Docker's canonical encoding)\n";
    }
    std::cout << "Created:      " << decoded.created << '\n';
    std::cout << "Platform:     " << decoded.os << '/' << decoded.architecture
              << (decoded.variant.empty() ? "" : "/" + decoded.variant) << '\n';
    const std::size_t layers = decoded.rootfs ? decoded.rootfs->diff_ids.size() : 0;
    std::cout << "Layers:       " << layers << '\n';
    std::cout << "\nHISTORY\n" << pad("CREATED", 32) << pad("EMPTY", 7) << "CREATED BY\n";
    for (const auto& entry : decoded.history) {
        std::cout << pad(entry.created.str(), 32) << pad(entry.empty_layer ? "yes" : "", 7)
                  << (entry.created_by.empty() ? entry.comment : entry.created_by) << '\n';
    }
    std::cout << "\nCONFIG\n" << (decoded.config ? to_json(*decoded.config) : "null") << '\n';
}

}  // namespace

void add_config_command(CLI::App& app) {
    auto* command = app.add_subcommand(
        "config", "Read an image config JSON and print its ID, history and config");
    auto path = std::make_shared<std::string>();
    auto raw_only = std::make_shared<bool>(false);
    command->add_option("FILE", *path, "Image config JSON file, or - for standard input")
        ->required();
    command->add_flag("--json", *raw_only, "Print only the config re-encoded as Docker writes it");
    command->callback([path, raw_only] { print_config(*path, *raw_only); });
}

void add_digest_command(CLI::App& app) {
    auto* command = app.add_subcommand(
        "digest", "Print the sha256 digest of each file, or the chain ID of diff IDs");
    auto files = std::make_shared<std::vector<std::string>>();
    auto chain = std::make_shared<std::vector<std::string>>();
    command->add_option("FILE", *files, "Files to hash (- for standard input)");
    command->add_option("--chain", *chain,
                        "Diff IDs, bottom layer first, to combine into a chain ID");
    command->callback([files, chain] {
        for (const auto& path : *files) {
            std::cout << digest::sha256_of(read_input(path)) << "  " << path << '\n';
        }
        if (!chain->empty()) {
            std::vector<digest> diff_ids;
            for (const auto& text : *chain)
                diff_ids.push_back(digest::parse(text));
            std::cout << chain_id(diff_ids) << '\n';
        }
    });
}

}  // namespace dockwright::cli
