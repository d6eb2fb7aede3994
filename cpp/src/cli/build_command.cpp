// `dockwright build`: docker build's command line on the local backend.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <dockwright/build/build_error.hpp>
#include <dockwright/build/build_image.hpp>
#include <dockwright/build/cache_export.hpp>
#include <dockwright/build/context_source.hpp>
#include <dockwright/build/image_export.hpp>
#include <dockwright/build/local_backend.hpp>
#include <dockwright/exec/cancel_token.hpp>
#include <dockwright/exec/container.hpp>
#include <dockwright/registry/manifest.hpp>
#include <dockwright/registry/store_source.hpp>
#include <dockwright/store/archive.hpp>
#include <dockwright/store/reference.hpp>
#include <dockwright/store/store.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "build_output.hpp"
#include "build_push.hpp"
#include "commands.hpp"
#include "human_units.hpp"

namespace dockwright::cli {

namespace {

namespace fs = std::filesystem;

struct build_settings {
    std::string location;
    std::string dockerfile;
    std::vector<std::string> tags;
    bool quiet = false;
    bool no_cache = false;
    bool remove = true;
    bool force_remove = false;
    bool pull = false;
    std::string memory;
    std::string memory_swap;
    std::string shm_size;
    std::int64_t cpu_shares = 0;
    std::int64_t cpu_period = 0;
    std::int64_t cpu_quota = 0;
    std::string cpuset_cpus;
    std::string cpuset_mems;
    std::string cgroup_parent;
    std::vector<std::string> build_args;
    std::string isolation;
    std::vector<std::string> labels;
    std::vector<std::string> ulimits;
    std::string target;
    std::string network = "default";
    std::string iidfile;
    std::string platform;
    std::string progress = "auto";
    std::vector<std::string> outputs;
    std::vector<std::string> secrets;
    std::vector<std::string> cache_to;
    std::vector<std::string> cache_from;
    bool reproducible = false;
    bool explain_cache = false;
    bool push = false;
    std::vector<std::string> insecure_registries;
    std::string ca_file;
    bool classic = false;
    std::string history_style = "classic";
};

/// Raised by the Ctrl-C handler; the running RUN watches it.
exec::cancel_token* active_cancel = nullptr;

extern "C" void on_interrupt(int) {
    if (active_cancel) active_cancel->cancel();
}

std::map<std::string, std::string> build_arg_values(const std::vector<std::string>& pairs) {
    std::map<std::string, std::string> out;
    for (const std::string& pair : pairs) {
        const std::size_t equals = pair.find('=');
        if (equals == std::string::npos) {
            // docker build --build-arg NAME takes the value from the environment, and drops
            // the argument when the variable is unset.
            if (const char* value = std::getenv(pair.c_str())) out[pair] = value;
            continue;
        }
        out[pair.substr(0, equals)] = pair.substr(equals + 1);
    }
    return out;
}

std::map<std::string, std::string> label_values(const std::vector<std::string>& pairs) {
    std::map<std::string, std::string> out;
    for (const std::string& pair : pairs) {
        const std::size_t equals = pair.find('=');
        out[pair.substr(0, equals)] = equals == std::string::npos ? "" : pair.substr(equals + 1);
    }
    return out;
}

/// Splits a `key=value,key=value` flag value; a field without `=` has an empty value.
std::vector<std::pair<std::string, std::string>> key_value_fields(const std::string& text) {
    std::vector<std::pair<std::string, std::string>> out;
    std::stringstream fields(text);
    std::string field;
    while (std::getline(fields, field, ',')) {
        const std::size_t equals = field.find('=');
        out.emplace_back(field.substr(0, equals),
                         equals == std::string::npos ? "" : field.substr(equals + 1));
    }
    return out;
}

build_secret parse_secret(const std::string& text) {
    build_secret secret;
    for (const auto& [key, value] : key_value_fields(text)) {
        if (key == "id") {
            secret.id = value;
        } else if (key == "src" || key == "source") {
            secret.source = value;
        } else if (key != "type") {
            throw invalid_value_error("secret", text, "unknown key " + key + " (use id=,src=)");
        }
    }
    if (secret.id.empty()) throw invalid_value_error("secret", text, "the secret needs id=NAME");
    if (secret.source.empty()) secret.source = secret.id;
    return secret;
}

void check_platform(const std::string& platform) {
    if (platform.empty()) return;
    static const std::set<std::string> host{"linux",          "linux/amd64",    "linux/x86_64",
                                            "linux/amd64/v1", "linux/amd64/v2", "linux/amd64/v3"};
    if (!host.contains(platform)) {
        throw invalid_value_error("platform", platform,
                                  "dockwright builds only for the host platform linux/amd64");
    }
}

exec::network_mode network_of(const std::string& name) {
    if (name == "none") return exec::network_mode::none;
    if (name == "host" || name == "default" || name == "bridge") return exec::network_mode::host;
    throw invalid_value_error("network", name, "unknown network mode; use default, host or none");
}

exec::resource_limits limits_of(const build_settings& settings) {
    exec::resource_limits limits;
    if (!settings.memory.empty()) limits.memory = parse_ram_size(settings.memory, "memory");
    if (settings.memory_swap == "-1") {
        limits.memory_swap = -1;
    } else if (!settings.memory_swap.empty()) {
        limits.memory_swap = parse_ram_size(settings.memory_swap, "memory-swap");
    }
    if (!settings.shm_size.empty()) limits.shm_size = parse_ram_size(settings.shm_size, "shm-size");
    limits.cpu_shares = settings.cpu_shares;
    limits.cpu_period = settings.cpu_period;
    limits.cpu_quota = settings.cpu_quota;
    limits.cpuset_cpus = settings.cpuset_cpus;
    limits.cpuset_mems = settings.cpuset_mems;
    limits.cgroup_parent = settings.cgroup_parent;
    for (const std::string& text : settings.ulimits)
        limits.ulimits.push_back(exec::parse_ulimit(text));
    return limits;
}

std::optional<timestamp> source_date_epoch(bool reproducible) {
    const char* text = std::getenv("SOURCE_DATE_EPOCH");
    if (text && *text) {
        char* end = nullptr;
        const long long seconds = std::strtoll(text, &end, 10);
        if (*end != '\0' || seconds < 0) {
            throw invalid_value_error("SOURCE_DATE_EPOCH", text,
                                      "must be a whole number of seconds since 1970");
        }
        return timestamp::from_unix(seconds, 0);
    }
    if (reproducible) return timestamp::from_unix(0, 0);
    return std::nullopt;
}

/// Sums a push's blob transfers into one `push` progress task. The total is the bytes of the
/// image's config and layer blobs, from the manifest the push sends, once per target. A blob
/// the registry already has, or mounts from another repository, counts as done.
class push_progress {
  public:
    push_progress(const store& images, const digest& id, std::size_t targets,
                  const build_event_sink& events)
        : reporter_(events, "push", blob_bytes(images, id) * targets) {}

