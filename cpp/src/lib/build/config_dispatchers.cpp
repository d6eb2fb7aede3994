// Config-only instructions: ENV, LABEL, MAINTAINER, CMD, ENTRYPOINT, USER, EXPOSE, VOLUME,
// STOPSIGNAL, HEALTHCHECK, SHELL, ONBUILD and ARG, as Docker 20.10's dispatchers apply them.
#include <algorithm>
#include <charconv>
#include <dockwright/build/build_error.hpp>
#include <dockwright/build/config_dispatchers.hpp>
#include <dockwright/dockerfile/detail/go_text.hpp>

namespace dockwright {

namespace {

source_location where(const instruction_source& inst) {
    return {"", inst.start_line, inst.end_line};
}

[[noreturn]] void fail(const instruction_source& inst, const std::string& keyword,
                       const std::string& message, const std::string& value) {
    throw build_step_error(where(inst), keyword, message, value, message);
}

std::vector<std::string> resolve_command(const stage_state& state, const command_line& command) {
    if (command.words.empty()) return {};
    if (!command.shell_form) return command.words;
    std::vector<std::string> argv = state.shell();
    argv.insert(argv.end(), command.words.begin(), command.words.end());
    return argv;
}

/// Parses `80`, `80/udp`, `9000-9002/tcp` into `port/proto` keys as nat.ParsePortSpecs does.
std::vector<std::string> port_keys(const std::string& spec, const instruction_source& inst) {
    std::string port = spec;
    std::string proto = "tcp";
    if (const std::size_t slash = spec.find('/'); slash != std::string::npos) {
        port = spec.substr(0, slash);
        if (slash + 1 < spec.size()) proto = spec.substr(slash + 1);
    }
    proto = detail::go_to_lower(proto);
    if (proto != "tcp" && proto != "udp" && proto != "sctp") {
        fail(inst, "EXPOSE", "invalid proto: " + proto, spec);
    }
    if (const std::size_t colon = port.rfind(':'); colon != std::string::npos) {
        port = port.substr(colon + 1);
    }
    auto number = [&](std::string_view text) {
        int value = 0;
        const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (text.empty() || status != std::errc() || end != text.data() + text.size() ||
            value < 0 || value > 65535) {
            fail(inst, "EXPOSE", "invalid containerPort: " + port, spec);
        }
        return value;
    };
    int first = 0;
    int last = 0;
    if (const std::size_t dash = port.find('-'); dash != std::string::npos) {
        first = number(std::string_view(port).substr(0, dash));
        last = number(std::string_view(port).substr(dash + 1));
        if (last < first) fail(inst, "EXPOSE", "invalid containerPort: " + port, spec);
    } else {
        first = last = number(port);
    }
    std::vector<std::string> keys;
    for (int p = first; p <= last; ++p)
        keys.push_back(std::to_string(p) + "/" + proto);
    return keys;
}

}  // namespace

std::string go_quoted_list(const std::vector<std::string>& words) {
    std::string out = "[";
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i) out += ' ';
        out += detail::go_quote(words[i]);
    }
    return out + "]";
}

std::string go_plain_list(const std::vector<std::string>& words) {
    std::string out = "[";
    for (std::size_t i = 0; i < words.size(); ++i)
        out += (i ? " " : "") + words[i];
    return out + "]";
}

std::string go_quote_rune(std::int64_t rune) {
    static const char* const hex = "0123456789abcdef";
    switch (rune) {
        case 7:
            return "'\\a'";
        case 8:
            return "'\\b'";
        case 9:
            return "'\\t'";
        case 10:
            return "'\\n'";
        case 11:
            return "'\\v'";
        case 12:
            return "'\\f'";
        case 13:
            return "'\\r'";
        case '\'':
            return "'\\''";
        case '\\':
            return "'\\\\'";
        default:
            break;
    }
    if (rune >= 0x20 && rune < 0x7f) return std::string("'") + static_cast<char>(rune) + "'";
    if (rune >= 0 && rune < 0x80) {
        return std::string("'\\x") + hex[(rune >> 4) & 0xf] + hex[rune & 0xf] + "'";
    }
    if (rune < 0 || rune > 0x10ffff || (rune >= 0xd800 && rune <= 0xdfff)) return "'\\ufffd'";
    const auto r = static_cast<char32_t>(rune);
    if (detail::is_go_printable(r)) {
        std::string utf8;
        if (r < 0x800) {
            utf8 += static_cast<char>(0xc0 | (r >> 6));
        } else if (r < 0x10000) {
            utf8 += static_cast<char>(0xe0 | (r >> 12));
            utf8 += static_cast<char>(0x80 | ((r >> 6) & 0x3f));
        } else {
            utf8 += static_cast<char>(0xf0 | (r >> 18));
            utf8 += static_cast<char>(0x80 | ((r >> 12) & 0x3f));
            utf8 += static_cast<char>(0x80 | ((r >> 6) & 0x3f));
        }
        utf8 += static_cast<char>(0x80 | (r & 0x3f));
        return "'" + utf8 + "'";
    }
    std::string out = r < 0x10000 ? "'\\u" : "'\\U";
    for (int shift = r < 0x10000 ? 12 : 28; shift >= 0; shift -= 4)
        out += hex[(r >> shift) & 0xf];
    return out + "'";
}

