"""dockwright.build: results, step records, events, errors, cancellation and the cache."""

from __future__ import annotations

import dataclasses
import html
import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import dockwright
from dockwright import events
from dockwright.pytest_plugin import BuildFunction

REPO = Path(__file__).resolve().parents[2]
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

SMALL = {
    "Dockerfile": (
        "FROM busybox:local\nENV A=1\nCOPY note.txt /note.txt\n"
        "RUN echo out; echo err >&2; echo x > /ran\n"
    ),
    "note.txt": "a note\n",
}


def test_build_result_matches_store(
    build: BuildFunction, busybox_base: dockwright.ImageRecord, dockwright_store: dockwright.Store
) -> None:
    result = build(SMALL, tags="small:1")
    record = dockwright_store.get("small:1")
    assert result.id == record.id
    assert result.tags == ["small:1"]
    assert result.image.to_json() == record.config_bytes()
    assert result.image.config is not None
    assert result.image.config.env == [PATH_ENV, "A=1"]
    assert result.record().references == ["small:1"]
    assert result.short_id == result.id[len("sha256:") :][:12]
    assert result.stages[-1].base == "busybox:local"
    assert result.duration > 0


def test_build_steps_record_each_step(
    build: BuildFunction, busybox_base: dockwright.ImageRecord, dockwright_store: dockwright.Store
) -> None:
    result = build(SMALL)
    steps = result.steps
    assert [step.number for step in steps] == [1, 2, 3, 4]
    assert [step.keyword for step in steps] == ["FROM", "ENV", "COPY", "RUN"]
    assert [step.line for step in steps] == [1, 2, 3, 4]
    assert [step.stage for step in steps] == [0, 0, 0, 0]
    assert steps[0].image_id == busybox_base.id
    assert steps[0].cache_hit is None
    assert steps[3].instruction == "RUN echo out; echo err >&2; echo x > /ran"
    assert steps[3].output == ["out", "err"]
    assert steps[3].container_id != ""
    assert steps[-1].image_id == result.id
    assert steps[1].layer_digest is None
    diff_ids = [str(d) for d in result.image.rootfs.diff_ids] if result.image.rootfs else []
    assert steps[2].layer_digest == diff_ids[1]
    assert steps[3].layer_digest == diff_ids[2]
    layers = {layer.diff_id: layer.size for layer in dockwright_store.get(result.id).layers()}
    assert steps[2].layer_size == layers[diff_ids[1]]
    assert all(step.duration >= 0 for step in steps)
    assert steps[3].duration > 0


def test_rebuild_hits_cache_with_layers(
    build: BuildFunction, busybox_base: dockwright.ImageRecord
) -> None:
    first = build(SMALL)
    second = build(SMALL)
    assert second.id == first.id
    assert [step.cache_hit for step in second.steps] == [None, True, True, True]
    assert second.steps[1].cache_reason == "same parent and same container_config"
    assert second.cache_hits == 3
    assert second.steps[3].output == []
    assert [step.layer_digest for step in second.steps] == [
        step.layer_digest for step in first.steps
    ]
    assert [step.layer_size for step in second.steps] == [step.layer_size for step in first.steps]


def test_cache_miss_names_changed_step(
    build: BuildFunction, busybox_base: dockwright.ImageRecord, tmp_path: Path
) -> None:
    context = tmp_path / "changing"
    context.mkdir()
    (context / "Dockerfile").write_text(SMALL["Dockerfile"])
    (context / "note.txt").write_text("first\n")
    first = build(context)
    (context / "note.txt").write_text("second\n")
    second = build(context)
    assert second.steps[1].cache_hit is True
    assert second.steps[2].cache_hit is False
    assert second.steps[2].cache_reason.startswith(f"cached image {first.steps[2].image_id[7:19]}")
    assert second.steps[3].cache_hit is False
    assert (
        second.steps[3].cache_reason == f"no image built from {second.steps[2].image_id[7:19]} yet"
    )


def test_no_cache_skips_probe(build: BuildFunction, busybox_base: dockwright.ImageRecord) -> None:
    build(SMALL)
    result = build(SMALL, no_cache=True)
    assert [step.cache_hit for step in result.steps] == [None, None, None, None]
    assert result.steps[3].output == ["out", "err"]


