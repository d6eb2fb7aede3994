// Builder<Backend>: evaluates a checked Dockerfile stage by stage, one dispatcher per
// instruction, as Docker 20.10's classic builder does.
#pragma once

#include <unistd.h>

#include <chrono>
#include <dockwright/build/stage_state.hpp>
#include <fstream>
#include <string>
#include <variant>
// (stage_state.hpp first, see there)
#include <dockwright/build/backend.hpp>
#include <dockwright/build/build_error.hpp>
#include <dockwright/build/build_event.hpp>
#include <dockwright/build/build_options.hpp>
#include <dockwright/build/build_result.hpp>
#include <dockwright/build/config_dispatchers.hpp>
#include <dockwright/build/context_hash.hpp>
#include <dockwright/build/stage_state.hpp>
#include <dockwright/build/step_support.hpp>
#include <dockwright/build/url_source.hpp>

namespace dockwright {

/// Evaluates a Dockerfile into images through a Backend.
template <Backend B>
class builder {
  public:
    builder(B& backend, build_options options, build_event_sink sink = {})
        : backend_(backend),
          options_(std::move(options)),
          sink_(std::move(sink)),
          lexer_(shell_lexer_options{'\\', !options_.classic}),
          context_(options_.context.empty()
                       ? std::nullopt
                       : std::optional<build_context_index>(
                             build_context_index(options_.context, options_.hash_cache, sink_))) {}

    /// Builds the stages up to the target. Throws the parser's and checker's errors,
    /// build_step_error for a failing step, and expansion_error for a bad word.
    build_result build(dockerfile file) {
        lexer_ = shell_lexer(shell_lexer_options{file.escape, !options_.classic});
        lexer_escape_ = file.escape;
        bk_ = options_.history == history_style::buildkit;
        if (bk_) {
            // BuildKit puts --label values into the config without history entries.
            bk_labels_ = std::move(options_.labels);
            options_.labels.clear();
        }
        const std::size_t label_steps = prepare_stages(file, options_);
        global_ = build_args(options_.build_args);
        total_ = count_steps(file);
        step_ = 0;
        build_result result;
        done_ = &result;
        for (const arg_instruction& meta : file.meta_args)
            dispatch_meta_arg(meta);
        total_stages_ = file.stages.size();
        for (std::size_t i = 0; i < file.stages.size(); ++i) {
            const std::size_t plain = i + 1 == file.stages.size()
                                          ? file.stages[i].instructions.size() - label_steps
                                          : file.stages[i].instructions.size();
            result.stages.push_back(
                build_stage_at(file.stages[i], static_cast<int>(i), plain, result));
        }
        if (std::string warning = global_.unconsumed_warning(); !warning.empty()) {
            result.warnings.push_back(warning);
            emit(sink_,
                 event(build_event_kind::warning, [&](build_event& e) { e.text = warning; }));
        }
        return result;
    }

  private:
    void announce(const instruction_source& inst) {
        ++step_;
        emit(sink_, event(build_event_kind::step_started, [&](build_event& e) {
                 e.step = step_;
                 e.total = total_;
                 e.instruction = inst.original;
                 e.line = inst.start_line;
             }));
    }

    void dispatch_meta_arg(const arg_instruction& meta) {
        announce(meta);
        std::vector<std::string> env;
        for (const auto& [name, value] : global_.allowed_values())
            env.push_back(name + "=" + value);
        const word_expander expand(lexer_, env, where(meta), "ARG");
        for (const arg_definition& arg : meta.arguments) {
            std::optional<std::string> value;
            if (arg.default_value) value = expand.word(*arg.default_value);
            global_.declare_meta(expand.word(arg.name), value);
        }
    }

