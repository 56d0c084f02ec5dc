"""Batch accessibility (issue 15): every origin × every open gate, serially and on Dask."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from bordergeo import load_dataset
from bordergeo.accessibility import accessibility, open_goods_gates
from bordergeo.errors import BorderGeoError
from bordergeo.routing import Router, dataset_network


@pytest.fixture(scope="module")
def router():
    dataset = load_dataset()
    return Router(dataset_network(dataset), dataset)


@pytest.fixture(scope="module")
def origins():
    lon, lat = np.meshgrid(np.linspace(106.2, 107.3, 30), np.linspace(21.4, 22.5, 30))
    points = shapely.points(lon.ravel(), lat.ravel())
    frame = gpd.GeoDataFrame({"name": [f"cell {i}" for i in range(len(points))]},
                             geometry=points, crs="EPSG:4326")
    # one point far out at sea: no road within reach, so no time
    far = gpd.GeoDataFrame({"name": ["at sea"]}, geometry=[shapely.Point(109.5, 20.0)],
                           crs="EPSG:4326")
    return pd.concat([frame, far], ignore_index=True).to_crs("EPSG:32648")


def test_every_origin_times_every_open_gate_as_networkx(router, origins) -> None:
    gates = open_goods_gates(router.dataset.gates)
    table = accessibility(router, origins, id_column="name", slice_rows=128)
    assert len(table) == len(origins) * len(gates)
    assert list(table["origin_id"].iloc[:len(gates)]) == ["cell 0"] * len(gates)
    assert table.loc[table.origin_id == "at sea", "travel_time_min"].isna().all()
    graph = router.network.to_graph().reverse(copy=False)
    network = router.network
    checked = 0
    for gate in gates[:3]:
        node = router.place(gate).node
        seconds = nx.single_source_dijkstra_path_length(graph, node, weight="travel_time")
        rows = table[(table.gate_id == gate) & table.travel_time_min.notna()].iloc[::7]
        for row in rows.itertuples():
            point = origins.loc[origins.name == row.origin_id].to_crs(network.crs).geometry
            start, _ = network.nearest_node(point.x.iloc[0], point.y.iloc[0])
            assert row.travel_time_min == pytest.approx(seconds[start] / 60, abs=1e-9)
            checked += 1
    assert checked > 20


def test_dask_pieces_equal_the_serial_table(router, origins, tmp_path) -> None:
    pytest.importorskip("dask.distributed")
    serial = accessibility(router, origins, slice_rows=200)
    folder = accessibility(router, origins, slice_rows=200, output=tmp_path / "acc",
                           workers=2)
    parts = sorted(folder.glob("part-*.parquet"))
    assert len(parts) == 5
    on_dask = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(on_dask, serial)


def test_bad_origins_are_one_error(router) -> None:
    lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(106.7, 21.9), (106.8, 22.0)])],
                             crs="EPSG:4326")
    with pytest.raises(BorderGeoError, match="row 0 is not a point"):
        accessibility(router, lines)
