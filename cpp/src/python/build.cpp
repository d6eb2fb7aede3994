// Binds the evaluator and the local build: dockwright._core.evaluate, _build and their result
// types. python/dockwright/build.py wraps them.
#include <pybind11/functional.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <dockwright/build/build_error.hpp>
#include <dockwright/build/build_image.hpp>
#include <dockwright/build/context_source.hpp>
#include <dockwright/build/evaluate.hpp>
#include <dockwright/build/image_export.hpp>
#include <dockwright/exec/cancel_token.hpp>
#include <dockwright/store/store.hpp>
#include <exception>
#include <optional>

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

/// A failed build or evaluation, handed to Python, which raises dockwright.BuildError from it.
/// `kind` names the C++ error class: parse, expansion, instruction, step or context.
struct build_failure {
    std::string message;
    std::string docker_message;
    int exit_code = 1;
    std::string kind;
    std::string file;
    int line = 0;
    int end_line = 0;
    std::string instruction;
    std::string reason;
    std::string value;
};

build_failure failure_of(const dockerfile_error& e) {
    build_failure out{
        e.what(),     classic_error_text(e), 1,          "instruction", e.file(), e.line(),
        e.end_line(), e.instruction(),       e.reason(), e.value()};
    if (const auto* step = dynamic_cast<const build_step_error*>(&e)) {
        out.kind = "step";
        out.exit_code = step->exit_code();
    } else if (dynamic_cast<const parse_error*>(&e) != nullptr) {
        out.kind = "parse";
    } else if (dynamic_cast<const expansion_error*>(&e) != nullptr) {
        out.kind = "expansion";
    }
    return out;
}

build_failure failure_of(const context_error& e) {
    build_failure out;
    out.message = e.what();
    out.docker_message =
        (e.from_daemon() ? "Error response from daemon: " : "") + e.docker_message();
    out.kind = "context";
    out.reason = e.hint();
    out.value = e.subject();
    return out;
}

/// Thrown through the builder at the start of a step once the build was cancelled. It derives
/// from nothing, so that no `catch (const error&)` on the way turns it into a step failure.
struct build_interrupted {};

/// The SIGINT handler's state while a build owns SIGINT.
std::atomic<exec::cancel_token*> interrupt_target{nullptr};
volatile std::sig_atomic_t interrupt_seen = 0;

extern "C" void on_build_interrupt(int /*signal*/) {
    interrupt_seen = 1;
    if (exec::cancel_token* token = interrupt_target.load()) token->cancel();
}

/// Routes SIGINT to `token` for its lifetime, when `take` is set, and restores the previous
/// handler afterwards. Python's own handler only runs between bytecodes, and no bytecode runs
/// while the build runs on the thread, so without this Ctrl-C would wait for the build to end.
class interrupt_guard {
  public:
    interrupt_guard(exec::cancel_token& token, bool take) {
        if (!take) return;
        previous_target_ = interrupt_target.exchange(&token);
        previous_seen_ = interrupt_seen;
        interrupt_seen = 0;
        struct sigaction action {};
        action.sa_handler = on_build_interrupt;
        sigemptyset(&action.sa_mask);
        installed_ = ::sigaction(SIGINT, &action, &previous_) == 0;
    }
    interrupt_guard(const interrupt_guard&) = delete;
    interrupt_guard& operator=(const interrupt_guard&) = delete;
    ~interrupt_guard() {
        if (!installed_) return;
        ::sigaction(SIGINT, &previous_, nullptr);
        interrupt_target.store(previous_target_);
        interrupt_seen = previous_seen_;
    }

    [[nodiscard]] bool interrupted() const noexcept { return installed_ && interrupt_seen != 0; }

  private:
    bool installed_ = false;
    struct sigaction previous_ {};
    exec::cancel_token* previous_target_ = nullptr;
    std::sig_atomic_t previous_seen_ = 0;
};