    stage_result build_stage_at(const build_stage& stage, int index, std::size_t plain,
                                const build_result& done) {
        announce(stage.from);
        stage_state state;
        state.args = global_.for_stage();
        stage_result out;
        stage_steps_ = &out.steps;
        out.index = index;
        out.name = stage.from.stage_name;
        begin_stage(state, stage.from, done, out);
        for (std::size_t i = 0; i < stage.instructions.size(); ++i) {
            const instruction& inst = stage.instructions[i];
            std::visit([&](const auto& typed) { announce(typed); }, inst);
            dispatch(state, inst, out, i < plain);
        }
        global_.merge_referenced(state.args);
        if (bk_) finish_buildkit_stage(state, out, done.stages.size() + 1 == total_stages_);
        out.image_id = state.image_id;
        out.config = state.current;
        emit(sink_, event(build_event_kind::stage_finished,
                          [&](build_event& e) { e.image_id = state.image_id; }));
        return out;
    }

    void begin_stage(stage_state& state, const from_instruction& from, const build_result& done,
                     stage_result& out) {
        std::vector<std::string> meta;
        for (const auto& [name, value] : global_.meta_values())
            meta.push_back(name + "=" + value);
        const std::string name =
            word_expander(lexer_, meta, where(from), "FROM").word(from.base_name);
        if (name.empty()) {
            step_failure(from, "FROM", "base name (" + from.base_name + ") should not be blank");
        }
        out.base = name;
        state.name = from.stage_name;
        if (const stage_result* earlier = find_stage(done, name, false)) {
            state.image_id = earlier->image_id;
            state.current = earlier->config;
        } else if (name != "scratch") {
            std::optional<base_image> base;
            try {
                base = backend_.lookup_image(name);
            } catch (const error& e) {
                step_failure(from, "FROM", e.what());
            }
            if (!base) {
                step_failure(from, "FROM",
                             "pull access denied for " + name +
                                 ", repository does not exist or may require 'docker login'");
            }
            state.image_id = base->id;
            state.current = std::move(base->config);
        } else {
            state.current = image{};
            state.current.architecture = options_.architecture;
            state.current.os = options_.os;
            if (bk_) {
                state.current.config.emplace();
                state.current.config->working_dir = "/";
            }
        }
        emit(sink_, event(build_event_kind::base, [&](build_event& e) {
                 e.step = step_;
                 e.image_id = state.image_id;
             }));
        out.base_history = state.current.history.size();
        state.run_config = state.current.config.value_or(config{});
        state.run_config.image = state.image_id ? state.image_id->str() : std::string();
        std::vector<std::string>& env =
            state.run_config.env.emplace(state.run_config.env.value_or(std::vector<std::string>{}));
        const bool has_path = std::any_of(env.begin(), env.end(), [](const std::string& e) {
            return e.substr(0, e.find('=')) == "PATH";
        });
        if (!has_path) env.emplace_back(default_path_env);
        state.run_config.open_stdin = false;
        state.run_config.stdin_once = false;
        if (state.run_config.on_build && !state.run_config.on_build->empty()) {
            const std::vector<std::string> triggers = *state.run_config.on_build;
            state.run_config.on_build.reset();
            emit(sink_, event(build_event_kind::triggers,
                              [&](build_event& e) { e.count = int(triggers.size()); }));
            for (const std::string& trigger : triggers) {
                dispatch(state, parse_trigger(trigger, options_), out, true);
            }
        }
    }

    void dispatch(stage_state& state, const instruction& inst, stage_result& out, bool expand) {
        std::visit([&](const auto& typed) { dispatch_one(state, typed, out, expand); }, inst);
    }

