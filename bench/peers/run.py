#!/usr/bin/env python3
"""Time `dockwright build` against the peer builders on the shared bench scenarios.

For every scenario under SHARED/bench/scenarios the script generates the build context with
the scenario's own make-context.sh, then times three phases with every builder, in the same
run:

* cold: a build with --no-cache (the base image is already in each builder's store);
* cached: the same build again with every step in the cache;
* touched: a cached build after the content of one context file changed (the scenario's
  TOUCH_FILE, else its README, which no step reads).

Every phase is one untimed warm-up build followed by N timed builds. The figure is the median
wall time, from a monotonic clock around fork and wait of the build command. Peers are
`docker build` with the classic builder (DOCKER_BUILDKIT=0) and with BuildKit, and
`buildah bud`. A peer that is not installed, or whose engine does not respond, is reported as
missing with the reason; nothing is estimated for it.

Results go to OUT/results.json (every run) and OUT/results.md (medians and ratios).
Run `bench/peers/run.py --help` for the options.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PEERS = ("dockwright", "docker-classic", "docker-buildkit", "buildah")
PHASES = ("cold", "cached", "touched")
# Speed targets: the minimum ratio (fastest peer / dockwright) per phase.
TARGETS = {"cold": 3.0, "cached": 1.0, "touched": 1.0}
DOCKER_SOCKET = Path("/var/run/docker.sock")


def log(text: str) -> None:
    """Print a progress line with the UTC time to stderr."""
    now = dt.datetime.now(dt.timezone.utc).strftime("%H:%M:%S")
    print(f"[{now}] {text}", file=sys.stderr, flush=True)


def run_quiet(
    cmd: list[str], env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run CMD untimed and return its result with the output captured."""
    return subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=timeout, check=False
    )


def must(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run CMD untimed; raise with its output when it fails."""
    result = run_quiet(cmd, env=env, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(cmd)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result.stdout


@dataclass
class Timing:
    """One timed build."""

    wall: float
    cpu: float
    exit_code: int
    log: str


def timed(cmd: list[str], env: dict[str, str], log_path: Path, timeout: float) -> Timing:
    """Run CMD once with output to LOG_PATH; wall time from a monotonic clock.

    cpu is user+sys of the reaped process tree (wait4): for docker this is the client only.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as out:
        out.write(f"# command: {shlex.join(cmd)}\n".encode())
        out.flush()
        start = time.monotonic()
        child = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid == child.pid:
                break
            if time.monotonic() > deadline:
                child.kill()
                pid, status, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.002)
        wall = time.monotonic() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return Timing(wall, usage.ru_utime + usage.ru_stime, child.returncode, str(log_path))


@dataclass
class Scenario:
    """One folder of the shared scenarios."""

    name: str
    folder: Path
    runs: int
    touch_file: str
    touch_used: bool
    timeout: float
    context: Path = Path()
    summary: str = ""


