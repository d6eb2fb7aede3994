// import_rootfs(): a root filesystem tar recorded as a one-layer image, as docker import does.
#include <sys/utsname.h>

#include <algorithm>

#include "archive_io.hpp"
#include "dockwright/core/json.hpp"
#include "dockwright/dockerfile/instructions.hpp"
#include "dockwright/dockerfile/parser.hpp"
#include "dockwright/store/archive.hpp"
#include "files.hpp"

namespace dockwright {

namespace fs = std::filesystem;

namespace {

/// Returns the Go architecture name of the machine (GOARCH), which docker import records.
std::string go_architecture() {
    struct utsname info {};
    ::uname(&info);
    const std::string machine = info.machine;
    if (machine == "x86_64") return "amd64";
    if (machine == "aarch64") return "arm64";
    if (machine.starts_with("armv")) return "arm";
    if (machine == "i686" || machine == "i386") return "386";
    return machine;
}

/// Removes one level of double or single quotes, as the shell words of ENV and LABEL lose
/// them. NOTE: backslash escapes and variables inside the value are kept as written.
std::string unquote(const std::string& text) {
    std::string out;
    char quote = 0;
    for (char c : text) {
        if (quote) {
            if (c == quote)
                quote = 0;
            else
                out += c;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else {
            out += c;
        }
    }
    return out;
}

std::vector<std::string> command_words(const command_line& command) {
    if (!command.shell_form) return command.words;
    std::string joined;
    for (const auto& word : command.words)
        joined += (joined.empty() ? "" : " ") + word;
    return {"/bin/sh", "-c", joined};
}

void apply_change(config& target, const std::string& change) {
    const dockerfile_ast ast = parse_dockerfile(change);
    for (const auto& node : ast.children) {
        const instruction parsed = make_instruction(node);
        std::visit(
            [&](const auto& inst) {
                using type = std::decay_t<decltype(inst)>;
                if constexpr (std::is_same_v<type, cmd_instruction>) {
                    target.cmd = command_words(inst.command);
                } else if constexpr (std::is_same_v<type, entrypoint_instruction>) {
                    target.entrypoint = command_words(inst.command);
                } else if constexpr (std::is_same_v<type, env_instruction>) {
                    if (!target.env) target.env.emplace();
                    for (const auto& variable : inst.variables) {
                        const std::string entry = variable.key + "=" + unquote(variable.value);
                        auto existing = std::find_if(target.env->begin(), target.env->end(),
                                                     [&](const std::string& e) {
                                                         return e.starts_with(variable.key + "=");
                                                     });
                        if (existing != target.env->end())
                            *existing = entry;
                        else
                            target.env->push_back(entry);
                    }
                } else if constexpr (std::is_same_v<type, label_instruction>) {
                    if (!target.labels) target.labels.emplace();
                    for (const auto& label : inst.labels) {
                        (*target.labels)[unquote(label.key)] = unquote(label.value);
                    }
                } else if constexpr (std::is_same_v<type, expose_instruction>) {
                    if (!target.exposed_ports) target.exposed_ports.emplace();
                    for (const auto& port : inst.ports) {
                        target.exposed_ports->insert(
                            port.find('/') == std::string::npos ? port + "/tcp" : port);
                    }
                } else if constexpr (std::is_same_v<type, user_instruction>) {
                    target.user = inst.user;
                } else if constexpr (std::is_same_v<type, workdir_instruction>) {
                    target.working_dir = inst.path;
                } else if constexpr (std::is_same_v<type, volume_instruction>) {
                    if (!target.volumes) target.volumes.emplace();
                    for (const auto& volume : inst.volumes)
                        target.volumes->insert(volume);
                } else if constexpr (std::is_same_v<type, stopsignal_instruction>) {
                    target.stop_signal = inst.signal;
                } else if constexpr (std::is_same_v<type, onbuild_instruction>) {
                    if (!target.on_build) target.on_build.emplace();
                    target.on_build->push_back(inst.original.substr(
                        std::min(inst.original.size(), std::string("ONBUILD ").size())));
                } else {
                    throw store_error("--change '" + change + "'",
                                      "not a valid change command; use CMD, ENTRYPOINT, ENV, "
                                      "EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME or "
                                      "WORKDIR");
                }
            },
            parsed);
    }
}

}  // namespace

digest import_rootfs(store& target, const fs::path& input, const import_options& options) {
    image config;
    config.config.emplace();
    for (const auto& change : options.changes)
        apply_change(*config.config, change);

    const auto lock = target.lock_for_writing();
    const fs::path work = target.make_temp_dir("import-");
    struct cleanup {
        fs::path path;
        ~cleanup() { detail::remove_tree(path); }
    } remove_work{work};

    const fs::path file = work / "layer";
    const std::string subject = input == "-" ? "standard input" : input.string();
    const auto layer = detail::decompress_to(input, -1, file, subject);
    detail::check_layer(file, subject);

    const timestamp created = timestamp::now();
    const std::string message =
        options.message.empty() ? "Imported from " + options.source : options.message;
    config.created = created;
    config.comment = message;
    config.docker_version = options.docker_version;
    config.architecture = go_architecture();
    config.os = "linux";
    config.rootfs.emplace();
    config.rootfs->diff_ids = {layer.diff_id};
    history entry;
    entry.created = created;
    entry.comment = message;
    config.history.push_back(entry);

    if (!target.has_blob(layer.diff_id)) {
        fs::rename(file, target.blob_path(layer.diff_id));
        detail::fsync_directory(target.blob_path(layer.diff_id).parent_path());
    }
    layer_record record{layer.diff_id, layer.size, std::nullopt, 0};
    if (layer.compressed) {
        record.compressed_digest = layer.compressed_digest;
        record.compressed_size = layer.compressed_size;
    }
    std::vector<reference> references;
    if (options.target) references.push_back(*options.target);
    return target.commit_image(image_commit{to_json(config), {record}, std::nullopt, references})
        .id;
}

}  // namespace dockwright
