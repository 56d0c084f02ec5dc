"""Scenario sweeps (issue 15): the specification, serial and Dask runs, resuming."""

from __future__ import annotations

import os
import signal
import threading
import time

import pandas as pd
import pytest
from conftest import SWEEP_SPEC

from bordergeo.errors import BorderGeoError, SchemaError
from bordergeo.sweep import build_model, read_sweep, sweep
from bordergeo.sweepspec import load_sweep_spec

SPEC = {**SWEEP_SPEC, "batch_size": 1}


@pytest.fixture(scope="module")
def serial(tmp_path_factory, dataset):
    folder = tmp_path_factory.mktemp("sweep") / "serial"
    result = sweep(SPEC, output=folder, dataset=dataset, workers=0, progress=False)
    return result, read_sweep(folder)


@pytest.fixture(scope="module")
def dataset():
    from bordergeo import load_dataset

    return load_dataset()


def test_serial_sweep_has_one_row_per_run_gate_direction_and_day(serial, dataset) -> None:
    result, rows = serial
    spec = load_sweep_spec(SPEC)
    assert result.runs == spec.n_runs == 6 and result.batches == 6 == result.computed
    per_run = rows.groupby("run").size()
    assert list(per_run.index) == list(range(6))
    gates = rows["gate_id"].nunique()
    assert (per_run == gates * 2 * spec.days).all()
    assert not rows.duplicated(["run", "gate_id", "direction", "date"]).any()
    assert (rows["backlog"] >= 0).all() and rows["trucks"].notna().all()
    # fewer export lanes at 1119–1120 → a longer export queue there, draw for draw
    lane = rows[(rows.gate_id == "huu-nghi-1119") & (rows.direction == "export")]
    peak = lane.groupby("run")["backlog"].mean()
    assert (peak.loc[[0, 1, 2]].to_numpy() > peak.loc[[3, 4, 5]].to_numpy()).all()


def test_same_seed_same_rows_and_other_seed_other_rows(serial, tmp_path, dataset) -> None:
    _, rows = serial
    again = sweep({**SPEC, "batch_size": 4}, output=tmp_path / "again", dataset=dataset,
                  workers=0, progress=False)
    pd.testing.assert_frame_equal(read_sweep(again.path), rows)
    other = {**SPEC, "draws": {**SPEC["draws"], "seed": 8}}
    moved = read_sweep(sweep(other, output=tmp_path / "other", dataset=dataset, workers=0,
                             progress=False).path)
    assert not moved["backlog"].equals(rows["backlog"])


def test_resume_computes_only_missing_batches(serial, tmp_path, dataset) -> None:
    _, rows = serial
    folder = tmp_path / "resume"
    sweep(SPEC, output=folder, dataset=dataset, workers=0, progress=False)
    (folder / "part-000002.parquet").unlink()
    with pytest.raises(BorderGeoError, match="1 of|5 of 6 batches"):
        read_sweep(folder)
    result = sweep(SPEC, output=folder, dataset=dataset, workers=0, progress=False)
    assert result.computed == 1
    pd.testing.assert_frame_equal(read_sweep(folder), rows)
    other = {**SPEC, "end": "2026-06-20"}
    with pytest.raises(BorderGeoError, match="another sweep"):
        sweep(other, output=folder, dataset=dataset, workers=0, progress=False)


@pytest.mark.parametrize(("change", "field"), [
    ({"end": "2026-05-01"}, "end"),
    ({"grid": {"huu-nghi-1119.lanes_export": [-1]}}, "grid.huu-nghi-1119.lanes_export"),
    ({"grid": {"no-such-gate.lanes_export": [2]}}, "grid.no-such-gate.lanes_export"),
    ({"draws": {"inputs": {"demand.export": {"dist": "beta"}}}}, "draws.inputs.demand.export"),
    ({"draws": {"inputs": {"rain": {"dist": "uniform", "low": 0, "high": 1}}}},
     "draws.inputs"),
    ({"draws": {"count": 0}}, "draws.count"),
    ({"outputs": ["backlog", "colour"]}, "outputs"),
])
def test_bad_spec_is_one_error_before_any_work(tmp_path, dataset, change, field) -> None:
    folder = tmp_path / "out"
    with pytest.raises(SchemaError) as info:
        sweep({**SPEC, **change}, output=folder, dataset=dataset, workers=0, progress=False)
    assert info.value.field == field
    assert not folder.exists()


