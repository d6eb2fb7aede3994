// The dockwright command-line program: registers the subcommands and maps errors to exit codes.
#include <dockwright/core/error.hpp>
#include <iostream>

#include "commands.hpp"

int main(int argc, char** argv) {
    CLI::App app{"dockwright: a daemonless Dockerfile builder and image-configuration toolkit",
                 "dockwright"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("dockwright ") + DOCKWRIGHT_VERSION);

    dockwright::cli::add_build_command(app);
    dockwright::cli::add_config_command(app);
    dockwright::cli::add_digest_command(app);
    dockwright::cli::add_evaluate_command(app);
    dockwright::cli::add_parse_command(app);
    dockwright::cli::add_image_commands(app);
    dockwright::cli::add_container_commands(app);
    dockwright::cli::add_archive_commands(app);
    dockwright::cli::add_registry_commands(app);
    dockwright::cli::add_version_command(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const dockwright::error& e) {
        std::cerr << "dockwright: " << e.what() << '\n';
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "dockwright: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
