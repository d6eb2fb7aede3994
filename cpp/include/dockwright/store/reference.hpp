// Image references `[domain/]path[:tag][@digest]`, parsed and normalised as Docker does.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dockwright/core/digest.hpp"

namespace dockwright {

/// A parsed, normalised image reference. The domain defaults to `docker.io`, a one-component
/// path on docker.io gets the `library/` prefix, and `index.docker.io` becomes `docker.io`.
class reference {
  public:
    /// Parses `name[:tag][@digest]` as Docker's reference.ParseNormalizedNamed does. Throws
    /// invalid_value_error of kind "reference" naming the text, for example
    /// `invalid reference 'Busybox': repository name must be lowercase`.
    [[nodiscard]] static reference parse(std::string_view text);

    /// Same as parse(), and adds the tag `latest` when the text has neither tag nor digest.
    [[nodiscard]] static reference parse_tagged(std::string_view text);

    /// `docker.io`, `localhost:5000`, `quay.io`, ...
    [[nodiscard]] const std::string& domain() const noexcept { return domain_; }
    /// The repository path below the domain: `library/busybox`.
    [[nodiscard]] const std::string& path() const noexcept { return path_; }
    [[nodiscard]] const std::optional<std::string>& tag() const noexcept { return tag_; }
    [[nodiscard]] const std::optional<dockwright::digest>& digest() const noexcept {
        return digest_;
    }

    /// The full repository name: `docker.io/library/busybox`.
    [[nodiscard]] std::string name() const { return domain_ + "/" + path_; }
    /// The repository name as docker shows it: `busybox`, `user/app`, `quay.io/x/y`.
    [[nodiscard]] std::string familiar_name() const;
    /// The full text: `docker.io/library/busybox:latest` (with `@digest` when present).
    [[nodiscard]] std::string str() const;
    /// The text as docker shows it: `busybox:latest`.
    [[nodiscard]] std::string familiar() const;

    /// The same repository with `tag` instead of any tag or digest.
    [[nodiscard]] reference with_tag(std::string tag) const;
    /// The same repository with `digest` instead of any tag or digest: the form of a
    /// repository digest (`docker.io/library/busybox@sha256:...`).
    [[nodiscard]] reference with_digest(dockwright::digest digest) const;

    /// Returns whether `pattern`, a shell glob in which `*` stops at `/`, matches the familiar
    /// text (`busybox:1`, `busybox@sha256:...`) or the familiar name (`busybox`). This is the
    /// reference filter of `docker images` (FamiliarMatch in Docker's reference package).
    [[nodiscard]] bool familiar_match(std::string_view pattern) const;

    friend bool operator==(const reference&, const reference&) = default;

  private:
    reference() = default;

    std::string domain_;
    std::string path_;
    std::optional<std::string> tag_;
    std::optional<dockwright::digest> digest_;
};

}  // namespace dockwright
