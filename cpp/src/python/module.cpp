// The extension module dockwright._core: it only calls one register function per area.
#include "bindings.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "dockwright's C++ core; use the public package dockwright instead.";
    m.attr("__version__") = DOCKWRIGHT_VERSION;
    dockwright::python::register_errors(m);
    dockwright::python::register_digest(m);
    dockwright::python::register_image(m);
    dockwright::python::register_shell(m);
    dockwright::python::register_dockerignore(m);
    dockwright::python::register_dockerfile(m);
    dockwright::python::register_build(m);
    dockwright::python::register_store(m);
}
