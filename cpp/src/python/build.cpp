// Binds the evaluator: dockwright._core.evaluate and its result types.
#include <pybind11/functional.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <dockwright/build/build_error.hpp>
#include <dockwright/build/evaluate.hpp>

#include "bindings.hpp"

namespace dockwright::python {

namespace {

std::string layer_name(layer_outcome::state kind) {
    switch (kind) {
        case layer_outcome::state::empty:
            return "empty";
        case layer_outcome::state::layer:
            return "layer";
        case layer_outcome::state::unknown:
            break;
    }
    return "unknown";
}

/// A failed evaluation, handed to Python, which raises dockwright.BuildError from it.
struct evaluation_failure {
    std::string message;
    std::string docker_message;
    int exit_code = 1;
    int line = 0;
    std::string instruction;
};

}  // namespace

void register_build(py::module_& m) {
    py::class_<step_record>(m, "StepRecord", "How one new history entry of a stage was made.")
        .def_readonly("instruction", &step_record::instruction)
        .def_readonly("line", &step_record::line)
        .def_readonly("executed", &step_record::executed)
        .def_property_readonly("layer", [](const step_record& r) { return layer_name(r.layer); })
        .def_readonly("hash_known", &step_record::hash_known)
        .def("__repr__", [](const step_record& r) {
            return "StepRecord(instruction='" + r.instruction +
                   "', line=" + std::to_string(r.line) +
                   ", executed=" + (r.executed ? "True" : "False") + ", layer='" +
                   layer_name(r.layer) + "')";
        });
    py::class_<stage_result>(m, "StageEvaluation", "The outcome of one build stage.")
        .def_readonly("name", &stage_result::name)
        .def_readonly("index", &stage_result::index)
        .def_readonly("base", &stage_result::base)
        .def_readonly("image_id", &stage_result::image_id)
        .def_readonly("image", &stage_result::config)
        .def_readonly("base_history", &stage_result::base_history)
        .def_readonly("steps", &stage_result::steps)
        .def("__repr__", [](const stage_result& s) {
            return "StageEvaluation(index=" + std::to_string(s.index) + ", name='" + s.name +
                   "', base='" + s.base + "', steps=" + std::to_string(s.steps.size()) + ")";
        });
    py::class_<build_result>(m, "Evaluation", "The stages of an evaluated Dockerfile.")
        .def_readonly("stages", &build_result::stages)
        .def_readonly("warnings", &build_result::warnings)
        .def_property_readonly("target", &build_result::target)
        .def("__repr__", [](const build_result& r) {
            return "Evaluation(stages=" + std::to_string(r.stages.size()) + ")";
        });

    py::class_<evaluation_failure>(m, "_EvaluationFailure")
        .def_readonly("message", &evaluation_failure::message)
        .def_readonly("docker_message", &evaluation_failure::docker_message)
        .def_readonly("exit_code", &evaluation_failure::exit_code)
        .def_readonly("line", &evaluation_failure::line)
        .def_readonly("instruction", &evaluation_failure::instruction);
    m.def(
        "_evaluate",
        [](const std::string& text, const std::string& dockerfile_name,
           const std::filesystem::path& context, const std::map<std::string, std::string>& args,
           const std::string& target, const std::map<std::string, std::string>& labels,
           bool classic, const std::map<std::string, image>& bases)
            -> std::variant<build_result, evaluation_failure> {
            build_options options;
            options.dockerfile_name = dockerfile_name;
            options.context = context;
            options.build_args = args;
            options.target = target;
            options.labels = labels;
            options.classic = classic;
            auto lookup = [bases](const std::string& ref) -> std::optional<base_image> {
                const auto found = bases.find(ref);
                if (found == bases.end()) return std::nullopt;
                return base_image{found->second.computed_id(), found->second};
            };
            try {
                return evaluate(text, options, lookup);
            } catch (const dockerfile_error& e) {
                const auto* step = dynamic_cast<const build_step_error*>(&e);
                return evaluation_failure{e.what(), classic_error_text(e),
                                          step ? step->exit_code() : 1, e.line(), e.instruction()};
            }
        },
        py::arg("text"), py::arg("dockerfile_name"), py::arg("context"), py::arg("build_args"),
        py::arg("target"), py::arg("labels"), py::arg("classic"), py::arg("bases"));
}

}  // namespace dockwright::python
