// JSON encoding and decoding of config and health_config.
#include <array>
#include <dockwright/image/config.hpp>
#include <ostream>

#include "codec.hpp"

namespace dockwright {

namespace detail {

void write_health_config(std::string& out, const health_config& value) {
    object_writer object(out);
    if (value.test && !value.test->empty()) write_list(object.key("Test"), value.test);
    if (value.interval != 0) object.integer("Interval", value.interval);
    if (value.timeout != 0) object.integer("Timeout", value.timeout);
    if (value.start_period != 0) object.integer("StartPeriod", value.start_period);
    if (value.retries != 0) object.integer("Retries", value.retries);
    object.extras(value.extra);
}

void write_config(std::string& out, const config& value) {
    object_writer object(out);
    object.string("Hostname", value.hostname);
    object.string("Domainname", value.domainname);
    object.string("User", value.user);
    object.boolean("AttachStdin", value.attach_stdin);
    object.boolean("AttachStdout", value.attach_stdout);
    object.boolean("AttachStderr", value.attach_stderr);
    if (value.exposed_ports && !value.exposed_ports->empty()) {
        write_set(object.key("ExposedPorts"), value.exposed_ports);
    }
    object.boolean("Tty", value.tty);
    object.boolean("OpenStdin", value.open_stdin);
    object.boolean("StdinOnce", value.stdin_once);
    write_list(object.key("Env"), value.env);
    write_list(object.key("Cmd"), value.cmd);
    if (value.healthcheck) write_health_config(object.key("Healthcheck"), *value.healthcheck);
    if (value.args_escaped) object.boolean("ArgsEscaped", true);
    object.string("Image", value.image);
    write_set(object.key("Volumes"), value.volumes);
    object.string("WorkingDir", value.working_dir);
    write_list(object.key("Entrypoint"), value.entrypoint);
    if (value.network_disabled) object.boolean("NetworkDisabled", true);
    if (!value.mac_address.empty()) object.string("MacAddress", value.mac_address);
    write_list(object.key("OnBuild"), value.on_build);
    write_map(object.key("Labels"), value.labels);
    if (!value.stop_signal.empty()) object.string("StopSignal", value.stop_signal);
    if (value.stop_timeout) object.integer("StopTimeout", *value.stop_timeout);
    if (value.shell && !value.shell->empty()) write_list(object.key("Shell"), value.shell);
    object.extras(value.extra);
}

void read_health_config(const decoder& in, const json::value& node, const std::string& path,
                        health_config& out) {
    static constexpr std::array<std::string_view, 5> names{"Test", "Interval", "Timeout",
                                                           "StartPeriod", "Retries"};
    in.members(
        node, path, names,
        [&](std::size_t field, const json::value& member, const std::string& member_path) {
            switch (field) {
                case 0:
                    in.read(member, member_path, out.test);
                    break;
                case 1:
                    in.read(member, member_path, out.interval);
                    break;
                case 2:
                    in.read(member, member_path, out.timeout);
                    break;
                case 3:
                    in.read(member, member_path, out.start_period);
                    break;
                case 4:
                    in.read(member, member_path, out.retries);
                    break;
            }
        },
        out.extra);
}

void read_config(const decoder& in, const json::value& node, const std::string& path, config& out) {
    // Docker 20.10's container.Config fields; the index is the case label below.
    static constexpr std::array<std::string_view, 25> names{
        "Hostname",     "Domainname",   "User",        "AttachStdin",     "AttachStdout",
        "AttachStderr", "ExposedPorts", "Tty",         "OpenStdin",       "StdinOnce",
        "Env",          "Cmd",          "Healthcheck", "ArgsEscaped",     "Image",
        "Volumes",      "WorkingDir",   "Entrypoint",  "NetworkDisabled", "MacAddress",
        "OnBuild",      "Labels",       "StopSignal",  "StopTimeout",     "Shell"};
    in.members(
        node, path, names,
        [&](std::size_t field, const json::value& member, const std::string& member_path) {
            switch (field) {
                case 0:
                    in.read(member, member_path, out.hostname);
                    break;
                case 1:
                    in.read(member, member_path, out.domainname);
                    break;
                case 2:
                    in.read(member, member_path, out.user);
                    break;
                case 3:
                    in.read(member, member_path, out.attach_stdin);
                    break;
                case 4:
                    in.read(member, member_path, out.attach_stdout);
                    break;
                case 5:
                    in.read(member, member_path, out.attach_stderr);
                    break;
                case 6:
                    in.read(member, member_path, out.exposed_ports);
                    break;
                case 7:
                    in.read(member, member_path, out.tty);
                    break;
                case 8:
                    in.read(member, member_path, out.open_stdin);
                    break;
                case 9:
                    in.read(member, member_path, out.stdin_once);
                    break;
                case 10:
                    in.read(member, member_path, out.env);
                    break;
                case 11:
                    in.read_command(member, member_path, out.cmd);
                    break;
                case 12:
                    if (member.is_null()) {
                        out.healthcheck.reset();
                    } else {
                        if (!out.healthcheck) out.healthcheck.emplace();
                        read_health_config(in, member, member_path, *out.healthcheck);
                    }
                    break;
                case 13:
                    in.read(member, member_path, out.args_escaped);
                    break;
                case 14:
                    in.read(member, member_path, out.image);
                    break;
                case 15:
                    in.read(member, member_path, out.volumes);
                    break;
                case 16:
                    in.read(member, member_path, out.working_dir);
                    break;
                case 17:
                    in.read_command(member, member_path, out.entrypoint);
                    break;
                case 18:
                    in.read(member, member_path, out.network_disabled);
                    break;
                case 19:
                    in.read(member, member_path, out.mac_address);
                    break;
                case 20:
                    in.read(member, member_path, out.on_build);
                    break;
                case 21:
                    in.read(member, member_path, out.labels);
                    break;
                case 22:
                    in.read(member, member_path, out.stop_signal);
                    break;
                case 23:
                    if (member.is_null()) {
                        out.stop_timeout.reset();
                    } else {
                        std::int64_t seconds = 0;
                        in.read(member, member_path, seconds);
                        out.stop_timeout = seconds;
                    }
                    break;
                case 24:
                    in.read_command(member, member_path, out.shell);
                    break;
            }
        },
        out.extra);
}

}  // namespace detail

std::string to_json(const config& value) {
    std::string out;
    detail::write_config(out, value);
    return out;
}

std::string to_json(const health_config& value) {
    std::string out;
    detail::write_health_config(out, value);
    return out;
}

config config_from_json(std::string_view text) {
    return detail::decode_document<config>(text, detail::read_config);
}

health_config health_config_from_json(std::string_view text) {
    return detail::decode_document<health_config>(text, detail::read_health_config);
}

std::ostream& operator<<(std::ostream& out, const config& value) {
    return out << to_json(value);
}

std::ostream& operator<<(std::ostream& out, const health_config& value) {
    return out << to_json(value);
}

}  // namespace dockwright
