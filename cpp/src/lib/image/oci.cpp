// Docker image config to OCI image config and back.
#include <dockwright/image/oci.hpp>

#include "codec.hpp"

namespace dockwright {

namespace {

void write_oci_config(std::string& out, const config& value) {
    detail::object_writer object(out);
    if (!value.user.empty()) object.string("User", value.user);
    if (value.exposed_ports && !value.exposed_ports->empty()) {
        detail::write_set(object.key("ExposedPorts"), value.exposed_ports);
    }
    const auto list = [&](std::string_view name, const string_list& items) {
        if (items && !items->empty()) detail::write_list(object.key(name), items);
    };
    list("Env", value.env);
    list("Entrypoint", value.entrypoint);
    list("Cmd", value.cmd);
    if (value.volumes && !value.volumes->empty()) {
        detail::write_set(object.key("Volumes"), value.volumes);
    }
    if (!value.working_dir.empty()) object.string("WorkingDir", value.working_dir);
    if (value.labels && !value.labels->empty()) {
        detail::write_map(object.key("Labels"), value.labels);
    }
    if (!value.stop_signal.empty()) object.string("StopSignal", value.stop_signal);
    if (value.args_escaped) object.boolean("ArgsEscaped", true);
    // Docker's extension of the OCI config (moby's dockerspec package).
    if (value.healthcheck) {
        detail::write_health_config(object.key("Healthcheck"), *value.healthcheck);
    }
    list("OnBuild", value.on_build);
    list("Shell", value.shell);
}

void write_oci_history(std::string& out, const history& value) {
    detail::object_writer object(out);
    if (!value.created.is_zero()) object.string("created", value.created.str());
    if (!value.created_by.empty()) object.string("created_by", value.created_by);
    if (!value.author.empty()) object.string("author", value.author);
    if (!value.comment.empty()) object.string("comment", value.comment);
    if (value.empty_layer) object.boolean("empty_layer", true);
}

}  // namespace

std::string to_oci_json(const image& value) {
    std::string out;
    detail::object_writer object(out);
    if (!value.created.is_zero()) object.string("created", value.created.str());
    if (!value.author.empty()) object.string("author", value.author);
    object.string("architecture", value.architecture);
    object.string("os", value.os);
    if (!value.os_version.empty()) object.string("os.version", value.os_version);
    if (!value.os_features.empty()) {
        detail::write_list(object.key("os.features"), value.os_features);
    }
    if (!value.variant.empty()) object.string("variant", value.variant);
    write_oci_config(object.key("config"), value.config.value_or(config{}));

    // The schema requires diff_ids to be an array, so an image without layers writes [].
    std::string& rootfs = object.key("rootfs");
    rootfs += "{\"type\":";
    json::append_string(rootfs, value.rootfs ? value.rootfs->type : "layers");
    rootfs += ",\"diff_ids\":[";
    if (value.rootfs) {
        for (std::size_t i = 0; i < value.rootfs->diff_ids.size(); ++i) {
            if (i != 0) rootfs += ',';
            json::append_string(rootfs, value.rootfs->diff_ids[i].str());
        }
    }
    rootfs += "]}";

    if (!value.history.empty()) {
        std::string& list = object.key("history");
        list += '[';
        for (std::size_t i = 0; i < value.history.size(); ++i) {
            if (i != 0) list += ',';
            write_oci_history(list, value.history[i]);
        }
        list += ']';
    }
    return out;
}

image image_from_oci_json(std::string_view text) {
    return image_from_json(text);
}

std::vector<std::string> oci_dropped_fields(const image& value) {
    std::vector<std::string> dropped;
    const auto check = [&](bool is_set, std::string path) {
        if (is_set) dropped.push_back(std::move(path));
    };
    check(!value.id.empty(), "id");
    check(!value.parent.empty(), "parent");
    check(!value.comment.empty(), "comment");
    check(!value.container.empty(), "container");
    check(value.container_config != config{}, "container_config");
    check(!value.docker_version.empty(), "docker_version");
    check(value.size != 0, "Size");
    for (const auto& [key, raw] : value.extra)
        dropped.push_back(key);
    if (value.rootfs) {
        for (const auto& [key, raw] : value.rootfs->extra)
            dropped.push_back("rootfs." + key);
    }
    for (std::size_t i = 0; i < value.history.size(); ++i) {
        for (const auto& [key, raw] : value.history[i].extra) {
            dropped.push_back("history[" + std::to_string(i) + "]." + key);
        }
    }
    if (!value.config) return dropped;

    const config& c = *value.config;
    check(!c.hostname.empty(), "config.Hostname");
    check(!c.domainname.empty(), "config.Domainname");
    check(c.attach_stdin, "config.AttachStdin");
    check(c.attach_stdout, "config.AttachStdout");
    check(c.attach_stderr, "config.AttachStderr");
    check(c.tty, "config.Tty");
    check(c.open_stdin, "config.OpenStdin");
    check(c.stdin_once, "config.StdinOnce");
    check(!c.image.empty(), "config.Image");
    check(c.network_disabled, "config.NetworkDisabled");
    check(!c.mac_address.empty(), "config.MacAddress");
    check(c.stop_timeout.has_value(), "config.StopTimeout");
    for (const auto& [key, raw] : c.extra)
        dropped.push_back("config." + key);
    return dropped;
}

}  // namespace dockwright