    /// Takes one transfer event; the registry client makes these calls one at a time.
    void on(const registry::progress_event& event) {
        const auto known = blob_sizes_.find(event.blob);
        if (known == blob_sizes_.end()) return;  // not a blob the total counts
        switch (event.step) {
            case registry::progress_event::phase::transferring:
                in_flight_[event.blob] = std::min(event.done, known->second);
                break;
            case registry::progress_event::phase::exists:
            case registry::progress_event::phase::mounted:
            case registry::progress_event::phase::done:
                in_flight_.erase(event.blob);
                finished_ += known->second;
                break;
            case registry::progress_event::phase::retrying:
                in_flight_.erase(event.blob);
                break;
        }
        std::uint64_t current = finished_;
        for (const auto& [blob, done] : in_flight_)
            current += done;
        reporter_.update(current);
    }

    void finish() { reporter_.finish(); }

  private:
    std::uint64_t blob_bytes(const store& images, const digest& id) {
        registry::store_source source(images, id);
        const registry::manifest_document root = source.root();
        const registry::image_manifest manifest =
            registry::parse_image_manifest(root.bytes, root.media_type);
        std::uint64_t total = 0;
        blob_sizes_[manifest.config.digest] = static_cast<std::uint64_t>(manifest.config.size);
        for (const registry::descriptor& layer : manifest.layers)
            blob_sizes_[layer.digest] = static_cast<std::uint64_t>(layer.size);
        for (const auto& [blob, size] : blob_sizes_)
            total += size;
        return total;
    }

