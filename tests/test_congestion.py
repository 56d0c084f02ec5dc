"""Gate operations, queue models, backlogs, replays, scenarios and the gate-choice assignment.

Expected values are worked out by hand in the comments next to each test.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import _collection, _line, _point, two_gate_layers, write_dataset

from bordergeo import load_dataset
from bordergeo.assignment import assign
from bordergeo.calibration import load_calibration
from bordergeo.cli import main
from bordergeo.congestion import (
    bundled_scenarios,
    compare_scenarios,
    load_demand,
    replay_file,
    resolve_scenario,
    sample_path,
)
from bordergeo.errors import BorderGeoError, DataFileError, SchemaError
from bordergeo.gates import effective_window, gate_operations, operations_table
from bordergeo.queues import (
    UnstableQueueError,
    erlang_c,
    fluid_backlog,
    mgc_approximation,
    read_observed,
    two_stage_backlog,
)
from bordergeo.routing import Router, dataset_network
from bordergeo.scenarios import apply_scenario, load_scenario

# --- gate operations across two clocks ------------------------------------------------


def test_window_china_0800_2000_is_0700_1900_hanoi():
    # Beijing is UTC+8, Hà Nội UTC+7: 08:00–20:00 Beijing = 07:00–19:00 Hà Nội
    assert effective_window(None, "08:00-20:00") == (7.0, 19.0)
    assert effective_window("07:00-19:00", "08:00-20:00") == (7.0, 19.0)
    # Vietnam works to 23:00 but China stops at 21:00 Beijing = 20:00 Hà Nội
    assert effective_window("07:00-23:00", "08:00-21:00") == (7.0, 20.0)
    assert effective_window("00:00-24:00", "08:00-17:00") == (7.0, 16.0)
    # no overlap: 05–06 Hà Nội against 07–19 Hà Nội
    assert effective_window("05:00-06:00", "08:00-20:00") == (0.0, 0.0)
    assert effective_window(None, None) is None


def test_daily_capacity_is_lanes_times_rate_times_overlap_hours():
    gate = pd.Series({"id": "g", "lanes_export": 2, "lanes_import": 2,
                      "service_rate_trucks_h": 10.0, "hours_vn": "07:00-23:00",
                      "hours_cn": "08:00-20:00", "status": "open"})
    ops = gate_operations(gate, closed_dates=[dt.date(2024, 2, 10)])
    assert ops.open_hours == 12.0                      # 07:00–19:00 Hà Nội
    assert ops.capacity_trucks_day() == 4 * 10 * 12     # 480
    assert ops.capacity_trucks_day("export") == 2 * 10 * 12
    assert ops.capacity_trucks_day(date=dt.date(2024, 2, 10)) == 0.0   # Tết closure
    hourly = ops.hourly_capacity(48)
    assert hourly.sum() == pytest.approx(2 * 480)
    assert hourly[:7].sum() == 0 and hourly[19:24].sum() == 0 and hourly[7] == 40
    closed_day = ops.hourly_capacity(24, start=dt.datetime(2024, 2, 10))
    assert closed_day.sum() == 0


def test_bundled_operations_table_has_both_clocks():
    table = operations_table(load_dataset().gates).set_index("gate_id")
    row = table.loc["huu-nghi-1119"]
    # 4 lanes (2 + 2) × the bundled per-lane rate × 12 h
    assert row["capacity_trucks_day"] == pytest.approx(800, rel=0.01)
    assert row["open_hours"] == 12.0


# --- steady-state queues ------------------------------------------------------------


def test_erlang_c_hand_values():
    # c = 1: P(wait) = ρ = 0.5; Wq = ρ / (μ − λ) = 1 h; Lq = ρ² / (1 − ρ) = 0.5
    single = erlang_c(1, 0.5, 1.0)
    assert single.p_wait == pytest.approx(0.5)
    assert single.mean_wait_h == pytest.approx(1.0)
    assert single.mean_queue == pytest.approx(0.5)
    # c = 2, a = λ/μ = 1: C = (a²/2!·c/(c−a)) / (1 + a + a²/2!·c/(c−a)) = 1 / 3
    two = erlang_c(2, 1.0, 1.0)
    assert two.p_wait == pytest.approx(1 / 3)
    assert two.mean_wait_h == pytest.approx((1 / 3) / (2 - 1))
    assert two.utilisation == pytest.approx(0.5)
    # c = 3, a = 2: Σ_{k<3} a^k/k! = 5, a³/3!·3/(3−2) = 4, C = 4/9, Wq = C/(cμ − λ)
    three = erlang_c(3, 2.0, 1.0)
    assert three.p_wait == pytest.approx(4 / 9)
    assert three.mean_wait_h == pytest.approx(4 / 9)
    assert three.mean_queue == pytest.approx(8 / 9)    # Little: λ·Wq


def test_unstable_queue_is_refused_and_points_to_backlog():
    with pytest.raises(UnstableQueueError, match="backlog"):
        erlang_c(2, 3.0, 1.0)
    with pytest.raises(UnstableQueueError):
        erlang_c(4, 4 * 16.7, 16.7)                    # ρ = 1 exactly
    with pytest.raises(BorderGeoError):
        erlang_c(0, 1.0, 1.0)


def test_mgc_equals_erlang_for_exponential_service_and_halves_for_deterministic():
    exact = erlang_c(4, 50.0, 16.7)
    same = mgc_approximation(4, 50.0, 16.7, service_cv2=1.0)
    assert same.mean_wait_h == pytest.approx(exact.mean_wait_h)
    deterministic = mgc_approximation(4, 50.0, 16.7, service_cv2=0.0)
    assert deterministic.mean_wait_h == pytest.approx(exact.mean_wait_h / 2)


# --- days-long backlogs -------------------------------------------------------------


def test_fluid_backlog_growth_and_clearance():
    # 500 arrive on days 1–2 and none after, 350 cleared a day:
    # 150, 300, max(0, 300 − 350) = 0
    run = fluid_backlog([500, 500, 0, 0], 350)
    assert run.backlog.tolist() == [150, 300, 0, 0]
    assert run.served.tolist() == [350, 350, 300, 0]
    assert run.days_to_clear == 3
    # each day's arrivals are all cleared one day later (FIFO)
    assert run.cohort_wait_steps[:2].tolist() == [1, 1]


def test_fluid_backlog_clears_a_standing_queue():
    # 4,300 waiting, 200 arrive and 350 leave each day: −150/day → 4300/150 = 28.7 → day 29
    run = fluid_backlog(np.full(40, 200.0), 350.0, initial=4300)
    assert run.backlog[27] == pytest.approx(4300 - 28 * 150)
    assert run.days_to_clear == 29
    assert run.peak == 4300
    never = fluid_backlog(np.full(10, 400.0), 350.0)
    assert never.days_to_clear is None
    assert never.backlog[-1] == pytest.approx(500)
    assert math.isnan(never.cohort_wait_steps[-1])


def test_fluid_backlog_hourly_with_opening_hours():
    gate = pd.Series({"id": "g", "lanes_export": 1, "lanes_import": 1,
                      "service_rate_trucks_h": 10.0, "hours_vn": "07:00-19:00",
                      "hours_cn": "08:00-20:00"})
    capacity = gate_operations(gate).hourly_capacity(24)
    run = fluid_backlog(np.full(24, 15.0), capacity, step_hours=1)
    # 7 h closed: 105 queue up; open 07–19 at 20/h against 15/h arriving: −5/h
    assert run.backlog[6] == 105
    assert run.backlog[18] == pytest.approx(105 - 12 * 5)
    assert run.backlog[23] == pytest.approx(45 + 5 * 15)


def test_two_stage_chain_binding_stage():
    vn, cn = two_stage_backlog(np.full(5, 400.0), 500.0, 300.0)
    assert vn.backlog.max() == 0                        # Vietnamese control keeps up
    assert cn.backlog.tolist() == [100, 200, 300, 400, 500]   # the Chinese side binds
    vn, cn = two_stage_backlog(np.full(3, 400.0), 250.0, 300.0)
    assert vn.backlog.tolist() == [150, 300, 450] and cn.backlog.max() == 0


def test_bad_backlog_inputs():
    with pytest.raises(BorderGeoError, match="arrivals"):
        fluid_backlog([100, -1], 50)
    with pytest.raises(BorderGeoError, match="initial"):
        fluid_backlog([100], 50, initial=-5)


# --- observed series and the December 2021 replay ------------------------------------


def test_december_2021_replay_lands_in_documented_range():
    frame = replay_file(sample_path("langson_2021_2022.csv"),
                        sample_path("december_2021_scenario.json"))
    observed = frame.dropna(subset=["observed_backlog"])
    assert observed["date"].min() == pd.Timestamp("2021-12-15")
    assert observed["date"].max() == pd.Timestamp("2022-01-24")
    peak = observed["observed_backlog"].max()
    error = (observed["model_backlog"] - observed["observed_backlog"]).abs()
    # within 10 % of the peak stock (≈480 trucks) on every documented day
    assert (error <= 0.1 * peak).all(), observed
    # the stock peaks in the week before Christmas and falls by 2 January
    model = frame.set_index("date")["model_backlog"]
    assert model.idxmax() <= pd.Timestamp("2021-12-22")
    assert model[pd.Timestamp("2022-01-02")] < 0.7 * model.max()


def test_bundled_observations_and_replay_cite_sources():
    series = read_observed(sample_path("langson_2021_2022.csv"))
    assert series["source"].notna().all() and (series["source"].str.len() > 5).all()
    spec = json.loads(sample_path("december_2021_scenario.json").read_text(encoding="utf-8"))
    for key in ("arrivals_trucks_day", "capacity_trucks_day"):
        assert all(piece.get("source") for piece in spec[key])


def test_bad_observed_file_names_row_and_field(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text("date,gate_id,trucks_waiting\n2021-12-15,all,10\n2021-13-40,all,5\n",
                    encoding="utf-8")
    with pytest.raises(DataFileError, match=r"obs.csv: row 3, field 'date'"):
        read_observed(path)
    path.write_text("date,gate_id,trucks_waiting\n2021-12-15,all,-3\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="trucks_waiting"):
        read_observed(path)


# --- equilibrium on a network with a known answer ----------------------------------


def _two_gate_dataset(tmp_path):
    """One hub, two roads to two gates of different capacity."""
    layers = two_gate_layers()
    dataset = load_dataset(write_dataset(tmp_path / "two", layers))
    network = dataset_network(dataset)
    router = Router(network, dataset)
    road_h = {g: router.route("hub", g).travel_time_min / 60 for g in ("gate-a", "gate-b")}
    return dataset, network, road_h


@pytest.mark.parametrize("objective", ["ue", "so"])
def test_two_parallel_gates_linear_delays(tmp_path, objective):
    dataset, network, road_h = _two_gate_dataset(tmp_path)
    demand_total = 600.0
    # cost of gate g: a_g + b_g·x_g, a = road time + 1/rate, b = ½·T/C
    # C_a = 4 lanes × 10/h × 12 h = 480, C_b = 240, T = 12 h
    a = {"gate-a": road_h["gate-a"] + 0.1, "gate-b": road_h["gate-b"] + 0.1}
    b = {"gate-a": 0.5 * 12 / 480, "gate-b": 0.5 * 12 / 240}
    k = 1 if objective == "ue" else 2           # SO equalises marginal costs a + 2bx
    expected_a = (a["gate-b"] - a["gate-a"] + k * b["gate-b"] * demand_total) \
        / (k * (b["gate-a"] + b["gate-b"]))
    assert 0 < expected_a < demand_total        # both gates used: a real split
    result = assign(network, dataset.gates, pd.DataFrame({"origin": ["hub"],
                                                         "trucks_per_day": [demand_total]}),
                    objective=objective, gate_delay="linear", target_gap=1e-8,
                    max_iter=2000)
    flows = result.gates.set_index("gate_id")["trucks_per_day"]
    assert flows["gate-a"] == pytest.approx(expected_a, abs=0.5)
    assert flows.sum() == pytest.approx(demand_total)
    if objective == "ue":
        costs = result.costs.set_index("gate_id")["cost_h"]
        assert costs["gate-a"] == pytest.approx(costs["gate-b"], abs=1e-3)


def test_ue_so_gap_is_non_negative(tmp_path):
    dataset, network, _ = _two_gate_dataset(tmp_path)
    demand = pd.DataFrame({"origin": ["hub"], "trucks_per_day": [600.0]})
    ue = assign(network, dataset.gates, demand, objective="ue", target_gap=1e-8, max_iter=2000)
    so = assign(network, dataset.gates, demand, objective="so", target_gap=1e-8, max_iter=2000)
    assert so.total_truck_hours <= ue.total_truck_hours + 1e-6


@pytest.fixture(scope="module")
def bundled():
    dataset = load_dataset()
    return dataset, dataset_network(dataset), load_demand()


def test_wardrop_on_bundled_data(bundled):
    dataset, network, demand = bundled
    result = assign(network, dataset.gates, demand, objective="ue", target_gap=1e-4)
    gap = result.relative_gap[-1]
    assert gap < 1e-4
    assert result.gates["trucks_per_day"].sum() == pytest.approx(demand["trucks_per_day"].sum())
    assert result.total_trucks_per_day == pytest.approx(1300)
    # every gate carrying ≥ 1 % of the demand is the cheapest gate of some origin, and the
    # flow on dearer-than-best gates costs no more than the gap allows in all
    costs = result.costs.pivot(index="origin", columns="gate_id", values="cost_h")
    best = costs.min(axis=1)
    flows = result.gates.set_index("gate_id")["trucks_per_day"]
    excess_h = 0.0
    for gate, flow in flows[flows > 0].items():
        slack_h = (costs[gate] - best).min()
        excess_h += flow * slack_h
        if flow >= 13:
            assert ((costs[gate] - best) / best).min() <= 1e-3, (gate, slack_h)
    assert excess_h <= 1e-4 * result.total_truck_hours
    # one origin alone: every gate it uses costs the same (Wardrop's first principle)
    single = assign(network, dataset.gates,
                    pd.DataFrame({"origin": ["ha-noi"], "trucks_per_day": [1300.0]}),
                    target_gap=1e-6)
    used = single.gates.loc[single.gates["trucks_per_day"] > 1, "gate_id"].tolist()
    assert len(used) >= 2
    via = single.costs.set_index("gate_id")["cost_h"]
    assert via[used].max() - via[used].min() <= 1e-3 * via[used].min()
    assert via.min() == pytest.approx(via[used].min())


def test_roads_come_back_as_a_geodataframe(bundled):
    dataset, network, demand = bundled
    result = assign(network, dataset.gates, demand)
    assert result.roads.crs is not None and len(result.roads) > 10
    assert {"trucks_per_day", "volume_capacity", "ref"} <= set(result.roads.columns)
    assert (result.roads["trucks_per_day"] > 0).all()


def test_demand_with_no_path_is_one_clear_error(tmp_path):
    layers = {
        "gates": _collection([_point("gate-a", 106.65, 21.95, name_vi="A", mode="road",
                                     level="international", status="open",
                                     capacity_trucks_day=300)]),
        "hubs": _collection([_point("hub", 106.70, 21.90, name_vi="Hub", kind="city"),
                             _point("island", 106.90, 21.70, name_vi="Đảo", kind="city")]),
        "roads": _collection([
            _line("ra", [[106.70, 21.90], [106.65, 21.95]], ref="A", **{"class": "national"}),
            _line("rx", [[106.90, 21.70], [106.95, 21.75]], ref="X", **{"class": "national"}),
        ]),
    }
    dataset = load_dataset(write_dataset(tmp_path / "island", layers))
    network = dataset_network(dataset)
    demand = pd.DataFrame({"origin": ["hub", "island"], "trucks_per_day": [100, 50]})
    with pytest.raises(BorderGeoError, match="'island' has no path"):
        assign(network, dataset.gates, demand)
    with pytest.raises(BorderGeoError, match="'nowhere' is not a hub"):
        assign(network, dataset.gates, pd.DataFrame({"origin": ["nowhere"],
                                                     "trucks_per_day": [1]}))
    with pytest.raises(BorderGeoError, match="row 1"):
        assign(network, dataset.gates, pd.DataFrame({"origin": ["hub"],
                                                     "trucks_per_day": [-4]}))


# --- scenarios -------------------------------------------------------------------------


def test_bundled_scenarios_load_and_cite_sources():
    gates = load_dataset().gates
    scenarios = bundled_scenarios()
    assert {"smart_gate_phase1", "smart_gate_phase2", "extended_hours",
            "secondary_gates_reopened", "fruit_season_surge", "regulation_2026"} <= set(scenarios)
    for path in scenarios.values():
        apply_scenario(gates, load_scenario(path))
        assert "sources:" in path.read_text(encoding="utf-8")
    assert resolve_scenario("smart-gate-phase1") == scenarios["smart_gate_phase1"]


def test_lanes_4_6_14_raise_capacity_at_1119():
    gates = load_dataset().gates

    def capacity(name: str | None) -> float:
        changed = gates if name is None else apply_scenario(
            gates, load_scenario(resolve_scenario(name)))
        table = operations_table(changed).set_index("gate_id")
        return float(table.loc["huu-nghi-1119", "capacity_trucks_day"])

    four, six, fourteen = capacity(None), capacity("smart_gate_phase1"), \
        capacity("smart_gate_phase2")
    assert six == pytest.approx(four * 6 / 4)
    assert fourteen == pytest.approx(four * 14 / 4)
    # between Decision 865's 2027 and 2030 targets for the corridor (2,000–4,000/day)
    assert 2_000 <= fourteen <= 4_000


def test_longer_hours_scale_a_published_capacity():
    gates = load_dataset().gates
    changed = apply_scenario(gates, load_scenario(resolve_scenario("extended_hours")))
    before = operations_table(gates).set_index("gate_id")
    after = operations_table(changed).set_index("gate_id")
    for gate in ("huu-nghi-1116", "huu-nghi-1119", "tan-thanh-1090"):
        assert after.loc[gate, "capacity_export_trucks_day"] == pytest.approx(
            before.loc[gate, "capacity_export_trucks_day"] * 13 / 12)  # 07–19 → 07–20 VN
    # the crossing's capacity is its lanes', counted once
    assert after.loc["huu-nghi", "capacity_trucks_day"] == pytest.approx(
        after.loc[["huu-nghi-1116", "huu-nghi-1119"], "capacity_trucks_day"].sum())


def test_scenario_comparison_per_gate(bundled):
    dataset, network, demand = bundled
    table = compare_scenarios(dataset, network, demand,
                              [resolve_scenario("fruit_season_surge"),
                               resolve_scenario("regulation_2026")], days=7,
                              calibration=load_calibration())
    assert table["scenario"].nunique() == 3
    assert "huu-nghi" not in set(table["gate_id"])  # crossings are summed from their lanes
    totals = table.groupby("scenario", sort=False)["trucks_per_day"].sum()
    assert totals.iloc[0] == pytest.approx(1300)
    # the fruit surge multiplies exports only: 925 import + 1.5 × 375 export
    assert totals.iloc[1] == pytest.approx(925 + 1.5 * 375)
    stock = table.groupby("scenario", sort=False)["stock_20h_export"].sum()
    # the surge lengthens the evening stock; the combined measures shorten it again
    assert stock.iloc[1] > stock.iloc[0]
    assert stock.iloc[2] < stock.iloc[1]
    measures = table[table["scenario"] == totals.index[2]].set_index("gate_id")
    assert measures.loc["na-nua", "status"] == "open"


@pytest.mark.parametrize(("text", "match"), [
    ({"gates": {"no-such-gate": {"lanes_export": 3}}}, "unknown gate 'no-such-gate'"),
    ({"gates": {"huu-nghi-1119": {"lanes_export": -2}}}, "lanes_export"),
    ({"gates": {"huu-nghi-1119": {"hours_cn": "8 till late"}}}, "hours_cn"),
    ({"gates": {"huu-nghi-1119": {"colour": "red"}}}, "cannot change 'colour'"),
    ({"close": ["huu-nghi"], "open": "na-nua"}, "'open' must be a list"),
    ({"demand_multiplier": -1}, "demand_multiplier"),
    ({"lanes": 4}, "unknown key 'lanes'"),
])
def test_bad_scenarios_give_one_clear_error(tmp_path, text, match):
    path = tmp_path / "bad.yaml"
    path.write_text(json.dumps(text), encoding="utf-8")    # JSON is valid YAML
    gates = load_dataset().gates
    with pytest.raises(SchemaError, match=match) as info:
        apply_scenario(gates, load_scenario(path))
    assert "bad.yaml" in str(info.value)


def test_unparsable_scenario_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("gates: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataFileError, match="broken.yaml: cannot parse"):
        load_scenario(path)


# --- the command line ---------------------------------------------------------------


def _json_out(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_queue_json(capsys):
    data = _json_out(capsys, ["queue", "--servers", "2", "--arrival-rate", "1",
                              "--service-rate", "1", "--format", "json"])
    assert {"p_wait", "mean_wait_h", "mean_queue", "utilisation"} <= set(data)
    assert data["p_wait"] == pytest.approx(1 / 3)


def test_cli_queue_unstable_is_one_line(capsys):
    assert main(["queue", "--servers", "2", "--arrival-rate", "3", "--service-rate", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "backlog" in err[0] and "Traceback" not in err[0]


def test_cli_backlog_json(capsys):
    data = _json_out(capsys, ["backlog", "--arrivals-per-day", "500,500,0,0",
                              "--capacity-per-day", "350", "--days", "4", "--format", "json"])
    assert data["backlog"] == [150, 300, 0, 0]
    assert data["days_to_clear"] == 3
    data = _json_out(capsys, ["backlog", "--arrivals-per-day", "200", "--capacity-per-day",
                              "350", "--days", "40", "--initial", "4300", "--format", "json"])
    assert data["days_to_clear"] == 29 and len(data["backlog"]) == 40
    assert main(["backlog", "--arrivals-per-day", "1,2", "--capacity-per-day", "3",
                 "--days", "5"]) == 1
    assert "2 values given for 5 days" in capsys.readouterr().err


def test_cli_assign_json(capsys):
    data = _json_out(capsys, ["assign", "--format", "json"])
    assert {"relative_gap", "gates", "total_trucks_per_day"} <= set(data)
    assert data["relative_gap"] < 1e-4
    assert data["total_trucks_per_day"] == pytest.approx(1300)
    assert {"trucks_per_day", "wait_h"} <= set(data["gates"]["huu-nghi-1119"])
    assert sum(v["share"] for v in data["crossings"].values()) == pytest.approx(1.0)
    both = _json_out(capsys, ["assign", "--objective", "both", "--scenario",
                              "fruit_season_surge", "--format", "json"])
    assert both["so_truck_hours"] <= both["ue_truck_hours"]


def test_cli_assign_writes_loaded_roads(tmp_path, capsys):
    out = tmp_path / "flows.gpkg"
    assert main(["assign", "--roads-output", str(out)]) == 0
    import geopandas as gpd

    roads = gpd.read_file(out)
    assert len(roads) > 10 and "trucks_per_day" in roads.columns


def test_cli_congestion_with_observed_sample_and_scenario(capsys):
    data = _json_out(capsys, ["congestion", "--observed", "sample", "--scenario",
                              "smart_gate_phase1", "--format", "json"])
    assert {row["scenario"] for row in data["scenarios"]} == {
        "baseline", "smart gate phase 1 (6 lanes at 1119–1120)"}
    first = data["replay"][0]
    assert first["date"] == "2021-12-15" and first["observed_backlog"] == 4300
    text_code = main(["congestion", "--observed", "sample"])
    assert text_code == 0 and "replay of the observed backlog" in capsys.readouterr().out


def test_cli_bad_scenario_exits_with_one_line(tmp_path, capsys):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"gates": {"huu-nghi": {"lanes_import": -1}}}), encoding="utf-8")
    for verb in ("assign", "congestion"):
        assert main([verb, "--scenario", str(path)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "s.json" in err[0] and "lanes_import" in err[0]
    assert main(["assign", "--scenario", "no_such_scenario"]) == 1
    assert "no such scenario" in capsys.readouterr().err


@pytest.mark.parametrize("objective", ["ue", "so"])
def test_the_three_algorithms_agree(bundled, objective):
    dataset, network, demand = bundled
    demand = demand.assign(trucks_per_day=demand["trucks_per_day"] * 1.6)  # gates congested
    runs = {alg: assign(network, dataset.gates, demand, objective=objective, algorithm=alg,
                        target_gap=1e-5, max_iter=3000) for alg in ("fw", "cfw", "gp")}
    flows = {alg: r.gates.set_index("gate_id")["trucks_per_day"] for alg, r in runs.items()}
    for alg in ("cfw", "gp"):
        assert (flows["fw"] - flows[alg]).abs().max() < 5.0        # trucks/day of 1,300
        assert runs[alg].total_truck_hours == pytest.approx(runs["fw"].total_truck_hours,
                                                            rel=1e-4)
        assert runs[alg].iterations < runs["fw"].iterations
        assert runs[alg].relative_gap[-1] < 1e-5


@pytest.mark.parametrize("algorithm", ["fw", "cfw", "gp"])
def test_each_algorithm_finds_the_hand_computed_split(tmp_path, algorithm):
    dataset, network, road_h = _two_gate_dataset(tmp_path)
    a = {"gate-a": road_h["gate-a"] + 0.1, "gate-b": road_h["gate-b"] + 0.1}
    b = {"gate-a": 0.5 * 12 / 480, "gate-b": 0.5 * 12 / 240}
    expected = (a["gate-b"] - a["gate-a"] + b["gate-b"] * 600) / (b["gate-a"] + b["gate-b"])
    result = assign(network, dataset.gates, pd.DataFrame({"origin": ["hub"],
                                                         "trucks_per_day": [600.0]}),
                    gate_delay="linear", algorithm=algorithm, target_gap=1e-9, max_iter=5000)
    flows = result.gates.set_index("gate_id")["trucks_per_day"]
    assert flows["gate-a"] == pytest.approx(expected, abs=0.5)


def test_demand_by_direction(bundled):
    dataset, network, _ = bundled
    demand = load_demand(sample_path("demand_2024_by_direction.csv"))
    result = assign(network, dataset.gates, demand)
    gates = result.gates
    assert gates["trucks_per_day_export"].sum() == pytest.approx(375)
    assert gates["trucks_per_day_import"].sum() == pytest.approx(925)
    assert gates["trucks_per_day"].sum() == pytest.approx(1300)
    # each direction has its own lanes: half of a gate's published capacity each way
    row = gates.set_index("gate_id").loc["huu-nghi-1119"]
    assert row["capacity_trucks_day_export"] == pytest.approx(row["capacity_trucks_day"] / 2)
    assert set(result.origins["direction"]) == {"export", "import"}
    assert result.relative_gap[-1] < 1e-4
    bad = demand.assign(direction=["export"] * (len(demand) - 1) + ["sideways"])
    with pytest.raises(BorderGeoError, match=f"row {len(demand)}: direction must be"):
        assign(network, dataset.gates, bad)


def test_imports_drive_from_the_gate_to_the_hub(tmp_path):
    # a one-way road from the hub to gate A: exports reach A, imports cannot come back
    layers = {
        "gates": _collection([_point("gate-a", 106.65, 21.95, name_vi="A", mode="road",
                                     level="international", status="open",
                                     capacity_trucks_day=300)]),
        "hubs": _collection([_point("hub", 106.70, 21.90, name_vi="Hub", kind="city")]),
        "roads": _collection([_line("ra", [[106.70, 21.90], [106.65, 21.95]], ref="A",
                                    oneway=True, **{"class": "national"})]),
    }
    dataset = load_dataset(write_dataset(tmp_path / "oneway", layers))
    network = dataset_network(dataset)
    exports = pd.DataFrame({"origin": ["hub"], "direction": ["export"], "trucks_per_day": [10]})
    assert assign(network, dataset.gates, exports).total_trucks_per_day == 10
    imports = exports.assign(direction="import")
    with pytest.raises(BorderGeoError, match="'hub' has no path"):
        assign(network, dataset.gates, imports)


# --- property tests: the closed-form fluid queue against a plain simulation ----------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _simulate(arrivals: list[float], capacity: list[float], initial: float):
    """Day by day, first in first out: the textbook recursion and each cohort's clearing day."""
    queue = [(-1, initial)] if initial > 0 else []     # (arrival day, trucks)
    backlog, cleared_on = [], {}
    for day, (a, s) in enumerate(zip(arrivals, capacity, strict=True)):
        if a > 0:
            queue.append((day, a))
        elif day not in cleared_on:
            cleared_on.setdefault(day, None)
        left = s
        while queue and left > 1e-9:
            cohort, trucks = queue[0]
            served = min(trucks, left)
            left -= served
            if trucks - served <= 1e-9:
                queue.pop(0)
                if cohort >= 0:
                    cleared_on[cohort] = day
            else:
                queue[0] = (cohort, trucks - served)
        backlog.append(sum(t for _, t in queue))
    return np.array(backlog), cleared_on