def test_events_arrive_in_order(build: BuildFunction, busybox_base: dockwright.ImageRecord) -> None:
    everything: list[events.BuildEvent] = []
    result = build(SMALL, on_event=everything.append)
    assert all(dataclasses.is_dataclass(event) for event in everything)
    # Progress events depend on timing, so they are checked apart from the others.
    progress = [event for event in everything if isinstance(event, events.TaskProgress)]
    received = [event for event in everything if not isinstance(event, events.TaskProgress)]
    finished_tasks = sorted(event.task for event in progress if event.finished)
    assert finished_tasks == ["context", "layer", "layer"]
    kinds = [type(event).__name__ for event in received]
    assert kinds == [
        "StepStarted",
        "BaseResolved",
        "StepStarted",
        "CacheChecked",
        "ContainerCreated",
        "StepFinished",
        "StepStarted",
        "CacheChecked",
        "StepFinished",
        "StepStarted",
        "CacheChecked",
        "ContainerCreated",
        "OutputLine",
        "OutputLine",
        "StepFinished",
        "StageFinished",
    ]
    assert received[0] == events.StepStarted(1, 4, "FROM busybox:local", 1)
    assert received[12] == events.OutputLine(4, "out", "stdout")
    assert received[13] == events.OutputLine(4, "err", "stderr")
    finished = received[14]
    assert isinstance(finished, events.StepFinished)
    assert finished.image_id == result.id
    assert finished.cache_hit is False
    assert finished.layer_digest == result.steps[3].layer_digest
    assert received[-1] == events.StageFinished(4, result.id)


def test_unused_build_arg_warns(build: BuildFunction, busybox_base: dockwright.ImageRecord) -> None:
    received: list[events.BuildEvent] = []
    result = build(SMALL, build_args={"UNUSED": "1"}, on_event=received.append)
    warning = "[Warning] One or more build-args [UNUSED] were not consumed"
    assert result.warnings == [warning]
    assert events.BuildWarning(warning) in received


def test_run_failure_raises_build_error(
    build: BuildFunction, busybox_base: dockwright.ImageRecord
) -> None:
    script = "for i in $(seq 1 30); do echo line $i; done; exit 4"
    with pytest.raises(dockwright.BuildError) as caught:
        build({"Dockerfile": f"FROM busybox:local\nENV A=1\nRUN {script}\n"})
    error = caught.value
    command = f"/bin/sh -c {script}"
    assert error.docker_message == f"The command '{command}' returned a non-zero code: 4"
    assert error.exit_code == 4
    assert error.step == 3
    assert error.line == 3
    assert error.instruction == "RUN"
    assert error.output == [f"line {i}" for i in range(11, 31)]
    assert [step.number for step in error.steps] == [1, 2, 3]
    assert isinstance(error.__cause__, dockwright.InstructionError)
    assert error.__cause__.line == 3
    assert isinstance(error, ValueError)


def test_unknown_instruction_fails_before_step_one(
    build: BuildFunction, busybox_base: dockwright.ImageRecord
) -> None:
    with pytest.raises(dockwright.BuildError) as caught:
        build({"Dockerfile": "FROM busybox:local\nFETCH x\n"}, classic=True)
    error = caught.value
    assert error.docker_message == (
        "Error response from daemon: dockerfile parse error line 2: unknown instruction: FETCH"
    )
    assert error.step == 0
    assert error.steps == []
    assert isinstance(error.__cause__, dockwright.InstructionError)
    assert error.__cause__.instruction == "FETCH"


def test_missing_context_raises_build_error(build: BuildFunction, tmp_path: Path) -> None:
    missing = tmp_path / "absent"
    with pytest.raises(dockwright.BuildError) as caught:
        build(missing)
    assert caught.value.docker_message == f'unable to prepare context: path "{missing}" not found'
    assert caught.value.__cause__ is None


def test_missing_base_names_reference(build: BuildFunction) -> None:
    with pytest.raises(dockwright.BuildError) as caught:
        build({"Dockerfile": "FROM nothing-here:1\n"})
    assert caught.value.docker_message == (
        "pull access denied for nothing-here:1, repository does not exist or may require "
        "'docker login'"
    )
    assert caught.value.step == 1