    std::map<digest, std::uint64_t> blob_sizes_;  // filled by blob_bytes() before reporter_
    progress_reporter reporter_;
    std::map<digest, std::uint64_t> in_flight_;
    std::uint64_t finished_ = 0;
};

/// Prints what the cache imports and exports did, one line each, before the success lines.
void print_cache_transfers(const build_outcome& outcome, const build_settings& settings) {
    std::vector<std::string> lines;
    for (const cache_import_result& r : outcome.cache_imports) {
        lines.push_back("Imported build cache " + r.manifest_digest.str() + ": " +
                        std::to_string(r.images_added) + " of " + std::to_string(r.images) +
                        " images added, " + std::to_string(r.blobs_fetched) + " blobs fetched, " +
                        std::to_string(r.blobs_skipped) + " already present");
        if (r.images_orphaned > 0) {
            lines.back() += ", " + std::to_string(r.images_orphaned) +
                            " left out because their parent image is unknown";
        }
    }
    for (const cache_export_result& r : outcome.cache_exports) {
        lines.push_back("Exported build cache " + r.manifest_digest.str() + ": " +
                        std::to_string(r.images) + " images, " + std::to_string(r.blobs) +
                        " blobs, " + std::to_string(r.blobs_skipped) + " already present");
    }
    for (const std::string& text : lines) {
        if (settings.progress == "json") {
            std::cout << nlohmann::json{{"stream", text + "\n"}}.dump() << "\r\n";
        } else {
            std::cout << text << '\n';
        }
    }
    std::cout.flush();
}

int run_build(const build_settings& settings) {
    check_platform(settings.platform);
    if (!settings.isolation.empty() && settings.isolation != "default" &&
        settings.isolation != "process") {
        throw invalid_value_error("isolation", settings.isolation,
                                  "only default and process isolation exist on Linux");
    }
    static const std::set<std::string> progress_modes{"auto", "plain", "tty", "json", "quiet"};
    if (!progress_modes.contains(settings.progress)) {
        throw invalid_value_error("progress", settings.progress,
                                  "use auto, plain, tty, json or quiet");
    }
    std::vector<reference> tags;
    for (const std::string& tag : settings.tags) {
        try {
            tags.push_back(reference::parse_tagged(tag));
        } catch (const invalid_value_error&) {
            throw invalid_value_error("tag", tag,
                                      "invalid argument \"" + tag +
                                          "\" for \"-t, --tag\" flag: invalid reference format");
        }
    }
    std::vector<export_request> outputs;
    std::vector<reference> output_names;  // Tagged in the store after the build.
    std::vector<reference> push_targets;
    if (settings.push) push_targets = tags;
    for (const std::string& text : settings.outputs) {
        if (!is_image_output(text)) {
            outputs.push_back(parse_export_request(text));
            continue;
        }
        const image_output image = parse_image_output(text);
        output_names.insert(output_names.end(), image.names.begin(), image.names.end());
        if (image.push) {
            push_targets.insert(push_targets.end(), image.names.begin(), image.names.end());
        }
    }
    std::vector<build_secret> secrets;
    for (const std::string& text : settings.secrets)
        secrets.push_back(parse_secret(text));
    std::vector<cache_export_request> cache_to;
    for (const std::string& text : settings.cache_to)
        cache_to.push_back(parse_cache_to(text));
    std::vector<cache_import_request> cache_from;
    for (const std::string& text : settings.cache_from)
        cache_from.push_back(parse_cache_from(text));

    store images(store::default_root());
    context_request request;
    request.location = settings.location;
    request.dockerfile = settings.dockerfile;
    request.work_dir = images.root() / "tmp";
    prepared_context context;
    try {
        context = prepare_context(request);
    } catch (const context_error& e) {
        std::cerr << (e.from_daemon() ? "Error response from daemon: " : "") << e.docker_message()
                  << '\n';
        if (!e.hint().empty()) std::cerr << "dockwright: " << e.hint() << '\n';
        return 1;
    }

    build_options options;
    options.classic = settings.classic;
    options.no_cache = settings.no_cache;
    if (settings.history_style == "buildkit") {
        options.history = history_style::buildkit;
    } else if (settings.history_style != "classic") {
        throw invalid_value_error("history-style", settings.history_style,
                                  "use classic or buildkit");
    }
    options.context = context.directory();
    options.target = settings.target;
    options.build_args = build_arg_values(settings.build_args);
    options.labels = label_values(settings.labels);
    options.dockerfile_name = context.dockerfile_name();
    options.created = source_date_epoch(settings.reproducible);

    local_backend_options backend_options;
    backend_options.network = network_of(settings.network);
    backend_options.limits = limits_of(settings);
    backend_options.reproducible = settings.reproducible || options.created.has_value();
    if (options.created) backend_options.source_date_epoch = options.created->unix_seconds();
    backend_options.secrets = secrets;
    exec::cancel_token cancel;
    backend_options.cancel = &cancel;
    active_cancel = &cancel;
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);

