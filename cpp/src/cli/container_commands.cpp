// `dockwright container ls|rm|prune`: the build containers the store keeps.
#include <dockwright/store/containers.hpp>
#include <dockwright/store/store.hpp>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "human_units.hpp"

namespace dockwright::cli {

namespace {

/// Formats the COMMAND column as `docker ps` does: the command line in quotes, cut to 20
/// characters.
std::string command_column(const container_info& info, bool no_trunc) {
    std::string text;
    for (const std::string& word : info.command)
        text += (text.empty() ? "" : " ") + word;
    return "\"" + (no_trunc ? text : ellipsis(text, 20)) + "\"";
}

std::string status_column(const container_info& info) {
    if (!info.exit_code) return "Created";
    return "Exited (" + std::to_string(*info.exit_code) + ") " + age(info.created);
}

void list(bool quiet, bool no_trunc) {
    const store target(store::default_root());
    std::vector<std::vector<std::string>> rows;
    if (!quiet) rows.push_back({"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS"});
    for (const container_info& info : list_containers(target)) {
        const std::string id = no_trunc ? info.id : info.id.substr(0, 12);
        if (quiet) {
            std::cout << id << '\n';
            continue;
        }
        const std::string image = !info.image ? "scratch"
                                  : no_trunc  ? info.image->str()
                                              : info.image->short_id();
        rows.push_back(
            {id, image, command_column(info, no_trunc), age(info.created), status_column(info)});
    }
    if (!quiet) print_table(rows);
}

}  // namespace

void add_container_commands(CLI::App& app) {
    auto* group = app.add_subcommand(
        "container", "Manage the build containers kept by --rm=false or a failed step");
    group->require_subcommand(1);
    {
        auto* command = group->add_subcommand("ls", "List the kept build containers");
        auto quiet = std::make_shared<bool>(false);
        auto no_trunc = std::make_shared<bool>(false);
        command->add_flag("-q,--quiet", *quiet, "Print only the container IDs");
        command->add_flag("--no-trunc", *no_trunc, "Print full IDs and whole commands");
        command->callback([=] { list(*quiet, *no_trunc); });
    }
    {
        auto* command = group->add_subcommand("rm", "Remove kept build containers");
        auto ids = std::make_shared<std::vector<std::string>>();
        command->add_option("CONTAINER", *ids, "Container IDs or unique ID prefixes")->required();
        command->callback([=] {
            const store target(store::default_root());
            bool failed = false;
            for (const std::string& id : *ids) {
                try {
                    remove_container(target, id);
                    std::cout << id << '\n';
                } catch (const store_error& e) {
                    std::cerr << "Error: No such container: " << id << '\n';
                    failed = true;
                }
            }
            if (failed) throw store_error("container rm", "some containers could not be removed");
        });
    }
    {
        auto* command = group->add_subcommand("prune", "Remove every kept build container");
        command->callback([] {
            const store target(store::default_root());
            const std::vector<std::string> removed = remove_all_containers(target);
            if (!removed.empty()) {
                std::cout << "Deleted Containers:\n";
                for (const std::string& id : removed)
                    std::cout << id << '\n';
                std::cout << '\n';
            }
            std::cout << "Deleted containers: " << removed.size() << '\n';
        });
    }
}

}  // namespace dockwright::cli
