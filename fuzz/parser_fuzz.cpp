// libFuzzer target: the Dockerfile parser, AST dump and warning text in both dialects.
#include <cstddef>
#include <cstdint>
#include <dockwright/dockerfile/dump.hpp>
#include <dockwright/dockerfile/parser.hpp>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (const auto dialect :
         {dockwright::dockerfile_dialect::buildkit, dockwright::dockerfile_dialect::classic}) {
        dockwright::parse_options options;
        options.dialect = dialect;
        try {
            const dockwright::dockerfile_ast ast = dockwright::parse_dockerfile(text, options);
            (void)dockwright::dump_ast(ast);
            (void)dockwright::classic_warning_text(ast);
        } catch (const dockwright::dockerfile_parse_error&) {
            // Rejecting input is a valid outcome; crashes, hangs and leaks are not.
        }
    }
    return 0;
}
