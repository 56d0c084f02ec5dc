"""Property tests of the queue and assignment models: never a negative or non-finite wait,
conservation of trucks, and assigned flows that sum to the demand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bordergeo import load_dataset
from bordergeo.assignment import assign
from bordergeo.errors import BorderGeoError
from bordergeo.inputs import MAX_RATE_TRUCKS_H, MAX_TRUCKS
from bordergeo.queues import UnstableQueueError, erlang_c, fluid_backlog, mgc_approximation
from bordergeo.routing import dataset_network

counts = st.floats(min_value=0, max_value=5_000, allow_nan=False, allow_infinity=False)
series = st.lists(counts, min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(arrivals=series, capacity=series, initial=counts)
def test_backlog_waits_never_negative_and_trucks_are_conserved(arrivals, capacity, initial):
    n = min(len(arrivals), len(capacity))
    a, s = np.array(arrivals[:n]), np.array(capacity[:n])
    run = fluid_backlog(a, s, initial=initial)
    waits = run.cohort_wait_steps
    assert (waits[~np.isnan(waits)] >= 0).all()
    assert np.isfinite(run.backlog).all() and (run.backlog >= -1e-9).all()
    assert (run.served <= s + 1e-6).all() and (run.served >= -1e-6).all()
    total_in = initial + a.sum()
    assert math.isclose(total_in - run.served.sum(), run.backlog[-1],
                        rel_tol=1e-9, abs_tol=1e-6)
    # a cohort can only be still waiting at the end if trucks are still waiting
    if run.backlog[-1] == 0:
        assert not np.isnan(waits).any()


@settings(max_examples=100, deadline=None)
@given(arrivals=st.lists(st.floats(min_value=0, max_value=MAX_TRUCKS), min_size=1,
                         max_size=20),
       capacity=st.floats(min_value=0, max_value=MAX_TRUCKS))
def test_backlog_is_finite_at_the_bounds(arrivals, capacity):
    run = fluid_backlog(arrivals, capacity)
    assert np.isfinite(run.backlog).all()
    assert np.isfinite(run.to_frame()[["served", "backlog"]].to_numpy()).all()


@pytest.mark.parametrize("bad", [[math.nan], [math.inf], [-1.0], [MAX_TRUCKS * 10]])
def test_backlog_refuses_values_outside_its_bounds(bad):
    with pytest.raises(BorderGeoError, match="between 0 and"):
        fluid_backlog(bad, 100.0)


@settings(max_examples=300, deadline=None)
@given(servers=st.integers(min_value=1, max_value=1_000),
       service=st.floats(min_value=1e-3, max_value=1e5),
       load=st.floats(min_value=0, max_value=0.999),
       cv2=st.floats(min_value=0, max_value=100))
def test_steady_state_queue_is_finite_and_non_negative(servers, service, load, cv2):
    arrival = load * servers * service
    assume(arrival <= MAX_RATE_TRUCKS_H)
    try:
        result = erlang_c(servers, arrival, service)
    except UnstableQueueError:  # rounding can put ρ at 1
        return
    assert 0 <= result.p_wait <= 1 + 1e-12
    assert result.mean_wait_h >= 0 and math.isfinite(result.mean_wait_h)
    assert math.isclose(result.mean_queue, arrival * result.mean_wait_h, rel_tol=1e-9,
                        abs_tol=1e-12)
    assert 0 <= result.utilisation < 1
    general = mgc_approximation(servers, arrival, service, service_cv2=cv2)
    assert general.mean_wait_h >= 0 and math.isfinite(general.mean_wait_h)
    exponential = mgc_approximation(servers, arrival, service, service_cv2=1.0)
    assert math.isclose(exponential.mean_wait_h, result.mean_wait_h, rel_tol=1e-12,
                        abs_tol=1e-15)


@pytest.fixture(scope="module")
def bundled():
    dataset = load_dataset()
    return dataset, dataset_network(dataset)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(volumes=st.lists(st.floats(min_value=0, max_value=3_000), min_size=13, max_size=13),
       objective=st.sampled_from(["ue", "so"]),
       algorithm=st.sampled_from(["gp", "cfw", "fw"]))
def test_assigned_flows_sum_to_demand(bundled, volumes, objective, algorithm):
    dataset, network = bundled
    hubs = dataset.hubs["id"].tolist()[: len(volumes)]
    demand = pd.DataFrame({"origin": hubs, "trucks_per_day": volumes[: len(hubs)]})
    result = assign(network, dataset.gates, demand, objective=objective, algorithm=algorithm,
                    target_gap=1e-3)
    total = float(demand["trucks_per_day"].sum())
    assert math.isclose(result.gates["trucks_per_day"].sum(), total, rel_tol=1e-9,
                        abs_tol=1e-6)
    assert math.isclose(result.origin_gates["trucks_per_day"].sum(), total, rel_tol=1e-6,
                        abs_tol=1e-3)
    assert (result.gates["trucks_per_day"] >= -1e-9).all()
    waits = result.gates["wait_h"].to_numpy()
    assert np.isfinite(waits).all() and (waits >= -1e-12).all()


def test_assignment_that_stops_early_says_so(bundled, caplog):
    dataset, network = bundled
    demand = pd.DataFrame({"origin": ["ha-noi", "bac-giang"], "trucks_per_day": [900, 700]})
    with caplog.at_level("WARNING", logger="bordergeo.assignment"):
        result = assign(network, dataset.gates, demand, max_iter=1, algorithm="fw")
    assert not result.converged and result.to_dict()["converged"] is False
    assert "above the target" in caplog.text
    done = assign(network, dataset.gates, demand)
    assert done.converged and done.to_dict()["converged"] is True
