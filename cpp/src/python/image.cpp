// Python bindings of the image value types: Config, HealthConfig, History, RootFS, V1Image,
// Image. Each class gets keyword construction, snake_case properties, equality, copying,
// from_json/to_json and a repr listing the fields that differ from their defaults.
#include <pybind11/stl.h>

#include <dockwright/image/image.hpp>
#include <dockwright/image/oci.hpp>
#include <functional>
#include <string>
#include <vector>

#include "bindings.hpp"

namespace dockwright::python {

namespace {

/// The Python-visible fields of a value type T, in Docker's order.
template <class T>
class field_table {
  public:
    struct field {
        std::string name;
        std::function<py::object(const T&)> get;
        std::function<void(T&, py::handle)> set;
        std::string doc;
    };

    /// Adds a field stored as `member` and converted by pybind11's type casters.
    template <class Member, class Owner>
    field_table& add(std::string name, Member Owner::*member, std::string doc) {
        fields_.push_back({std::move(name),
                           [member](const T& value) { return py::cast(value.*member); },
                           [member](T& value, py::handle input) {
                               value.*member = input.template cast<Member>();
                           },
                           std::move(doc)});
        return *this;
    }

    /// Adds a timestamp field, visible in Python as its RFC 3339 text.
    template <class Owner>
    field_table& add_time(std::string name, timestamp Owner::*member, std::string doc) {
        fields_.push_back({std::move(name),
                           [member](const T& value) { return py::cast((value.*member).str()); },
                           [member](T& value, py::handle input) {
                               value.*member = timestamp::parse(input.cast<std::string>());
                           },
                           std::move(doc)});
        return *this;
    }

    /// Adds a field with its own conversion in both directions.
    field_table& add_custom(std::string name, std::function<py::object(const T&)> get,
                            std::function<void(T&, py::handle)> set, std::string doc) {
        fields_.push_back({std::move(name), std::move(get), std::move(set), std::move(doc)});
        return *this;
    }

    /// Defines the properties, the keyword constructor, __repr__ and the value protocol.
    void bind(py::class_<T>& cls, const std::string& class_name) const {
        const auto table = std::make_shared<field_table>(*this);
        for (const auto& f : fields_) {
            cls.def_property(f.name.c_str(), f.get, f.set, f.doc.c_str());
        }
        cls.def(py::init([table](const py::kwargs& keywords) {
                    T value{};
                    for (const auto& [key, input] : keywords)
                        table->assign(value, key, input);
                    return value;
                }),
                "Create the value from keyword arguments named as its attributes.")
            .def("__eq__", [](const T& a, const T& b) { return a == b; })
            .def("__eq__", [](const T&, const py::object&) { return false; })
            .def("__copy__", [](const T& value) { return value; })
            .def("__deepcopy__", [](const T& value, const py::dict&) { return value; })
            .def("__repr__",
                 [table, class_name](const T& value) { return table->repr(value, class_name); })
            .def(
                "to_json", [](const T& value) { return py::bytes(to_json(value)); },
                "Encode as the exact bytes Docker writes.")
            .def_property_readonly(
                "extra_fields",
                [](const T& value) {
                    py::dict fields;
                    for (const auto& [key, raw] : value.extra)
                        fields[py::str(key)] = raw;
                    return fields;
                },
                "Members that Docker's type does not have, as compact raw JSON text by key.");
        cls.attr("__hash__") = py::none();
        py::list names;
        for (const auto& f : fields_)
            names.append(f.name);
        cls.attr("_fields") = py::tuple(names);
    }

  private:
    void assign(T& value, const py::handle& key, const py::handle& input) const {
        const auto name = key.cast<std::string>();
        for (const auto& f : fields_) {
            if (f.name == name) {
                f.set(value, input);
                return;
            }
        }
        throw py::type_error("unexpected keyword argument '" + name + "'");
    }

