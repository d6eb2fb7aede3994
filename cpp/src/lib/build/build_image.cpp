// build_image(): the local build from Dockerfile text to a tagged image.
#include <dockwright/build/build_image.hpp>
#include <dockwright/build/builder.hpp>
#include <dockwright/dockerfile/parser.hpp>
#include <dockwright/registry/store_pull.hpp>
#include <dockwright/store/containers.hpp>
#include <memory>

namespace dockwright {

namespace {

/// Docker 20.10's rule for the containers of build steps: a container that ran a step which
/// succeeded is removed unless `--rm=false`; one whose step failed stays unless
/// `--force-rm`. A kept container becomes a record in the store. COPY and ADD work in an
/// internal container, which Docker does not have, so it is never kept.
class container_policy {
  public:
    void observe(const build_event& event) {
        if (event.kind == build_event_kind::container) {
            announced_ = event.container_id;
            committed_.reset();
        } else if (event.kind == build_event_kind::step_finished && !event.cache_hit) {
            committed_ = event.image_id;
        } else if (event.kind == build_event_kind::step_started) {
            announced_.clear();
            committed_.reset();
        }
    }

    /// Whether the container `info` describes is kept; fills in the image it committed.
    bool keep(container_info& info, bool remove, bool force_remove, bool cancelled) {
        if (cancelled || force_remove || info.id != announced_) return false;
        // The builder removes a step's container after step_finished, so a container without
        // it belongs to the step that failed.
        const bool succeeded = committed_.has_value();
        if (succeeded && remove) return false;
        info.committed = committed_;
        kept_.push_back(info.id);
        return true;
    }

    /// Removes the records of the containers this build kept.
    void forget_kept(store& images) {
        for (const std::string& id : kept_) {
            try {
                remove_container(images, id);
            } catch (const store_error&) {  // NOLINT(bugprone-empty-catch): already gone
            }
        }
        kept_.clear();
    }

  private:
    std::string announced_;
    std::optional<digest> committed_;
    std::vector<std::string> kept_;
};

/// Turns the registry client's transfer progress into `pull <digest>` progress events.
std::function<void(const registry::progress_event&)> pull_progress(const build_event_sink& sink) {
    return [sink](const registry::progress_event& transfer) {
        build_event event;
        event.kind = build_event_kind::progress;
        event.progress.task = "pull " + std::string(transfer.blob.hex().substr(0, 12));
        event.progress.current = transfer.done;
        event.progress.total = transfer.total;
        event.progress.finished = transfer.step != registry::progress_event::phase::transferring &&
                                  transfer.step != registry::progress_event::phase::retrying;
        sink(event);
    };
}

}  // namespace

build_outcome build_image(store& images, const build_request& request,
                          const build_event_sink& sink) {
    build_options options = request.options;
    if (options.hash_cache.empty()) options.hash_cache = images.root() / "cache" / "context-hashes";
    parse_options parse;
    parse.file = options.dockerfile_name;
    parse.dialect = options.dialect();
    const dockerfile_ast ast = parse_dockerfile(request.dockerfile_text, parse);
    if (request.on_parser_warnings) {
        if (std::string text = classic_warning_text(ast); !text.empty()) {
            request.on_parser_warnings(text);
        }
    }
    instruction_options check;
    check.file = options.dockerfile_name;
    check.dialect = options.dialect();
    dockerfile file = check_instructions(ast, check);

    // The builder's events pass through `observed`, which follows the step and the container
    // that `--rm` and `--force-rm` decide about.
    container_policy policy;
    const build_event_sink observed = [&policy, &sink](const build_event& event) {
        policy.observe(event);
        emit(sink, event);
    };
    local_backend_options backend_options = request.backend;
    if (backend_options.context.empty()) backend_options.context = options.context;
    backend_options.buildkit_config = options.history == history_style::buildkit;
    backend_options.progress = sink;
    backend_options.keep_container = [&](container_info& info) {
        const exec::cancel_token* cancel = request.backend.cancel;
        return policy.keep(info, request.remove_containers, request.force_remove_containers,
                           cancel != nullptr && cancel->cancelled());
    };
    registry::registry_options registry_settings = request.registry;
    if (!registry_settings.progress && sink) registry_settings.progress = pull_progress(sink);
    std::unique_ptr<registry::registry_client> client;
    if (request.pull != build_request::pull_policy::never) {
        backend_options.pull_always = request.pull == build_request::pull_policy::always;
        backend_options.pull = [&](const std::string& name) {
            if (!client) client = std::make_unique<registry::registry_client>(registry_settings);
            const reference ref = reference::parse_tagged(name);
            if (sink) {
                build_event e;
                e.kind = build_event_kind::pulling;
                e.text = ref.familiar();
                sink(e);
            }
            const registry::store_pull_result pulled =
                registry::pull_to_store(images, ref, *client);
            if (pulled.loaded.empty()) throw error("the pull of " + name + " recorded no image");
            return pulled.loaded.front().id;
        };
    }
    const registry_client_factory shared_client = [&]() -> registry::registry_client& {
        if (!client) client = std::make_unique<registry::registry_client>(registry_settings);
        return *client;
    };
    std::vector<cache_import_result> imports =
        import_build_caches(images, request.cache_from, shared_client, sink);
    local_backend backend(images, backend_options);
    builder<local_backend> run(backend, options, observed);
    std::optional<build_result> result;
    try {
        result = run.build(std::move(file));
    } catch (...) {
        // A cancelled build leaves nothing behind, not even the containers it kept.
        const exec::cancel_token* cancel = request.backend.cancel;
        if (cancel != nullptr && cancel->cancelled()) policy.forget_kept(images);
        throw;
    }
    build_outcome outcome{digest::sha256_of(""), std::move(*result), {}, {}};
    const stage_result& target = outcome.result.target();
    // A FROM scratch stage without steps still names an image: its config is stored.
    outcome.id = target.image_id ? *target.image_id : backend.store_image(target.config);
    backend.publish(outcome.id, request.tags);
    outcome.cache_imports = std::move(imports);
    outcome.cache_exports =
        export_build_caches(images, request.cache_to, outcome.result, shared_client, sink);
    return outcome;
}

}  // namespace dockwright