const char* kind_name(build_event_kind kind) {
    switch (kind) {
        case build_event_kind::step_started:
            return "step_started";
        case build_event_kind::base:
            return "base";
        case build_event_kind::pulling:
            return "pulling";
        case build_event_kind::triggers:
            return "triggers";
        case build_event_kind::container:
            return "container";
        case build_event_kind::output:
            return "output";
        case build_event_kind::cache:
            return "cache";
        case build_event_kind::not_executed:
            return "not_executed";
        case build_event_kind::step_finished:
            return "step_finished";
        case build_event_kind::warning:
            return "warning";
        case build_event_kind::stage_finished:
            return "stage_finished";
        case build_event_kind::progress:
            return "progress";
    }
    return "unknown";
}

py::object optional_digest(const std::optional<digest>& value) {
    return value ? py::object(py::str(value->str())) : py::object(py::none());
}

/// Hands build events to a Python callable as dicts, with the GIL taken for each call. The
/// first exception the callable raises (KeyboardInterrupt from PyErr_CheckSignals included)
/// cancels the build; rethrow_pending() raises it again once the build has stopped.
class python_sink {
  public:
    python_sink(const py::function& callback, exec::cancel_token& cancel)
        : callback_(callback), cancel_(cancel) {}

    void on(const build_event& event) {
        if (event.kind == build_event_kind::step_started) {
            if (cancel_.cancelled()) throw build_interrupted{};
            step_ = event.step;
            step_start_ = std::chrono::steady_clock::now();
        }
        std::chrono::nanoseconds duration = event.duration;
        if (event.kind == build_event_kind::step_finished && duration.count() == 0) {
            duration = std::chrono::steady_clock::now() - step_start_;
        }
        deliver([&] { return event_dict(event, duration); });
    }

    /// Marks the steps as over, so the events that follow (exports) carry step 0.
    void leave_steps() { step_ = 0; }

    /// Delivers the parser's warnings, which arrive before step 1 as Docker's text.
    void parser_warnings(const std::string& text) {
        deliver([&] {
            build_event event;
            event.kind = build_event_kind::warning;
            event.text = text;
            return event_dict(event, {});
        });
    }

    /// Raises the callback's exception, if it raised one; needs the GIL.
    void rethrow_pending() {
        if (pending_) std::rethrow_exception(std::exchange(pending_, nullptr));
    }

  private:
    template <class MakeDict>
    void deliver(MakeDict make) {
        if (pending_) return;
        const py::gil_scoped_acquire gil;
        try {
            if (PyErr_CheckSignals() != 0) throw py::error_already_set();
            callback_(make());
        } catch (const py::error_already_set&) {
            pending_ = std::current_exception();
            cancel_.cancel();
        }
    }

    py::dict event_dict(const build_event& e, std::chrono::nanoseconds duration) const {
        py::dict out;
        out["kind"] = kind_name(e.kind);
        out["step"] = e.step != 0 ? e.step : step_;
        out["total"] = e.total;
        out["instruction"] = e.instruction;
        out["line"] = e.line;
        // RUN output is whatever bytes the command wrote, so invalid UTF-8 becomes U+FFFD.
        PyObject* text =
            PyUnicode_DecodeUTF8(e.text.data(), static_cast<Py_ssize_t>(e.text.size()), "replace");
        if (text == nullptr) throw py::error_already_set();
        out["text"] = py::reinterpret_steal<py::str>(text);
        out["is_stderr"] = e.is_stderr;
        out["cache_hit"] = e.cache_hit;
        out["cache_reason"] = e.cache_reason;
        out["container_id"] = e.container_id;
        out["image_id"] = optional_digest(e.image_id);
        out["layer_digest"] = optional_digest(e.layer_digest);
        out["layer_size"] =
            e.layer_size ? py::object(py::int_(*e.layer_size)) : py::object(py::none());
        out["duration"] = std::chrono::duration<double>(duration).count();
        out["count"] = e.count;
        out["task"] = e.progress.task;
        out["current"] = e.progress.current;
        out["progress_total"] = e.progress.total;
        out["unit"] = e.progress.unit == progress_unit::bytes ? "bytes" : "items";
        out["finished"] = e.progress.finished;
        return out;
    }

