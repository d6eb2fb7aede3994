// `dockwright save`, `load` and `import`: images in and out of the store.
#include <unistd.h>

#include <dockwright/store/archive.hpp>
#include <iostream>
#include <optional>

#include "commands.hpp"
#include "live_display.hpp"

namespace dockwright::cli {

void add_archive_commands(CLI::App& app) {
    {
        auto* command =
            app.add_subcommand("save", "Write images to a docker-archive or OCI layout");
        auto names = std::make_shared<std::vector<std::string>>();
        auto output = std::make_shared<std::string>("-");
        auto format = std::make_shared<std::string>("docker");
        command->add_option("IMAGE", *names, "Image references or IDs")->required();
        command->add_option("-o,--output", *output,
                            "Output file, or a directory for an OCI layout (default: stdout)");
        command->add_option("--format", *format, "Archive format: docker or oci")
            ->check(CLI::IsMember({"docker", "oci"}));
        auto compress = std::make_shared<std::string>("none");
        command
            ->add_option("--compress", *compress,
                         "Layer compression of an OCI layout: none, gzip or zstd")
            ->check(CLI::IsMember({"none", "gzip", "zstd"}));
        command->callback([=] {
            if (*compress != "none" && *format != "oci") {
                throw store_error("save", "--compress applies only to --format oci");
            }
            if (*output == "-" && ::isatty(STDOUT_FILENO)) {
                throw store_error("save",
                                  "cowardly refusing to save to a terminal. Use the -o "
                                  "flag or redirect");
            }
            store source(store::default_root());
            const layer::compression kind = *compress == "gzip"   ? layer::compression::gzip
                                            : *compress == "zstd" ? layer::compression::zstd
                                                                  : layer::compression::none;
            // On a terminal, standard error shows a bar of the bytes written.
            std::optional<progress_line> bar;
            if (::isatty(STDERR_FILENO)) bar.emplace(STDERR_FILENO, "save");
            save_progress progress;
            if (bar) {
                progress = [&bar](std::uint64_t written, std::uint64_t total) {
                    bar->update(written, total);
                };
            }
            save_archive(source, *names, *output,
                         *format == "oci" ? archive_format::oci : archive_format::docker, kind,
                         progress);
            if (bar) bar->finish();
        });
    }
    {
        auto* command = app.add_subcommand(
            "load",
            "Load images from a docker-archive or OCI layout (tar, compressed or a "
            "directory)");
        auto input = std::make_shared<std::string>("-");
        auto quiet = std::make_shared<bool>(false);
        command->add_option("-i,--input", *input,
                            "Archive file or OCI layout directory "
                            "(default: stdin)");
        command->add_flag("-q,--quiet", *quiet, "Print nothing");
        command->callback([=] {
            store target(store::default_root());
            const auto loaded = load_archive(target, *input);
            if (*quiet) return;
            for (const auto& image : loaded) {
                for (const auto& [name, previous] : image.moved_references) {
                    std::cout << "The image " << name.familiar()
                              << " already exists, renaming the old one with ID " << previous
                              << " to empty string\n";
                }
                if (image.references.empty()) {
                    std::cout << "Loaded image ID: " << image.id << '\n';
                }
                for (const auto& name : image.references) {
                    std::cout << "Loaded image: " << name.familiar() << '\n';
                }
            }
        });
    }
    {
        auto* command = app.add_subcommand(
            "import", "Create a one-layer image from a root filesystem tar, as docker import");
        auto input = std::make_shared<std::string>();
        auto name = std::make_shared<std::string>();
        auto changes = std::make_shared<std::vector<std::string>>();
        auto message = std::make_shared<std::string>();
        command->add_option("FILE", *input, "Root filesystem tar, or - for stdin")->required();
        command->add_option("REPOSITORY", *name, "Reference for the new image, NAME[:TAG]");
        command
            ->add_option("-c,--change", *changes,
                         "Dockerfile instruction applied to the config (repeatable)")
            ->allow_extra_args(false);
        command->add_option("-m,--message", *message, "History comment of the image");
        command->callback([=] {
            store target(store::default_root());
            import_options options;
            if (!name->empty()) options.target = reference::parse_tagged(*name);
            options.changes = *changes;
            options.message = *message;
            std::cout << import_rootfs(target, *input, options) << '\n';
        });
    }
}

}  // namespace dockwright::cli
