// Per-registry sessions: probing /v2/, choosing the URL scheme, authorization and retries.
#include "dockwright/registry/client.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "dockwright/registry/registry_error.hpp"
#include "session.hpp"

namespace dockwright::registry {

namespace {

using json = nlohmann::json;

/// Strips the port (and IPv6 brackets) from `host[:port]`.
std::string host_without_port(std::string_view host) {
    if (host.starts_with("[")) {
        const auto close = host.find(']');
        return std::string(host.substr(1, close == std::string_view::npos ? host.npos : close - 1));
    }
    const auto colon = host.find(':');
    if (colon != std::string_view::npos && host.find(':', colon + 1) == std::string_view::npos) {
        return std::string(host.substr(0, colon));
    }
    return std::string(host);
}

std::string describe_errors(const std::string& body) {
    const json document = json::parse(body, nullptr, false);
    if (document.is_discarded() || !document.is_object()) return "";
    const auto errors = document.find("errors");
    if (errors == document.end() || !errors->is_array()) return "";
    std::string text;
    for (const json& entry : *errors) {
        if (!entry.is_object()) continue;
        if (!text.empty()) text += "; ";
        text += entry.value("code", "UNKNOWN");
        const std::string message = entry.value("message", "");
        if (!message.empty()) text += ": " + message;
    }
    return text;
}

}  // namespace

bool is_loopback_registry(std::string_view host) {
    const std::string name = host_without_port(host);
    if (name == "localhost" || name == "::1") return true;
    in_addr address{};
    if (::inet_pton(AF_INET, name.c_str(), &address) == 1) {
        return (ntohl(address.s_addr) >> 24) == 127;
    }
    return false;
}

std::string api_host(std::string_view domain) {
    if (domain == "docker.io" || domain == "index.docker.io") return "registry-1.docker.io";
    return std::string(domain);
}

bool transient_status(long status) noexcept {
    return status == 408 || status == 429 || (status >= 500 && status != 501 && status != 505);
}

registry_error response_error(const std::string& subject, const http_response& response) {
    std::string reason;
    switch (response.status) {
        case 401:
            reason = "unauthorized";
            break;
        case 403:
            reason = "access denied";
            break;
        case 404:
            reason = "not found";
            break;
        case 429:
            reason = "too many requests";
            break;
        default:
            reason = "unexpected response";
            break;
    }
    reason += " (HTTP " + std::to_string(response.status) + ")";
    if (const std::string details = describe_errors(response.body); !details.empty()) {
        reason += ": " + details;
    }
    if (response.status == 401) return registry_auth_error(subject, reason, response.status);
    return registry_error(subject, reason, response.status);
}

std::string resolve_location(const registry_session& s, const std::string& location) {
    if (location.starts_with("http://") || location.starts_with("https://")) return location;
    if (location.starts_with("/")) return s.base_url + location;
    return s.base_url + "/" + location;
}

registry_client::registry_client(registry_options options) : impl_(std::make_unique<impl>()) {
    impl_->options = std::move(options);
    if (impl_->options.parallel_transfers == 0) impl_->options.parallel_transfers = 1;
    if (impl_->options.max_attempts < 1) impl_->options.max_attempts = 1;
}

registry_client::~registry_client() = default;

http_client registry_client::impl::make_client(const registry_session& s) const {
    return http_client(s.http);
}

registry_session& registry_client::impl::session(const std::string& domain) {
    if (const auto it = sessions.find(domain); it != sessions.end()) return *it->second;
    auto s = std::make_unique<registry_session>();
    s->domain = domain;
    s->http = options.http;
    const bool insecure =
        std::find(options.insecure_registries.begin(), options.insecure_registries.end(), domain) !=
        options.insecure_registries.end();
    if (insecure) s->http.tls.verify = false;
    if (const auto it = options.credentials_by_registry.find(domain);
        it != options.credentials_by_registry.end()) {
        s->creds = it->second;
    } else if (!options.docker_config_path || !options.docker_config_path->empty()) {
        const auto path = options.docker_config_path.value_or(docker_config::default_path());
        s->creds = docker_config::load(path).lookup(domain);
    }
    probe(*s);
    return *sessions.emplace(domain, std::move(s)).first->second;
}

void registry_client::impl::probe(registry_session& s) {
    const std::string host = api_host(s.domain);
    const bool insecure =
        std::find(options.insecure_registries.begin(), options.insecure_registries.end(),
                  s.domain) != options.insecure_registries.end();
    const bool may_use_http = insecure || is_loopback_registry(host);
    http_client client(s.http);
    http_response response;
    s.base_url = "https://" + host;
    try {
        with_retries(
            [&](int) {
                response = client.send(make_request("GET", s.base_url + "/v2/"));
                if (transient_status(response.status)) throw response_error(s.domain, response);
            },
            [](int, const std::string&) {});
    } catch (const transport_error& e) {
        // As Docker does, registries named insecure and loopback registries may speak plain
        // HTTP. A certificate that fails verification is reported, never bypassed.
        if (!may_use_http || e.kind() == transport_failure::tls_verification) {
            throw registry_error(s.domain, std::string("cannot reach the registry: ") + e.what());
        }
        s.base_url = "http://" + host;
        try {
            response = client.send(make_request("GET", s.base_url + "/v2/"));
        } catch (const transport_error& plain) {
            throw registry_error(s.domain, std::string("cannot reach the registry over HTTPS (") +
                                               e.what() + ") or HTTP (" + plain.what() + ")");
        }
    }
    if (response.status == 401) {
        for (auth_challenge& challenge :
             parse_www_authenticate(response.header("WWW-Authenticate").value_or(""))) {
            if (challenge.scheme == "bearer" || challenge.scheme == "basic") {
                s.challenge = std::move(challenge);
                break;
            }
        }
        if (!s.challenge) {
            throw registry_error(s.domain,
                                 "the registry requires an unsupported authentication "
                                 "scheme: '" +
                                     response.header("WWW-Authenticate").value_or("") + "'",
                                 401);
        }
        return;
    }
    if (response.status != 200) {
        throw registry_error(
            s.domain, "not a registry: GET /v2/ returned HTTP " + std::to_string(response.status),
            response.status);
    }
}

std::string registry_client::impl::authorization(http_client& client, registry_session& s,
                                                 const std::string& scope,
                                                 const std::string& rejected) {
    std::unique_lock lock(s.mutex);
    if (!s.challenge) return "";
    if (s.challenge->scheme == "basic") {
        if (!s.creds) return "";
        return "Basic " + base64_encode(s.creds->username + ":" + s.creds->password);
    }
    if (const auto it = s.tokens.find(scope); it != s.tokens.end() && it->second != rejected) {
        return it->second;
    }
    const auto& parameters = s.challenge->parameters;
    const auto realm = parameters.find("realm");
    if (realm == parameters.end() || realm->second.empty()) {
        throw registry_error(s.domain, "the bearer challenge names no realm");
    }
    std::string url = realm->second;
    char separator = url.find('?') == std::string::npos ? '?' : '&';
    if (const auto service = parameters.find("service"); service != parameters.end()) {
        url += separator + std::string("service=") + url_encode(service->second);
        separator = '&';
    }
    // Several scopes are sent as repeated parameters, as the token specification allows.
    std::size_t start = 0;
    while (start < scope.size()) {
        const std::size_t end = std::min(scope.find(' ', start), scope.size());
        url += separator + std::string("scope=") + url_encode(scope.substr(start, end - start));
        separator = '&';
        start = end + 1;
    }
    http_request request = make_request("GET", url);
    std::string form;
    if (s.creds && s.creds->username == identity_token_username) {
        // An identity token is an OAuth2 refresh token: it is exchanged with a form POST to
        // the realm, as the distribution token specification describes.
        form = "grant_type=refresh_token&client_id=dockwright&refresh_token=" +
               url_encode(s.creds->password);
        if (const auto service = parameters.find("service"); service != parameters.end()) {
            form += "&service=" + url_encode(service->second);
        }
        if (!scope.empty()) form += "&scope=" + url_encode(scope);
        request = make_request("POST", realm->second);
        request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
        request.body = form;
    } else if (s.creds) {
        request.headers.emplace_back(
            "Authorization", "Basic " + base64_encode(s.creds->username + ":" + s.creds->password));
    }
    const http_response response = client.send(request);
    if (response.status == 401 || response.status == 403) {
        if (s.creds) {
            throw registry_auth_error(s.domain,
                                      "authentication failed for user '" + s.creds->username +
                                          "': the token server rejected the "
                                          "credentials (HTTP " +
                                          std::to_string(response.status) + ")",
                                      response.status);
        }
        throw registry_auth_error(s.domain,
                                  "authentication required: no credentials are stored "
                                  "for this registry; run 'dockwright login " +
                                      s.domain + "'",
                                  response.status);
    }
    if (response.status != 200) throw response_error(s.domain + " token server", response);
    const json document = json::parse(response.body, nullptr, false);
    std::string token;
    if (document.is_object()) {
        token = document.value("token", "");
        if (token.empty()) token = document.value("access_token", "");
    }
    if (token.empty()) throw registry_error(s.domain, "the token server returned no token");
    std::string header = "Bearer " + token;
    s.tokens[scope] = header;
    return header;
}

http_response registry_client::impl::send(http_client& client, registry_session& s,
                                          http_request request, const std::string& scope) {
    const std::size_t plain_headers = request.headers.size();
    std::string auth = authorization(client, s, scope, "");
    if (!auth.empty()) request.headers.emplace_back("Authorization", auth);
    http_response response = client.send(request);
    if (response.status != 401) return response;

    // A registry may ask for authentication only on some paths, or a token may have expired:
    // take the challenge from this response and try once more, unless the body was streamed.
    const bool replayable = !request.body_reader;
    for (auth_challenge& challenge :
         parse_www_authenticate(response.header("WWW-Authenticate").value_or(""))) {
        if (challenge.scheme == "bearer" || challenge.scheme == "basic") {
            std::lock_guard lock(s.mutex);
            s.challenge = std::move(challenge);
            break;
        }
    }
    const std::string retry = authorization(client, s, scope, auth);
    if (replayable && !retry.empty() && retry != auth) {
        request.headers.resize(plain_headers);
        request.headers.emplace_back("Authorization", retry);
        response = client.send(request);
        if (response.status != 401) return response;
    }
    if (!s.creds) {
        throw registry_auth_error(s.domain,
                                  "authentication required: no credentials are stored for this "
                                  "registry; run 'dockwright login " +
                                      s.domain + "'",
                                  401);
    }
    throw registry_auth_error(s.domain,
                              "authentication failed for user '" + s.creds->username +
                                  "': the registry rejected the credentials (HTTP 401)",
                              401);
}

void registry_client::impl::with_retries(
    const std::function<void(int)>& attempt,
    const std::function<void(int, const std::string&)>& on_retry) {
    for (int n = 1;; ++n) {
        std::string failure;
        try {
            attempt(n);
            return;
        } catch (const transport_error& e) {
            if (!e.transient() || n >= options.max_attempts || cancelled) throw;
            failure = e.what();
        } catch (const registry_auth_error&) {
            throw;
        } catch (const registry_error& e) {
            if (!transient_status(e.status()) || n >= options.max_attempts || cancelled) throw;
            failure = e.what();
        }
        on_retry(n + 1, failure);
        std::this_thread::sleep_for(options.retry_delay * (1 << std::min(n - 1, 10)));
    }
}

void registry_client::impl::for_each_parallel(
    registry_session& s, const std::vector<descriptor>& items,
    const std::function<void(http_client&, const descriptor&)>& work) {
    std::atomic<std::size_t> next{0};
    std::mutex failure_mutex;
    std::exception_ptr failure;
    cancelled = false;
    auto worker = [&] {
        try {
            http_client client = make_client(s);
            while (!cancelled) {
                const std::size_t i = next++;
                if (i >= items.size()) break;
                work(client, items[i]);
            }
        } catch (...) {
            std::lock_guard lock(failure_mutex);
            if (!failure) failure = std::current_exception();
            cancelled = true;
        }
    };
    const std::size_t count =
        std::min<std::size_t>(options.parallel_transfers, std::max<std::size_t>(items.size(), 1));
    if (count <= 1) {
        worker();
    } else {
        std::vector<std::jthread> threads;
        for (std::size_t i = 0; i < count; ++i)
            threads.emplace_back(worker);
    }
    cancelled = false;
    if (failure) std::rethrow_exception(failure);
}

void registry_client::impl::report(const progress_event& event) {
    if (!options.progress) return;
    std::lock_guard lock(progress_mutex);
    options.progress(event);
}

manifest_document registry_client::impl::get_manifest(http_client& client, registry_session& s,
                                                      const std::string& repository,
                                                      const std::string& tag_or_digest,
                                                      const std::optional<digest>& expected,
                                                      const std::string& subject) {
    // Manifests are small JSON documents; the limit bounds memory use against a hostile server.
    constexpr std::size_t max_manifest_size = 4 << 20;
    const std::string scope = "repository:" + repository + ":pull";
    http_response response;
    with_retries(
        [&](int) {
            http_request request = make_request(
                "GET", s.base_url + "/v2/" + repository + "/manifests/" + tag_or_digest);
            request.headers.emplace_back("Accept", manifest_accept_header());
            response = send(client, s, std::move(request), scope);
            if (response.status != 200) throw response_error(subject, response);
        },
        [&](int, const std::string&) {});
    if (response.body.size() > max_manifest_size) {
        throw registry_error(subject, "the manifest is larger than 4 MiB");
    }
    manifest_document document;
    document.bytes = std::move(response.body);
    document.media_type =
        detect_media_type(document.bytes, response.header("Content-Type").value_or(""));
    std::optional<digest> wanted = expected;
    if (!wanted) {
        if (const auto header = response.header("Docker-Content-Digest")) {
            try {
                wanted = digest::parse(*header);
            } catch (const invalid_value_error&) {
                // An unparseable header is ignored; the registry is not required to send it.
            }
        }
    }
    if (wanted) {
        hasher h(wanted->algorithm());
        h.update(document.bytes);
        const digest actual = h.finish();
        if (actual != *wanted) {
            throw registry_error(subject, "manifest digest mismatch: expected " + wanted->str() +
                                              ", received content with digest " + actual.str());
        }
    }
    return document;
}

manifest_document registry_client::fetch_manifest(const reference& ref) {
    registry_session& s = impl_->session(ref.domain());
    http_client client = impl_->make_client(s);
    const std::string target = ref.digest() ? ref.digest()->str() : ref.tag().value_or("latest");
    return impl_->get_manifest(client, s, ref.path(), target, ref.digest(), ref.str());
}

void registry_client::login(std::string_view registry, const credentials& creds) {
    const std::string domain(registry);
    impl_->options.credentials_by_registry[domain] = creds;
    impl_->sessions.erase(domain);
    registry_session& s = impl_->session(domain);
    http_client client = impl_->make_client(s);
    // With an empty scope the token request only authenticates, as `docker login` does.
    std::string auth = [&] {
        std::lock_guard lock(s.mutex);
        return s.challenge ? s.challenge->scheme : std::string();
    }();
    if (auth == "bearer") {
        (void)impl_->authorization(client, s, "", "");
        return;
    }
    const http_response response =
        impl_->send(client, s, make_request("GET", s.base_url + "/v2/"), "");
    if (response.status != 200) throw response_error(domain, response);
}

}  // namespace dockwright::registry
