// Declarations shared by the binding files: one register_<area> function per area.
#pragma once

#include <pybind11/pybind11.h>

namespace dockwright {
class store;
}

namespace dockwright::python {

namespace py = pybind11;

/// Installs the translators that turn dockwright's C++ exceptions into the Python exception
/// classes of dockwright.errors, with the error's fields set as attributes.
void register_errors(py::module_& m);
/// Binds Digest, chain IDs and hashing.
void register_digest(py::module_& m);
/// Binds the image value types: Config, HealthConfig, History, RootFS, V1Image, Image.
void register_image(py::module_& m);
/// Binds word expansion: expand and expand_words.
void register_shell(py::module_& m);
/// Binds the .dockerignore matcher DockerIgnore.
void register_dockerignore(py::module_& m);
/// Binds the Dockerfile parser and instruction check: parse_dockerfile.
void register_dockerfile(py::module_& m);
/// Binds the evaluator: _evaluate and its result types.
void register_build(py::module_& m);

/// Binds the image store: _Store (wrapped by dockwright.Store).
void register_store(py::module_& m);
/// The store a dockwright._core._Store object owns; throws py::cast_error for other objects.
store& native_store(py::handle object);

}  // namespace dockwright::python
