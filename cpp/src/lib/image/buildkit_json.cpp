// BuildKit's encoding of an image config.
#include <dockwright/core/json.hpp>
#include <dockwright/image/buildkit_json.hpp>

namespace dockwright {

namespace {

void key(std::string& out, bool& first, std::string_view name) {
    out += first ? "" : ",";
    first = false;
    json::append_string(out, name);
    out += ':';
}

void string_list(std::string& out, const std::vector<std::string>& items) {
    out += '[';
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        json::append_string(out, items[i]);
    }
    out += ']';
}

void empty_object_set(std::string& out, const std::set<std::string>& items) {
    out += '{';
    bool first = true;
    for (const std::string& item : items) {
        key(out, first, item);
        out += "{}";
    }
    out += '}';
}

std::string config_json(const config& c) {
    std::string out = "{";
    bool first = true;
    if (!c.user.empty()) {
        key(out, first, "User");
        json::append_string(out, c.user);
    }
    if (c.exposed_ports && !c.exposed_ports->empty()) {
        key(out, first, "ExposedPorts");
        empty_object_set(out, *c.exposed_ports);
    }
    if (c.env && !c.env->empty()) {
        key(out, first, "Env");
        string_list(out, *c.env);
    }
    if (c.entrypoint && !c.entrypoint->empty()) {
        key(out, first, "Entrypoint");
        string_list(out, *c.entrypoint);
    }
    if (c.cmd && !c.cmd->empty()) {
        key(out, first, "Cmd");
        string_list(out, *c.cmd);
    }

    if (c.volumes && !c.volumes->empty()) {
        key(out, first, "Volumes");
        empty_object_set(out, *c.volumes);
    }
    if (!c.working_dir.empty()) {
        key(out, first, "WorkingDir");
        json::append_string(out, c.working_dir);
    }
    if (c.labels && !c.labels->empty()) {
        key(out, first, "Labels");
        out += '{';
        bool inner = true;
        for (const auto& [name, text] : *c.labels) {
            key(out, inner, name);
            json::append_string(out, text);
        }
        out += '}';
    }
    if (!c.stop_signal.empty()) {
        key(out, first, "StopSignal");
        json::append_string(out, c.stop_signal);
    }

    // Docker's extensions of the OCI config.
    if (c.healthcheck) {
        key(out, first, "Healthcheck");
        out += to_json(*c.healthcheck);
    }
    if (c.args_escaped) {
        key(out, first, "ArgsEscaped");
        out += "true";
    }
    key(out, first, "OnBuild");
    if (c.on_build && !c.on_build->empty()) {
        string_list(out, *c.on_build);
    } else {
        out += "null";
    }
    if (c.shell && !c.shell->empty()) {
        key(out, first, "Shell");
        string_list(out, *c.shell);
    }
    out += '}';
    return out;
}

}  // namespace

std::string to_buildkit_json(const image& value) {
    std::string out = "{";
    bool first = true;
    key(out, first, "architecture");
    json::append_string(out, value.architecture);
    if (!value.author.empty()) {
        key(out, first, "author");
        json::append_string(out, value.author);
    }
    key(out, first, "config");
    out += config_json(value.config.value_or(config{}));
    key(out, first, "created");
    json::append_string(out, value.created.str());
    key(out, first, "history");
    out += '[';
    for (std::size_t i = 0; i < value.history.size(); ++i) {
        if (i) out += ',';
        out += to_json(value.history[i]);
    }
    out += ']';
    key(out, first, "os");
    json::append_string(out, value.os);
    key(out, first, "rootfs");
    out += to_json(value.rootfs.value_or(root_fs{}));
    if (!value.variant.empty()) {
        key(out, first, "variant");
        json::append_string(out, value.variant);
    }
    out += '}';
    return out;
}

}  // namespace dockwright
