// Binds the image store as dockwright._core._Store; python/dockwright/store.py wraps it.
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <dockwright/store/archive.hpp>
#include <dockwright/store/store.hpp>

#include "bindings.hpp"

namespace dockwright::python {

namespace {

py::dict image_dict(const image_record& record) {
    py::list references;
    for (const auto& name : record.references)
        references.append(name);
    py::list diff_ids;
    for (const auto& id : record.diff_ids)
        diff_ids.append(id.str());
    py::list repo_digests;
    for (const auto& name : record.repo_digests)
        repo_digests.append(name);
    return py::dict(py::arg("id") = record.id.str(),
                    py::arg("parent") = record.parent ? py::object(py::str(record.parent->str()))
                                                      : py::object(py::none()),
                    py::arg("references") = references, py::arg("diff_ids") = diff_ids,
                    py::arg("created") = record.created, py::arg("size") = record.size,
                    py::arg("repo_digests") = repo_digests);
}

/// Owns the store; the GIL is released around every call that touches the disk at length.
class python_store {
  public:
    explicit python_store(const std::optional<std::string>& path)
        : store_(path ? std::filesystem::path(*path) : store::default_root()) {}

    std::string root() const { return store_.root().string(); }

    store& native() { return store_; }

    py::list images() const {
        std::vector<image_record> records;
        {
            py::gil_scoped_release release;
            records = store_.images();
        }
        py::list result;
        for (const auto& record : records)
            result.append(image_dict(record));
        return result;
    }

    py::dict get(const std::string& name) const { return image_dict(store_.resolve(name)); }

    py::bytes config(const std::string& id) const {
        return py::bytes(store_.config_bytes(digest::parse(id)));
    }

    py::dict layer(const std::string& diff_id) const {
        const layer_record record = store_.layer(digest::parse(diff_id));
        return py::dict(py::arg("diff_id") = record.diff_id.str(), py::arg("size") = record.size,
                        py::arg("compressed_digest") =
                            record.compressed_digest
                                ? py::object(py::str(record.compressed_digest->str()))
                                : py::object(py::none()),
                        py::arg("compressed_size") = record.compressed_size);
    }

    py::list layer_files(const std::string& diff_id) const {
        std::vector<layer_file> files;
        {
            py::gil_scoped_release release;
            files = list_layer(store_.blob_path(digest::parse(diff_id)));
        }
        py::list result;
        for (const auto& file : files) {
            result.append(py::dict(py::arg("path") = file.path, py::arg("type") = file.type,
                                   py::arg("size") = file.size, py::arg("mode") = file.mode,
                                   py::arg("uid") = file.uid, py::arg("gid") = file.gid,
                                   py::arg("mtime") = file.mtime, py::arg("link") = file.link));
        }
        return result;
    }

    std::optional<std::string> tag(const std::string& source, const std::string& target) {
        const reference name = reference::parse_tagged(target);
        if (name.digest()) {
            throw invalid_value_error("reference", target, "a tag cannot contain a digest");
        }
        const auto previous = store_.tag(store_.resolve(source).id, name);
        if (!previous) return std::nullopt;
        return previous->str();
    }

    std::vector<std::string> remove(const std::string& name, bool force) {
        py::gil_scoped_release release;
        return store_.remove(name, force);
    }

    py::dict prune(bool dangling_images) {
        prune_report report;
        {
            py::gil_scoped_release release;
            report = store_.prune(dangling_images);
        }
        py::list images;
        for (const auto& id : report.images)
            images.append(id.str());
        return py::dict(py::arg("images") = images, py::arg("blobs") = report.blobs,
                        py::arg("bytes") = report.bytes, py::arg("snapshots") = report.snapshots,
                        py::arg("temporary_files") = report.temporary_files);
    }

    std::vector<std::pair<std::string, std::string>> verify() const {
        std::vector<verify_problem> problems;
        {
            py::gil_scoped_release release;
            problems = store_.verify();
        }
        std::vector<std::pair<std::string, std::string>> result;
        for (const auto& problem : problems)
            result.emplace_back(problem.subject, problem.problem);
        return result;
    }

    void save(const std::vector<std::string>& names, const std::string& output,
              const std::string& format, const std::string& compression) {
        if (format != "docker" && format != "oci") {
            throw invalid_value_error("archive format", format, "use 'docker' or 'oci'");
        }
        layer::compression kind = layer::compression::none;
        if (compression == "gzip")
            kind = layer::compression::gzip;
        else if (compression == "zstd")
            kind = layer::compression::zstd;
        else if (compression != "none") {
            throw invalid_value_error("compression", compression, "use 'none', 'gzip' or 'zstd'");
        }
        if (kind != layer::compression::none && format != "oci") {
            throw invalid_value_error("compression", compression,
                                      "layers are compressed only in OCI layouts");
        }
        py::gil_scoped_release release;
        save_archive(store_, names, output,
                     format == "oci" ? archive_format::oci : archive_format::docker, kind);
    }

    py::list load(const std::string& input) {
        std::vector<loaded_image> loaded;
        {
            py::gil_scoped_release release;
            loaded = load_archive(store_, input);
        }
        py::list result;
        for (const auto& image : loaded) {
            py::list names;
            for (const auto& name : image.references)
                names.append(name.familiar());
            result.append(py::dict(py::arg("id") = image.id.str(), py::arg("references") = names));
        }
        return result;
    }

    std::string import_rootfs(const std::string& input, const std::optional<std::string>& name,
                              const std::vector<std::string>& changes, const std::string& message) {
        import_options options;
        if (name) options.target = reference::parse_tagged(*name);
        options.changes = changes;
        options.message = message;
        py::gil_scoped_release release;
        return dockwright::import_rootfs(store_, input, options).str();
    }

    std::string unpack(const std::string& name) {
        const digest id = store_.resolve(name).id;
        py::gil_scoped_release release;
        return store_.unpack(id).string();
    }

  private:
    store store_;
};

}  // namespace

store& native_store(py::handle object) {
    return object.cast<python_store&>().native();
}

void register_store(py::module_& m) {
    py::class_<python_store>(m, "_Store")
        .def(py::init<const std::optional<std::string>&>(), py::arg("path") = py::none())
        .def_property_readonly("root", &python_store::root)
        .def("images", &python_store::images)
        .def("get", &python_store::get, py::arg("name"))
        .def("config", &python_store::config, py::arg("id"))
        .def("layer", &python_store::layer, py::arg("diff_id"))
        .def("layer_files", &python_store::layer_files, py::arg("diff_id"))
        .def("tag", &python_store::tag, py::arg("source"), py::arg("target"))
        .def("remove", &python_store::remove, py::arg("name"), py::arg("force") = false)
        .def("prune", &python_store::prune, py::arg("dangling_images") = true)
        .def("verify", &python_store::verify)
        .def("save", &python_store::save, py::arg("names"), py::arg("output"),
             py::arg("format") = "docker", py::arg("compression") = "none")
        .def("load", &python_store::load, py::arg("input"))
        .def("import_rootfs", &python_store::import_rootfs, py::arg("input"),
             py::arg("reference") = py::none(), py::arg("changes") = std::vector<std::string>{},
             py::arg("message") = "")
        .def("unpack", &python_store::unpack, py::arg("name"));
}

}  // namespace dockwright::python
