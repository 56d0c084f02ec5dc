"""The assignment's solvers against independent computations.

NetworkX searches for the compiled backward searches, finite differences and quadrature
for the link costs, root finding for two gates, a general-purpose optimiser for the gate
split, and Wardrop's conditions (SO: on marginal costs) for whole runs.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from conftest import two_gate_layers, write_dataset
from scipy import integrate, optimize

from bordergeo import load_dataset
from bordergeo.assignment import (
    LANE_CAPACITY_PCU_H,
    TRUCK_PCE,
    _akcelik_integral,
    _GateSplit,
    _Links,
    _solve,
    akcelik,
    assign,
)
from bordergeo.congestion import load_demand
from bordergeo.routing import dataset_network


@pytest.fixture(scope="module")
def bundled():
    dataset = load_dataset()
    return dataset, dataset_network(dataset), load_demand()


def _links(network, gates, *, direction="both", lane_capacity_pcu_h=LANE_CAPACITY_PCU_H,
           gate_delay="akcelik"):
    return _Links(network, gates, direction=direction, truck_pce=TRUCK_PCE,
                  lane_capacity_pcu_h=lane_capacity_pcu_h, gate_delay=gate_delay,
                  reverse_roads=direction == "import")


def _reverse_graph(links, cost):
    """The links as a NetworkX graph, cheapest parallel link kept, reversed."""
    graph = nx.DiGraph()
    for row in np.argsort(-cost, kind="stable"):  # the cheapest (lowest row) written last
        graph.add_edge(int(links.tail[row]), int(links.head[row]), cost=float(cost[row]),
                       row=int(row))
    return graph.reverse(copy=False)


@pytest.mark.parametrize("direction", ["export", "import"])
def test_backward_searches_match_networkx(bundled, direction):
    dataset, network, demand = bundled
    links = _links(network, dataset.gates, direction=direction)
    origins = np.array([network.places[o] for o in demand["origin"]], dtype=np.int64)
    volume = demand["trucks_per_day"].to_numpy(float)
    rng = np.random.default_rng(3)
    cost = links.t0 * rng.uniform(1.0, 2.0, len(links.t0))   # no ties between paths
    reverse = _reverse_graph(links, cost)
    r = links.n_roads
    trees = links.gate_trees(cost, origins)
    for g, node in enumerate(links.gate_nodes):
        to_gate = nx.single_source_dijkstra_path_length(reverse, int(node), weight="cost")
        expected = [to_gate.get(int(o), np.inf) + cost[r + g] for o in origins]
        np.testing.assert_allclose(trees.via[:, g], expected, rtol=1e-12)
    # every origin's cheapest path to the sink, and the flows of loading them
    shortest, owner, link = links.tree_paths(cost, origins, volume)
    to_sink, paths = nx.single_source_dijkstra(reverse, links.sink, weight="cost")
    np.testing.assert_allclose(shortest, [to_sink[int(o)] for o in origins], rtol=1e-12)
    expected_flow = np.zeros(len(cost))
    for k, origin in enumerate(origins):
        nodes = paths[int(origin)][::-1]                    # origin → … → gate → sink
        rows = [reverse[v][u]["row"] for u, v in zip(nodes[:-1], nodes[1:], strict=True)]
        np.testing.assert_array_equal(link[owner == k], rows)
        expected_flow[rows] += volume[k]
    np.testing.assert_allclose(links.load(owner, link, volume), expected_flow, atol=1e-9)
    # loading trucks through chosen gates follows the same trees
    trucks = rng.uniform(0.0, 10.0, trees.via.shape) * np.isfinite(trees.via)
    expected_flow = np.zeros(len(cost))
    for g, node in enumerate(links.gate_nodes):
        _, to_gate = nx.single_source_dijkstra(reverse, int(node), weight="cost")
        for k, origin in enumerate(origins):
            if trucks[k, g] > 0:
                nodes = to_gate[int(origin)][::-1]
                rows = [reverse[v][u]["row"] for u, v in zip(nodes[:-1], nodes[1:],
                                                              strict=True)]
                expected_flow[rows] += trucks[k, g]
                expected_flow[r + g] += trucks[k, g]
    np.testing.assert_allclose(links.load_via_gates(trees, origins, trucks), expected_flow,
                               atol=1e-9)


@pytest.mark.parametrize("gate_delay", ["akcelik", "linear"])
@pytest.mark.parametrize("so", [False, True])
def test_link_costs_and_slopes(bundled, gate_delay, so):
    dataset, network, _ = bundled
    links = _links(network, dataset.gates, gate_delay=gate_delay, lane_capacity_pcu_h=200)
    rng = np.random.default_rng(5)
    flow = rng.uniform(0.05, 1.6, len(links.t0)) * links.capacity   # below and above capacity
    cost, slope = links.cost(flow, so)
    np.testing.assert_allclose(cost, links.marginal(flow) if so else links.time(flow),
                               rtol=1e-12)
    step = 1e-5 * flow
    up, _ = links.cost(flow + step, so)
    down, _ = links.cost(flow - step, so)
    np.testing.assert_allclose(slope, (up - down) / (2 * step), rtol=1e-5)
    rows = rng.choice(len(flow), 50, replace=False)
    some, some_slope = links.cost_of(rows, flow[rows], so)
    np.testing.assert_allclose(some, cost[rows], rtol=1e-14)
    np.testing.assert_allclose(some_slope, slope[rows], rtol=1e-14)


def test_akcelik_integral_matches_quadrature():
    t0, capacity, period = np.array([0.06, 0.1]), np.array([480.0, 75.0]), np.array([12.0, 9.5])
    for volume in (0.0, 30.0, 470.0, 900.0):
        exact = [integrate.quad(lambda v, k=k: float(akcelik(t0[k], v, capacity[k], period[k])),
                                0.0, volume, epsabs=1e-12, epsrel=1e-12)[0] for k in range(2)]
        np.testing.assert_allclose(_akcelik_integral(t0, np.full(2, volume), capacity, period),
                                   exact, rtol=1e-9, atol=1e-12)


def _two_gates(tmp_path):
    """One hub, one road to each of two gates of different capacity."""
    layers = two_gate_layers()
    dataset = load_dataset(write_dataset(tmp_path / "two", layers))
    return dataset, dataset_network(dataset)


@pytest.mark.parametrize("objective", ["ue", "so"])
def test_two_akcelik_gates_match_root_finding(tmp_path, objective):
    dataset, network = _two_gates(tmp_path)
    links = _links(network, dataset.gates)
    r, total = links.n_roads, 1_000.0                 # above the two gates' 720 a day
    road_h = links.gate_trees(links.t0.copy(), np.array([network.places["hub"]])).via[0] \
        - links.t0[r:]
    assert np.isfinite(road_h).all() and road_h[0] != road_h[1]

    def at_gate(g, v):
        return float(akcelik(links.t0[r + g], v, links.capacity[r + g], links.period[r + g]))

    def cost(g, v):  # SO: the derivative of v·t(v), by a central difference
        if objective == "ue":
            return road_h[g] + at_gate(g, v)
        h = 1e-4
        return road_h[g] + ((v + h) * at_gate(g, v + h) - (v - h) * at_gate(g, v - h)) / (2 * h)
    on_a = optimize.brentq(lambda x: cost(0, x) - cost(1, total - x), 0.0, total,
                           xtol=1e-10)
    assert 1 < on_a < total - 1                      # both gates used: a real split
    result = assign(network, dataset.gates,
                    pd.DataFrame({"origin": ["hub"], "trucks_per_day": [total]}),
                    objective=objective, target_gap=1e-10, max_iter=200)
    flows = result.gates.set_index("gate_id")["trucks_per_day"]
    assert flows["gate-a"] == pytest.approx(on_a, abs=1e-3)
    assert flows.sum() == pytest.approx(total, rel=1e-12)
    assert result.iterations <= 5


def test_gate_split_matches_a_general_optimiser(bundled):
    """The gate split (fixed road costs, exact gate delays) against SLSQP on x[o, g]."""
    dataset, network, _ = bundled
    links = _links(network, dataset.gates)
    n_gates = len(links.gate_ids)
    rng = np.random.default_rng(11)
    capacity = links.capacity[links.n_roads:]
    volume = rng.uniform(20.0, 120.0, 8)
    volume *= 0.9 * capacity.sum() / volume.sum()
    road_h = rng.uniform(0.2, 0.8, (len(volume), n_gates))
    road_h[rng.random(road_h.shape) < 0.2] = np.inf   # some gates out of reach
    road_h[:, 0] = np.minimum(road_h[:, 0], 1.0)
    for so in (False, True):
        split = _GateSplit(links, so)
        found = split.solve(road_h, volume, target_gap=1e-8)
        reach = np.isfinite(road_h)
        cols = np.flatnonzero(reach.ravel())

        def objective(x, split=split, reach=reach, cols=cols):
            full = np.zeros(reach.size)
            full[cols] = x
            full = full.reshape(reach.shape)
            return float(split.objective(full.sum(axis=0)).sum()
                         + np.sum(np.where(reach, road_h, 0.0) * full))

        rows = np.repeat(np.arange(len(volume)), n_gates).reshape(reach.shape).ravel()[cols]
        constraints = [{"type": "eq",
                        "fun": lambda x, mine=rows == k, k=k: x[mine].sum() - volume[k]}
                       for k in range(len(volume))]
        start = (reach / reach.sum(axis=1, keepdims=True) * volume[:, None]).ravel()[cols]
        best = optimize.minimize(objective, start, method="SLSQP", bounds=[(0, None)] * len(cols),
                                 constraints=constraints,
                                 options={"ftol": 1e-14, "maxiter": 2_000})
        assert best.success, best.message
        assert objective(found.ravel()[cols]) <= best.fun + 1e-7 * abs(best.fun)
        np.testing.assert_allclose(found.sum(axis=1), volume, rtol=1e-12)
        np.testing.assert_allclose(found.sum(axis=0), _totals(best.x, cols, reach), atol=0.05)


def _totals(x, cols, reach):
    full = np.zeros(reach.size)
    full[cols] = x
    return full.reshape(reach.shape).sum(axis=0)


def _run(network, gates, demand, *, objective, direction="both", target_gap=1e-8,
         lane_capacity_pcu_h=LANE_CAPACITY_PCU_H):
    frame = pd.DataFrame({"origin": demand["origin"].astype(str),
                          "trucks": demand["trucks_per_day"].to_numpy(float)})
    return _solve(network, gates, frame, direction=direction, objective=objective,
                  max_iter=500, target_gap=target_gap, truck_pce=TRUCK_PCE,
                  lane_capacity_pcu_h=lane_capacity_pcu_h, gate_delay="akcelik",
                  algorithm="gp", logit=None)


@pytest.mark.parametrize("objective", ["ue", "so"])
@pytest.mark.parametrize("lane_capacity_pcu_h", [LANE_CAPACITY_PCU_H, 150.0])
def test_runs_meet_wardrops_conditions(bundled, objective, lane_capacity_pcu_h):
    """Used gates cost each origin its least (SO: marginal cost), within the gap.

    150 PCU/h per lane congests the roads (v/c above 1), so routes matter too.
    """
    dataset, network, demand = bundled
    demand = demand.assign(trucks_per_day=demand["trucks_per_day"] * 1.6)
    run = _run(network, dataset.gates, demand, objective=objective,
               lane_capacity_pcu_h=lane_capacity_pcu_h)
    links, flow = run.links, run.flow
    assert run.gaps[-1] < 1e-8
    assert len(run.gaps) <= 10
    cost = links.marginal(flow) if objective == "so" else links.time(flow)
    via = links.costs_via_gates(cost, run.origins)
    best = via.min(axis=1)
    total = float(flow @ cost)
    # the gap is Σ flow·cost − Σ demand·cheapest; every truck's excess counts in it
    assert float(np.sum(run.choice * (np.where(np.isfinite(via), via, 0) - best[:, None]))) \
        <= 1e-8 * total + 1e-9
    used = run.choice > 1e-6 * run.volume[:, None]
    assert (via[used] - np.broadcast_to(best[:, None], via.shape)[used] <= 1e-6 * best.max()).all()
    assert (run.choice.sum(axis=0) > 1).sum() >= 2                # a real split
    np.testing.assert_allclose(run.choice.sum(axis=1), run.volume, rtol=1e-9)
    np.testing.assert_allclose(run.choice.sum(axis=0), flow[links.n_roads:], rtol=1e-9,
                               atol=1e-9)
    if objective == "ue":  # and the system optimum costs no more in all
        so = _run(network, dataset.gates, demand, objective="so",
                  lane_capacity_pcu_h=lane_capacity_pcu_h)
        assert float(so.flow @ links.time(so.flow)) <= float(flow @ links.time(flow)) + 1e-6


def test_imports_meet_wardrops_conditions(bundled):
    dataset, network, _ = bundled
    demand = load_demand("demand_2024_by_direction.csv")
    imports = demand[demand["direction"] == "import"]
    run = _run(network, dataset.gates, imports, objective="ue", direction="import")
    cost = run.links.time(run.flow)
    via = run.links.costs_via_gates(cost, run.origins)
    used = run.choice > 1e-6
    assert run.gaps[-1] < 1e-8
    assert (via[used] - np.broadcast_to(via.min(axis=1)[:, None], via.shape)[used]
            <= 1e-6).all()


def test_runs_repeat_exactly(bundled):
    dataset, network, demand = bundled
    demand = demand.assign(trucks_per_day=demand["trucks_per_day"] * 1.6)
    first = _run(network, dataset.gates, demand, objective="so", lane_capacity_pcu_h=150.0)
    again = _run(network, dataset.gates, demand, objective="so", lane_capacity_pcu_h=150.0)
    np.testing.assert_array_equal(first.flow, again.flow)
    assert first.gaps == again.gaps