counts = st.floats(min_value=0, max_value=1_000, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(counts, counts), min_size=1, max_size=40),
       st.floats(min_value=0, max_value=5_000))
def test_fluid_backlog_equals_a_plain_simulation(days, initial):
    arrivals = [a for a, _ in days]
    capacity = [s for _, s in days]
    run = fluid_backlog(arrivals, capacity, initial=initial)
    expected, cleared_on = _simulate(arrivals, capacity, initial)
    np.testing.assert_allclose(run.backlog, expected, atol=1e-6)
    for day, a in enumerate(arrivals):
        if a <= 1e-3:
            continue
        if cleared_on.get(day) is None:
            assert np.isnan(run.cohort_wait_steps[day]), (day, run.cohort_wait_steps)
        else:
            assert run.cohort_wait_steps[day] == cleared_on[day] - day


@pytest.mark.parametrize("algorithm", ["gp", "cfw", "fw"])
def test_origin_gate_flows_add_up(bundled, algorithm):
    dataset, network, demand = bundled
    result = assign(network, dataset.gates, demand, algorithm=algorithm)
    table = result.origin_gates
    by_gate = table.groupby("gate_id")["trucks_per_day"].sum()
    gates = result.gates.set_index("gate_id")["trucks_per_day"]
    for gate_id, trucks in gates.items():
        assert by_gate.get(gate_id, 0.0) == pytest.approx(trucks, abs=1e-5)
    by_origin = table.groupby("origin")["trucks_per_day"].sum()
    sent = demand.set_index("origin")["trucks_per_day"]
    assert by_origin.reindex(sent.index).to_numpy() == pytest.approx(sent.to_numpy(), abs=1e-5)
    # an origin's trucks only use gates that cost it the least (within the gap)
    costs = result.costs.set_index(["origin", "gate_id"])["cost_h"]
    best = result.costs.groupby("origin")["cost_h"].min()
    big = table[table["trucks_per_day"] > 5]
    excess = [costs[(o, g)] / best[o] - 1 for o, g in zip(big["origin"], big["gate_id"],
                                                         strict=True)]
    assert max(excess) < 1e-2


def test_goods_classes_share_their_origin_split(bundled):
    dataset, network, _ = bundled
    demand = load_demand("demand_2024_by_direction.csv")
    demand["goods"] = np.where(demand["source"].str.contains("fruit|lychee|watermelon"),
                               "fruit", "general")
    result = assign(network, dataset.gates, demand)
    goods = result.goods
    per_class = goods.groupby("goods")["trucks_per_day"].sum()
    wanted = demand.groupby("goods")["trucks_per_day"].sum()
    assert per_class["fruit"] == pytest.approx(wanted["fruit"])
    assert per_class["general"] == pytest.approx(wanted["general"])
    per_gate = goods.groupby("gate_id")["trucks_per_day"].sum()
    gates = result.gates.set_index("gate_id")["trucks_per_day"]
    for gate_id, trucks in per_gate.items():
        assert trucks == pytest.approx(gates[gate_id], abs=1e-4)
    assert set(goods["direction"]) == {"export", "import"}
    assert (goods.loc[goods["goods"] == "fruit", "direction"] == "export").all()
