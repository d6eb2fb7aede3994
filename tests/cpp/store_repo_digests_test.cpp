// Tests of repository digests (RepoDigests): recording, lookup, removal as docker rmi does,
// prune, verify, and the schema upgrade of a store made before they existed.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <dockwright/layer/tar_writer.hpp>
#include <dockwright/store/store.hpp>

#include "layer_support.hpp"
#include "store_support.hpp"

namespace fs = std::filesystem;
using namespace dockwright;
using dockwright::test::commit_image_with;
using dockwright::test::run_sql;

namespace {

const std::string first_digest =
    "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const std::string second_digest =
    "sha256:2222222222222222222222222222222222222222222222222222222222222222";

}  // namespace

TEST_CASE("reference with_digest drops the tag", "[store][reference]") {
    const reference tagged = reference::parse("localhost:5000/app:1");
    const reference pinned = tagged.with_digest(digest::parse(first_digest));
    CHECK(pinned.str() == "localhost:5000/app@" + first_digest);
    CHECK_FALSE(pinned.tag());
}

TEST_CASE("reference familiar_match as docker images", "[store][reference]") {
    const reference tag = reference::parse("busybox:1.36");
    CHECK(tag.familiar_match("busybox"));
    CHECK(tag.familiar_match("busybox:1.36"));
    CHECK(tag.familiar_match("busy*"));
    CHECK(tag.familiar_match("busybox:1.*"));
    CHECK_FALSE(tag.familiar_match("busybox:1"));
    CHECK_FALSE(tag.familiar_match("docker.io/library/busybox"));
    const reference pinned = reference::parse("busybox@" + first_digest);
    CHECK(pinned.familiar_match("busybox@" + first_digest));
    CHECK(pinned.familiar_match("busybox"));
    CHECK_FALSE(pinned.familiar_match("busybox@" + second_digest));
    const reference nested = reference::parse("localhost:5000/team/app:1");
    CHECK(nested.familiar_match("localhost:5000/team/*"));
    CHECK_FALSE(nested.familiar_match("localhost:5000/*"));
}

TEST_CASE("repo digests are sorted and resolve", "[store][digest]") {
    test::temp_dir root;
    store target(root.path());
    const digest id = commit_image_with(
        target, "one", {"app:1"}, {"localhost:5000/app@" + second_digest, "app@" + first_digest});
    const image_record record = target.get(id);
    CHECK(record.references == std::vector<std::string>{"docker.io/library/app:1"});
    CHECK(record.repo_digests == std::vector<std::string>{"docker.io/library/app@" + first_digest,
                                                          "localhost:5000/app@" + second_digest});
    CHECK(target.resolve("app@" + first_digest).id == id);
    CHECK(target.resolve("localhost:5000/app@" + second_digest).id == id);
    // A tag beside the digest is ignored for the lookup, as in Docker's reference store.
    CHECK(target.resolve("app:9@" + first_digest).id == id);
    CHECK_FALSE(target.find("other@" + first_digest));
    CHECK_FALSE(target.find("app@" + second_digest));
    CHECK(target.verify().empty());
}

TEST_CASE("repo digest of a pull by tag stays with its first image", "[store][digest]") {
    test::temp_dir root;
    store target(root.path());
    const digest first = commit_image_with(target, "one", {"app:1"}, {"app@" + first_digest});
    const digest second = commit_image_with(target, "two", {"app:1"}, {"app@" + first_digest});
    CHECK(target.resolve("app@" + first_digest).id == first);
    CHECK(target.get(second).repo_digests.empty());

    // A pull by digest passes the digest reference in `references`, which moves it.
    image_commit again{target.config_bytes(second),
                       {target.layer(target.get(second).diff_ids[0])},
                       {},
                       {reference::parse("app@" + first_digest)}};
    const commit_result moved = target.commit_image(again);
    REQUIRE(moved.moved_references.size() == 1);
    CHECK(moved.moved_references[0].first.str() == "docker.io/library/app@" + first_digest);
    CHECK(moved.moved_references[0].second == first);
    CHECK(target.resolve("app@" + first_digest).id == second);
}

TEST_CASE("add_repo_digest adds a name once", "[store][digest]") {
    test::temp_dir root;
    store target(root.path());
    const digest one = commit_image_with(target, "one", {"app:1"});
    const digest two = commit_image_with(target, "two", {"app:2"});
    const reference pushed = reference::parse("localhost:5000/app:1");
    CHECK(target.add_repo_digest(one, pushed.with_digest(digest::parse(first_digest))));
    CHECK_FALSE(target.add_repo_digest(two, pushed.with_digest(digest::parse(first_digest))));
    CHECK(target.get(one).repo_digests ==
          std::vector<std::string>{"localhost:5000/app@" + first_digest});
    CHECK(target.get(two).repo_digests.empty());
    CHECK_THROWS_WITH(target.add_repo_digest(one, pushed),
                      "invalid reference 'localhost:5000/app:1': has no digest, so it is no "
                      "repository digest (NAME@DIGEST)");
    CHECK_THROWS_WITH(target.tag(one, reference::parse("app@" + first_digest)),
                      "invalid reference 'docker.io/library/app@" + first_digest +
                          "': a tag cannot contain a digest");
}

TEST_CASE("rmi of a repository's last tag removes its digests", "[store][digest]") {
    test::temp_dir root;
    store target(root.path());
    const digest id = commit_image_with(target, "one", {"app:1"}, {"app@" + first_digest});
    CHECK(target.remove("app:1", false) == std::vector<std::string>{"Untagged: app:1",
                                                                    "Untagged: app@" + first_digest,
                                                                    "Deleted: " + id.str()});
    CHECK(target.images().empty());
    CHECK(target.verify().empty());
}

