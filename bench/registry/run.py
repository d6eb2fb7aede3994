#!/usr/bin/env python3
"""Time dockwright pull and push of a multi-layer image against skopeo copy, over loopback.

Each measurement starts a fresh docker-registry on 127.0.0.1 with empty storage, so neither
tool finds blobs already present. Push copies an OCI layout into the registry, pull copies the
registry's image into a new OCI layout. The `store` rows pull into an empty dockwright store
(layers decompressed, checked and recorded) and push from a store (blobs read in place).
Usage:

    bench/registry/run.py --cli build/registry/dockwright [--mib 500] [--layers 5] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "python"))
from registry_support import Layout, Registry, layer_tar  # noqa: E402


def timed(command: list[str], root: Path | None = None) -> float:
    """Run `command` and return its wall time in seconds, failing loudly on error.

    With `root`, the command runs with DOCKWRIGHT_ROOT set to it.
    """
    env = dict(os.environ, DOCKWRIGHT_ROOT=str(root)) if root else None
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return elapsed


def main() -> None:
    """Build the image, run every measurement and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", required=True, help="path of the dockwright program")
    parser.add_argument("--mib", type=int, default=500, help="total layer size in MiB")
    parser.add_argument("--layers", type=int, default=5, help="number of layers")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement")
    parser.add_argument("--jobs", type=int, default=4, help="dockwright --jobs")
    args = parser.parse_args()
    for tool in ("docker-registry", "skopeo"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed")

    work = Path(tempfile.mkdtemp(prefix="dockwright-registry-bench-"))
    try:
        source = work / "src"
        layout = Layout(source)
        per_layer = args.mib * 1024 * 1024 // args.layers
        # Random bytes do not compress, so the gzip layers are as large as the content.
        layers = [layer_tar({"data": os.urandom(per_layer)}) for _ in range(args.layers)]
        total = sum(len(layer) for layer in layers)
        layout.name(layout.image(layers), "bench")
        del layers
        print(f"image: {args.layers} gzip layers, {total / 2**20:.1f} MiB in total")

        results: dict[str, list[float]] = {}

        def measure(name: str, run: callable) -> None:  # type: ignore[valid-type]
            for i in range(args.runs):
                registry = Registry(work / f"registry-{name}-{i}")
                try:
                    results.setdefault(name, []).append(run(registry, i))
                finally:
                    registry.stop()
                    shutil.rmtree(work / f"registry-{name}-{i}", ignore_errors=True)

        def seed(registry: Registry) -> None:
            subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                            f"oci:{source}:bench", f"docker://{registry.host}/bench/img:v1"],
                           check=True)

        def push_dockwright(registry: Registry, i: int) -> float:
            return timed([args.cli, "push", "-q", "-j", str(args.jobs),
                          f"{registry.host}/bench/img:v1", "--oci-layout", str(source)])

        def push_skopeo(registry: Registry, i: int) -> float:
            return timed(["skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                          f"oci:{source}:bench", f"docker://{registry.host}/bench/img:v1"])

        def pull_dockwright(registry: Registry, i: int) -> float:
            seed(registry)
            out = work / f"pull-dockwright-{i}"
            try:
                return timed([args.cli, "pull", "-q", "-j", str(args.jobs),
                              f"{registry.host}/bench/img:v1", "--oci-layout", str(out)])
            finally:
                shutil.rmtree(out, ignore_errors=True)

        def pull_skopeo(registry: Registry, i: int) -> float:
            seed(registry)
            out = work / f"pull-skopeo-{i}"
            try:
                return timed(["skopeo", "copy", "--quiet", "--src-tls-verify=false",
                              f"docker://{registry.host}/bench/img:v1", f"oci:{out}:v1"])
            finally:
                shutil.rmtree(out, ignore_errors=True)

        def pull_store(registry: Registry, i: int) -> float:
            seed(registry)
            root = work / f"pull-store-{i}"
            try:
                return timed([args.cli, "pull", "-q", "-j", str(args.jobs),
                              f"{registry.host}/bench/img:v1"], root)
            finally:
                shutil.rmtree(root, ignore_errors=True)

        # The store that push_store reads: the image pulled once from a scratch registry.
        stored = work / "store"
        scratch = Registry(work / "registry-scratch")
        try:
            seed(scratch)
            stored_name = f"{scratch.host}/bench/img:v1"
            timed([args.cli, "pull", "-q", stored_name], stored)
        finally:
            scratch.stop()
            shutil.rmtree(work / "registry-scratch", ignore_errors=True)

        def push_store(registry: Registry, i: int) -> float:
            name = f"{registry.host}/bench/stored:v1"
            timed([args.cli, "tag", stored_name, name], stored)
            return timed([args.cli, "push", "-q", "-j", str(args.jobs), name], stored)

        measure("push dockwright", push_dockwright)
        measure("push skopeo", push_skopeo)
        measure("pull dockwright", pull_dockwright)
        measure("pull skopeo", pull_skopeo)
        measure("pull store", pull_store)
        measure("push store", push_store)

        print(f"{'measurement':<18} {'median s':>9} {'MiB/s':>8}   runs (s)")
        for name, times in results.items():
            median = statistics.median(times)
            runs = " ".join(f"{t:.2f}" for t in times)
            print(f"{name:<18} {median:>9.2f} {total / 2**20 / median:>8.0f}   {runs}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
