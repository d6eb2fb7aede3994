// The instruction check: syntax-tree nodes to typed instructions and build stages, with the
// validation and messages of Docker's instructions.Parse.
#include <algorithm>
#include <charconv>
#include <dockwright/dockerfile/detail/go_duration.hpp>
#include <dockwright/dockerfile/detail/go_text.hpp>
#include <dockwright/dockerfile/detail/instruction_flags.hpp>
#include <dockwright/dockerfile/detail/utf8.hpp>
#include <dockwright/dockerfile/dump.hpp>
#include <dockwright/dockerfile/instructions.hpp>
#include <map>

namespace dockwright {

namespace {

using detail::check_failure;
using detail::flag_set;
using detail::reject;

/// Whether `c` is white space for Go's regexp `\s`.
constexpr bool is_regexp_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

std::string upper(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 0x20);
    }
    return out;
}

/// The input of one conversion: a node with its arguments (Docker's nodeArgs) and flags.
struct request {
    const ast_node& node;
    std::string keyword;  ///< Upper case.
    std::vector<std::string> args;
    flag_set flags;
    bool classic;

    [[nodiscard]] instruction_source source() const {
        return {node.start_line, node.end_line, node.original};
    }
};

std::vector<std::string> node_arguments(const ast_node& node) {
    std::vector<std::string> args = node.arguments;
    for (const ast_node& trigger : node.trigger) {
        args.push_back(detail::go_to_lower(trigger.keyword));
        args.push_back(dump_node(trigger));
    }
    return args;
}

/// Creates an instruction with its source fields set, then lets `fill` set the rest.
template <class Instruction, class Fill>
Instruction with_source(const request& req, Fill fill) {
    Instruction value{};
    static_cast<instruction_source&>(value) = req.source();
    fill(value);
    return value;
}

template <class Instruction>
Instruction with_source(const request& req) {
    return with_source<Instruction>(req, [](Instruction&) {});
}

void require_exactly_one(const request& req) {
    if (req.args.size() != 1) {
        reject("requires exactly one argument", req.node.original,
               req.keyword + " requires exactly one argument");
    }
}

void require_at_least_one(const request& req, std::size_t count) {
    if (count == 0) {
        reject("requires at least one argument", req.node.original,
               req.keyword + " requires at least one argument");
    }
}

command_line shell_dependent(const request& req) {
    command_line command;
    command.shell_form = !req.node.json;
    if (req.args.empty()) return command;
    if (req.node.json) {
        command.words = req.args;
        return command;
    }
    std::string joined;
    for (std::size_t i = 0; i < req.args.size(); ++i) {
        if (i > 0) joined += ' ';
        joined += req.args[i];
    }
    command.words.push_back(std::move(joined));
    return command;
}

std::vector<key_value> key_values(const request& req) {
    // The parser stores (key, value, separator) triples.
    require_at_least_one(req, req.args.size());
    std::vector<key_value> pairs;
    for (std::size_t i = 0; i + 1 < req.args.size(); i += 3) {
        if (req.args[i].empty()) {
            reject("name must not be empty", req.node.original,
                   req.keyword + " names can not be blank");
        }
        pairs.push_back({req.args[i], req.args[i + 1]});
    }
    return pairs;
}

void split_sources(const request& req, std::vector<std::string>& sources,
                   std::string& destination) {
    if (req.args.size() < 2 && req.node.heredocs.empty()) {
        reject("requires at least two arguments, a source and a destination", req.node.original,
               req.keyword +
                   " requires at least two arguments, but only one was provided. Destination "
                   "could not be determined");
    }
    if (req.args.empty()) return;
    sources.assign(req.args.begin(), req.args.end() - 1);
    destination = req.args.back();
}

