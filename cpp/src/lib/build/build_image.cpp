// build_image(): the local build from Dockerfile text to a tagged image.
#include <dockwright/build/build_image.hpp>
#include <dockwright/build/builder.hpp>
#include <dockwright/dockerfile/parser.hpp>
#include <dockwright/registry/store_pull.hpp>
#include <memory>

namespace dockwright {

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

    local_backend_options backend_options = request.backend;
    if (backend_options.context.empty()) backend_options.context = options.context;
    backend_options.buildkit_config = options.history == history_style::buildkit;
    std::unique_ptr<registry::registry_client> client;
    if (request.pull != build_request::pull_policy::never) {
        backend_options.pull_always = request.pull == build_request::pull_policy::always;
        backend_options.pull = [&](const std::string& name) {
            if (!client) client = std::make_unique<registry::registry_client>(request.registry);
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
        if (!client) client = std::make_unique<registry::registry_client>(request.registry);
        return *client;
    };
    std::vector<cache_import_result> imports =
        import_build_caches(images, request.cache_from, shared_client, sink);
    local_backend backend(images, backend_options);
    builder<local_backend> run(backend, options, sink);
    build_outcome outcome{digest::sha256_of(""), run.build(std::move(file)), {}, {}};
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