std::string go_quoted_health(const health_config& health) {
    return "&{" + go_quoted_list(health.test.value_or(std::vector<std::string>{})) + " \"" +
           format_go_duration(health.interval) + "\" \"" + format_go_duration(health.timeout) +
           "\" \"" + format_go_duration(health.start_period) + "\" " +
           go_quote_rune(health.retries) + "}";
}

bool is_valid_signal(std::string_view signal) {
    int number = 0;
    const auto [end, status] =
        std::from_chars(signal.data(), signal.data() + signal.size(), number);
    if (!signal.empty() && status == std::errc() && end == signal.data() + signal.size()) {
        return number != 0;
    }
    std::string name;
    for (char c : signal)
        name += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
    if (name.rfind("SIG", 0) == 0) name.erase(0, 3);
    static const std::vector<std::string> names{
        "ABRT", "ALRM",   "BUS",   "CHLD", "CLD",  "CONT",  "FPE",  "HUP",    "ILL",  "INT",
        "IO",   "IOT",    "KILL",  "PIPE", "POLL", "PROF",  "PWR",  "QUIT",   "SEGV", "STKFLT",
        "STOP", "SYS",    "TERM",  "TRAP", "TSTP", "TTIN",  "TTOU", "UNUSED", "URG",  "USR1",
        "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX"};
    if (std::find(names.begin(), names.end(), name) != names.end()) return true;
    for (int i = 1; i <= 15; ++i) {
        if (name == "RTMIN+" + std::to_string(i) || name == "RTMAX-" + std::to_string(i))
            return true;
    }
    return false;
}

std::string dispatch_env(stage_state& state, const env_instruction& inst,
                         const word_expander& expand) {
    std::string comment = "ENV";
    std::vector<std::string>& env =
        state.run_config.env.emplace(state.run_config.env.value_or(std::vector<std::string>{}));
    for (const key_value& pair : inst.variables) {
        const std::string key = expand.word(pair.key);
        const std::string entry = key + "=" + expand.word(pair.value);
        comment += " " + entry;
        const auto same = std::find_if(env.begin(), env.end(), [&](const std::string& e) {
            return e.substr(0, e.find('=')) == key;
        });
        if (same != env.end()) {
            *same = entry;
        } else {
            env.push_back(entry);
        }
    }
    return comment;
}

std::string dispatch_label(stage_state& state, const label_instruction& inst,
                           const word_expander& expand, bool expand_words) {
    auto& labels = state.run_config.labels.emplace(
        state.run_config.labels.value_or(std::map<std::string, std::string>{}));
    std::string comment = "LABEL";
    for (const key_value& pair : inst.labels) {
        const std::string key = expand_words ? expand.word(pair.key) : pair.key;
        const std::string value = expand_words ? expand.word(pair.value) : pair.value;
        labels[key] = value;
        comment += " " + key + "=" + value;
    }
    return comment;
}

std::string dispatch_maintainer(stage_state& state, const maintainer_instruction& inst) {
    state.maintainer = inst.maintainer;
    return "MAINTAINER " + inst.maintainer;
}

std::string dispatch_cmd(stage_state& state, const cmd_instruction& inst) {
    state.run_config.cmd = resolve_command(state, inst.command);
    state.run_config.args_escaped = false;
    if (!inst.command.words.empty()) state.cmd_set = true;
    return "CMD " + go_quoted_list(*state.run_config.cmd);
}

