// `dockwright images`, `inspect`, `history`, `tag`, `rmi`, `prune` and `store verify`.
#include <unistd.h>

#include <dockwright/core/json.hpp>
#include <dockwright/core/time.hpp>
#include <dockwright/store/containers.hpp>
#include <dockwright/store/store.hpp>
#include <iostream>
#include <map>
#include <set>

#include "commands.hpp"
#include "human_units.hpp"

namespace dockwright::cli {

namespace {

/// One row of `images`: repository, tag and digest as docker shows them.
struct image_row {
    std::string repository;
    std::string tag;
    std::string digest;
};

/// Returns the rows of an image that has tags or repository digests, as the docker CLI
/// (20.10, imageFormatTaggedAndDigest) makes them. Each tag gets one row, repeated per digest
/// of its repository when `digests` is set. Repositories known only by digest follow, with the
/// tag `<none>`. The docker CLI orders repositories as a Go map iterates them, which is
/// random, so these rows follow the byte order of the repository names instead.
std::vector<image_row> tagged_rows(const std::vector<reference>& tags,
                                   const std::vector<reference>& repo_digests, bool digests) {
    std::map<std::string, std::vector<std::string>> tags_by_repository;
    std::map<std::string, std::vector<std::string>> digests_by_repository;
    for (const reference& tag : tags)
        tags_by_repository[tag.familiar_name()].push_back(*tag.tag());
    for (const reference& name : repo_digests)
        digests_by_repository[name.familiar_name()].push_back(name.digest()->str());
    std::vector<image_row> rows;
    for (const auto& [repository, repository_tags] : tags_by_repository) {
        std::vector<std::string> listed_digests;
        if (const auto found = digests_by_repository.find(repository);
            found != digests_by_repository.end()) {
            if (digests) listed_digests = found->second;
            digests_by_repository.erase(found);
        }
        for (const std::string& tag : repository_tags) {
            if (listed_digests.empty()) rows.push_back({repository, tag, "<none>"});
            for (const std::string& digest_text : listed_digests)
                rows.push_back({repository, tag, digest_text});
        }
    }
    for (const auto& [repository, repository_digests] : digests_by_repository) {
        if (!digests) {
            rows.push_back({repository, "<none>", ""});
            continue;
        }
        for (const std::string& digest_text : repository_digests)
            rows.push_back({repository, "<none>", digest_text});
    }
    return rows;
}

/// Lists the images as `docker images` does. `filter` is the REPOSITORY[:TAG] argument, a
/// glob matched against each tag and repository digest (reference::familiar_match). An image
/// is then listed with the references that match, and not at all when none does.
void list_images(bool quiet, bool no_trunc, bool all, bool digests, const std::string& filter) {
    store images_store(store::default_root());
    const std::vector<image_record> records = images_store.images();
    // As in docker, an untagged image that is the parent of another (an intermediate build
    // step) is listed only with --all. An untagged image without children is always listed.
    std::set<std::string> parents;
    for (const auto& record : records) {
        if (record.parent) parents.insert(record.parent->str());
    }
    const auto matching = [&](const std::vector<std::string>& names) {
        std::vector<reference> matched;
        for (const auto& name : names) {
            reference parsed = reference::parse(name);
            if (filter.empty() || parsed.familiar_match(filter)) {
                matched.push_back(std::move(parsed));
            }
        }
        return matched;
    };
    std::vector<std::vector<std::string>> rows;
    if (!quiet && digests) {
        rows.push_back({"REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"});
    } else if (!quiet) {
        rows.push_back({"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"});
    }
    for (const auto& record : records) {
        const std::vector<reference> tags = matching(record.references);
        const std::vector<reference> repo_digests = matching(record.repo_digests);
        const bool dangling = tags.empty() && repo_digests.empty();
        if (dangling && !filter.empty()) continue;
        if (dangling && !all && parents.contains(record.id.str())) continue;
        const std::string id = no_trunc ? record.id.str() : record.id.short_id();
        if (quiet) {
            std::cout << id << '\n';
            continue;
        }
        const std::string created = age(record.created);
        const std::string size = human_size(static_cast<double>(record.size));
        std::vector<image_row> record_rows;
        if (dangling) {
            record_rows.push_back({"<none>", "<none>", "<none>"});
        } else {
            record_rows = tagged_rows(tags, repo_digests, digests);
        }
        for (const image_row& row : record_rows) {
            if (digests) {
                rows.push_back({row.repository, row.tag, row.digest, id, created, size});
            } else {
                rows.push_back({row.repository, row.tag, id, created, size});
            }
        }
    }
    if (!quiet) print_table(rows);
}

/// Writes a JSON value indented by four spaces per level, members in document order.
void indent_json(std::string& out, const json::value& value, int depth) {
    const std::string pad(static_cast<std::size_t>(depth + 1) * 4, ' ');
    const std::string close(static_cast<std::size_t>(depth) * 4, ' ');
    switch (value.kind()) {
        case json::kind::null:
            out += "null";
            break;
        case json::kind::boolean:
            out += value.boolean() ? "true" : "false";
            break;
        case json::kind::number:
            out += value.text();
            break;
        case json::kind::string:
            json::append_string(out, value.text());
            break;
        case json::kind::array:
            if (value.items().empty()) {
                out += "[]";
                break;
            }
            out += "[\n";
            for (std::size_t i = 0; i < value.items().size(); ++i) {
                out += pad;
                indent_json(out, value.items()[i], depth + 1);
                out += i + 1 < value.items().size() ? ",\n" : "\n";
            }
            out += close + "]";
            break;
        case json::kind::object:
            if (value.members().empty()) {
                out += "{}";
                break;
            }
            out += "{\n";
            for (std::size_t i = 0; i < value.members().size(); ++i) {
                out += pad;
                json::append_string(out, value.members()[i].first);
                out += ": ";
                indent_json(out, value.members()[i].second, depth + 1);
                out += i + 1 < value.members().size() ? ",\n" : "\n";
            }
            out += close + "}";
            break;
    }
}

std::string json_string(std::string_view text) {
    std::string out;
    json::append_string(out, text);
    return out;
}

/// Returns the GraphDriver member of inspect. The store keeps one unpacked root filesystem
/// per image in snapshots/<chain ID>, a full copy as Docker's vfs driver makes. Data names it
/// as overlay2 names its merged directory, and is null until the image is unpacked.
std::string graph_driver_document(const store& source, const image_record& record) {
    std::string data = "null";
    if (!record.diff_ids.empty()) {
        const auto snapshot =
            source.root() / "snapshots" / std::string(chain_id(record.diff_ids).hex());
        std::error_code failure;
        if (std::filesystem::is_directory(snapshot, failure)) {
            data = "{\"MergedDir\":" + json_string(snapshot.string()) + "}";
        }
    }
    return "{\"Data\":" + data + ",\"Name\":\"dockwright\"}";
}

/// Builds the document of docker's image inspect (Docker Engine API 1.41, ImageInspect).
std::string inspect_document(const store& source, const image_record& record) {
    const image config = source.config(record.id);
    std::string text = "{\"Id\":" + json_string(record.id.str()) + ",\"RepoTags\":[";
    bool first = true;
    for (const auto& name : record.references) {
        const reference parsed = reference::parse(name);
        if (!parsed.tag()) continue;
        text += (first ? "" : ",") + json_string(parsed.familiar());
        first = false;
    }
    // RepoDigests in the order of their full text (store::get sorts them so), as Docker lists
    // them, each in its familiar form.
    text += "],\"RepoDigests\":[";
    first = true;
    for (const auto& name : record.repo_digests) {
        text += (first ? "" : ",") + json_string(reference::parse(name).familiar());
        first = false;
    }
    text += "],\"Parent\":" + json_string(record.parent ? record.parent->str() : "");
    text += ",\"Comment\":" + json_string(config.comment);
    text += ",\"Created\":" + json_string(config.created.str());
    text += ",\"Container\":" + json_string(config.container);
    text += ",\"ContainerConfig\":" + to_json(config.container_config);
    text += ",\"DockerVersion\":" + json_string(config.docker_version);
    text += ",\"Author\":" + json_string(config.author);
    text += ",\"Config\":" + (config.config ? to_json(*config.config) : std::string("null"));
    text += ",\"Architecture\":" + json_string(config.architecture);
    if (!config.variant.empty()) text += ",\"Variant\":" + json_string(config.variant);
    text += ",\"Os\":" + json_string(config.os);
    if (!config.os_version.empty()) text += ",\"OsVersion\":" + json_string(config.os_version);
    text += ",\"Size\":" + std::to_string(record.size);
    text += ",\"VirtualSize\":" + std::to_string(record.size);
    text += ",\"GraphDriver\":" + graph_driver_document(source, record);
    text += ",\"RootFS\":{\"Type\":\"layers\"";
    if (!record.diff_ids.empty()) {
        text += ",\"Layers\":[";
        for (std::size_t i = 0; i < record.diff_ids.size(); ++i) {
            text += (i > 0 ? "," : "") + json_string(record.diff_ids[i].str());
        }
        text += "]";
    }
    text += "},\"Metadata\":{\"LastTagTime\":\"0001-01-01T00:00:00Z\"}}";
    return text;
}

void inspect_images(const std::vector<std::string>& names) {
    store source(store::default_root());
    std::vector<std::string> documents;
    std::vector<std::string> missing;
    for (const auto& name : names) {
        const auto found = source.find(name);
        if (!found) {
            missing.push_back(name);
            continue;
        }
        documents.push_back(inspect_document(source, *found));
    }
    std::string all = "[";
    for (std::size_t i = 0; i < documents.size(); ++i)
        all += (i > 0 ? "," : "") + documents[i];
    all += "]";
    std::string out;
    indent_json(out, json::parse(all), 0);
    std::cout << out << '\n';
    if (!missing.empty()) {
        for (const auto& name : missing)
            std::cerr << "Error: No such image: " << name << '\n';
        throw image_not_found_error(missing.front());
    }
}

void show_history(const std::string& name, bool no_trunc, bool quiet) {
    store source(store::default_root());
    const image_record record = source.resolve(name);
    const image config = source.config(record.id);
    // An entry gets an image ID when it is the last step of this image or of an ancestor.
    std::map<std::size_t, digest> owners;
    for (std::optional<digest> current = record.id; current;) {
        const auto found = source.find(current->str());
        if (!found) break;
        owners.emplace(source.config(found->id).history.size() - 1, found->id);
        current = found->parent;
    }
    std::vector<std::vector<std::string>> rows;
    if (!quiet) rows.push_back({"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"});
    std::size_t layer = 0;
    std::vector<std::uint64_t> sizes(config.history.size(), 0);
    for (std::size_t i = 0; i < config.history.size(); ++i) {
        if (config.history[i].empty_layer) continue;
        if (layer < record.diff_ids.size()) sizes[i] = source.layer(record.diff_ids[layer]).size;
        ++layer;
    }
    for (std::size_t n = config.history.size(); n-- > 0;) {
        const auto& entry = config.history[n];
        const auto owner = owners.find(n);
        std::string id = "<missing>";
        if (owner != owners.end()) id = no_trunc ? owner->second.str() : owner->second.short_id();
        if (quiet) {
            std::cout << id << '\n';
            continue;
        }
        std::string created_by = entry.created_by;
        for (auto& c : created_by) {
            if (c == '\t') c = ' ';
        }
        if (!no_trunc) created_by = ellipsis(created_by, 45);
        rows.push_back({id, age(entry.created.str()), created_by,
                        human_size(static_cast<double>(sizes[n])), entry.comment});
    }
    if (!quiet) print_table(rows);
}

}  // namespace

void add_image_commands(CLI::App& app) {
    {
        auto* command = app.add_subcommand("images", "List the images in the store");
        auto quiet = std::make_shared<bool>(false);
        auto no_trunc = std::make_shared<bool>(false);
        auto all = std::make_shared<bool>(false);
        auto digests = std::make_shared<bool>(false);
        auto filter = std::make_shared<std::string>();
        command->add_option("REPOSITORY", *filter,
                            "List only references matching REPOSITORY[:TAG] or "
                            "REPOSITORY@DIGEST, where * and ? match within one path component");
        command->add_flag("-q,--quiet", *quiet, "Print only the image IDs");
        command->add_flag("--no-trunc", *no_trunc, "Print full image IDs");
        command->add_flag("-a,--all", *all,
                          "Also list intermediate images (untagged images with children)");
        command->add_flag("--digests", *digests,
                          "Add a DIGEST column with the repository digest of each row");
        command->callback([=] { list_images(*quiet, *no_trunc, *all, *digests, *filter); });
    }
    {
        auto* command = app.add_subcommand("inspect", "Print the details of images as JSON");
        auto names = std::make_shared<std::vector<std::string>>();
        command->add_option("IMAGE", *names, "Image references or IDs")->required();
        command->callback([=] { inspect_images(*names); });
    }
    {
        auto* command = app.add_subcommand("history", "Show the history of an image");
        auto name = std::make_shared<std::string>();
        auto no_trunc = std::make_shared<bool>(false);
        auto quiet = std::make_shared<bool>(false);
        command->add_option("IMAGE", *name, "Image reference or ID")->required();
        command->add_flag("--no-trunc", *no_trunc, "Do not shorten IDs and commands");
        command->add_flag("-q,--quiet", *quiet, "Print only the image IDs");
        command->callback([=] { show_history(*name, *no_trunc, *quiet); });
    }
    {
        auto* command = app.add_subcommand("tag", "Give an image a further reference");
        auto source_name = std::make_shared<std::string>();
        auto target_name = std::make_shared<std::string>();
        command->add_option("SOURCE", *source_name, "Image reference or ID")->required();
        command->add_option("TARGET", *target_name, "New reference, NAME[:TAG]")->required();
        command->callback([=] {
            store target(store::default_root());
            const reference name = reference::parse_tagged(*target_name);
            if (name.digest()) {
                throw invalid_value_error("reference", *target_name,
                                          "a tag cannot contain a digest");
            }
            target.tag(target.resolve(*source_name).id, name);
        });
    }
    {
        auto* command = app.add_subcommand("rmi", "Remove images or references");
        auto names = std::make_shared<std::vector<std::string>>();
        auto force = std::make_shared<bool>(false);
        command->add_option("IMAGE", *names, "Image references or IDs")->required();
        command->add_flag("-f,--force", *force,
                          "Remove an image with children or several references");
        command->callback([=] {
            store target(store::default_root());
            bool failed = false;
            for (const auto& name : *names) {
                try {
                    for (const auto& line : target.remove(name, *force)) {
                        std::cout << line << '\n';
                    }
                } catch (const store_error& e) {
                    std::cerr << "Error: " << e.what() << '\n';
                    failed = true;
                }
            }
            if (failed) throw store_error("rmi", "some images could not be removed");
        });
    }
    {
        auto* command = app.add_subcommand(
            "prune",
            "Remove kept build containers, dangling images and every unused blob, layer and "
            "snapshot");
        auto keep_images = std::make_shared<bool>(false);
        command->add_flag(
            "--blobs-only", *keep_images,
            "Keep build containers and dangling images; collect only unused blobs and "
            "snapshots");
        command->callback([=] {
            store target(store::default_root());
            // Kept build containers go first, as docker system prune removes stopped
            // containers before the images they were made from.
            const std::vector<std::string> containers =
                *keep_images ? std::vector<std::string>{} : remove_all_containers(target);
            if (!containers.empty()) {
                std::cout << "Deleted Containers:\n";
                for (const std::string& id : containers)
                    std::cout << id << '\n';
                std::cout << '\n';
            }
            const prune_report report = target.prune(!*keep_images);
            if (!report.images.empty()) {
                std::cout << "Deleted Images:\n";
                for (const auto& id : report.images)
                    std::cout << "deleted: " << id << '\n';
                std::cout << '\n';
            }
            std::cout << "Deleted blobs: " << report.blobs << ", snapshots: " << report.snapshots
                      << ", temporary files: " << report.temporary_files << '\n';
            std::cout << "Total reclaimed space: "
                      << human_size(static_cast<double>(report.bytes), 4) << '\n';
        });
    }
    {
        auto* group = app.add_subcommand("store", "Maintain the image store");
        group->require_subcommand(1);
        auto* verify = group->add_subcommand(
            "verify", "Recompute every digest and check the database against the blobs");
        verify->callback([] {
            store target(store::default_root());
            const auto problems = target.verify();
            for (const auto& problem : problems) {
                std::cout << problem.subject << ": " << problem.problem << '\n';
            }
            if (!problems.empty()) {
                throw store_error(target.root().string(),
                                  std::to_string(problems.size()) + " problems found");
            }
            std::cout << "store " << target.root().string() << " is consistent ("
                      << target.images().size() << " images)\n";
        });
    }
}

}  // namespace dockwright::cli