from_instruction make_from(request& req) {
    auto from = with_source<from_instruction>(req);
    if (req.args.size() == 3 && detail::go_to_lower(req.args[1]) == "as") {
        from.stage_name = detail::go_to_lower(req.args[2]);
        const std::string& name = from.stage_name;
        const bool valid = !name.empty() && name[0] >= 'a' && name[0] <= 'z' &&
                           std::all_of(name.begin(), name.end(), [](char c) {
                               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                      c == '-' || c == '_' || c == '.';
                           });
        if (!valid) {
            reject(
                "invalid stage name: it must start with a letter and contain only letters, "
                "digits, '-', '_' and '.'",
                req.args[2],
                "invalid name for build stage: " + detail::go_quote(req.args[2]) +
                    ", name can't start with a number or contain symbols");
        }
    } else if (req.args.size() != 1) {
        reject("requires either one or three arguments (image [AS name])", req.node.original,
               "FROM requires either one or three arguments");
    }
    req.flags.add("platform", flag_set::kind::string);
    req.flags.parse();
    from.base_name = req.args[0];
    from.platform = req.flags.string("platform");
    return from;
}

std::chrono::nanoseconds parse_interval(const request& req, const std::string& name) {
    const std::string text = req.flags.string(name);
    if (text.empty()) return std::chrono::nanoseconds{0};
    const auto parsed = detail::parse_go_duration(text);
    if (!parsed.error.empty()) reject("invalid duration for --" + name, text, parsed.error);
    if (parsed.value == std::chrono::nanoseconds{0} && !req.classic) return parsed.value;
    if (parsed.value < std::chrono::milliseconds{1}) {
        reject("--" + name + " must be at least 1ms", text,
               "Interval \"" + name + "\" cannot be less than 1ms");
    }
    return parsed.value;
}

healthcheck_instruction make_healthcheck(request& req) {
    require_at_least_one(req, req.args.size());
    auto health = with_source<healthcheck_instruction>(req);
    const std::string type = upper(req.args[0]);
    const std::vector<std::string> rest(req.args.begin() + 1, req.args.end());
    if (type == "NONE") {
        if (!rest.empty()) {
            reject("HEALTHCHECK NONE takes no arguments", req.node.original,
                   "HEALTHCHECK NONE takes no arguments");
        }
        health.test = {"NONE"};
        return health;
    }
    for (const char* name : {"interval", "timeout", "start-period", "retries"}) {
        req.flags.add(name, flag_set::kind::string);
    }
    if (!req.classic) req.flags.add("start-interval", flag_set::kind::string);
    req.flags.parse();
    if (type != "CMD") {
        reject("unknown HEALTHCHECK type, expected CMD or NONE", req.args[0],
               "Unknown type " + detail::go_quote(type) + " in HEALTHCHECK (try CMD)");
    }
    if (rest.empty()) {
        reject("missing command after HEALTHCHECK CMD", req.node.original,
               "Missing command after HEALTHCHECK CMD");
    }
    if (req.node.json) {
        health.test = {"CMD"};
        health.test.insert(health.test.end(), rest.begin(), rest.end());
    } else {
        std::string joined;
        for (std::size_t i = 0; i < rest.size(); ++i)
            joined += (i ? " " : "") + rest[i];
        health.test = {"CMD-SHELL", joined};
    }
    health.interval = parse_interval(req, "interval");
    health.timeout = parse_interval(req, "timeout");
    health.start_period = parse_interval(req, "start-period");
    if (!req.classic) health.start_interval = parse_interval(req, "start-interval");

    const std::string retries = req.flags.string("retries");
    if (!retries.empty()) {
        long long value = 0;
        const auto [end, status] =
            std::from_chars(retries.data(), retries.data() + retries.size(), value);
        const bool syntax_ok =
            status != std::errc::invalid_argument && end == retries.data() + retries.size();
        if (!syntax_ok || status == std::errc::result_out_of_range || value > INT32_MAX ||
            value < INT32_MIN) {
            reject("invalid number for --retries", retries,
                   "strconv.ParseInt: parsing " + detail::go_quote(retries) + ": " +
                       (syntax_ok ? "value out of range" : "invalid syntax"));
        }
        if (value < 1) {
            reject("--retries must be at least 1", retries,
                   "--retries must be at least 1 (not " + std::to_string(value) + ")");
        }
        health.retries = static_cast<int>(value);
    }
    return health;
}

arg_instruction make_arg(request& req) {
    require_at_least_one(req, req.args.size());
    req.flags.parse();
    auto arg = with_source<arg_instruction>(req);
    for (const std::string& word : req.args) {
        const std::size_t equals = word.find('=');
        if (equals == std::string::npos) {
            arg.arguments.push_back({word, std::nullopt});
            continue;
        }
        if (equals == 0) {
            reject("name must not be empty", word, "ARG names can not be blank");
        }
        arg.arguments.push_back({word.substr(0, equals), word.substr(equals + 1)});
    }
    return arg;
}