    template <class Inst>
    void dispatch_one(stage_state& state, const Inst& inst, stage_result& out, bool expand) {
        const std::string keyword(keyword_of(inst));
        const word_expander words(lexer_, state.expansion_env(), where(inst), keyword);
        if constexpr (std::is_same_v<Inst, run_instruction>) {
            run_step(state, inst, words, out);
        } else if constexpr (std::is_same_v<Inst, copy_instruction> ||
                             std::is_same_v<Inst, add_instruction>) {
            copy_step(state, inst, words, out);
        } else if constexpr (std::is_same_v<Inst, workdir_instruction>) {
            workdir_step(state, inst, words, out);
        } else {
            std::string comment;
            if constexpr (std::is_same_v<Inst, env_instruction>) {
                comment = dispatch_env(state, inst, words);
            } else if constexpr (std::is_same_v<Inst, label_instruction>) {
                comment = dispatch_label(state, inst, words, expand);
            } else if constexpr (std::is_same_v<Inst, maintainer_instruction>) {
                comment = dispatch_maintainer(state, inst);
            } else if constexpr (std::is_same_v<Inst, cmd_instruction>) {
                comment = dispatch_cmd(state, inst);
                if (bk_) state.run_config.args_escaped = true;
            } else if constexpr (std::is_same_v<Inst, entrypoint_instruction>) {
                comment = dispatch_entrypoint(state, inst);
            } else if constexpr (std::is_same_v<Inst, user_instruction>) {
                comment = dispatch_user(state, inst, words);
            } else if constexpr (std::is_same_v<Inst, expose_instruction>) {
                if (bk_) {
                    // BuildKit's history lists the ports of this instruction alone.
                    stage_state alone = state;
                    alone.run_config.exposed_ports.reset();
                    dispatch_expose(alone, inst, words);
                    comment = buildkit_expose({}, alone.run_config.exposed_ports);
                    dispatch_expose(state, inst, words);
                } else {
                    comment = dispatch_expose(state, inst, words);
                }
            } else if constexpr (std::is_same_v<Inst, volume_instruction>) {
                comment = dispatch_volume(state, inst, words);
            } else if constexpr (std::is_same_v<Inst, stopsignal_instruction>) {
                comment = dispatch_stopsignal(state, inst, words);
            } else if constexpr (std::is_same_v<Inst, healthcheck_instruction>) {
                // BuildKit replaces the whole healthcheck instead of inheriting unset fields.
                if (bk_) state.run_config.healthcheck.reset();
                comment = dispatch_healthcheck(state, inst);
            } else if constexpr (std::is_same_v<Inst, shell_instruction>) {
                comment = dispatch_shell(state, inst);
            } else if constexpr (std::is_same_v<Inst, onbuild_instruction>) {
                comment = dispatch_onbuild(state, inst);
                if (bk_) return;  // BuildKit records ONBUILD in the config only
            } else {
                static_assert(std::is_same_v<Inst, arg_instruction>);
                comment = dispatch_arg(state, inst, words);
                for (const arg_definition& arg : inst.arguments)
                    state.declared.push_back(words.word(arg.name));
            }
            commit_metadata(state, comment, {keyword, inst.start_line});
        }
    }

    void commit_metadata(stage_state& state, const std::string& comment, step_record record) {
        bk_text_ = comment;
        config container = state.run_config;
        std::vector<std::string> cmd = state.shell();
        cmd.push_back("#(nop) ");
        cmd.push_back(comment);
        container.cmd = cmd;
        record.layer = layer_outcome::state::empty;
        if (cached(state, container, record)) return;
        const std::string id = backend_.create_container(state.image_id, container);
        emit(sink_,
             event(build_event_kind::container, [&](build_event& e) { e.container_id = id; }));
        mark_container(container, id);
        record.layer = layer_outcome::state::empty;
        finish(state, container, id, layer_outcome{layer_outcome::state::empty, {}, {}}, record);
        backend_.remove_container(id);
    }

    static void mark_container(config& container, const std::string& id) {
        container.hostname = id.substr(0, 12);
        if (!container.labels) container.labels.emplace();
    }

    void workdir_step(stage_state& state, const workdir_instruction& inst,
                      const word_expander& words, stage_result& out) {
        state.run_config.working_dir =
            resolve_workdir(state.run_config.working_dir, words.word(inst.path));
        config container = state.run_config;
        std::vector<std::string> cmd = state.shell();
        cmd.push_back("#(nop) WORKDIR " + state.run_config.working_dir);
        bk_text_ = "WORKDIR " + state.run_config.working_dir;
        container.cmd = cmd;
        if (cached(state, container,
                   {"WORKDIR", inst.start_line, true, layer_outcome::state::layer, true})) {
            return;
        }
        const std::string id = backend_.create_container(state.image_id, container);
        emit(sink_,
             event(build_event_kind::container, [&](build_event& e) { e.container_id = id; }));
        try {
            backend_.make_directory(id, state.run_config.working_dir);
        } catch (const error& e) {
            backend_.remove_container(id);
            step_failure(inst, "WORKDIR", e.what());
        }
        const layer_outcome layer = backend_.commit_layer(id);
        mark_container(container, id);
        step_record record{"WORKDIR", inst.start_line, true, layer.kind, true};
        finish(state, container, id, layer, record);
        backend_.remove_container(id);
        (void)out;
    }

