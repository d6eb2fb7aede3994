// The subcommands of the dockwright program; each adds itself to the CLI11 app.
#pragma once

#include <CLI/CLI.hpp>

namespace dockwright::cli {

/// `dockwright config`: reads an image config, prints its ID, history and config.
void add_config_command(CLI::App& app);
/// `dockwright digest`: computes the SHA-256 digest of files and the chain ID of diff IDs.
void add_digest_command(CLI::App& app);
/// `dockwright parse`: parses a Dockerfile and prints its AST in moby's dump format.
void add_parse_command(CLI::App& app);

}  // namespace dockwright::cli