    std::string repr(const T& value, const std::string& class_name) const {
        const T defaults{};
        std::string text = class_name + "(";
        bool first = true;
        for (const auto& f : fields_) {
            const py::object current = f.get(value);
            if (current.equal(f.get(defaults))) continue;
            if (!first) text += ", ";
            first = false;
            text += f.name + "=" + py::repr(current).cast<std::string>();
        }
        return text + ")";
    }

    std::vector<field> fields_;
};

/// Adds from_json to a class: it accepts bytes or str and decodes with `decode`.
template <class T>
void add_from_json(py::class_<T>& cls, T (*decode)(std::string_view)) {
    cls.def_static(
        "from_json",
        [decode](const py::object& data) {
            std::string text = py::isinstance<py::bytes>(data) ? data.cast<std::string>()
                                                               : py::str(data).cast<std::string>();
            return decode(text);
        },
        py::arg("data"), "Decode JSON text (bytes or str) as Docker's Go code does.");
}

field_table<health_config> health_fields() {
    field_table<health_config> table;
    table.add("test", &health_config::test, "['CMD', ...], ['CMD-SHELL', cmd] or ['NONE'].")
        .add("interval", &health_config::interval, "Time between checks, in nanoseconds.")
        .add("timeout", &health_config::timeout, "Time a check may take, in nanoseconds.")
        .add("start_period", &health_config::start_period,
             "Start-up time before failures count, in nanoseconds.")
        .add("retries", &health_config::retries, "Failures in a row that make it unhealthy.");
    return table;
}

field_table<config> config_fields() {
    field_table<config> table;
    table.add("hostname", &config::hostname, "Hostname")
        .add("domainname", &config::domainname, "Domainname")
        .add("user", &config::user, "User (USER): name or uid, optionally ':group'.")
        .add("attach_stdin", &config::attach_stdin, "AttachStdin")
        .add("attach_stdout", &config::attach_stdout, "AttachStdout")
        .add("attach_stderr", &config::attach_stderr, "AttachStderr")
        .add("exposed_ports", &config::exposed_ports, "ExposedPorts (EXPOSE): {'80/tcp'}.")
        .add("tty", &config::tty, "Tty")
        .add("open_stdin", &config::open_stdin, "OpenStdin")
        .add("stdin_once", &config::stdin_once, "StdinOnce")
        .add("env", &config::env, "Env (ENV): ['KEY=value', ...] or None.")
        .add("cmd", &config::cmd, "Cmd (CMD), or None.")
        .add("healthcheck", &config::healthcheck, "Healthcheck (HEALTHCHECK), or None.")
        .add("args_escaped", &config::args_escaped, "ArgsEscaped (Windows only).")
        .add("image", &config::image, "Image: the parent image ID during a build.")
        .add("volumes", &config::volumes, "Volumes (VOLUME): a set of paths, or None.")
        .add("working_dir", &config::working_dir, "WorkingDir (WORKDIR).")
        .add("entrypoint", &config::entrypoint, "Entrypoint (ENTRYPOINT), or None.")
        .add("network_disabled", &config::network_disabled, "NetworkDisabled")
        .add("mac_address", &config::mac_address, "MacAddress")
        .add("on_build", &config::on_build, "OnBuild (ONBUILD) triggers, or None.")
        .add("labels", &config::labels, "Labels (LABEL): a dict, or None.")
        .add("stop_signal", &config::stop_signal, "StopSignal (STOPSIGNAL).")
        .add("stop_timeout", &config::stop_timeout, "StopTimeout in seconds, or None.")
        .add("shell", &config::shell, "Shell (SHELL), or None.");
    return table;
}

field_table<history> history_fields() {
    field_table<history> table;
    table.add_time("created", &history::created, "When the step ran, RFC 3339 text.")
        .add("author", &history::author, "author (MAINTAINER).")
        .add("created_by", &history::created_by, "The command the step recorded.")
        .add("comment", &history::comment, "comment")
        .add("empty_layer", &history::empty_layer, "True when the step added no layer.");
    return table;
}

/// Adds the V1Image fields; `id_name` is the Python name of the legacy `id` member, which
/// Image calls `legacy_id` because its `id` is the computed image ID.
template <class T>
void add_v1_fields(field_table<T>& table, const std::string& id_name) {
    table.add(id_name, &v1_image::id, "id (legacy v1 images only).")
        .add("parent", &v1_image::parent, "parent image ID.")
        .add("comment", &v1_image::comment, "comment")
        .add_time("created", &v1_image::created, "When the image was made, RFC 3339 text.")
        .add("container", &v1_image::container, "ID of the container of the last step.")
        .add("container_config", &v1_image::container_config,
             "Config of the container of the last step.")
        .add("docker_version", &v1_image::docker_version, "docker_version")
        .add("author", &v1_image::author, "author (MAINTAINER).")
        .add("config", &v1_image::config, "The config containers start with, or None.")
        .add("architecture", &v1_image::architecture, "architecture, e.g. 'amd64'.")
        .add("variant", &v1_image::variant, "variant, e.g. 'v8'.")
        .add("os", &v1_image::os, "os, e.g. 'linux'.")
        .add("size", &v1_image::size, "Size in bytes (legacy).");
}

}  // namespace

void register_image(py::module_& m) {
    py::class_<health_config> health(m, "HealthConfig", "A HEALTHCHECK setting.");
    health_fields().bind(health, "HealthConfig");
    add_from_json(health, &health_config_from_json);

    py::class_<config> cfg(m, "Config", "The configuration a container starts with.");
    config_fields().bind(cfg, "Config");
    add_from_json(cfg, &config_from_json);

    py::class_<history> hist(m, "History", "One step in an image's history.");
    history_fields().bind(hist, "History");
    add_from_json(hist, &history_from_json);

    py::class_<root_fs> rootfs(m, "RootFS", "The layers of an image, by diff ID.");
    field_table<root_fs> rootfs_table;
    rootfs_table.add("type", &root_fs::type, "Always 'layers'.")
        .add_custom(
            "diff_ids", [](const root_fs& value) { return py::cast(value.diff_ids); },
            [](root_fs& value, py::handle items) {
                value.diff_ids.clear();
                for (const auto& item : items) {
                    value.diff_ids.push_back(digest::parse(py::str(item).cast<std::string>()));
                }
            },
            "Digests of the uncompressed layer tars, bottom layer first (str or Digest).");
    rootfs_table.bind(rootfs, "RootFS");
    add_from_json(rootfs, &root_fs_from_json);

    py::class_<v1_image> v1(m, "V1Image", "The legacy v1 image JSON.");
    field_table<v1_image> v1_table;
    add_v1_fields(v1_table, "id");
    v1_table.bind(v1, "V1Image");
    add_from_json(v1, &v1_image_from_json);

    py::class_<image> img(m, "Image", "An image config: the blob whose SHA-256 is the image ID.");
    field_table<image> image_table;
    add_v1_fields(image_table, "legacy_id");
    image_table.add("rootfs", &image::rootfs, "The layers, or None.")
        .add("history", &image::history, "The steps that made the image.")
        .add("os_version", &image::os_version, "os.version")
        .add("os_features", &image::os_features, "os.features");
    image_table.bind(img, "Image");
    add_from_json(img, &image_from_json);
    img.def_property_readonly("id", &image::computed_id, "The image ID: sha256 of to_json().")
        .def(
            "to_oci_json", [](const image& value) { return py::bytes(to_oci_json(value)); },
            "Encode as an OCI image config (application/vnd.oci.image.config.v1+json).")
        .def_static(
            "from_oci_json",
            [](const py::object& data) {
                return image_from_oci_json(py::isinstance<py::bytes>(data)
                                               ? data.cast<std::string>()
                                               : py::str(data).cast<std::string>());
            },
            py::arg("data"), "Decode an OCI image config.")
        .def("oci_dropped_fields", &oci_dropped_fields,
             "JSON paths of the set fields that the OCI format cannot hold.");
}

}  // namespace dockwright::python