    void run_step(stage_state& state, const run_instruction& inst, const word_expander& words,
                  stage_result& out) {
        if (options_.classic && !inst.mounts.empty()) {
            throw build_step_error(where(inst), "RUN", "Unknown flag: mount", "mount",
                                   "dockerfile parse error line " +
                                       std::to_string(inst.start_line) + ": Unknown flag: mount",
                                   1, true);
        }
        const std::vector<std::string> argv = run_argv(state, inst);
        const std::vector<std::string> env =
            state.run_config.env.value_or(std::vector<std::string>{});
        const std::vector<std::string> args = state.args.filter_allowed(env);
        std::vector<std::string> saved = argv;
        if (!args.empty()) saved = prefix_build_args(state.args, args, argv);
        bk_text_ = "RUN " + buildkit_run_text(state, argv) + " # buildkit";
        config container = state.run_config;
        container.cmd = saved;
        if (!saved.empty()) container.entrypoint.reset();
        if (cached(state, container,
                   {"RUN", inst.start_line, true, layer_outcome::state::layer, true})) {
            return;
        }
        const std::string id = backend_.create_container(state.image_id, container);
        emit(sink_,
             event(build_event_kind::container, [&](build_event& e) { e.container_id = id; }));
        run_spec spec{argv, env, state.run_config.user, state.run_config.working_dir, {}, {}, {}};
        for (const std::string& text : inst.mounts) {
            run_mount mount;
            try {
                mount = parse_run_mount(words.word(text));
            } catch (const invalid_value_error& e) {
                backend_.remove_container(id);
                step_failure(inst, "RUN", e.what());
            }
            mount.target = resolve_copy_destination(state.run_config.working_dir, mount.target);
            std::optional<digest> from;
            if (!mount.from.empty()) from = image_for_copy(mount.from, inst, "RUN");
            spec.mounts.emplace_back(std::move(mount), from);
        }
        if (!inst.network.empty() && inst.network != "none" && inst.network != "host" &&
            inst.network != "default") {
            backend_.remove_container(id);
            step_failure(
                inst, "RUN",
                "unsupported network mode \"" + inst.network + "\" (use default, none or host)");
        }
        if (!inst.security.empty() && inst.security != "sandbox") {
            backend_.remove_container(id);
            step_failure(inst, "RUN",
                         "--security=" + inst.security +
                             " is not allowed: dockwright runs every step sandboxed");
        }
        spec.network = inst.network;
        if (state.run_config.volumes && !bk_) {
            spec.volumes.assign(state.run_config.volumes->begin(), state.run_config.volumes->end());
        }
        spec.env.insert(spec.env.end(), args.begin(), args.end());
        run_outcome ran;
        try {
            ran = backend_.run(id, spec, sink_);
        } catch (const error& e) {
            backend_.remove_container(id);
            step_failure(inst, "RUN", e.what());
        }
        if (ran.executed && ran.exit_code != 0) {
            backend_.remove_container(id);
            const std::string message =
                "The command '" + join(argv) +
                "' returned a non-zero code: " + std::to_string(ran.exit_code);
            throw build_step_error(where(inst), "RUN", message, join(argv), message, ran.exit_code);
        }
        if (!ran.executed)
            emit(sink_,
                 event(build_event_kind::not_executed, [&](build_event& e) { e.step = step_; }));
        const layer_outcome layer = backend_.commit_layer(id);
        step_record record{"RUN", inst.start_line, ran.executed, layer.kind, true};
        finish(state, container, id, layer, record);
        backend_.remove_container(id);
        (void)out;
    }