    const py::function& callback_;
    exec::cancel_token& cancel_;
    std::exception_ptr pending_;
    int step_ = 0;
    std::chrono::steady_clock::time_point step_start_ = std::chrono::steady_clock::now();
};

exec::network_mode network_of(const std::string& name) {
    if (name == "none") return exec::network_mode::none;
    if (name == "host" || name == "default" || name == "bridge") return exec::network_mode::host;
    throw invalid_value_error("network", name, "use 'host', 'default' or 'none'");
}

build_request::pull_policy pull_policy_of(const std::string& name) {
    if (name == "missing") return build_request::pull_policy::missing;
    if (name == "always") return build_request::pull_policy::always;
    if (name == "never") return build_request::pull_policy::never;
    throw invalid_value_error("pull policy", name, "use 'missing', 'always' or 'never'");
}

/// The inputs of _build besides the store and the callback, as Python passes them.
struct python_build_request {
    std::string location;
    std::string dockerfile;
    std::vector<std::string> tags;
    std::map<std::string, std::string> build_args;
    std::string target;
    std::map<std::string, std::string> labels;
    bool no_cache = false;
    bool classic = false;
    std::string history_style = "classic";
    std::string network = "host";
    std::string pull = "missing";
    bool reproducible = false;
    std::optional<std::int64_t> source_date_epoch;
    std::vector<std::pair<std::string, std::string>> secrets;
    std::vector<std::string> cache_to;
    std::vector<std::string> cache_from;
    std::vector<std::string> outputs;
    bool take_sigint = false;
};

build_request native_request(const python_build_request& in) {
    build_request out;
    out.options.build_args = in.build_args;
    out.options.target = in.target;
    out.options.labels = in.labels;
    out.options.no_cache = in.no_cache;
    out.options.classic = in.classic;
    if (in.history_style == "buildkit") {
        out.options.history = history_style::buildkit;
    } else if (in.history_style != "classic") {
        throw invalid_value_error("history style", in.history_style, "use 'classic' or 'buildkit'");
    }
    if (in.source_date_epoch) {
        out.options.created = timestamp::from_unix(*in.source_date_epoch, 0);
    } else if (in.reproducible) {
        out.options.created = timestamp::from_unix(0, 0);
    }
    out.backend.network = network_of(in.network);
    out.pull = pull_policy_of(in.pull);
    out.backend.reproducible = in.reproducible || in.source_date_epoch.has_value();
    for (const auto& [id, source] : in.secrets)
        out.backend.secrets.push_back(build_secret{id, source});
    for (const std::string& tag : in.tags)
        out.tags.push_back(reference::parse_tagged(tag));
    for (const std::string& text : in.cache_to)
        out.cache_to.push_back(parse_cache_to(text));
    for (const std::string& text : in.cache_from)
        out.cache_from.push_back(parse_cache_from(text));
    return out;
}

/// Runs one build with the GIL released. Returns (image ID, Evaluation) or a _BuildFailure;
/// raises the callback's exception or KeyboardInterrupt when either stopped the build.
py::object run_build(py::handle store_object, const python_build_request& in,
                     const py::function& on_event) {
    store& images = native_store(store_object);
    build_request request = native_request(in);
    std::vector<export_request> exports;
    for (const std::string& text : in.outputs)
        exports.push_back(parse_export_request(text));
    exec::cancel_token cancel;
    request.backend.cancel = &cancel;
    python_sink sink(on_event, cancel);
    request.on_parser_warnings = [&sink](const std::string& text) { sink.parser_warnings(text); };
    context_request where;
    where.location = in.location;
    where.dockerfile = in.dockerfile;
    where.work_dir = images.root() / "tmp";

    std::optional<build_outcome> outcome;
    std::optional<build_failure> failed;
    bool interrupted = false;
    {
        const interrupt_guard guard(cancel, in.take_sigint);
        const py::gil_scoped_release release;
        try {
            const prepared_context context = prepare_context(where);
            request.dockerfile_text = context.dockerfile_text();
            request.options.context = context.directory();
            request.options.dockerfile_name = context.dockerfile_name();
            outcome =
                build_image(images, request, [&sink](const build_event& event) { sink.on(event); });
            sink.leave_steps();
            for (const export_request& out : exports) {
                if (out.dest.empty()) continue;  // type=docker without dest: the store has it
                export_image(images, outcome->id, out,
                             [&sink](const build_event& event) { sink.on(event); });
            }
        } catch (const build_interrupted&) {
            // The callback raised or SIGINT arrived; both are reported below.
        } catch (const context_error& e) {
            failed = failure_of(e);
        } catch (const dockerfile_error& e) {
            failed = failure_of(e);
        }
        interrupted = guard.interrupted();
    }
    sink.rethrow_pending();
    if (interrupted) {
        PyErr_SetNone(PyExc_KeyboardInterrupt);
        throw py::error_already_set();
    }
    if (failed) return py::cast(*failed);
    if (!outcome) throw error("the build stopped without a result or an error");
    return py::make_tuple(outcome->id.str(), outcome->result);
}

