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

    friend bool operator==(const reference&, const reference&) = default;

  private:
    reference() = default;

    std::string domain_;
    std::string path_;
    std::optional<std::string> tag_;
    std::optional<dockwright::digest> digest_;
};

}  // namespace dockwright