    template <class Inst>
    void copy_step(stage_state& state, const Inst& inst, const word_expander& words,
                   stage_result& out) {
        constexpr bool is_add = std::is_same_v<Inst, add_instruction>;
        const std::string name = is_add ? "ADD" : "COPY";
        if (options_.classic && !inst.chmod.empty()) {
            step_failure(inst, name,
                         "the --chmod option requires BuildKit. Refer to "
                         "https://docs.docker.com/go/buildkit/ to learn how to build images "
                         "with BuildKit enabled");
        }
        copy_spec spec;
        for (const std::string& source : inst.sources)
            spec.source.paths.push_back(words.word(source));
        const std::string destination = words.word(inst.destination);
        spec.chown = words.word(inst.chown);
        spec.chmod = inst.chmod;
        spec.extract_archives = is_add;
        if constexpr (!is_add) spec.parents = inst.parents;
        for (const std::string& pattern : inst.excludes)
            spec.excludes.push_back(words.word(pattern));
        std::string from;
        if constexpr (!is_add) from = inst.from;
        step_record record{name, inst.start_line, true, layer_outcome::state::layer, true};
        std::string hash;
        if (!from.empty()) {
            spec.source.image_id = image_for_copy(from, inst, name);
            std::optional<std::string> known = backend_.source_hash(spec.source);
            record.hash_known = known.has_value();
            hash = known ? *known : std::string(unknown_source_hash);
            check_copy_destination(inst, name, spec.source.paths.size(), destination);
        } else {
            spec.context_sources =
                context_sources(inst, name, spec.source.paths, destination, words);
            spec.context = context_ ? &*context_ : nullptr;
            hash = combined_source_hash(spec.context_sources);
        }
        const std::string comment = name + " " +
                                    (spec.chown.empty() ? "" : "--chown=" + spec.chown) + hash +
                                    " in " + destination + " ";
        bk_text_ = name;
        for (const std::string& source : spec.source.paths)
            bk_text_ += " " + source;
        bk_text_ += " " + destination + " # buildkit";
        config container = state.run_config;
        std::vector<std::string> cmd = state.shell();
        cmd.push_back("#(nop) " + comment);
        container.cmd = cmd;
        spec.destination = resolve_copy_destination(state.run_config.working_dir, destination);
        if (cached(state, container, record)) return;
        const std::string id = backend_.create_container(state.image_id, container);
        try {
            backend_.copy(id, spec);
        } catch (const build_step_error&) {
            backend_.remove_container(id);
            throw;
        } catch (const error& e) {
            backend_.remove_container(id);
            step_failure(inst, name, e.what());
        }
        layer_outcome layer = backend_.commit_layer(id);
        if (layer.kind == layer_outcome::state::unknown) record.layer = layer.kind;
        finish(state, container, "", layer, record);
        backend_.remove_container(id);
        (void)out;
    }

    template <class Inst>
    std::vector<copy_source_info> context_sources(const Inst& inst, const std::string& name,
                                                  const std::vector<std::string>& sources,
                                                  const std::string& destination,
                                                  const word_expander& words) {
        std::vector<copy_source_info> infos;
        try {
            if (!context_ && !std::is_same_v<Inst, add_instruction>) {
                throw error("missing build context");
            }
            for (const std::string& source : sources) {
                if (std::is_same_v<Inst, add_instruction> && is_url_source(source)) {
                    infos.push_back(downloaded(source));
                    if constexpr (std::is_same_v<Inst, add_instruction>) {
                        if (!inst.checksum.empty())
                            verify_checksum(source, words.word(inst.checksum));
                    }
                    continue;
                }
                if (const heredoc* doc = heredoc_source(inst, source)) {
                    infos.push_back(inline_file(inst, *doc, words));
                    continue;
                }
                if (!context_) throw error("missing build context");
                for (copy_source_info& info : context_->resolve(source))
                    infos.push_back(info);
            }
            if (infos.empty()) throw error("no source files were specified");
        } catch (const build_step_error&) {
            throw;
        } catch (const error& e) {
            step_failure(inst, name, name + " failed: " + e.what());
        }
        check_copy_destination(inst, name, infos.size(), destination);
        return infos;
    }