onbuild_instruction make_onbuild(request& req) {
    require_at_least_one(req, req.args.size());
    req.flags.parse();
    const std::string trigger = upper(detail::trim_space(req.args[0]));
    if (trigger == "ONBUILD") {
        reject("ONBUILD cannot trigger ONBUILD", trigger,
               "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    }
    if (trigger == "MAINTAINER" || trigger == "FROM") {
        reject("instruction is not allowed as an ONBUILD trigger", trigger,
               detail::go_quote(trigger) + " isn't allowed as an ONBUILD trigger");
    }
    auto onbuild = with_source<onbuild_instruction>(req);
    // The expression is the original line without the leading ONBUILD keyword.
    std::string_view expression = req.node.original;
    while (!expression.empty() && is_regexp_space(expression.front()))
        expression.remove_prefix(1);
    if (expression.size() >= 7 && upper(expression.substr(0, 7)) == "ONBUILD")
        expression.remove_prefix(7);
    while (!expression.empty() && is_regexp_space(expression.front()))
        expression.remove_prefix(1);
    onbuild.expression = std::string(expression);
    return onbuild;
}

instruction convert(request& req) {
    using kind = flag_set::kind;
    const std::string& k = req.keyword;
    if (k == "ENV" || k == "LABEL") {
        req.flags.parse();
        auto pairs = key_values(req);
        if (k == "ENV")
            return with_source<env_instruction>(
                req, [&](env_instruction& i) { i.variables = std::move(pairs); });
        return with_source<label_instruction>(
            req, [&](label_instruction& i) { i.labels = std::move(pairs); });
    }
    if (k == "MAINTAINER") {
        require_exactly_one(req);
        req.flags.parse();
        return with_source<maintainer_instruction>(
            req, [&](maintainer_instruction& i) { i.maintainer = req.args[0]; });
    }
    if (k == "ADD") {
        auto add = with_source<add_instruction>(req);
        split_sources(req, add.sources, add.destination);
        req.flags.add("chown", kind::string);
        req.flags.add("chmod", kind::string);
        if (!req.classic) {
            req.flags.add("checksum", kind::string);
            req.flags.add("keep-git-dir", kind::boolean);
            req.flags.add("link", kind::boolean);
            req.flags.add("exclude", kind::strings);
        }
        req.flags.parse();
        add.chown = req.flags.string("chown");
        add.chmod = req.flags.string("chmod");
        add.checksum = req.flags.string("checksum");
        add.keep_git_dir = req.flags.boolean("keep-git-dir");
        add.link = req.flags.boolean("link").value_or(false);
        add.excludes = req.flags.strings("exclude");
        add.json = req.node.json;
        add.heredocs = req.node.heredocs;
        return add;
    }
    if (k == "COPY") {
        auto copy = with_source<copy_instruction>(req);
        split_sources(req, copy.sources, copy.destination);
        req.flags.add("chown", kind::string);
        req.flags.add("from", kind::string);
        req.flags.add("chmod", kind::string);
        if (!req.classic) {
            req.flags.add("link", kind::boolean);
            req.flags.add("parents", kind::boolean);
            req.flags.add("exclude", kind::strings);
        }
        req.flags.parse();
        copy.chown = req.flags.string("chown");
        copy.from = req.flags.string("from");
        copy.chmod = req.flags.string("chmod");
        copy.link = req.flags.boolean("link").value_or(false);
        copy.parents = req.flags.boolean("parents").value_or(false);
        copy.excludes = req.flags.strings("exclude");
        copy.json = req.node.json;
        copy.heredocs = req.node.heredocs;
        return copy;
    }
    if (k == "ONBUILD") return make_onbuild(req);
    if (k == "WORKDIR" || k == "USER" || k == "STOPSIGNAL") {
        require_exactly_one(req);
        req.flags.parse();
        if (k == "WORKDIR")
            return with_source<workdir_instruction>(
                req, [&](workdir_instruction& i) { i.path = req.args[0]; });
        if (k == "USER")
            return with_source<user_instruction>(
                req, [&](user_instruction& i) { i.user = req.args[0]; });
        return with_source<stopsignal_instruction>(
            req, [&](stopsignal_instruction& i) { i.signal = req.args[0]; });
    }
    if (k == "RUN") {
        req.flags.add("mount", kind::strings);
        if (!req.classic) {
            req.flags.add("network", kind::string);
            req.flags.add("security", kind::string);
        }
        req.flags.parse();
        auto run = with_source<run_instruction>(req);
        run.command = shell_dependent(req);
        run.mounts = req.flags.strings("mount");
        run.network = req.flags.string("network");
        run.security = req.flags.string("security");
        run.heredocs = req.node.heredocs;
        return run;
    }
    if (k == "CMD" || k == "ENTRYPOINT") {
        req.flags.parse();
        if (k == "CMD")
            return with_source<cmd_instruction>(
                req, [&](cmd_instruction& i) { i.command = shell_dependent(req); });
        return with_source<entrypoint_instruction>(
            req, [&](entrypoint_instruction& i) { i.command = shell_dependent(req); });
    }
    if (k == "HEALTHCHECK") return make_healthcheck(req);
    if (k == "EXPOSE") {
        require_at_least_one(req, req.args.size());
        req.flags.parse();
        std::vector<std::string> ports = req.args;
        std::sort(ports.begin(), ports.end());
        return with_source<expose_instruction>(
            req, [&](expose_instruction& i) { i.ports = std::move(ports); });
    }
    if (k == "VOLUME") {
        require_at_least_one(req, req.args.size());
        req.flags.parse();
        auto volume = with_source<volume_instruction>(req);
        for (const std::string& path : req.args) {
            const std::string trimmed(detail::trim_space(path));
            if (trimmed.empty()) {
                reject("volume path must not be empty", req.node.original,
                       "VOLUME specified can not be an empty string");
            }
            volume.volumes.push_back(trimmed);
        }
        return volume;
    }
    if (k == "ARG") return make_arg(req);
    if (k == "SHELL") {
        req.flags.parse();
        command_line shell = shell_dependent(req);
        require_at_least_one(req, shell.words.size());
        if (!req.node.json) {
            reject("requires the arguments in JSON form", req.node.original,
                   "SHELL requires the arguments to be in JSON form");
        }
        return with_source<shell_instruction>(
            req, [&](shell_instruction& i) { i.shell = std::move(shell.words); });
    }
    reject("unknown instruction", k, "unknown instruction: " + k);
}

[[noreturn]] void rethrow(const check_failure& failure, const ast_node& node,
                          const instruction_options& options, bool with_prefix) {
    std::string docker = failure.docker_message;
    if (with_prefix) {
        docker = "dockerfile parse error line " + std::to_string(node.start_line) + ": " + docker;
    }
    throw dockerfile_instruction_error({options.file, node.start_line, node.end_line},
                                       upper(node.keyword), failure.reason, failure.value,
                                       std::move(docker));
}

}  // namespace

instruction make_instruction(const ast_node& node, const instruction_options& options) {
    request req{node, upper(node.keyword), node_arguments(node), flag_set(node.flags),
                options.dialect == dockerfile_dialect::classic};
    try {
        return convert(req);
    } catch (const check_failure& failure) {
        rethrow(failure, node, options, true);
    }
}

dockerfile check_instructions(const dockerfile_ast& ast, const instruction_options& options) {
    dockerfile result;
    result.directives = ast.directives;
    result.warnings = ast.warnings;
    result.escape = ast.escape;
    for (const ast_node& node : ast.children) {
        if (upper(node.keyword) == "FROM") {
            request req{node, "FROM", node_arguments(node), flag_set(node.flags),
                        options.dialect == dockerfile_dialect::classic};
            try {
                result.stages.push_back({make_from(req), {}});
            } catch (const check_failure& failure) {
                rethrow(failure, node, options, true);
            }
            continue;
        }
        instruction converted = make_instruction(node, options);
        if (result.stages.empty()) {
            if (auto* arg = std::get_if<arg_instruction>(&converted)) {
                result.meta_args.push_back(std::move(*arg));
                continue;
            }
            rethrow({"instruction before the first FROM", upper(node.keyword),
                     "no build stage in current context"},
                    node, options, false);
        }
        result.stages.back().instructions.push_back(std::move(converted));
    }
    return result;
}

}  // namespace dockwright