void register_results(py::module_& m) {
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

    py::class_<build_failure>(m, "_BuildFailure")
        .def_readonly("message", &build_failure::message)
        .def_readonly("docker_message", &build_failure::docker_message)
        .def_readonly("exit_code", &build_failure::exit_code)
        .def_readonly("kind", &build_failure::kind)
        .def_readonly("file", &build_failure::file)
        .def_readonly("line", &build_failure::line)
        .def_readonly("end_line", &build_failure::end_line)
        .def_readonly("instruction", &build_failure::instruction)
        .def_readonly("reason", &build_failure::reason)
        .def_readonly("value", &build_failure::value);
}

}  // namespace

void register_build(py::module_& m) {
    register_results(m);
    m.def(
        "_evaluate",
        [](const std::string& text, const std::string& dockerfile_name,
           const std::filesystem::path& context, const std::map<std::string, std::string>& args,
           const std::string& target, const std::map<std::string, std::string>& labels,
           bool classic,
           const std::map<std::string, image>& bases) -> std::variant<build_result, build_failure> {
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
                return failure_of(e);
            }
        },
        py::arg("text"), py::arg("dockerfile_name"), py::arg("context"), py::arg("build_args"),
        py::arg("target"), py::arg("labels"), py::arg("classic"), py::arg("bases"));

    m.def(
        "_build",
        [](py::handle store_object, const std::string& location, const std::string& dockerfile,
           const std::vector<std::string>& tags,
           const std::map<std::string, std::string>& build_args, const std::string& target,
           const std::map<std::string, std::string>& labels, bool no_cache, bool classic,
           const std::string& history_style, const std::string& network, const std::string& pull,
           bool reproducible, std::optional<std::int64_t> source_date_epoch,
           const std::vector<std::pair<std::string, std::string>>& secrets,
           const std::vector<std::string>& cache_to, const std::vector<std::string>& cache_from,
           const std::vector<std::string>& outputs, bool take_sigint,
           const py::function& on_event) {
            python_build_request request;
            request.location = location;
            request.dockerfile = dockerfile;
            request.tags = tags;
            request.build_args = build_args;
            request.target = target;
            request.labels = labels;
            request.no_cache = no_cache;
            request.classic = classic;
            request.history_style = history_style;
            request.network = network;
            request.pull = pull;
            request.reproducible = reproducible;
            request.source_date_epoch = source_date_epoch;
            request.secrets = secrets;
            request.cache_to = cache_to;
            request.cache_from = cache_from;
            request.outputs = outputs;
            request.take_sigint = take_sigint;
            return run_build(store_object, request, on_event);
        },
        py::arg("store"), py::arg("location"), py::arg("dockerfile"), py::arg("tags"),
        py::arg("build_args"), py::arg("target"), py::arg("labels"), py::arg("no_cache"),
        py::arg("classic"), py::arg("history_style"), py::arg("network"), py::arg("pull"),
        py::arg("reproducible"), py::arg("source_date_epoch"), py::arg("secrets"),
        py::arg("cache_to"), py::arg("cache_from"), py::arg("outputs"), py::arg("take_sigint"),
        py::arg("on_event"));
}

}  // namespace dockwright::python
