// The subcommands of the dockwright program; each adds itself to the CLI11 app.
#pragma once

#include <CLI/CLI.hpp>

namespace dockwright::cli {

/// `dockwright build`: docker build's command line on the local backend.
void add_build_command(CLI::App& app);
/// `dockwright version`: the version and the build.
void add_version_command(CLI::App& app);
/// `dockwright config`: reads an image config, prints its ID, history and config.
void add_config_command(CLI::App& app);
/// `dockwright digest`: computes the SHA-256 digest of files and the chain ID of diff IDs.
void add_digest_command(CLI::App& app);
/// `dockwright evaluate`: prints the config and history every stage would get.
void add_evaluate_command(CLI::App& app);
/// `dockwright parse`: parses a Dockerfile and prints its AST in moby's dump format.
void add_parse_command(CLI::App& app);

/// `dockwright images`, `inspect`, `history`, `tag`, `rmi`, `prune` and `store verify`.
void add_image_commands(CLI::App& app);
/// `dockwright container ls`, `rm` and `prune`: the build containers the store keeps.
void add_container_commands(CLI::App& app);
/// `dockwright save`, `load` and `import`.
void add_archive_commands(CLI::App& app);

/// `dockwright pull`, `push`, `login` and `logout`.
void add_registry_commands(CLI::App& app);

}  // namespace dockwright::cli