    /// The heredoc a COPY/ADD source such as `<<EOF` names, outside classic mode.
    template <class Inst>
    const heredoc* heredoc_source(const Inst& inst, const std::string& source) const {
        if (options_.classic || !source.starts_with("<<")) return nullptr;
        std::string name = source.substr(2);
        if (name.starts_with("-")) name.erase(0, 1);
        std::erase_if(name, [](char c) { return c == '\'' || c == '"'; });
        for (const heredoc& doc : inst.heredocs) {
            if (doc.name == name) return &doc;
        }
        return nullptr;
    }

    /// Writes a heredoc's body as a file (mode 0664, as BuildKit's Mkfile) into a directory
    /// of its own; variables are expanded unless the delimiter was quoted.
    template <class Inst>
    copy_source_info inline_file(const Inst& inst, const heredoc& doc, const word_expander& words) {
        const std::string key = "<<" + std::to_string(inst.start_line) + ":" + doc.name;
        auto found = downloads_.find(key);
        if (found == downloads_.end()) {
            std::string body = doc.content;
            if (doc.expand) {
                // Quotes and escapes in a heredoc are text: escape them so that only
                // variables are expanded.
                std::string escaped;
                for (const char c : body) {
                    if (c == '"' || c == '\'' || c == lexer_escape_) escaped += lexer_escape_;
                    escaped += c;
                }
                body = words.word(escaped);
            }
            const std::filesystem::path dir =
                std::filesystem::temp_directory_path() / ("dockwright-heredoc-" + random_suffix());
            std::filesystem::create_directories(dir);
            {
                std::ofstream out(dir / doc.name, std::ios::binary);
                out << body;
                if (!out)
                    throw error("cannot write the heredoc " + doc.name + " to " + dir.string());
            }
            std::filesystem::permissions(dir / doc.name, std::filesystem::perms(0664));
            found = downloads_.emplace(key, downloaded_source{dir, doc.name}).first;
        }
        copy_source_info info = tree_source_info(found->second.dir, found->second.filename);
        info.root = found->second.dir;
        return info;
    }

    static std::string random_suffix() {
        static unsigned long counter = 0;
        return std::to_string(::getpid()) + "-" + std::to_string(++counter);
    }

    /// `ADD --checksum=sha256:<hex>`: the downloaded file must have this digest.
    void verify_checksum(const std::string& url, const std::string& expected) {
        const downloaded_source& file = downloads_.at(url);
        std::optional<digest> wanted;
        try {
            wanted = digest::parse(expected);
        } catch (const error&) {
            throw error("invalid checksum digest format " + expected +
                        " (use sha256:<64 hex digits>)");
        }
        hasher h;
        std::ifstream in(file.dir / file.filename, std::ios::binary);
        std::vector<char> buffer(1 << 20);
        while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) ||
               in.gcount() > 0) {
            h.update(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
        }
        const digest actual = h.finish();
        if (actual != *wanted) {
            throw error("digest mismatch " + actual.str() + ": " + wanted->str() +
                        " (the file at " + url + " changed, or --checksum is wrong)");
        }
    }

    /// Downloads an ADD URL once per build; the file is hashed as the engine hashes it.
    copy_source_info downloaded(const std::string& url) {
        auto found = downloads_.find(url);
        if (found == downloads_.end()) {
            downloaded_source fetched =
                download_source(url, std::filesystem::temp_directory_path());
            found = downloads_.emplace(url, std::move(fetched)).first;
        }
        copy_source_info info = tree_source_info(found->second.dir, found->second.filename);
        info.root = found->second.dir;
        return info;
    }

    template <class Inst>
    void check_copy_destination(const Inst& inst, const std::string& name, std::size_t count,
                                const std::string& destination) {
        if (count > 1 && (destination.empty() || destination.back() != '/')) {
            step_failure(inst, name,
                         "When using " + name +
                             " with more than one source file, the destination must be a "
                             "directory and end with a /");
        }
    }