std::string dispatch_entrypoint(stage_state& state, const entrypoint_instruction& inst) {
    std::vector<std::string> argv = resolve_command(state, inst.command);
    // An empty exec form is stored as nil, unlike CMD [].
    if (argv.empty()) {
        state.run_config.entrypoint.reset();
    } else {
        state.run_config.entrypoint = argv;
    }
    state.run_config.args_escaped = false;
    if (!state.cmd_set) state.run_config.cmd.reset();
    return "ENTRYPOINT " + go_quoted_list(argv);
}

std::string dispatch_user(stage_state& state, const user_instruction& inst,
                          const word_expander& expand) {
    state.run_config.user = expand.word(inst.user);
    return "USER " + state.run_config.user;
}

std::string dispatch_expose(stage_state& state, const expose_instruction& inst,
                            const word_expander& expand) {
    std::vector<std::string> ports;
    for (const std::string& port : inst.ports) {
        for (std::string& word : expand.words(port))
            ports.push_back(std::move(word));
    }
    auto& exposed = state.run_config.exposed_ports.emplace(
        state.run_config.exposed_ports.value_or(std::set<std::string>{}));
    std::string comment = "EXPOSE";
    for (const std::string& port : ports) {
        for (std::string& key : port_keys(port, inst))
            exposed.insert(std::move(key));
        comment += " " + port;
    }
    return comment;
}

std::string dispatch_volume(stage_state& state, const volume_instruction& inst,
                            const word_expander& expand) {
    auto& volumes = state.run_config.volumes.emplace(
        state.run_config.volumes.value_or(std::set<std::string>{}));
    std::vector<std::string> paths;
    for (const std::string& path : inst.volumes) {
        std::string expanded = expand.word(path);
        if (expanded.empty()) {
            fail(inst, "VOLUME", "VOLUME specified can not be an empty string", path);
        }
        volumes.insert(expanded);
        paths.push_back(std::move(expanded));
    }
    return "VOLUME " + go_plain_list(paths);
}

std::string dispatch_stopsignal(stage_state& state, const stopsignal_instruction& inst,
                                const word_expander& expand) {
    const std::string signal = expand.word(inst.signal);
    if (!is_valid_signal(signal)) fail(inst, "STOPSIGNAL", "Invalid signal: " + signal, signal);
    state.run_config.stop_signal = signal;
    return "STOPSIGNAL " + signal;
}

std::string dispatch_healthcheck(stage_state& state, const healthcheck_instruction& inst) {
    health_config health;
    health.test = inst.test;
    health.interval = inst.interval.count();
    health.timeout = inst.timeout.count();
    health.start_period = inst.start_period.count();
    health.retries = inst.retries;
    // History shows the instruction as written; the stored config takes every unset field
    // from the health check in force, as Docker's config merge does.
    const std::string comment = "HEALTHCHECK " + go_quoted_health(health);
    if (const auto& previous = state.run_config.healthcheck) {
        if (health.interval == 0) health.interval = previous->interval;
        if (health.timeout == 0) health.timeout = previous->timeout;
        if (health.start_period == 0) health.start_period = previous->start_period;
        if (health.retries == 0) health.retries = previous->retries;
    }
    state.run_config.healthcheck = health;
    return comment;
}

std::string dispatch_shell(stage_state& state, const shell_instruction& inst) {
    state.run_config.shell = inst.shell;
    return "SHELL " + go_plain_list(inst.shell);
}

std::string dispatch_onbuild(stage_state& state, const onbuild_instruction& inst) {
    auto& triggers = state.run_config.on_build.emplace(
        state.run_config.on_build.value_or(std::vector<std::string>{}));
    triggers.push_back(inst.expression);
    return "ONBUILD " + inst.expression;
}

std::string dispatch_arg(stage_state& state, const arg_instruction& inst,
                         const word_expander& expand) {
    std::string comment = "ARG ";
    for (std::size_t i = 0; i < inst.arguments.size(); ++i) {
        const arg_definition& arg = inst.arguments[i];
        const std::string name = expand.word(arg.name);
        std::optional<std::string> value;
        if (arg.default_value) value = expand.word(*arg.default_value);
        if (i) comment += ' ';
        comment += name;
        if (value) comment += "=" + *value;
        state.args.declare(name, value);
    }
    return comment;
}

}  // namespace dockwright