    const bool quiet = settings.quiet || settings.progress == "quiet";
    // The live display goes to whichever of stdout and stderr is a terminal, stdout first;
    // `--progress tty` draws on stdout even when neither is one.
    const int terminal = ::isatty(STDOUT_FILENO) ? STDOUT_FILENO
                         : ::isatty(STDERR_FILENO) ? STDERR_FILENO
                                                   : -1;
    const bool live =
        settings.progress == "tty" || (settings.progress == "auto" && terminal >= 0);
    build_renderer renderer(std::cout,
                            settings.progress == "json" ? render_style::json
                            : quiet                     ? render_style::quiet
                            : live                      ? render_style::tty
                                                        : render_style::classic,
                            settings.explain_cache, terminal);
    renderer.set_container_removal(settings.remove, settings.force_remove);
    renderer.context_size(context_upload_size(context.directory()));
    build_request build;
    build.dockerfile_text = context.dockerfile_text();
    build.options = options;
    build.backend = backend_options;
    build.tags = tags;
    build.pull =
        settings.pull ? build_request::pull_policy::always : build_request::pull_policy::missing;
    build.on_parser_warnings = [&](const std::string& text) { renderer.parser_warnings(text); };
    build.remove_containers = settings.remove;
    build.force_remove_containers = settings.force_remove;
    build.registry.insecure_registries = settings.insecure_registries;
    if (!settings.ca_file.empty()) build.registry.http.tls.ca_file = settings.ca_file;
    build.cache_to = cache_to;
    build.cache_from = cache_from;
    std::optional<build_outcome> outcome;
    try {
        outcome = build_image(images, build, [&](const build_event& e) { renderer.on(e); });
    } catch (const std::exception& e) {
        active_cancel = nullptr;
        renderer.failed(classic_error_text(e));
        const auto* step = dynamic_cast<const build_step_error*>(&e);
        return step ? step->exit_code() : 1;
    }
    active_cancel = nullptr;
    const digest& id = outcome->id;
    for (const export_request& out : outputs) {
        if (out.dest.empty()) continue;  // type=docker without dest: the store contains it
        const std::uint64_t bytes =
            export_image(images, id, out, [&](const build_event& e) { renderer.on(e); });
        renderer.exported(out.type, out.dest.string(), bytes);
    }
    for (const reference& name : output_names)
        images.tag(id, name);
    registry::registry_options push_options = build.registry;
    std::optional<push_progress> pushing;
    if (!push_targets.empty()) {
        pushing.emplace(images, id, push_targets.size(),
                        [&](const build_event& e) { renderer.on(e); });
        push_options.progress = [&pushing](const registry::progress_event& e) { pushing->on(e); };
    }
    // Under the live display the push lines wait until its final frame is drawn.
    const bool display = live && !quiet && settings.progress != "json";
    std::ostringstream push_lines;
    std::ostream* push_out = &std::cout;
    if (quiet) {
        push_out = nullptr;
    } else if (display) {
        push_out = &push_lines;
    }
    push_built_image(images, id, push_targets, push_options, push_out, settings.progress == "json");
    if (pushing) pushing->finish();
    if (!settings.iidfile.empty()) {
        std::ofstream out(settings.iidfile, std::ios::binary | std::ios::trunc);
        out << id.str();
        if (!out) throw error("cannot write the image ID to " + settings.iidfile);
    }
    renderer.finish_display(true);
    std::cout << push_lines.str() << std::flush;
    if (!quiet) print_cache_transfers(*outcome, settings);
    renderer.succeeded(id, tags);
    return 0;
}

}  // namespace