def read_env(path: Path) -> dict[str, str]:
    """Read the KEY=VALUE lines of a scenario.env file."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


def load_scenarios(shared: Path, names: list[str] | None) -> list[Scenario]:
    """Return the scenarios under SHARED/bench/scenarios: NAMES in order, else all sorted."""
    root = shared / "bench" / "scenarios"
    available = sorted(p.name for p in root.iterdir() if (p / "make-context.sh").exists())
    chosen = names or available
    out = []
    for name in chosen:
        if name not in available:
            raise SystemExit(f"run.py: no scenario {name!r} in {root} (have {available})")
        env = read_env(root / name / "scenario.env")
        touch = env.get("TOUCH_FILE", "")
        out.append(
            Scenario(
                name=name,
                folder=root / name,
                runs=int(env.get("RUNS", "3")),
                touch_file=touch or "README",
                touch_used=bool(touch),
                timeout=float(env.get("TIMEOUT", "900")),
            )
        )
    return out


@dataclass
class Peer:
    """A builder and how to call it."""

    name: str
    available: bool = False
    reason: str = ""
    version: str = ""
    env: dict[str, str] = field(default_factory=dict)


class Bench:
    """Holds the settings and the state of one benchmark run."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Take the parsed command-line options."""
        self.args = args
        self.work = Path(args.work).resolve()
        self.cli = Path(args.dockwright).resolve()
        self.docker = args.docker
        self.buildah_root = self.work / "buildah" / "root"
        self.buildah_runroot = Path("/run/dockwright-bench-peers-buildah")
        self.base_tar = self.work / "busybox-local.tar"
        self.started_dockerd: subprocess.Popen[bytes] | None = None
        self.peers: dict[str, Peer] = {}
        self.link_counter = 0

    # ------------------------------------------------------------------ set-up
    def dockwright_env(self, store: Path) -> dict[str, str]:
        """Return the environment of a dockwright command on STORE."""
        env = dict(os.environ)
        env["DOCKWRIGHT_ROOT"] = str(store)
        return env

    def buildah_cmd(self) -> list[str]:
        """Return the buildah command with this benchmark's private storage root."""
        return [
            "buildah",
            "--root",
            str(self.buildah_root),
            "--runroot",
            str(self.buildah_runroot),
            "--storage-driver",
            "overlay",
        ]

    def make_base(self) -> None:
        """Make busybox:local with scripts/make-base and save it as a docker-archive."""
        store = self.work / "base-store"
        shutil.rmtree(store, ignore_errors=True)
        env = self.dockwright_env(store)
        env["DOCKWRIGHT_CLI"] = str(self.cli)
        must([str(REPO / "scripts" / "make-base"), "busybox", "--store", str(store)], env=env)
        self.base_tar.unlink(missing_ok=True)
        must([str(self.cli), "save", "-o", str(self.base_tar), "busybox:local"], env=env)

    def docker_responds(self) -> bool:
        """Return whether a docker engine responds on the default socket."""
        if not shutil.which(self.docker) and not Path(self.docker).exists():
            return False
        return run_quiet([self.docker, "info"], timeout=30).returncode == 0

    def start_dockerd(self) -> str:
        """Start dockerd on the default socket; return why not when it cannot be started."""
        dockerd = shutil.which("dockerd")
        if not dockerd:
            return "dockerd is not installed"
        if DOCKER_SOCKET.exists():
            return f"{DOCKER_SOCKET} exists but the engine does not respond; not starting another"
        out = open(self.work / "dockerd.log", "wb")
        self.started_dockerd = subprocess.Popen(
            [dockerd, "--iptables=false", "--bridge=none"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log(f"started dockerd, pid {self.started_dockerd.pid}")
        for _ in range(120):
            if self.docker_responds():
                return ""
            if self.started_dockerd.poll() is not None:
                return f"dockerd exited {self.started_dockerd.returncode}; see dockerd.log"
            time.sleep(0.5)
        return "dockerd did not answer within 60 s"

    def stop_dockerd(self) -> None:
        """Stop the dockerd this script started, by its pid."""
        if self.started_dockerd and self.started_dockerd.poll() is None:
            log(f"stopping dockerd, pid {self.started_dockerd.pid}")
            self.started_dockerd.terminate()
            try:
                self.started_dockerd.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.started_dockerd.kill()
                self.started_dockerd.wait()

    def probe_build(self, peer: Peer, cmd: list[str], env: dict[str, str]) -> None:
        """Mark PEER available when CMD builds a one-line Dockerfile on the base image."""
        probe = self.work / "probe"
        probe.mkdir(parents=True, exist_ok=True)
        (probe / "Dockerfile").write_text("FROM busybox:local\nRUN true\n")
        result = run_quiet(
            cmd + ["-f", str(probe / "Dockerfile"), str(probe)], env=env, timeout=300
        )
        if result.returncode == 0:
            peer.available = True
        else:
            lines = (result.stdout + result.stderr).strip().splitlines()
            peer.reason = "the probe build failed: " + (lines[-1] if lines else "no output")

    def detect_peers(self, wanted: list[str]) -> None:
        """Find which of the WANTED builders can run here, and load the base into each."""
        env = dict(os.environ)
        dw = Peer("dockwright", env=env)
        dw.version = run_quiet([str(self.cli), "--version"]).stdout.strip()
        dw.available = self.cli.exists()
        dw.reason = "" if dw.available else f"{self.cli} does not exist"
        self.peers["dockwright"] = dw

        docker_reason = ""
        if {"docker-classic", "docker-buildkit"} & set(wanted):
            if not (shutil.which(self.docker) or Path(self.docker).exists()):
                docker_reason = f"the docker client {self.docker} is not installed"
            elif not self.docker_responds():
                docker_reason = (
                    "no docker engine responds on the default socket (--start-dockerd starts one)"
                )
                if self.args.start_dockerd:
                    docker_reason = self.start_dockerd()
            if not docker_reason:
                load = run_quiet([self.docker, "load", "-i", str(self.base_tar)], timeout=120)
                if load.returncode != 0:
                    docker_reason = f"docker load of the base failed: {load.stderr.strip()}"
        for name, buildkit in (("docker-classic", "0"), ("docker-buildkit", "1")):
            if name not in wanted:
                continue
            peer = Peer(name, env=dict(os.environ, DOCKER_BUILDKIT=buildkit))
            if docker_reason:
                peer.reason = docker_reason
            else:
                version = run_quiet(
                    [
                        self.docker,
                        "version",
                        "--format",
                        "client {{.Client.Version}}, engine {{.Server.Version}}",
                    ]
                )
                peer.version = version.stdout.strip()
                cmd = [self.docker, "build", "--network", "none", "-t", "dwbench-probe"]
                if buildkit == "1":
                    cmd.insert(2, "--progress=plain")
                self.probe_build(peer, cmd, peer.env)
            self.peers[name] = peer

        if "buildah" in wanted:
            peer = Peer("buildah", env=dict(os.environ))
            if not shutil.which("buildah"):
                peer.reason = "buildah is not installed"
            else:
                peer.version = run_quiet(["buildah", "--version"]).stdout.strip()
                pull = run_quiet(
                    self.buildah_cmd() + ["pull", "-q", f"docker-archive:{self.base_tar}"],
                    timeout=120,
                )
                if pull.returncode != 0:
                    peer.reason = f"buildah pull of the base failed: {pull.stderr.strip()}"
                else:
                    self.probe_build(
                        peer,
                        self.buildah_cmd()
                        + [
                            "bud",
                            "--pull=never",
                            "--isolation",
                            "chroot",
                            "--layers",
                            "--format",
                            "docker",
                            "-t",
                            "dwbench-probe",
                        ],
                        peer.env,
                    )
            self.peers["buildah"] = peer
        for name in wanted:
            if name not in self.peers:
                raise SystemExit(f"run.py: unknown peer {name!r} (known: {', '.join(PEERS)})")
        for peer in self.peers.values():
            state = "available" if peer.available else f"missing: {peer.reason}"
            log(f"peer {peer.name}: {state} {peer.version}")

    # ------------------------------------------------------------------ builds
    def store_of(self, scenario: Scenario) -> Path:
        """Return the dockwright store of SCENARIO."""
        return self.work / "stores" / scenario.name

    def fresh_store(self, scenario: Scenario) -> None:
        """Make a new dockwright store for SCENARIO holding only the base image."""
        store = self.store_of(scenario)
        shutil.rmtree(store, ignore_errors=True)
        must(
            [str(self.cli), "load", "-q", "-i", str(self.base_tar)], env=self.dockwright_env(store)
        )

    def command(self, peer: str, scenario: Scenario, phase: str) -> list[str]:
        """Return the build command of PEER for SCENARIO in PHASE."""
        ctx = scenario.context
        tag = f"dwbench-{scenario.name}-{peer}:latest"
        no_cache = ["--no-cache"] if phase == "cold" else []
        if peer == "dockwright":
            return [
                str(self.cli),
                "build",
                "--network",
                "none",
                *no_cache,
                "-t",
                tag,
                "-f",
                str(ctx / "Dockerfile"),
                str(ctx),
            ]
        if peer == "docker-classic":
            return [
                self.docker,
                "build",
                "--network",
                "none",
                *no_cache,
                "-t",
                tag,
                "-f",
                str(ctx / "Dockerfile"),
                str(ctx),
            ]
        if peer == "docker-buildkit":
            if phase == "cold":
                # BuildKit keeps its copy of a context directory across builds, also with
                # --no-cache, and then sends only what changed. A new path (a symlink) per
                # cold build makes it send the whole context, as a first build does.
                self.link_counter += 1
                link = self.work / "links" / f"{scenario.name}-{self.link_counter}"
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(ctx)
                ctx = link
            return [
                self.docker,
                "build",
                "--progress=plain",
                "--network",
                "none",
                *no_cache,
                "-t",
                tag,
                "-f",
                str(ctx / "Dockerfile"),
                str(ctx),
            ]
        if peer == "buildah":
            return self.buildah_cmd() + [
                "bud",
                "--pull=never",
                "--isolation",
                "chroot",
                "--layers",
                "--format",
                "docker",
                *no_cache,
                "-t",
                tag,
                "-f",
                str(ctx / "Dockerfile"),
                str(ctx),
            ]
        raise ValueError(peer)

    def env_of(self, peer: str, scenario: Scenario) -> dict[str, str]:
        """Return the environment of PEER's build command."""
        if peer == "dockwright":
            return self.dockwright_env(self.store_of(scenario))
        return self.peers[peer].env

    def cleanup_peer(self, scenario: Scenario, peer: str) -> None:
        """Remove what PEER's builds of SCENARIO left in its store (untimed).

        Run after each builder's phases, so that a scenario such as copy-large, whose every
        build stores another gigabyte, never keeps the data of all builders at once.
        """
        if not (self.peers.get(peer) and self.peers[peer].available):
            return
        if peer in ("docker-classic", "docker-buildkit"):
            run_quiet([self.docker, "rmi", "-f", f"dwbench-{scenario.name}-{peer}:latest"])
            run_quiet([self.docker, "image", "prune", "-f"], timeout=600)
            run_quiet([self.docker, "builder", "prune", "-af"], timeout=600)
        elif peer == "buildah":
            run_quiet(self.buildah_cmd() + ["rmi", "-f", f"dwbench-{scenario.name}-buildah:latest"])
            run_quiet(self.buildah_cmd() + ["rmi", "--prune"], timeout=600)
        elif peer == "dockwright":
            shutil.rmtree(self.store_of(scenario), ignore_errors=True)

    def cleanup_scenario(self, scenario: Scenario) -> None:
        """Remove what the builds of SCENARIO left in every store (untimed)."""
        for peer in PEERS:
            self.cleanup_peer(scenario, peer)
        shutil.rmtree(self.store_of(scenario), ignore_errors=True)
        shutil.rmtree(self.work / "links", ignore_errors=True)

    def touch(self, scenario: Scenario, counter: int) -> None:
        """Give the scenario's touched file new content."""
        path = scenario.context / scenario.touch_file
        path.write_text(f"stamp {counter} {time.time_ns()}\n")

    def measure(self, scenario: Scenario, peer: str, phase: str) -> dict[str, Any]:
        """Warm-up plus N timed builds of one cell; returns its JSON record."""
        runs = self.args.runs or scenario.runs
        timings: list[Timing] = []
        cmd_text = ""
        logs = self.work / "logs" / scenario.name
        for index in range(self.args.warmup + runs):
            if phase == "touched":
                self.touch(scenario, index + 1)
            cmd = self.command(peer, scenario, phase)
            cmd_text = shlex.join(cmd)
            warm_up = index < self.args.warmup
            name = f"{peer}.{phase}.{'warmup' if warm_up else index - self.args.warmup}.log"
            t = timed(cmd, self.env_of(peer, scenario), logs / name, scenario.timeout)
            if not warm_up:
                timings.append(t)
            elif t.exit_code != 0:
                log(f"  {peer} {phase}: the warm-up build exited {t.exit_code}; see {t.log}")
        walls = [t.wall for t in timings]
        failed = [t for t in timings if t.exit_code != 0]
        record: dict[str, Any] = {
            "command": cmd_text,
            "runs": [
                {
                    "wall_s": round(t.wall, 4),
                    "cpu_s": round(t.cpu, 4),
                    "exit": t.exit_code,
                    "log": t.log,
                }
                for t in timings
            ],
            "median_s": round(statistics.median(walls), 4),
            "min_s": round(min(walls), 4),
            "max_s": round(max(walls), 4),
            "cpu_median_s": round(statistics.median(t.cpu for t in timings), 4),
            "failed": bool(failed),
        }
        state = f"FAILED (exit {failed[0].exit_code}, {failed[0].log})" if failed else ""
        log(
            f"  {scenario.name} {peer} {phase}: median {record['median_s']:.3f} s "
            f"[{record['min_s']:.3f}-{record['max_s']:.3f}] {state}"
        )
        return record

    def run_scenario(self, scenario: Scenario) -> dict[str, Any]:
        """Generate SCENARIO's context and measure every phase with every peer."""
        scenario.context = self.work / "ctx" / scenario.name
        log(f"scenario {scenario.name}: generating the context")
        out = must(
            ["bash", str(scenario.folder / "make-context.sh"), str(scenario.context)], timeout=1800
        )
        scenario.summary = out.strip().splitlines()[-1] if out.strip() else ""
        touched = scenario.context / scenario.touch_file
        original = touched.read_bytes()
        stat = touched.stat()
        result: dict[str, Any] = {
            "context": scenario.summary,
            "touch_file": scenario.touch_file,
            "touch_file_used_by_dockerfile": scenario.touch_used,
            "runs": self.args.runs or scenario.runs,
            "phases": {phase: {} for phase in self.args.phases},
        }
        if self.peers["dockwright"].available:
            self.fresh_store(scenario)
        for peer in self.args.peers:
            if not self.peers[peer].available:
                continue
            for phase in self.args.phases:
                phases = result["phases"]
                phases[phase][peer] = self.measure(scenario, peer, phase)
            # The next builder starts from the generated context.
            touched.write_bytes(original)
            os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            self.cleanup_peer(scenario, peer)
        self.cleanup_scenario(scenario)
        if not self.args.keep_contexts:
            shutil.rmtree(scenario.context, ignore_errors=True)
        return result


# ---------------------------------------------------------------------- report
def build_facts(cli: Path) -> dict[str, str]:
    """Return the source commit and compiler flags of the dockwright program CLI.

    A program in a CMake build folder is traced to its source folder through CMakeCache.txt.
    The commit is that folder's COMMIT file (a source tree unpacked from `git archive`),
    else what `git describe` reports there.
    """
    facts = {"source": "", "commit": "unknown", "build_type": "", "flags": ""}
    cache = cli.parent / "CMakeCache.txt"
    if not cache.exists():
        return facts
    values = {}
    for line in cache.read_text(errors="replace").splitlines():
        name, _, value = line.partition("=")
        values[name.split(":")[0]] = value
    source = Path(values.get("CMAKE_HOME_DIRECTORY", ""))
    build_type = values.get("CMAKE_BUILD_TYPE", "")
    facts["source"] = str(source)
    facts["build_type"] = build_type
    facts["flags"] = values.get(f"CMAKE_CXX_FLAGS_{build_type.upper()}", "")
    if (source / "COMMIT").exists():
        facts["commit"] = (source / "COMMIT").read_text().strip()
    elif source.is_dir():
        git = run_quiet(["git", "-C", str(source), "describe", "--always", "--dirty"])
        facts["commit"] = git.stdout.strip() or "unknown"
    return facts


def create_files_probe(work: Path, count: int = 2000) -> float:
    """Time creating COUNT files of 2 KiB in WORK, a rough gauge of the disk's state.

    File creation dominates COPY of many small files and RUN steps that write files, and its
    cost on a shared virtual disk changes a lot from minute to minute.
    """
    folder = work / "create-probe"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    payload = b"x" * 2048
    start = time.monotonic()
    for index in range(count):
        fd = os.open(folder / f"f{index}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, payload)
        os.close(fd)
    seconds = time.monotonic() - start
    shutil.rmtree(folder, ignore_errors=True)
    return round(seconds, 3)


def machine_facts() -> dict[str, Any]:
    """Facts about this machine that matter for the figures."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kib / 1048576, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def fmt(seconds: float) -> str:
    """Seconds with three significant digits."""
    if seconds >= 100:
        return f"{seconds:.0f}"
    if seconds >= 10:
        return f"{seconds:.1f}"
    if seconds >= 1:
        return f"{seconds:.2f}"
    return f"{seconds:.3f}"


def verdicts(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Return per scenario and phase the fastest peer, its ratio and whether the target is met."""
    rows = []
    scenarios = report["scenarios"]
    for name, scenario in scenarios.items():
        for phase, cells in scenario["phases"].items():
            dw = cells.get("dockwright")
            peers = {p: c for p, c in cells.items() if p != "dockwright" and not c["failed"]}
            row: dict[str, Any] = {"scenario": name, "phase": phase}
            if not dw or dw["failed"] or not peers:
                row["met"] = None
                row["why"] = "no peer measured" if dw and not dw["failed"] else "dockwright failed"
                rows.append(row)
                continue
            fastest = min(peers, key=lambda p: peers[p]["median_s"])
            ratio = peers[fastest]["median_s"] / dw["median_s"]
            row.update(
                {
                    "fastest_peer": fastest,
                    "ratio": round(ratio, 3),
                    "target": TARGETS[phase],
                    "met": ratio >= TARGETS[phase],
                }
            )
            rows.append(row)
    return rows


def markdown(report: dict[str, Any]) -> str:
    """Render REPORT as Markdown tables."""
    peers = report["peers"]
    present = [p for p in report["peer_order"] if peers[p]["available"]]
    lines = ["# dockwright build against peer builders", ""]
    machine = report["machine"]
    lines += [
        f"Run from {report['started']} to {report['finished']} (UTC) with `{report['command']}`.",
        "",
        f"Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory_gib']} GiB, "
        f"kernel {machine['kernel']}. Load average (1, 5, 15 min) at the start "
        f"{report['load_start']}, at the end {report['load_end']}.",
        "",
        f"dockwright program: `{report['dockwright']}`, commit {report['build']['commit']}, "
        f"{report['build']['build_type']} build (`{report['build']['flags']}`). "
        f"Creating 2000 files of 2 KiB took {report['create_files_start_s']} s at the start "
        f"and {report['create_files_end_s']} s at the end. "
        f"Each cell: {report['warmup']} untimed warm-up build, then the timed builds.",
        "",
        "| builder | version | state |",
        "|---|---|---|",
    ]
    for name in report["peer_order"]:
        peer = peers[name]
        state = "measured" if peer["available"] else f"missing: {peer['reason']}"
        lines.append(f"| {name} | {peer['version'] or '-'} | {state} |")
    lines += [
        "",
        "Wall-clock medians in seconds, [min-max] of the timed runs; in brackets "
        "after a peer: peer / dockwright (above 1: dockwright is faster). `!`: a run "
        "failed (see the log in results.json).",
        "",
    ]
    head = "| scenario | phase | " + " | ".join(present) + " |"
    lines += [head, "|" + "---|" * (len(present) + 2)]
    scenarios = report["scenarios"]
    for name, scenario in scenarios.items():
        for phase, cells in scenario["phases"].items():
            dw = cells.get("dockwright")
            row = [name, phase]
            for peer in present:
                cell = cells.get(peer)
                if not cell:
                    row.append("-")
                    continue
                text = f"{fmt(cell['median_s'])} [{fmt(cell['min_s'])}-{fmt(cell['max_s'])}]"
                if cell["failed"]:
                    text += " !"
                if peer != "dockwright" and dw and not dw["failed"] and not cell["failed"]:
                    text += f" ({cell['median_s'] / dw['median_s']:.2f}x)"
                row.append(text)
            lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "Speed targets: cold at least 3x faster than the fastest peer, cached "
        "and touched at least as fast as the fastest peer.",
        "",
        "| scenario | phase | fastest peer | fastest peer / dockwright | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for verdict in verdicts(report):
        if verdict["met"] is None:
            lines.append(
                f"| {verdict['scenario']} | {verdict['phase']} | - | - | - | {verdict['why']} |"
            )
            continue
        lines.append(
            f"| {verdict['scenario']} | {verdict['phase']} | {verdict['fastest_peer']} | "
            f"{verdict['ratio']:.2f} | >= {verdict['target']:g} | "
            f"{'met' if verdict['met'] else 'not met'} |"
        )
    lines += ["", "Contexts:", ""]
    for name, scenario in scenarios.items():
        touched = scenario["touch_file"]
        note = "" if scenario["touch_file_used_by_dockerfile"] else " (read by no step)"
        lines.append(f"- {name}: {scenario['context']}; touched file `{touched}`{note}")
    return "\n".join(lines) + "\n"


def default_cli() -> str:
    """build/bench/dockwright when it exists, else .venv/bin/dockwright."""
    own = REPO / "build" / "bench" / "dockwright"
    return str(own if own.exists() else REPO / ".venv" / "bin" / "dockwright")


def default_shared() -> str:
    """$DOCKWRIGHT_SHARED, else the folder `shared` beside the repository."""
    return os.environ.get("DOCKWRIGHT_SHARED", str(REPO.parent / "shared"))


def main() -> int:
    """Parse the options, run every scenario and write the reports."""
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("-s", "--scenarios", help="comma-separated scenario names (default all)")
    ap.add_argument(
        "-p",
        "--peers",
        default=",".join(PEERS),
        help="comma-separated builders (default %(default)s)",
    )
    ap.add_argument(
        "--phases", default=",".join(PHASES), help="comma-separated phases (default %(default)s)"
    )
    ap.add_argument(
        "-n",
        "--runs",
        type=int,
        default=3,
        help="timed runs per cell (default 3; 0 takes RUNS of scenario.env)",
    )
    ap.add_argument(
        "--warmup", type=int, default=1, help="untimed builds before the timed ones (default 1)"
    )
    ap.add_argument(
        "--dockwright", default=default_cli(), help="the dockwright program (default %(default)s)"
    )
    ap.add_argument(
        "--docker",
        default="/usr/bin/docker",
        help="the docker client; BuildKit needs one with a built-in BuildKit "
        "client or buildx (default %(default)s)",
    )
    ap.add_argument(
        "--shared",
        default=default_shared(),
        help="the shared folder holding bench/scenarios (default %(default)s)",
    )
    ap.add_argument(
        "--work",
        default="/var/tmp/dockwright-bench-peers",
        help="scratch folder for contexts, stores and logs (default %(default)s)",
    )
    ap.add_argument(
        "-o",
        "--out",
        default=None,
        help="folder for results.json and results.md (default WORK/results)",
    )
    ap.add_argument(
        "--start-dockerd",
        action="store_true",
        help="start dockerd --iptables=false --bridge=none when no engine responds, "
        "and stop it at the end",
    )
    ap.add_argument(
        "--keep-contexts", action="store_true", help="keep the generated contexts under WORK/ctx"
    )
    args = ap.parse_args()
    args.peers = [p for p in args.peers.split(",") if p]
    args.phases = [p for p in args.phases.split(",") if p]
    for phase in args.phases:
        if phase not in PHASES:
            raise SystemExit(f"run.py: unknown phase {phase!r} (known: {', '.join(PHASES)})")
    if "dockwright" not in args.peers:
        args.peers.insert(0, "dockwright")
    scenarios = load_scenarios(
        Path(args.shared), args.scenarios.split(",") if args.scenarios else None
    )
    bench = Bench(args)
    bench.work.mkdir(parents=True, exist_ok=True)
    out_dir = Path(args.out) if args.out else bench.work / "results"
    out_dir.mkdir(parents=True, exist_ok=True)

    report: dict[str, Any] = {
        "command": shlex.join([sys.argv[0], *sys.argv[1:]]),
        "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "load_start": [round(x, 2) for x in os.getloadavg()],
        "machine": machine_facts(),
        "dockwright": str(bench.cli),
        "build": build_facts(bench.cli),
        "create_files_start_s": create_files_probe(bench.work),
        "runs": args.runs,
        "warmup": args.warmup,
        "peer_order": args.peers,
        "scenarios": {},
    }
    try:
        log("making the busybox:local base")
        bench.make_base()
        bench.detect_peers(args.peers)
        report["peers"] = {
            p.name: {"available": p.available, "reason": p.reason, "version": p.version}
            for p in bench.peers.values()
        }
        if not bench.peers["dockwright"].available:
            raise SystemExit(f"run.py: {bench.peers['dockwright'].reason}")
        for scenario in scenarios:
            scenarios_out = report["scenarios"]
            scenarios_out[scenario.name] = bench.run_scenario(scenario)
            # Partial results survive an interrupted run.
            (out_dir / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    finally:
        bench.stop_dockerd()
    report["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    report["load_end"] = [round(x, 2) for x in os.getloadavg()]
    report["create_files_end_s"] = create_files_probe(bench.work)
    report["verdicts"] = verdicts(report)
    (out_dir / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "results.md").write_text(markdown(report))
    log(f"wrote {out_dir / 'results.json'} and {out_dir / 'results.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
