// Python bindings of Digest, the streaming hasher and chain IDs.
#include <pybind11/stl.h>

#include <dockwright/core/digest.hpp>

#include "bindings.hpp"

namespace dockwright::python {

void register_digest(py::module_& m) {
    py::class_<digest>(m, "Digest", "A content digest such as 'sha256:<64 hex digits>'.")
        .def(py::init(&digest::parse), py::arg("text"), "Parse and validate '<algorithm>:<hex>'.")
        .def_static(
            "sha256_of", [](const py::bytes& data) { return digest::sha256_of(data); },
            py::arg("data"), "Compute the SHA-256 digest of bytes.")
        .def_property_readonly(
            "algorithm", [](const digest& d) { return std::string(algorithm_name(d.algorithm())); })
        .def_property_readonly("hex", [](const digest& d) { return std::string(d.hex()); })
        .def_property_readonly("short_id", &digest::short_id)
        .def("__str__", &digest::str)
        .def("__repr__", [](const digest& d) { return "Digest('" + d.str() + "')"; })
        .def("__hash__", [](const digest& d) { return py::hash(py::str(d.str())); })
        .def("__eq__", [](const digest& a, const digest& b) { return a == b; })
        .def("__eq__", [](const digest& a, const std::string& b) { return a.str() == b; })
        .def("__lt__", [](const digest& a, const digest& b) { return a < b; })
        .def("__copy__", [](const digest& d) { return d; })
        .def("__deepcopy__", [](const digest& d, const py::dict&) { return d; });

    m.def(
        "chain_id",
        [](const py::iterable& diff_ids) {
            std::vector<digest> parsed;
            for (const auto& item : diff_ids)
                parsed.push_back(digest::parse(py::str(item).cast<std::string>()));
            return chain_id(parsed);
        },
        py::arg("diff_ids"), "Compute the OCI chain ID of diff IDs, bottom layer first.");
}

}  // namespace dockwright::python
