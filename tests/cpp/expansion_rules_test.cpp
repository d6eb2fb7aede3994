// Tests of the table of instructions that expand variables.
#include <catch2/catch.hpp>
#include <dockwright/dockerfile/expansion_rules.hpp>

using dockwright::expansion_scope;
using dockwright::find_expansion_rule;

TEST_CASE("only EXPOSE splits words", "[shell]") {
    for (const auto& rule : dockwright::expansion_rules) {
        INFO(rule.instruction);
        CHECK(rule.splits_words == (rule.instruction == "EXPOSE"));
    }
}

TEST_CASE("expansion scopes match the classic builder", "[shell]") {
    for (const char* keyword : {"ADD", "ARG", "COPY", "ENV", "EXPOSE", "LABEL", "STOPSIGNAL",
                                "USER", "VOLUME", "WORKDIR"}) {
        INFO(keyword);
        CHECK(find_expansion_rule(keyword)->scope == expansion_scope::stage);
    }
    for (const char* keyword :
         {"CMD", "ENTRYPOINT", "HEALTHCHECK", "MAINTAINER", "ONBUILD", "RUN", "SHELL"}) {
        INFO(keyword);
        CHECK(find_expansion_rule(keyword)->scope == expansion_scope::none);
    }
    CHECK(find_expansion_rule("FROM")->scope == expansion_scope::meta_args);
    CHECK_FALSE(find_expansion_rule("from").has_value());
    CHECK_FALSE(find_expansion_rule("UNKNOWN").has_value());
}
