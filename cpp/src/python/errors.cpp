// Translates dockwright's C++ exceptions into the classes of dockwright.errors.
#include <dockwright/core/error.hpp>
#include <dockwright/exec/exec_error.hpp>
#include <dockwright/registry/registry_error.hpp>
#include <dockwright/store/store_error.hpp>

#include "bindings.hpp"

namespace dockwright::python {

namespace {

/// Raises the Python class `name` of dockwright.errors, built with keyword arguments.
void raise(const char* name, const std::exception& e, const py::dict& fields) {
    py::object cls = py::module_::import("dockwright.errors").attr(name);
    py::object instance = cls(e.what(), **fields);
    PyErr_SetObject(cls.ptr(), instance.ptr());
}

py::dict dockerfile_fields(const dockerfile_error& e) {
    return py::dict(py::arg("file") = e.file(), py::arg("line") = e.line(),
                    py::arg("end_line") = e.end_line(), py::arg("instruction") = e.instruction(),
                    py::arg("reason") = e.reason(), py::arg("value") = e.value());
}

}  // namespace

void register_errors(py::module_& /*m*/) {
    py::register_exception_translator([](std::exception_ptr thrown) {
        try {
            if (thrown) std::rethrow_exception(thrown);
        } catch (const json_error& e) {
            raise("JSONError", e,
                  py::dict(py::arg("path") = e.path(), py::arg("reason") = e.reason(),
                           py::arg("value") = e.value(), py::arg("offset") = e.offset()));
        } catch (const invalid_value_error& e) {
            raise("InvalidValueError", e,
                  py::dict(py::arg("kind") = e.kind(), py::arg("value") = e.value(),
                           py::arg("reason") = e.reason()));
        } catch (const parse_error& e) {
            raise("ParseError", e, dockerfile_fields(e));
        } catch (const expansion_error& e) {
            raise("ExpansionError", e, dockerfile_fields(e));
        } catch (const instruction_error& e) {
            raise("InstructionError", e, dockerfile_fields(e));
        } catch (const dockerfile_error& e) {
            raise("DockerfileError", e, dockerfile_fields(e));
        } catch (const exec_error& e) {
            raise("ExecError", e,
                  py::dict(py::arg("step") = e.step(), py::arg("reason") = e.reason()));
        } catch (const registry_error& e) {
            raise("RegistryError", e,
                  py::dict(py::arg("subject") = e.subject(), py::arg("reason") = e.reason(),
                           py::arg("status") = e.status()));
        } catch (const image_not_found_error& e) {
            raise("ImageNotFoundError", e,
                  py::dict(py::arg("subject") = e.subject(), py::arg("reason") = e.reason()));
        } catch (const store_error& e) {
            raise("StoreError", e,
                  py::dict(py::arg("subject") = e.subject(), py::arg("reason") = e.reason()));
        } catch (const error& e) {
            raise("DockwrightError", e, py::dict());
        }
    });
}

}  // namespace dockwright::python
