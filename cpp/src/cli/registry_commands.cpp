// `dockwright pull`, `push`, `login` and `logout`: images to and from registries.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <dockwright/registry/client.hpp>
#include <dockwright/registry/oci_layout.hpp>
#include <dockwright/registry/store_pull.hpp>
#include <dockwright/registry/store_source.hpp>
#include <dockwright/store/archive.hpp>
#include <dockwright/store/store.hpp>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "commands.hpp"

namespace dockwright::cli {

namespace {

namespace fs = std::filesystem;
using namespace dockwright::registry;

/// The options that pull and push share.
struct transfer_settings {
    std::vector<std::string> insecure;
    std::string ca_file;
    unsigned jobs = 4;
    bool quiet = false;
    std::string layout;
    std::string layout_name;
};

void add_transfer_options(CLI::App* command, transfer_settings& settings) {
    command->add_option("--insecure-registry", settings.insecure,
                        "Registry (host[:port]) allowed over plain HTTP and without TLS "
                        "verification; repeatable");
    command->add_option("--ca-file", settings.ca_file,
                        "PEM file of CA certificates that registry certificates are checked "
                        "against instead of the system's");
    command->add_option("-j,--jobs", settings.jobs, "Blobs transferred at the same time")
        ->check(CLI::Range(1u, 64u));
    command->add_flag("-q,--quiet", settings.quiet, "Print only the result");
}

std::string format_bytes(std::uint64_t bytes) {
    char text[32];
    if (bytes >= 1000 * 1000) {
        std::snprintf(text, sizeof text, "%.1fMB", static_cast<double>(bytes) / 1e6);
    } else if (bytes >= 1000) {
        std::snprintf(text, sizeof text, "%.1fkB", static_cast<double>(bytes) / 1e3);
    } else {
        std::snprintf(text, sizeof text, "%lluB", static_cast<unsigned long long>(bytes));
    }
    return text;
}

/// Draws a progress bar of `width` columns for `done` of `total`, in docker pull's style.
std::string progress_bar(std::uint64_t done, std::uint64_t total, std::size_t width) {
    const std::size_t filled =
        total == 0 ? 0 : static_cast<std::size_t>(std::min(done, total) * width / total);
    std::string bar = "[";
    if (filled > 0) bar += std::string(filled - 1, '=') + '>';
    bar += std::string(width - filled, ' ');
    return bar + ']';
}

/// Prints one line per finished, skipped or retried blob. On a terminal it also keeps a bar per
/// blob in transfer below those lines, redrawn in place at most ten times a second.
class progress_printer {
  public:
    progress_printer(bool quiet, std::string verb)
        : quiet_(quiet), terminal_(::isatty(STDERR_FILENO) != 0), verb_(std::move(verb)) {}

    void operator()(const progress_event& event) {
        if (quiet_) return;
        const std::string id = event.blob.short_id();
        switch (event.step) {
            case progress_event::phase::exists:
                line(id + ": Already exists");
                break;
            case progress_event::phase::mounted:
                line(id + ": Mounted from another repository");
                break;
            case progress_event::phase::retrying:
                line(id + ": Retrying (attempt " + std::to_string(event.attempt) +
                     "): " + event.detail);
                break;
            case progress_event::phase::done:
                active_.erase(id);
                line(id + ": " + verb_ + " complete (" + format_bytes(event.total) + ")");
                break;
            case progress_event::phase::transferring:
                if (!terminal_) break;
                active_.insert_or_assign(id, std::pair{event.done, event.total});
                if (std::chrono::steady_clock::now() - drawn_at_ >= redraw_interval) draw();
                break;
        }
    }

    /// Removes the bars, leaving the finished lines.
    void finish() {
        if (!quiet_ && terminal_) erase_bars();
        std::cerr << std::flush;
    }

  private:
    static constexpr std::chrono::milliseconds redraw_interval{100};

    void line(const std::string& text) {
        if (terminal_) erase_bars();
        std::cerr << text << '\n';
        if (terminal_) draw();
    }

    void erase_bars() {
        if (drawn_lines_ > 0) std::cerr << "\033[" << drawn_lines_ << "A\r\033[J";
        drawn_lines_ = 0;
    }