def test_spec_file_errors_name_the_file(tmp_path) -> None:
    path = tmp_path / "season.yaml"
    path.write_text("start: 2026-05-01\nend: 2026-06-01\ndraws: {count: many}\n",
                    encoding="utf-8")
    with pytest.raises(SchemaError, match="season.yaml.*draws.count"):
        load_sweep_spec(path)


def test_model_is_built_once_and_small_enough_to_send(dataset) -> None:
    import pickle

    model = build_model(load_sweep_spec(SPEC), dataset=dataset)
    assert len(pickle.dumps(model)) < 5_000_000


# --- Dask: a local cluster of two worker processes ------------------------------------


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local:
        yield local


def test_dask_sweep_equals_the_serial_one(serial, cluster, tmp_path, dataset) -> None:
    _, rows = serial
    result = sweep(SPEC, output=tmp_path / "dask", dataset=dataset,
                   scheduler=cluster.scheduler_address, progress=False)
    assert result.computed == 6
    pd.testing.assert_frame_equal(read_sweep(result.path), rows)


def test_worker_killed_mid_sweep_loses_and_repeats_nothing(serial, cluster, tmp_path,
                                                           dataset) -> None:
    from dask.distributed import Client

    _, rows = serial
    folder = tmp_path / "killed"
    spec = {**SPEC, "draws": {**SPEC["draws"], "count": 6}}  # 12 runs, 12 tasks
    expected = read_sweep(sweep(spec, output=tmp_path / "reference", dataset=dataset,
                                workers=0, progress=False).path)
    with Client(cluster.scheduler_address) as client:
        pids = list(client.run(os.getpid).values())
    killed = []

    def kill_when_started() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if len(list(folder.glob("part-*.parquet"))) >= 2:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=kill_when_started, daemon=True)
    watcher.start()
    result = sweep(spec, output=folder, dataset=dataset,
                   scheduler=cluster.scheduler_address, progress=False)
    watcher.join(timeout=1)
    assert killed, "the sweep ended before a worker could be killed"
    got = read_sweep(result.path)
    assert not got.duplicated(["run", "gate_id", "direction", "date"]).any()
    pd.testing.assert_frame_equal(got, expected)


def test_calendar_shares_for_a_season_equal_the_day_by_day_ones(dataset) -> None:
    import numpy as np

    from bordergeo.gates import crossing_ids
    from bordergeo.timeline import load_calendar

    calendar, crossing = load_calendar(), crossing_ids(dataset.gates)
    dates = pd.date_range("2021-12-01", "2026-03-31")
    closed = 0
    for gate_id in dataset.gates["id"].astype(str):
        for direction in ("export", "import", "both"):
            season = calendar.capacity_shares(dates, gate_id=gate_id,
                                              crossing_id=crossing.get(gate_id),
                                              direction=direction)
            daily = [calendar.capacity_share(day, gate_id=gate_id,
                                             crossing_id=crossing.get(gate_id),
                                             direction=direction) for day in dates[::5]]
            np.testing.assert_array_equal(season[::5], daily)
            closed += int((season == 0).sum())
    assert closed > 0  # Tết and the other closures are in the range: the test can fail


def test_output_that_is_a_file_and_unreachable_scheduler_are_one_error(tmp_path,
                                                                        dataset) -> None:
    afile = tmp_path / "results"
    afile.write_text("not a folder", encoding="utf-8")
    with pytest.raises(BorderGeoError, match="not a sweep's output folder"):
        sweep(SPEC, output=afile, dataset=dataset, workers=0, progress=False)
    assert afile.read_text(encoding="utf-8") == "not a folder"
    pytest.importorskip("dask.distributed")
    with pytest.raises(BorderGeoError, match="cannot reach the Dask scheduler"):
        sweep(SPEC, output=tmp_path / "far", dataset=dataset,
              scheduler="tcp://127.0.0.1:9", progress=False)
