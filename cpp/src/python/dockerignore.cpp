// Binds the .dockerignore matcher as dockwright._core.DockerIgnore.
#include <pybind11/stl.h>

#include <dockwright/dockerfile/dockerignore.hpp>

#include "bindings.hpp"

namespace dockwright::python {

void register_dockerignore(py::module_& m) {
    py::class_<dockerignore>(m, "DockerIgnore")
        .def(py::init<const std::vector<std::string>&>(), py::arg("patterns"))
        .def_static("parse", &dockerignore::parse, py::arg("text"))
        .def("matches", &dockerignore::matches, py::arg("path"))
        .def("can_skip_directory", &dockerignore::can_skip_directory, py::arg("path"))
        .def_property_readonly("patterns", &dockerignore::patterns)
        .def_property_readonly("has_exceptions", &dockerignore::has_exceptions);
    m.def("read_dockerignore", &read_dockerignore, py::arg("text"));
}

}  // namespace dockwright::python