    void draw() {
        erase_bars();
        std::string frame;
        for (const auto& [id, progress] : active_) {
            const auto [done, total] = progress;
            frame += id + ": " + verb_ + "ing " + progress_bar(done, total, 30) + ' ' +
                     format_bytes(done) + '/' + format_bytes(total) + '\n';
            ++drawn_lines_;
        }
        std::cerr << frame << std::flush;
        drawn_at_ = std::chrono::steady_clock::now();
    }

    bool quiet_;
    bool terminal_;
    std::string verb_;
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> active_;
    std::size_t drawn_lines_ = 0;
    std::chrono::steady_clock::time_point drawn_at_{};
};

registry_options client_options(const transfer_settings& settings,
                                const std::shared_ptr<progress_printer>& printer) {
    registry_options options;
    options.insecure_registries = settings.insecure;
    if (!settings.ca_file.empty()) options.http.tls.ca_file = settings.ca_file;
    options.parallel_transfers = settings.jobs;
    options.progress = [printer](const progress_event& event) { (*printer)(event); };
    return options;
}

void run_pull(const std::string& name, const transfer_settings& settings,
              const std::string& platform_text) {
    const reference ref = reference::parse_tagged(name);
    auto printer = std::make_shared<progress_printer>(settings.quiet, "Download");
    registry_client client(client_options(settings, printer));
    pull_options options;
    if (!platform_text.empty()) options.platform = platform::parse(platform_text);
    if (!settings.quiet) std::cerr << "Pulling " << ref.familiar() << '\n';

    if (!settings.layout.empty()) {
        oci_layout_sink sink(settings.layout, settings.layout_name);
        const pull_result result = client.pull(ref, sink, options);
        printer->finish();
        std::cout << "Digest: " << result.manifest_digest << '\n';
        return;
    }
    store target(store::default_root());
    const store_pull_result pulled = pull_to_store(target, ref, client, options);
    printer->finish();
    const pull_result& result = pulled.transfer;
    const auto& loaded = pulled.loaded;
    // As docker pull, the digest the registry served, which the store records: an index's
    // own digest, not the selected manifest's. (The layout case above prints the manifest it
    // wrote to the layout.)
    std::cout << "Digest: " << result.index_digest.value_or(result.manifest_digest) << '\n';
    for (const auto& image : loaded) {
        if (image.references.empty()) std::cout << "Image ID: " << image.id << '\n';
        for (const auto& loaded_name : image.references) {
            std::cout << "Pulled: " << loaded_name.str() << '\n';
        }
    }
}

void run_push(const std::string& name, const transfer_settings& settings,
              const std::vector<std::string>& mount_from, std::uint64_t chunk_size) {
    const reference ref = reference::parse_tagged(name);
    auto printer = std::make_shared<progress_printer>(settings.quiet, "Upload");
    registry_options options = client_options(settings, printer);
    options.chunk_size = chunk_size;
    registry_client client(options);
    push_options push;
    push.mount_from = mount_from;
    if (!settings.quiet) std::cerr << "Pushing " << ref.familiar() << '\n';

    push_result result{.digest = digest::sha256_of(""),
                       .bytes_uploaded = 0,
                       .blobs_skipped = 0,
                       .blobs_mounted = 0};
    if (!settings.layout.empty()) {
        oci_layout_source source(settings.layout, settings.layout_name);
        result = client.push(source, ref, push);
    } else {
        store source_store(store::default_root());
        result = push_from_store(source_store, source_store.resolve(name).id, ref, client, push);
    }
    printer->finish();
    std::cout << (ref.tag() ? *ref.tag() : std::string("digest")) << ": digest: " << result.digest
              << '\n';
}

}  // namespace

void add_registry_commands(CLI::App& app) {
    {
        auto* command = app.add_subcommand("pull", "Download an image from a registry");
        auto name = std::make_shared<std::string>();
        auto settings = std::make_shared<transfer_settings>();
        auto platform_text = std::make_shared<std::string>();
        command->add_option("NAME", *name, "Image reference: name[:tag][@digest]")->required();
        add_transfer_options(command, *settings);
        command->add_option("--platform", *platform_text,
                            "Platform selected from a multi-platform image, as os/arch[/variant] "
                            "(default: this machine's)");
        command->add_option("--oci-layout", settings->layout,
                            "Write the image to this OCI layout directory instead of the store");
        command->add_option("--oci-name", settings->layout_name,
                            "Name of the image in the layout's index.json (default: the tag)");
        command->callback([=] { run_pull(*name, *settings, *platform_text); });
    }
    {
        auto* command = app.add_subcommand("push", "Upload an image to a registry");
        auto name = std::make_shared<std::string>();
        auto settings = std::make_shared<transfer_settings>();
        auto mount_from = std::make_shared<std::vector<std::string>>();
        auto chunk_mib = std::make_shared<std::uint64_t>(0);
        command->add_option("NAME", *name, "Image reference: name[:tag]")->required();
        add_transfer_options(command, *settings);
        command->add_option("--oci-layout", settings->layout,
                            "Push the image of this OCI layout directory instead of the store's");
        command->add_option("--oci-name", settings->layout_name,
                            "Name of the image in the layout's index.json (default: its only "
                            "image)");
        command->add_option("--mount-from", *mount_from,
                            "Repository of the same registry to mount missing blobs from; "
                            "repeatable");
        command->add_option("--chunk-size", *chunk_mib,
                            "Upload blobs larger than this many MiB in chunks of this size "
                            "(default 0: one request per blob)");
        command->callback(
            [=] { run_push(*name, *settings, *mount_from, *chunk_mib * 1024 * 1024); });
    }
    {
        auto* command = app.add_subcommand("login",
                                           "Store credentials for a registry (in the credential "
                                           "helper when config.json names one)");
        auto server = std::make_shared<std::string>("docker.io");
        auto username = std::make_shared<std::string>();
        auto password = std::make_shared<std::string>();
        auto password_stdin = std::make_shared<bool>(false);
        auto settings = std::make_shared<transfer_settings>();
        command->add_option("SERVER", *server, "Registry host[:port] (default: docker.io)");
        command->add_option("-u,--username", *username, "User name")->required();
        command->add_option("-p,--password", *password, "Password");
        command->add_flag("--password-stdin", *password_stdin,
                          "Read the password from standard input");
        command->add_option("--insecure-registry", settings->insecure,
                            "Registry (host[:port]) allowed over plain HTTP; repeatable");
        command->add_option("--ca-file", settings->ca_file, "PEM file of CA certificates");
        command->callback([=] {
            std::string secret = *password;
            if (*password_stdin) {
                std::getline(std::cin, secret);
                while (!secret.empty() && (secret.back() == '\r' || secret.back() == '\n')) {
                    secret.pop_back();
                }
            }
            if (secret.empty()) {
                throw registry_error(*server,
                                     "a password is required: give --password or "
                                     "--password-stdin");
            }
            const std::string domain = reference::parse(*server + "/x").domain();
            registry_options options;
            options.insecure_registries = settings->insecure;
            if (!settings->ca_file.empty()) options.http.tls.ca_file = settings->ca_file;
            options.docker_config_path = fs::path();
            registry_client client(options);
            const credentials creds{.username = *username, .password = secret};
            client.login(domain, creds);
            docker_config config = docker_config::load(docker_config::default_path());
            if (const auto helper = config.helper_for(domain)) {
                // As Docker does, a configured helper keeps the only copy of the secret.
                helper->store(credential_key(domain), creds);
                if (config.erase(domain)) config.save();
            } else {
                config.set(domain, creds);
                config.save();
            }
            std::cout << "Login Succeeded\n";
        });
    }
    {
        auto* command = app.add_subcommand(
            "logout",
            "Remove stored credentials for a registry, from the file and its credential helper");
        auto server = std::make_shared<std::string>("docker.io");
        command->add_option("SERVER", *server, "Registry host[:port] (default: docker.io)");
        command->callback([=] {
            const std::string domain = reference::parse(*server + "/x").domain();
            docker_config config = docker_config::load(docker_config::default_path());
            bool removed = false;
            if (const auto helper = config.helper_for(domain)) {
                removed = helper->erase(credential_key(domain));
            }
            if (config.erase(domain)) {
                config.save();
                removed = true;
            }
            if (!removed) {
                std::cout << "Not logged in to " << domain << '\n';
                return;
            }
            std::cout << "Removing login credentials for " << domain << '\n';
        });
    }
}

}  // namespace dockwright::cli