def test_callback_error_stops_build(
    build: BuildFunction, busybox_base: dockwright.ImageRecord
) -> None:
    class Stop(Exception):
        pass

    def on_event(event: events.BuildEvent) -> None:
        if isinstance(event, events.OutputLine):
            raise Stop(event.text)

    started = time.monotonic()
    with pytest.raises(Stop, match="^begin$"):
        build(
            {"Dockerfile": "FROM busybox:local\nRUN echo begin; sleep 30\nRUN echo never\n"},
            on_event=on_event,
        )
    assert time.monotonic() - started < 15


def test_gil_released_during_run(
    build: BuildFunction, busybox_base: dockwright.ImageRecord
) -> None:
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            time.sleep(0.01)

    counter = threading.Thread(target=count)
    counter.start()
    try:
        build({"Dockerfile": "FROM busybox:local\nRUN sleep 1\n"})
    finally:
        stop.set()
        counter.join()
    assert ticks >= 20


def test_build_from_worker_thread(
    build: BuildFunction, busybox_base: dockwright.ImageRecord
) -> None:
    results: list[dockwright.BuildResult] = []
    worker = threading.Thread(target=lambda: results.append(build(SMALL)))
    worker.start()
    worker.join()
    assert len(results) == 1
    assert results[0].steps[3].output == ["out", "err"]


def test_parallel_builds_share_root(
    busybox_base: dockwright.ImageRecord, dockwright_store: dockwright.Store, tmp_path: Path
) -> None:
    contexts = []
    for index in range(2):
        context = tmp_path / f"context-{index}"
        context.mkdir()
        (context / "Dockerfile").write_text(f"FROM busybox:local\nRUN echo {index} > /index\n")
        contexts.append(context)
    results: dict[int, dockwright.BuildResult] = {}

    def run(index: int) -> None:
        store = dockwright.Store(dockwright_store.root)
        results[index] = dockwright.build(contexts[index], tags=f"parallel:{index}", store=store)

    workers = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(results) == [0, 1]
    assert dockwright_store.get("parallel:0").id == results[0].id
    assert dockwright_store.get("parallel:1").id == results[1].id
    assert dockwright_store.verify() == []


