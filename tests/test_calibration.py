"""Issue 12: gate hierarchy, calendar, logit choice and the calibration against reports."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

import bordergeo
from bordergeo.assignment import logit_shares
from bordergeo.calibration import (
    Calibration,
    _Model,
    _Params,
    calibrate,
    load_calibration,
    read_targets,
)
from bordergeo.cli import main
from bordergeo.errors import BorderGeoError, DataFileError
from bordergeo.gates import by_crossing, capacity_gates, crossing_ids, operations_table
from bordergeo.network import build_network
from bordergeo.queues import expected_backlog
from bordergeo.timeline import Calendar, load_calendar, load_seasonal_factors


@pytest.fixture(scope="module")
def dataset():
    return bordergeo.load_dataset()


@pytest.fixture(scope="module")
def network(dataset):
    return bordergeo.dataset_network(dataset)


# ----------------------------------------------------------------------------- hierarchy
def test_every_lane_counted_once(dataset):
    gates = dataset.gates
    table = operations_table(gates).set_index("gate_id")
    crossing = crossing_ids(gates)
    carries = capacity_gates(gates).to_numpy()
    for parent in ("huu-nghi", "tan-thanh"):
        children = [g for g, c in crossing.items() if c == parent and g != parent]
        assert len(children) >= 2, parent
        assert not carries[gates["id"].to_numpy() == parent][0]
        assert table.loc[parent, "capacity_method"] == "sum of its lanes"
        assert table.loc[parent, "capacity_trucks_day"] == pytest.approx(
            table.loc[children, "capacity_trucks_day"].sum())
    # the province total is the sum over capacity carriers only
    carriers = table[carries]["capacity_trucks_day"].fillna(0).sum()
    by_cross = table[table.index.isin(set(crossing))]["capacity_trucks_day"].fillna(0).sum()
    assert carriers == pytest.approx(by_cross)


def test_observed_counts_are_not_capacities(dataset):
    gates = dataset.gates.set_index("id")
    assert pd.isna(gates.loc["huu-nghi", "capacity_trucks_day"])  # 861 was one day's count
    assert pd.isna(gates.loc["chi-ma", "capacity_trucks_day"])    # 82 / 103 were counts
    assert gates.loc["huu-nghi", "name_zh"].startswith("友谊口岸")
    assert "co-sau" in gates.index


def test_assignment_uses_only_capacity_carriers(dataset, network):
    demand = bordergeo.load_demand("demand_2024_by_direction.csv")
    result = bordergeo.assign(network, dataset.gates, demand)
    assert "huu-nghi" not in set(result.gates["gate_id"])
    assert "tan-thanh" not in set(result.gates["gate_id"])
    split = by_crossing(result.gates, dataset.gates, columns=["trucks_per_day"])
    assert split["trucks_per_day"].sum() == pytest.approx(1300, rel=1e-6)


def test_gates_json_has_parent_id(capsys):
    assert main(["gates", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    rows = records if isinstance(records, list) else records.get("gates", records)
    parents = {r["id"]: r.get("parent_id") for r in rows}
    assert parents["huu-nghi-1119"] == "huu-nghi"
    assert parents["tan-thanh-1088"] == "tan-thanh"


# ----------------------------------------------------------------------------- calendar
def test_calendar_closures_and_partial_days():
    calendar = load_calendar()
    # Chinese Tết 2024: Hữu Nghị and Tân Thanh closed 10–13 Feb (xe.today)
    closed = calendar.capacity_share(dt.date(2024, 2, 11), gate_id="huu-nghi-1119",
                                     crossing_id="huu-nghi")
    assert closed == 0.0
    assert calendar.capacity_share(dt.date(2024, 3, 11), gate_id="huu-nghi-1119",
                                   crossing_id="huu-nghi") == 1.0
    partial = calendar.capacity_share(dt.date(2024, 2, 15), gate_id="huu-nghi-1119",
                                      crossing_id="huu-nghi")
    assert 0.0 < partial < 1.0
    assert dt.date(2024, 2, 12) in calendar.closed_days("huu-nghi-1119", crossing_id="huu-nghi")


def test_calendar_rejects_bad_rows(tmp_path):
    path = tmp_path / "calendar.csv"
    path.write_text("date_from,date_to,gate_id,direction,capacity_share\n"
                    "2024-02-10,2024-02-09,all,both,0\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"calendar.csv: data row 1, field 'date_to'"):
        load_calendar(path)
    path.write_text("date_from,date_to,gate_id,direction,capacity_share\n"
                    "2024-02-10,2024-02-12,all,both,1.5\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="capacity_share"):
        load_calendar(path)


def test_seasonal_factors_average_one_and_peak_in_fruit_months():
    factors = load_seasonal_factors()
    export = factors["export"]
    assert export.mean() == pytest.approx(1.0, abs=0.02)
    assert export[5] > export[1]  # June lychee above February (Tết)
    assert np.allclose(factors["import"], 1.0)


def test_direction_windows_on_both_clocks(dataset):
    gate = dataset.gates.set_index("id").loc["huu-nghi-1116"].copy()
    gate["id"] = "huu-nghi-1116"
    gate["hours_cn_import"] = "08:00-23:00"
    gate["hours_vn_import"] = "07:00-22:00"
    ops = bordergeo.gate_operations(gate)
    assert ops.window_for("import") == (7.0, 22.0)
    assert ops.window_for("export") == (7.0, 19.0)
    assert ops.capacity_trucks_day("import") / ops.lanes_import > \
        ops.capacity_trucks_day("export") / ops.lanes_export


# ----------------------------------------------------------------------------- models
def test_logit_shares_limits():
    cost = np.array([[1.0, 2.0, np.inf]])
    even = logit_shares(cost, dispersion_per_h=0.0, constants_h=np.zeros((1, 3)))
    assert even[0, :2] == pytest.approx([0.5, 0.5]) and even[0, 2] == 0
    sharp = logit_shares(cost, dispersion_per_h=50.0, constants_h=np.zeros((1, 3)))
    assert sharp[0, 0] > 0.999
    pulled = logit_shares(cost, dispersion_per_h=50.0, constants_h=np.array([[0, 1.5, 0]]))
    assert pulled[0, 1] > 0.999


def test_expected_backlog_matches_a_simulation():
    rng = np.random.default_rng(7)
    mean, capacity, cv = 460.0, 500.0, 0.2
    queue, total = 0.0, 0.0
    steps = 200_000
    for step in rng.normal(mean - capacity, cv * mean, steps):
        queue = max(0.0, queue + step)
        total += queue
    simulated = total / steps
    assert expected_backlog([mean], [capacity], cv=cv, horizon_days=3000)[0] == \
        pytest.approx(simulated, rel=0.05)


def _toy():
    """Two hubs, two gates (one crossing with two lanes, one single gate)."""
    roads = gpd.GeoDataFrame({
        "id": ["a", "b", "c", "d"], "ref": ["R1", "R2", "R3", "R4"],
        "class": ["national"] * 4, "maxspeed_kph": [60.0] * 4, "oneway": [False] * 4,
        "lanes": [2.0] * 4, "status": ["open"] * 4},
        geometry=[LineString([(0, 0), (0.2, 0)]), LineString([(0.2, 0), (0.4, 0.1)]),
                  LineString([(0.2, 0), (0.4, -0.1)]), LineString([(0, 0), (0, 0.2)])],
        crs="EPSG:4326")
    gates = pd.DataFrame({
        "id": ["north", "north-lane", "south"], "name_vi": ["N", "N lane", "S"],
        "level": ["international", "international", "main"], "mode": ["road"] * 3,
        "parent_id": [None, "north", None], "status": ["open"] * 3,
        "lanes_export": [np.nan, 2, 1], "lanes_import": [np.nan, 2, 1],
        "hours_vn": ["07:00-19:00"] * 3, "hours_cn": ["08:00-20:00"] * 3,
        "service_rate_trucks_h": [np.nan, 15.0, 15.0], "capacity_trucks_day": [np.nan] * 3})
    places = {"north": (0.4, 0.1), "north-lane": (0.4, 0.1), "south": (0.4, -0.1),
              "hub-a": (0.0, 0.0), "hub-b": (0.0, 0.2)}
    points = gpd.GeoDataFrame({"id": list(places)},
                              geometry=[Point(*v) for v in places.values()], crs="EPSG:4326")
    net = build_network(roads, places=points)
    return net, gates


def _toy_dataset(gates):
    return dataclasses.make_dataclass("Toy", [("gates", object)])(gates)


def test_calibration_recovers_known_parameters():
    net, gates = _toy()
    dataset = _toy_dataset(gpd.GeoDataFrame(gates))
    demand = pd.DataFrame({"origin": ["hub-a", "hub-b", "hub-a", "hub-b"],
                           "direction": ["export", "export", "import", "import"],
                           "trucks_per_day": [100.0, 60.0, 200.0, 120.0]})
    factors = {d: np.ones(12) for d in ("export", "import")}
    factors["export"][[2, 5]] = [0.7, 1.4]  # days of different load identify θ
    factors["import"][[2, 5]] = [1.3, 0.8]
    model = _Model(dataset, net, demand, calendar=Calendar(pd.DataFrame(
        columns=["date_from", "date_to", "gate_id", "direction", "capacity_share"])),
        factors=factors, eras=())
    days = [pd.Timestamp("2024-03-05"), pd.Timestamp("2024-06-11"), pd.Timestamp("2024-09-02")]
    rows = []
    for day in days:
        for gate in ("north", "south", "all"):
            for direction in ("export", "import"):
                rows.append({"date": day, "gate_id": gate, "direction": direction,
                             "measure": "vehicles_cleared", "at_hour": np.nan})
        rows.append({"date": day, "gate_id": "all", "direction": "export",
                     "measure": "trucks_waiting", "at_hour": 20.0})
    targets = pd.DataFrame(rows)
    truth = _Params(dispersion_per_h=3.0, constants={"south|export": 0.8, "south|import": -0.4},
                    log_rate_scale={"export": np.log(0.7), "import": 0.0}, daily_cv=0.3,
                    window_share=0.5, levels={"2024|export": 300.0, "2024|import": 500.0})
    targets["value"] = model.evaluate(targets, truth)
    targets["source"] = "synthetic"
    targets["name"] = [f"t{k}" for k in range(len(targets))]
    result = calibrate(dataset, net, demand, observations=targets, holdout=[],
                       calendar=model.calendar, seasonal_factors=model.factors, eras=(),
                       prior_weight=0.0, choice_periods=(), demand_year=None)
    fitted = result.calibration
    assert result.median_relative_error < 1e-3
    assert fitted.constants_h["south"]["export"] == pytest.approx(0.8, abs=0.05)
    assert fitted.constants_h["south"]["import"] == pytest.approx(-0.4, abs=0.05)
    assert fitted.dispersion_per_h == pytest.approx(3.0, rel=0.1)
    assert fitted.service_rates_trucks_h["north-lane"]["export"] == pytest.approx(10.5, rel=0.05)
    assert fitted.service_rates_trucks_h["south"]["import"] == pytest.approx(15.0, rel=0.05)
    assert fitted.daily_cv == pytest.approx(0.3, rel=0.1)
    assert fitted.demand_trucks_per_day["2024"]["export"] == pytest.approx(300, rel=0.02)


# ----------------------------------------------------------------------------- bundled fit
def test_bundled_calibration_meets_the_issue(dataset):
    calibration = load_calibration()
    fit = calibration.fit
    targets = fit["targets"]
    assert len(targets) >= 8
    assert all(t["source"] for t in targets)
    errors = [abs(t["modelled"] - t["observed"]) / t["observed"] for t in targets]
    assert np.median(errors) <= 0.15
    assert fit["holdout"] and fit["summary"]["holdout_median_relative_error"] is not None
    assert set(calibration.service_rates_trucks_h) >= {"huu-nghi-1116", "huu-nghi-1119",
                                                        "tan-thanh-1090", "tan-thanh-1088"}


def test_bundled_calibration_is_the_fit_of_the_bundled_reports(dataset, network):
    demand = bordergeo.load_demand("demand_2024_by_direction.csv")
    fresh = calibrate(dataset, network, demand, holdout=["2024-08-29"])
    stored = load_calibration()
    assert fresh.calibration.dispersion_per_h == pytest.approx(stored.dispersion_per_h,
                                                               rel=0.02)
    for crossing, values in stored.constants_h.items():
        for direction, value in values.items():
            assert fresh.calibration.constants_h[crossing][direction] == pytest.approx(
                value, abs=0.02)
    assert fresh.median_relative_error == pytest.approx(
        stored.fit["summary"]["median_relative_error"], abs=0.005)


REPORTED = {  # vehicles cleared per crossing (economic-zone board via MoIT, vietnam.vn)
    "2024-01-23": {"huu-nghi": 657, "tan-thanh": 482, "chi-ma": 82, "coc-nam": 11},
    "2024-08-22": {"huu-nghi": 784, "tan-thanh": 347, "chi-ma": 103, "coc-nam": 9},
    "2024-08-29": {"huu-nghi": 861, "tan-thanh": 437},  # of 1,429 (Chi Ma + Cốc Nam 131)
}
TOTALS = {"2024-01-23": 1238, "2024-08-22": 1243, "2024-08-29": 1429}


def _shares(result, gates) -> dict[str, float]:
    table = by_crossing(result.gates, gates, columns=["trucks_per_day"])
    return dict(zip(table["crossing_id"], table["trucks_per_day"] / table["trucks_per_day"].sum(),
                    strict=True))


def test_default_assignment_reproduces_the_reported_split(capsys):
    # the default: constants of the period in force since 27 May 2024
    assert main(["assign", "--format", "json"]) == 0
    share = {k: v["share"] for k, v in json.loads(capsys.readouterr().out)["crossings"].items()}
    for day in ("2024-08-22", "2024-08-29"):
        for crossing, count in REPORTED[day].items():
            assert abs(share[crossing] - count / TOTALS[day]) <= 0.08, (day, crossing)
    for crossing in ("huu-nghi", "tan-thanh"):  # and the mean of the three 2024 reports
        mean = np.mean([REPORTED[d][crossing] / TOTALS[d] for d in TOTALS])
        assert abs(share[crossing] - mean) <= 0.08, crossing


def test_each_reported_days_split_is_reproduced_on_that_day():
    """The calibrated model of each 2024 report (its day's demand, season, constants)."""
    targets = load_calibration().fit["targets"]
    for day, counts in REPORTED.items():
        modelled = {(t["gate_id"], t["direction"]): t["modelled"] for t in targets
                    if t["date"] == day and t["measure"] == "vehicles_cleared"}
        total = modelled[("all", "export")] + modelled[("all", "import")]
        for crossing in ("huu-nghi", "tan-thanh"):
            share = (modelled[(crossing, "export")] + modelled[(crossing, "import")]) / total
            assert abs(share - counts[crossing] / TOTALS[day]) <= 0.08, (day, crossing)


def test_baseline_shows_an_ordinary_days_stock(dataset, network):
    demand = bordergeo.load_demand("demand_2024_by_direction.csv")
    table = bordergeo.compare_scenarios(dataset, network, demand, [],
                                        calibration=load_calibration())
    stock = table["stock_20h_export"].sum()
    # the board reported 369–591 export trucks waiting at 20:00 on ordinary 2024 days
    assert 150 <= stock <= 1200


def test_calibrate_cli_json(capsys):
    assert main(["calibrate", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"targets", "parameters", "holdout"} <= set(data)
    first = data["targets"][0]
    assert {"name", "observed", "modelled", "source"} <= set(first)
    assert len(data["targets"]) >= 8 and data["holdout"]


def test_calibration_file_errors(tmp_path):
    path = tmp_path / "cal.json"
    path.write_text(json.dumps({"bordergeo_calibration": 1, "gate_choice": {
        "dispersion_per_h": -1, "constants_h": {}}, "service_rates_trucks_h": {},
        "arrivals": {"window_share": 0.5, "daily_cv": 0.2}}), encoding="utf-8")
    with pytest.raises(DataFileError, match="cal.json: dispersion_per_h"):
        load_calibration(path)
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(DataFileError, match="not a bordergeo calibration"):
        load_calibration(path)
    assert main(["assign", "--calibration", str(path)]) == 1


def test_calibration_needs_directions(dataset, network):
    with pytest.raises(BorderGeoError, match="demand by direction"):
        calibrate(dataset, network, bordergeo.load_demand())


def test_targets_skip_double_counts():
    targets = read_targets()
    both = targets[(targets["gate_id"] == "huu-nghi") & (targets["direction"] == "both")
                   & (targets["measure"] == "vehicles_cleared")]
    assert both.empty  # 23 Jan / 22 Aug / 29 Aug give both directions: 'both' is redundant
    assert (targets["date"] >= "2024-01-01").all()


def test_calibration_roundtrip(tmp_path):
    stored = load_calibration()
    copy = Calibration.from_dict(stored.to_dict())
    assert copy.service_rates_trucks_h == stored.service_rates_trucks_h


@pytest.mark.parametrize(("argv", "words"), [
    (["calibrate", "--holdout", "notadate"], "'notadate' is not a date"),
    (["calibrate", "--holdout", "2099-01-01"], "hold-out day 2099-01-01 has no observed"),
    (["calibrate", "--demand", "demand_2024.csv"], "calibration needs demand by direction"),
    (["assign", "--calibration", "no-such-file.json"], "no-such-file.json"),
])
def test_calibration_cli_errors_are_one_line(argv, words, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0] and "Traceback" not in err[0]


def test_maps_use_the_calibration_by_default(dataset, network):
    from bordergeo.analysis import analysis_layers

    layers = analysis_layers(dataset, corridors=True, scenario="baseline_2026")
    baseline = layers["scenario_table"]
    baseline = baseline[baseline["scenario"] == "baseline"].set_index("crossing_id")
    calibration = load_calibration()
    demand = bordergeo.load_demand("demand_2024_by_direction.csv")
    result = bordergeo.assign(network, calibration.apply(dataset.gates), demand,
                              **calibration.assign_options())
    expected = by_crossing(result.gates, dataset.gates,
                           columns=["trucks_per_day"]).set_index("crossing_id")
    assert np.allclose(baseline.loc[expected.index, "trucks_per_day"],
                       expected["trucks_per_day"], atol=0.5)
    plain = analysis_layers(dataset, corridors=True, scenario="baseline_2026",
                            calibration="none")["scenario_table"]
    assert not np.allclose(plain[plain["scenario"] == "baseline"].set_index(
        "crossing_id").loc[expected.index, "trucks_per_day"], expected["trucks_per_day"],
        atol=0.5)