TEST_CASE("rmi keeps an image with another repository's digest", "[store][digest]") {
    test::temp_dir root;
    store target(root.path());
    const digest id =
        commit_image_with(target, "one", {"app:1", "app:2"},
                          {"app@" + first_digest, "localhost:5000/app@" + second_digest});
    // Another tag of the repository is left, so its digest stays.
    CHECK(target.remove("app:1", false) == std::vector<std::string>{"Untagged: app:1"});
    CHECK(target.get(id).repo_digests.size() == 2);
    // As moby's ImageDelete: the last tag of a repository takes that repository's digests
    // along, and an image that still has a reference (here a digest of another repository)
    // stays, listed by `images` with the tag <none>.
    CHECK(target.remove("app:2", false) ==
          std::vector<std::string>{"Untagged: app:2", "Untagged: app@" + first_digest});
    const image_record kept = target.get(id);
    CHECK(kept.references.empty());
    CHECK(kept.repo_digests == std::vector<std::string>{"localhost:5000/app@" + second_digest});
    CHECK(target.prune().images.empty());
    CHECK(target.remove("localhost:5000/app@" + second_digest, false) ==
          std::vector<std::string>{"Untagged: localhost:5000/app@" + second_digest,
                                   "Deleted: " + id.str()});
    CHECK(target.images().empty());
}

TEST_CASE("rmi by digest keeps the tags", "[store][digest]") {
    test::temp_dir root;
    store target(root.path());
    const digest id = commit_image_with(target, "one", {"app:1"}, {"app@" + first_digest});
    CHECK(target.remove("app@" + first_digest, false) ==
          std::vector<std::string>{"Untagged: app@" + first_digest});
    const image_record kept = target.get(id);
    CHECK(kept.references == std::vector<std::string>{"docker.io/library/app:1"});
    CHECK(kept.repo_digests.empty());
}

TEST_CASE("rmi by ID removes one repository's references", "[store][digest]") {
    test::temp_dir root;
    store target(root.path());
    const digest id = commit_image_with(target, "one", {"app:1"},
                                        {"app@" + second_digest, "app@" + first_digest});
    // The references in the byte order of their full text: ':' sorts before '@'.
    CHECK(target.remove(id.short_id(), false) ==
          std::vector<std::string>{"Untagged: app:1", "Untagged: app@" + first_digest,
                                   "Untagged: app@" + second_digest, "Deleted: " + id.str()});
    CHECK(target.images().empty());
}

TEST_CASE("rmi by ID with two repositories needs force", "[store][digest]") {
    test::temp_dir root;
    store target(root.path());
    const digest id =
        commit_image_with(target, "one", {"app:1"}, {"localhost:5000/app@" + first_digest});
    CHECK_THROWS_WITH(target.remove(id.short_id(), false),
                      "conflict: unable to delete " + id.short_id() +
                          " (must be forced) - image is referenced in multiple repositories");
    CHECK(target.remove(id.str(), true) ==
          std::vector<std::string>{"Untagged: app:1",
                                   "Untagged: localhost:5000/app@" + first_digest,
                                   "Deleted: " + id.str()});
}

TEST_CASE("prune keeps digest-only images", "[store][digest]") {
    test::temp_dir root;
    store target(root.path());
    const digest pinned = commit_image_with(target, "one", {}, {"app@" + first_digest});
    const digest dangling = commit_image_with(target, "two", {});
    const prune_report report = target.prune();
    CHECK(report.images == std::vector<digest>{dangling});
    CHECK(target.get(pinned).repo_digests ==
          std::vector<std::string>{"docker.io/library/app@" + first_digest});
}

TEST_CASE("store of an older schema gains repo digests", "[store][digest]") {
    test::temp_dir root;
    digest id = digest::sha256_of("");
    {
        store target(root.path());
        id = commit_image_with(target, "one", {"app:1"});
    }
    // The database as dockwright wrote it before schema version 1.
    run_sql(root.path(), "DROP TABLE repo_digests; PRAGMA user_version = 0;");
    store upgraded(root.path());
    CHECK(upgraded.resolve("app:1").id == id);
    CHECK(upgraded.get(id).repo_digests.empty());
    CHECK(upgraded.add_repo_digest(id, reference::parse("app@" + first_digest)));
    CHECK(upgraded.resolve("app@" + first_digest).id == id);
    CHECK(upgraded.verify().empty());
}

TEST_CASE("verify reports bad repo digest rows", "[store][digest]") {
    test::temp_dir root;
    digest id = digest::sha256_of("");
    {
        store target(root.path());
        id = commit_image_with(target, "one", {"app:1"});
    }
    // A fresh SQLite connection does not enforce foreign keys, so these rows go in.
    run_sql(root.path(),
            "INSERT INTO repo_digests(name, image_id) VALUES('docker.io/library/app:1', '" +
                id.str() + "'), ('docker.io/library/app@" + first_digest + "', '" + second_digest +
                "');");
    store target(root.path());
    const auto problems = target.verify();
    REQUIRE(problems.size() == 2);
    CHECK(problems[0].subject == "repository digest docker.io/library/app:1");
    CHECK(problems[0].problem == "is not of the form NAME@DIGEST");
    CHECK(problems[1].subject == "repository digest docker.io/library/app@" + first_digest);
    CHECK(problems[1].problem == "names the missing image " + second_digest);
}
