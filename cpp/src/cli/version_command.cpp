// `dockwright version`: the program's version and what it was built with.
#include <iostream>

#include "commands.hpp"

namespace dockwright::cli {

void add_version_command(CLI::App& app) {
    CLI::App* command = app.add_subcommand("version", "Print the version and the build");
    command->callback([] {
        std::cout << "dockwright " << DOCKWRIGHT_VERSION << '\n'
                  << " Builder:       daemonless; writes Docker 20.10 classic or BuildKit "
                     "image configs\n"
                  << " API version:   1.41 (the Docker Engine API its configs follow)\n"
                  << " Compiler:      " << __VERSION__ << '\n'
                  << " OS/Arch:       linux/amd64\n";
    });
}

}  // namespace dockwright::cli
