// Binds word expansion: dockwright._core.expand and expand_words.
#include <pybind11/stl.h>

#include <dockwright/dockerfile/shell_lexer.hpp>

#include "bindings.hpp"

namespace dockwright::python {

namespace {

shell_lexer make_lexer(const std::string& escape) {
    if (escape != "\\" && escape != "`") {
        throw py::value_error("escape must be '\\\\' or '`', not '" + escape + "'");
    }
    return shell_lexer(shell_lexer_options{.escape = escape.front()});
}

}  // namespace

void register_shell(py::module_& m) {
    m.def(
        "expand",
        [](std::string_view word, const std::vector<std::string>& env, const std::string& escape) {
            return make_lexer(escape).expand(word, shell_environment(env));
        },
        py::arg("word"), py::arg("env"), py::arg("escape") = "\\",
        "Expand the variables of one Dockerfile word against NAME=value entries.");
    m.def(
        "expand_words",
        [](std::string_view word, const std::vector<std::string>& env, const std::string& escape) {
            return make_lexer(escape).expand_words(word, shell_environment(env));
        },
        py::arg("word"), py::arg("env"), py::arg("escape") = "\\",
        "Expand one Dockerfile word and split it on unquoted white space.");
}

}  // namespace dockwright::python