    template <class Inst>
    digest image_for_copy(const std::string& from, const Inst& inst, const std::string& name) {
        if (const stage_result* stage = find_stage(current_result_view(), from, true)) {
            if (stage->image_id) return *stage->image_id;
        }
        std::optional<base_image> found;
        try {
            found = backend_.lookup_image(from);
        } catch (const error& e) {
            step_failure(inst, name, "invalid from flag value " + from + ": " + e.what());
        }
        if (!found) {
            step_failure(inst, name,
                         "invalid from flag value " + from + ": pull access denied for " + from +
                             ", repository does not exist or may require 'docker login'");
        }
        return found->id;
    }

    const build_result& current_result_view() const { return *done_; }

    /// Probes the build cache for the commit `container` describes; on a hit the stage moves
    /// to the cached image and the step is done.
    bool cached(stage_state& state, const config& container, step_record record) {
        if (options_.no_cache) return false;
        cache_probe probe = backend_.probe_cache(state.image_id, container);
        emit(sink_, event(build_event_kind::cache, [&](build_event& e) {
                 e.step = step_;
                 e.cache_hit = probe.hit.has_value();
                 e.cache_reason = probe.reason;
             }));
        if (!probe.hit) return false;
        state.image_id = probe.hit->id;
        state.current = std::move(probe.hit->config);
        state.run_config.image = state.image_id->str();
        if (!state.current.history.empty() && state.current.history.back().empty_layer) {
            record.layer = layer_outcome::state::empty;
        }
        stage_steps_->push_back(record);
        emit(sink_, event(build_event_kind::step_finished, [&](build_event& e) {
                 e.step = step_;
                 e.image_id = state.image_id;
                 e.cache_hit = true;
             }));
        return true;
    }

    void finish(stage_state& state, const config& container, const std::string& container_id,
                const layer_outcome& layer, const step_record& record) {
        image next = state.current;
        const timestamp created = options_.created.value_or(timestamp::now());
        next.id.clear();
        next.parent.clear();
        next.comment.clear();
        next.extra.clear();
        next.size = 0;
        next.config = state.run_config;
        next.container_config = container;
        next.container = container_id;
        next.author = state.maintainer;
        next.created = created;
        next.docker_version = options_.docker_version;
        if (next.architecture.empty()) next.architecture = options_.architecture;
        next.os = options_.os;
        if (!next.rootfs) next.rootfs.emplace();
        if (layer.kind == layer_outcome::state::layer && layer.diff_id) {
            next.rootfs->diff_ids.push_back(*layer.diff_id);
        }
        history entry;
        entry.created = created;
        entry.author = state.maintainer;
        entry.created_by = join(container.cmd.value_or(std::vector<std::string>{}));
        entry.empty_layer = layer.kind == layer_outcome::state::empty;
        if (bk_) {
            next.container_config = config{};
            next.container.clear();
            next.docker_version.clear();
            entry.created_by = bk_text_;
            entry.comment = "buildkit.dockerfile.v0";
            entry.author.clear();
            // Metadata steps take their time from the layers around them at the stage's end.
            if (entry.empty_layer) bk_metadata_.push_back(next.history.size());
        }
        next.history.push_back(entry);
        const digest id = backend_.store_image(next);
        state.current = std::move(next);
        state.image_id = id;
        state.run_config.image = id.str();
        stage_steps_->push_back(record);
        emit(sink_, event(build_event_kind::step_finished, [&](build_event& e) {
                 e.step = step_;
                 e.image_id = id;
                 e.layer_digest = layer.diff_id;
                 e.layer_size = layer.size;
             }));
    }

    template <class Inst>
    [[noreturn]] void step_failure(const Inst& inst, const std::string& keyword,
                                   const std::string& message) {
        throw build_step_error(where(inst), keyword, message, inst.original, message);
    }

    template <class Fill>
    static build_event event(build_event_kind kind, Fill fill) {
        build_event e;
        e.kind = kind;
        fill(e);
        return e;
    }

    source_location where(const instruction_source& inst) const {
        return {options_.dockerfile_name, inst.start_line, inst.end_line};
    }