INTERRUPT_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys, threading, time
    import dockwright
    from dockwright import events
    from dockwright.conformance import import_busybox

    # A shell starts background jobs with SIGINT ignored, and Python keeps that; the test is
    # about an interactive session, which has Python's default handler.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    store = dockwright.Store(sys.argv[1])
    import_busybox(store)
    def on_event(event):
        if isinstance(event, events.OutputLine):
            threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    try:
        dockwright.build(sys.argv[2], store=store, on_event=on_event)
    except KeyboardInterrupt:
        # The RUN sleeps 60 seconds, so an early return shows that Ctrl-C stopped it.
        print("interrupted within 20s", time.monotonic() - started < 20)
    print("default handler", signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    print("leftovers", sorted(os.listdir(os.path.join(sys.argv[1], "tmp"))))
    """
)


def test_ctrl_c_cancels_build(busybox_base: dockwright.ImageRecord, tmp_path: Path) -> None:
    context = tmp_path / "sleeping"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM busybox:local\nRUN echo start; sleep 60\n")
    completed = subprocess.run(
        [sys.executable, "-c", INTERRUPT_SCRIPT, str(tmp_path / "store"), str(context)],
        capture_output=True,
        text=True,
        timeout=50,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == [
        "interrupted within 20s True",
        "default handler True",
        "leftovers []",
    ]


def test_reproducible_builds_match(busybox_base: dockwright.ImageRecord, tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    for name, text in SMALL.items():
        (context / name).write_text(text)
    base = tmp_path / "base.tar"
    first_store = dockwright.Store(tmp_path / "one")
    dockwright.conformance.import_busybox(first_store)
    first_store.save("busybox:local", base)
    ids = []
    for name in ("one", "two"):
        store = dockwright.Store(tmp_path / name)
        store.load(base)
        result = dockwright.build(context, store=store, source_date_epoch=1700000000)
        ids.append(result.id)
        assert result.image.created == "2023-11-14T22:13:20Z"
    assert ids[0] == ids[1]


def test_secret_stays_out_of_layer(
    build: BuildFunction, busybox_base: dockwright.ImageRecord, tmp_path: Path
) -> None:
    secret = tmp_path / "token.txt"
    secret.write_text("s3cret")
    result = build(
        {
            "Dockerfile": "FROM busybox:local\n"
            "RUN --mount=type=secret,id=token cat /run/secrets/token; echo > /done\n"
        },
        secrets={"token": secret},
    )
    assert result.steps[1].output == ["s3cret"]
    files = [entry.path for entry in result.record().layers()[-1].files()]
    assert files == ["done"]


def test_invalid_network_raises(build: BuildFunction, busybox_base: dockwright.ImageRecord) -> None:
    with pytest.raises(dockwright.InvalidValueError, match="invalid network 'bridge0'"):
        build(SMALL, network="bridge0")


def test_buildkit_history_style(build: BuildFunction, busybox_base: dockwright.ImageRecord) -> None:
    result = build(SMALL, history_style="buildkit")
    document = json.loads(result.record().config_bytes())
    assert "container_config" not in document
    assert document["history"][-1]["created_by"] == (
        "RUN /bin/sh -c echo out; echo err >&2; echo x > /ran # buildkit"
    )


def test_invalid_history_style_raises(
    build: BuildFunction, busybox_base: dockwright.ImageRecord
) -> None:
    with pytest.raises(dockwright.InvalidValueError, match="invalid history style 'moby'"):
        build(SMALL, history_style="moby")  # type: ignore[arg-type]


def test_invalid_pull_policy_raises(
    build: BuildFunction, busybox_base: dockwright.ImageRecord
) -> None:
    with pytest.raises(dockwright.InvalidValueError, match="invalid pull policy 'sometimes'"):
        build(SMALL, pull="sometimes")  # type: ignore[arg-type]


def test_steps_to_pandas(build: BuildFunction, busybox_base: dockwright.ImageRecord) -> None:
    pandas = pytest.importorskip("pandas", reason="pandas is needed for BuildResult.to_pandas")
    frame = build(SMALL).to_pandas()
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.index) == [1, 2, 3, 4]
    assert list(frame["line"]) == [1, 2, 3, 4]
    assert frame.loc[4, "output"] == ["out", "err"]
    assert list(frame["keyword"]) == ["FROM", "ENV", "COPY", "RUN"]
    assert "cache_hit" in frame.columns


def test_result_renders_html(build: BuildFunction, busybox_base: dockwright.ImageRecord) -> None:
    result = build(SMALL, tags=["small:html"])
    page = result._repr_html_()
    assert f"Successfully built {result.short_id}" in page
    assert "small:html" in page
    assert html.escape("RUN echo out; echo err >&2; echo x > /ran") in page
    assert repr(result).startswith(f"BuildResult(id='{result.id}', tags=['small:html'], steps=4")


def test_evaluate_error_has_cause(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY missing /\n")
    with pytest.raises(dockwright.BuildError) as caught:
        dockwright.evaluate(tmp_path)
    assert caught.value.line == 2
    assert isinstance(caught.value.__cause__, dockwright.InstructionError)


def test_example_hello_builds(build: BuildFunction, busybox_base: dockwright.ImageRecord) -> None:
    result = build(REPO / "examples" / "hello", tags="hello:test")
    assert result.image.config is not None
    assert result.image.config.cmd == ["/app/hello.sh"]
    assert len(result.steps) == 10


def test_python_doc_examples(busybox_base: dockwright.ImageRecord) -> None:
    import doctest
    import os
    import re

    text = (REPO / "docs" / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert len(blocks) >= 6
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    namespace: dict[str, object] = {}
    previous = Path.cwd()
    os.chdir(REPO)
    try:
        for number, block in enumerate(blocks):
            test = parser.get_doctest(block, namespace, f"python.md block {number}", "python.md", 0)
            # The blocks form one session, so each one keeps the names of the blocks before it.
            runner.run(test, clear_globs=False)
            namespace = test.globs
    finally:
        os.chdir(previous)
    assert runner.failures == 0
