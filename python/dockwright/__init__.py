"""dockwright: a daemonless Dockerfile builder and Docker image-configuration toolkit.

The value types mirror Docker's image configuration and encode to the exact bytes Docker
writes, so an image ID computed here is the ID Docker gives the same config.
"""

from __future__ import annotations

from dockwright._core import __version__
from dockwright.build import (
    BuildError,
    BuildResult,
    BuildStep,
    Evaluation,
    StageEvaluation,
    StepRecord,
    build,
    evaluate,
)
from dockwright.dockerfile import Dockerfile, Stage, SyntaxNode, SyntaxTree, parse
from dockwright.dockerignore import DockerIgnore
from dockwright.errors import (
    DockerfileError,
    DockwrightError,
    ExpansionError,
    InstructionError,
    InvalidValueError,
    JSONError,
    ParseError,
    RegistryError,
)
from dockwright.image import (
    Change,
    Config,
    Diff,
    Digest,
    HealthConfig,
    History,
    Image,
    RootFS,
    V1Image,
    chain_id,
    diff,
)
from dockwright.shell import expand, expand_words
from dockwright.store import ImageRecord, Layer, LayerFile, Store, VerifyProblem

__all__ = [
    "BuildError",
    "BuildResult",
    "BuildStep",
    "build",
    "Evaluation",
    "StageEvaluation",
    "StepRecord",
    "evaluate",
    "Change",
    "Diff",
    "Config",
    "Digest",
    "HealthConfig",
    "History",
    "Image",
    "RootFS",
    "V1Image",
    "chain_id",
    "diff",
    "DockerIgnore",
    "Dockerfile",
    "DockerfileError",
    "DockwrightError",
    "ExpansionError",
    "InstructionError",
    "InvalidValueError",
    "JSONError",
    "ParseError",
    "RegistryError",
    "Stage",
    "SyntaxNode",
    "SyntaxTree",
    "__version__",
    "expand",
    "expand_words",
    "parse",
    "ImageRecord",
    "Layer",
    "LayerFile",
    "Store",
    "VerifyProblem",
]