    /// BuildKit's EXPOSE history text: the ports of this instruction as a Go map.
    static std::string buildkit_expose(const std::set<std::string>& before,
                                       const std::optional<std::set<std::string>>& after) {
        std::string text = "EXPOSE map[";
        bool first = true;
        for (const std::string& port : after.value_or(std::set<std::string>{})) {
            if (before.contains(port)) continue;
            text += (first ? "" : " ") + port + ":{}";
            first = false;
        }
        return text + "]";
    }

    /// BuildKit 0.8's RUN history: every ARG declared in the stage so far, in order and
    /// repeated when declared again, with its current value (empty when it has none).
    static std::string buildkit_run_text(const stage_state& state,
                                         const std::vector<std::string>& argv) {
        const std::map<std::string, std::string> values = state.args.allowed_values();
        std::vector<std::string> words;
        for (const std::string& name : state.declared) {
            const auto found = values.find(name);
            words.push_back(name + "=" + (found != values.end() ? found->second : ""));
        }
        std::string text;
        if (!words.empty()) text = "|" + std::to_string(words.size()) + " " + join(words) + " ";
        return text + join(argv);
    }

    /// Gives metadata history entries the time of the first new layer, or of the layer before
    /// them, as BuildKit's exporter does; sets the image's time to the last entry's and
    /// stores the final image of the stage again.
    void finish_buildkit_stage(stage_state& state, const stage_result& out, bool target) {
        std::vector<history>& entries = state.current.history;
        if (!out.steps.empty()) state.current.config = state.run_config;
        if (target && !bk_labels_.empty()) {
            config& settings =
                state.current.config.emplace(state.current.config.value_or(config{}));
            auto& labels = settings.labels.emplace(
                settings.labels.value_or(std::map<std::string, std::string>{}));
            for (const auto& [name, value] : bk_labels_)
                labels[name] = value;
        }
        if (state.image_id || !entries.empty()) {
            std::set<std::size_t> open(bk_metadata_.begin(), bk_metadata_.end());
            std::optional<timestamp> created;
            bool seen_open = false;
            for (std::size_t i = 0; i < entries.size(); ++i) {
                if (!open.contains(i)) {
                    created = entries[i].created;
                    if (seen_open) break;
                } else {
                    seen_open = true;
                }
            }
            seen_open = false;
            for (std::size_t i = 0; i < entries.size(); ++i) {
                if (!open.contains(i)) {
                    if (seen_open) created = entries[i].created;
                } else {
                    seen_open = true;
                    if (created) entries[i].created = *created;
                }
            }
            if (!entries.empty()) state.current.created = entries.back().created;
            if (out.steps.empty() && !target) return;
            if (out.steps.empty()) {
                // BuildKit still writes a new image for a bare FROM: the base config with
                // the PATH it adds.
                state.current.config.emplace(state.current.config.value_or(config{})).env =
                    state.run_config.env;
                state.current.container_config = config{};
                state.current.container.clear();
                state.current.docker_version.clear();
            }
            state.image_id = backend_.store_image(state.current);
            state.run_config.image = state.image_id->str();
        }
        bk_metadata_.clear();
    }

    B& backend_;
    build_options options_;
    build_event_sink sink_;
    shell_lexer lexer_;
    std::optional<build_context_index> context_;
    build_args global_;
    int total_ = 0;
    int step_ = 0;
    bool bk_ = false;
    char lexer_escape_ = '\\';
    std::map<std::string, std::string> bk_labels_;
    std::string bk_text_;
    std::vector<std::size_t> bk_metadata_;
    /// ADD URLs downloaded during this build, removed with the builder.
    struct download_dirs : std::map<std::string, downloaded_source> {
        download_dirs() = default;
        download_dirs(const download_dirs&) = delete;
        download_dirs& operator=(const download_dirs&) = delete;
        ~download_dirs() {
            for (const auto& [url, source] : *this) {
                std::error_code ignored;
                std::filesystem::remove_all(source.dir, ignored);
            }
        }
    } downloads_;
    std::size_t total_stages_ = 0;
    const build_result* done_ = nullptr;
    std::vector<step_record>* stage_steps_ = nullptr;
};

}  // namespace dockwright