void add_build_command(CLI::App& app) {
    auto s = std::make_shared<build_settings>();
    CLI::App* c = app.add_subcommand("build", "Build an image from a Dockerfile");
    c->add_option("context", s->location,
                  "The build context: a directory, a git or http(s) URL, or - for a tar or a "
                  "Dockerfile on standard input")
        ->required();
    c->add_option("-f,--file", s->dockerfile,
                  "Name of the Dockerfile (default PATH/Dockerfile; - reads it from standard "
                  "input)");
    c->add_option("-t,--tag", s->tags, "Name and optionally a tag, name:tag (repeatable)")
        ->allow_extra_args(false);
    c->add_flag("-q,--quiet", s->quiet, "Print only the image ID when the build succeeds");
    c->add_flag("--no-cache", s->no_cache, "Do not use the build cache");
    c->add_flag("--rm", s->remove,
                "Remove the container of each step that succeeded (default true; --rm=false "
                "keeps them, see dockwright container ls)");
    c->add_flag("--force-rm", s->force_remove,
                "Also remove the container of a failed step, which is kept otherwise");
    c->add_flag("--pull", s->pull, "Always attempt to pull a newer version of the base images");

    // Limits of RUN steps.
    c->add_option("-m,--memory", s->memory, "Memory limit of RUN steps (bytes; units b, k, m, g)");
    c->add_option("--memory-swap", s->memory_swap,
                  "Memory plus swap of RUN steps (bytes; units b, k, m, g; -1 for unlimited)");
    c->add_option("--shm-size", s->shm_size, "Size of /dev/shm (bytes; units b, k, m, g)");
    c->add_option("-c,--cpu-shares", s->cpu_shares, "CPU shares (relative weight)");
    c->add_option("--cpu-period", s->cpu_period, "CPU CFS period (microseconds)");
    c->add_option("--cpu-quota", s->cpu_quota, "CPU CFS quota per period (microseconds)");
    c->add_option("--cpuset-cpus", s->cpuset_cpus, "CPUs RUN steps may use (0-3, 0,1)");
    c->add_option("--cpuset-mems", s->cpuset_mems, "Memory nodes RUN steps may use (0-3, 0,1)");
    c->add_option("--cgroup-parent", s->cgroup_parent, "Parent cgroup of RUN steps");

    // Inputs of the build.
    c->add_option("--build-arg", s->build_args,
                  "A build argument K=V; a bare K takes its value from the environment")
        ->allow_extra_args(false);
    c->add_option("--isolation", s->isolation, "Container isolation (default or process)");
    c->add_option("--label", s->labels, "Set metadata k=v on the image")->allow_extra_args(false);
    c->add_option("--ulimit", s->ulimits, "A resource limit name=soft[:hard] for RUN steps")
        ->allow_extra_args(false);
    c->add_option("--target", s->target, "The stage to build (default the last one)");
    c->add_option("--network", s->network,
                  "Network of RUN steps: default and host share the host's network, none has "
                  "only loopback");

    // Outputs and display.
    c->add_option("--iidfile", s->iidfile, "Write the image ID to this file");
    c->add_option("--platform", s->platform, "Target platform; only the host's (linux/amd64)");
    c->add_option("--progress", s->progress,
                  "Output style: auto, plain, tty, json (Docker's jsonmessage stream) or quiet");
    c->add_option("-o,--output", s->outputs,
                  "Also export the image: type=docker|oci|tar|local,dest=PATH (a bare PATH "
                  "means type=local), or type=registry,name=REF to push it "
                  "(type=image,name=REF[,push=true] tags it and pushes it when asked)")
        ->allow_extra_args(false);
    c->add_flag("--push", s->push, "Push every -t tag to its registry after the build");
    c->add_option("--insecure-registry", s->insecure_registries,
                  "Registry (host[:port]) reached over plain HTTP and without TLS verification "
                  "when pulling bases and pushing; repeatable")
        ->allow_extra_args(false);
    c->add_option("--ca-file", s->ca_file,
                  "PEM file of CA certificates that registry certificates are checked against "
                  "instead of the system's");
    c->add_option("--secret", s->secrets,
                  "A secret for RUN steps: id=NAME,src=FILE, seen at /run/secrets/NAME and "
                  "never stored")
        ->allow_extra_args(false);

    c->add_option("--cache-to", s->cache_to,
                  "Export the build cache: type=registry,ref=REF[,mode=min|max]"
                  "[,ignore-error=true] or type=local,dest=DIR[,tag=NAME]; mode=min (default) "
                  "exports the target stage's images, max those of every stage")
        ->allow_extra_args(false);
    c->add_option("--cache-from", s->cache_from,
                  "Import build cache before the build: type=registry,ref=REF, a bare REF, or "
                  "type=local,src=DIR[,tag=NAME]; a cache that cannot be read is a warning "
                  "(repeatable)")
        ->allow_extra_args(false);

    // Beyond docker build.
    c->add_flag("--reproducible", s->reproducible,
                "Fixed times and IDs so that equal inputs give equal image IDs "
                "(SOURCE_DATE_EPOCH sets the time, else 0)");
    c->add_flag("--explain-cache", s->explain_cache,
                "Say for every step why the build cache hit or missed");
    c->add_flag("--classic", s->classic,
                "Docker 20.10's classic builder to the letter: its syntax, rejections and "
                "error texts");
    c->add_option("--history-style", s->history_style,
                  "The config and history to write: classic (docker build's classic builder) "
                  "or buildkit (BuildKit's minimal config and `# buildkit` history)");
    c->callback([s] {
        const int status = run_build(*s);
        if (status != 0) throw CLI::RuntimeError(status);
    });
}

}  // namespace dockwright::cli
