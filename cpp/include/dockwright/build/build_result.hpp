// What a build or an evaluation produced: the final image of every stage and how each of its
// new history entries came about.
#pragma once

#include <dockwright/build/backend.hpp>
#include <dockwright/core/digest.hpp>
#include <dockwright/image/image.hpp>
#include <optional>
#include <string>
#include <vector>

namespace dockwright {

/// How one new history entry was made.
struct step_record {
    std::string instruction;  ///< `RUN`, `COPY`, ... (upper case).
    int line = 0;             ///< Dockerfile line; 0 for `--label` steps and triggers.
    bool executed = true;     ///< False for a RUN the evaluation backend did not run.
    layer_outcome::state layer = layer_outcome::state::empty;
    /// False when the COPY/ADD content hash could not be computed (sources in another
    /// stage during an evaluation); the history then holds a placeholder hash.
    bool hash_known = true;
};

/// The outcome of one stage.
struct stage_result {
    std::string name;  ///< Lower-cased `AS` name, empty when absent.
    int index = 0;
    std::string base;                ///< The expanded FROM reference.
    std::optional<digest> image_id;  ///< Nothing when the stage is FROM scratch and empty.
    image config;                    ///< The final image config.
    /// Number of history entries the stage inherited from its base.
    std::size_t base_history = 0;
    /// One record per new history entry, in order.
    std::vector<step_record> steps;
};

/// The outcome of a build: the stages up to the target, and the warnings Docker prints.
struct build_result {
    std::vector<stage_result> stages;
    std::vector<std::string> warnings;

    [[nodiscard]] const stage_result& target() const { return stages.back(); }
};

}  // namespace dockwright
