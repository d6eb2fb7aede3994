// The evaluation backend and dockwright::evaluate().
#include <dockwright/build/builder.hpp>
#include <dockwright/build/evaluate.hpp>
#include <dockwright/build/evaluation_backend.hpp>
#include <dockwright/dockerfile/parser.hpp>

namespace dockwright {

std::optional<base_image> evaluation_backend::lookup_image(const std::string& reference) {
    if (const auto found = images_.find(reference); found != images_.end()) {
        return base_image{digest::parse(reference), found->second};
    }
    if (const auto tagged = tags_.find(reference); tagged != tags_.end()) {
        return base_image{tagged->second, images_.at(tagged->second.str())};
    }
    return lookup_ ? lookup_(reference) : std::nullopt;
}

std::string evaluation_backend::create_container(const std::optional<digest>& parent,
                                                 const config& settings) {
    std::string seed = "dockwright evaluation container " + std::to_string(++containers_);
    if (parent) seed += " " + parent->str();
    if (settings.cmd) {
        for (const std::string& word : *settings.cmd)
            seed += " " + word;
    }
    return std::string(digest::sha256_of(seed).hex());
}

digest evaluation_backend::store_image(const image& value) {
    digest id = value.computed_id();
    images_.insert_or_assign(id.str(), value);
    return id;
}

build_result evaluate(std::string_view dockerfile_text, const build_options& options,
                      image_lookup lookup, build_event_sink sink) {
    parse_options parse;
    parse.file = options.dockerfile_name;
    parse.dialect = options.dialect();
    const dockerfile_ast ast = parse_dockerfile(dockerfile_text, parse);
    instruction_options check;
    check.file = options.dockerfile_name;
    check.dialect = options.dialect();
    dockerfile file = check_instructions(ast, check);
    evaluation_backend backend(std::move(lookup));
    builder<evaluation_backend> run(backend, options, std::move(sink));
    return run.build(std::move(file));
}

}  // namespace dockwright
