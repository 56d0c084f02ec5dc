"""The build at scale: crossings found on a grid of cells (checked against Shapely's own
pairwise answer), the sorted compact edge table and its CSR (checked against a plain
scipy build and NetworkX), and the imports kept out of the module's top level."""

from __future__ import annotations

import ast
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import sparse
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import LineString

from bordergeo import network as net_module
from bordergeo.network import build_network, network_from_graph

UTM = "EPSG:32648"


def shapely_crossings(lines: np.ndarray, level: np.ndarray, raised: np.ndarray
                      ) -> tuple[set[tuple[int, float, float]], int, int]:
    """The slow way: every pair of lines Shapely says cross, and their intersection points."""
    a, b = shapely.STRtree(lines).query(lines, predicate="crosses")
    a, b = a[a < b], b[a < b]
    flat = (level[a] == level[b]) & ~raised[a] & ~raised[b]
    passes = int((~flat).sum())
    a, b = a[flat], b[flat]
    pts, which = shapely.get_parts(shapely.intersection(lines[a], lines[b]), return_index=True)
    point = shapely.get_type_id(pts) == 0
    pts, which = pts[point], which[point]
    xy = shapely.get_coordinates(pts)
    splits = {(int(line), float(x), float(y))
              for lines_of, (x, y) in zip(np.c_[a[which], b[which]], xy, strict=True)
              for line in lines_of}
    return splits, len(pts), passes


def grid_crossings(lines: np.ndarray, level: np.ndarray, raised: np.ndarray, *,
                   ends_exact: bool = False) -> tuple[set[tuple[int, float, float]], int, int]:
    """The same from the build's crossing search."""
    xy = shapely.get_coordinates(lines)
    counts = shapely.get_num_coordinates(lines)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    line_idx = np.repeat(np.arange(len(lines)), counts)
    vid = net_module._VertexKeys(xy, 1e-4).ids
    frame, crossings, passes = net_module._crossings(
        xy, line_idx, starts, starts + counts - 1, vid, level, raised, ends_exact=ends_exact)
    splits = {(int(line), float(x), float(y))
              for line, x, y in zip(frame["line"], frame["x"], frame["y"], strict=True)}
    return splits, crossings, passes


def lattice_layer(rng: np.random.Generator) -> np.ndarray:
    """Lines on a small integer lattice: shared vertices, T-junctions on vertices, collinear
    overlaps, closed rings, zero-length pieces and long lines across short ones."""
    lines = []
    span = int(rng.choice([4, 6, 10, 40]))
    for _ in range(int(rng.integers(2, 60))):
        if rng.random() < 0.15:  # a long line across the others
            pts = rng.integers(0, span, (2, 2)).astype(float)
        else:
            start = rng.integers(0, span, 2)
            steps = rng.integers(-2, 3, (int(rng.integers(1, 5)), 2))
            pts = np.vstack([start, start + steps.cumsum(axis=0)]).astype(float)
        if rng.random() < 0.1:
            pts = np.vstack([pts, pts[:1]])  # closed
        lines.append(shapely.linestrings(pts * float(rng.choice([1.0, 0.5, 37.0])) + 5e5))
    return np.array(lines, dtype=object)


@pytest.mark.parametrize("seed", range(6))
def test_crossing_search_equals_shapely_pairwise(seed, monkeypatch) -> None:
    if seed % 2:  # small blocks: many bands of cells (and of vertex keys) in a small layer
        monkeypatch.setattr(net_module, "_BLOCK", 32)
    rng = np.random.default_rng(seed)
    for _ in range(60):
        lines = lattice_layer(rng)
        level = rng.choice([0.0, 0.0, 0.0, 1.0], len(lines))
        raised = rng.random(len(lines)) < 0.1
        assert grid_crossings(lines, level, raised) == shapely_crossings(lines, level, raised)


def test_crossing_search_equals_shapely_on_random_polylines() -> None:
    rng = np.random.default_rng(11)
    starts = rng.uniform(0, 3000, (400, 2))
    lines = np.array([shapely.linestrings(np.vstack([s, s + np.cumsum(
        rng.normal(0, 150, (int(rng.integers(1, 6)), 2)), axis=0)])) for s in starts])
    level = np.zeros(len(lines))
    raised = np.zeros(len(lines), dtype=bool)
    found = grid_crossings(lines, level, raised)
    assert found[1] > 100  # a layer with real crossings
    assert found == shapely_crossings(lines, level, raised)


def crossed_grid() -> gpd.GeoDataFrame:
    """A 12 × 12 grid of roads meeting at their ends, with diagonal roads across it."""
    rows = [LineString([(0, 100 * i), (1100, 100 * i)]) for i in range(12)]
    cols = [LineString([(100 * i, 0), (100 * i, 1100)]) for i in range(12)]
    diagonals = [LineString([(-30, 15), (1130, 1010)]), LineString([(55, 1120), (1105, -20)]),
                 LineString([(333, -7), (420, 640), (1013, 777)])]
    lines = rows + cols + diagonals
    return gpd.GeoDataFrame({"id": [f"r{i}" for i in range(len(lines))],
                             "class": ["local"] * len(lines)}, geometry=lines, crs=UTM)


def test_the_build_splits_lines_where_shapely_says_they_cross() -> None:
    roads = crossed_grid()
    lines = roads.geometry.to_numpy()
    expected, count, _ = shapely_crossings(lines, np.zeros(len(lines)),
                                           np.zeros(len(lines), dtype=bool))
    net = build_network(roads, snap_tolerance_m=0, gap_tolerance_m=0)
    assert net.report.crossings == count > 0
    for _, x, y in expected:
        assert net.nearest_node(x, y)[1] < 1e-6
    # noded: no two edges cross any more
    edges = net.edge_geometries()
    a, b = shapely.STRtree(edges).query(edges, predicate="crosses")
    assert len(a) == 0
    # the defaults (snapping, gap closing) find the same crossings
    assert build_network(roads).report.crossings == count


def test_table_is_sorted_compact_and_its_csr_equals_scipys() -> None:
    roads = crossed_grid()
    roads["oneway"] = np.arange(len(roads)) % 5 == 0
    roads["ref"] = [f"ĐT{i % 7}" for i in range(len(roads))]
    # two roads between the same two places: parallel edges, the faster one wins
    extra = gpd.GeoDataFrame({"id": ["direct", "bypass"], "class": ["local", "national"],
                              "ref": ["QL1", "QL1"]},
                             geometry=[LineString([(2000, 0), (2100, 0)]),
                                       LineString([(2000, 0), (2050, 30), (2100, 0)])], crs=UTM)
    roads = pd.concat([roads, extra], ignore_index=True)
    net = build_network(roads)
    table = net.table
    u, v = table["u"].to_numpy(np.int64), table["v"].to_numpy(np.int64)
    assert (np.diff(u) >= 0).all() and (np.diff(v)[np.diff(u) == 0] >= 0).all()
    assert not any(pd.api.types.is_object_dtype(dtype) for dtype in table.dtypes)
    assert isinstance(table["ref"].dtype, pd.CategoricalDtype)
    assert set(table["ref"].dropna()) == set(roads["ref"])
    pairs = u * net.n_nodes + v
    assert (table["key"].to_numpy() == pd.Series(pairs).groupby(pairs).cumcount()).all()
    assert table["key"].max() >= 1
    # the CSR from sorted offsets equals scipy's own build of the cheapest parallel edges
    tt = table["travel_time"].to_numpy()
    cheapest = pd.DataFrame({"p": pairs, "w": tt}).groupby("p")["w"].min()
    p = cheapest.index.to_numpy()
    expected = sparse.csr_matrix((cheapest.to_numpy(), (p // net.n_nodes, p % net.n_nodes)),
                                 shape=(net.n_nodes, net.n_nodes))
    assert (net.travel_time_csr != expected).nnz == 0
    assert (net.travel_time_csr_reversed != expected.T.tocsr()).nnz == 0
    length = net.csr("length", edge_mask=tt < np.median(tt))
    assert length.nnz < net.travel_time_csr.nnz
    # routes on it equal NetworkX on the full graph
    g = net.to_graph()
    dist = dijkstra(net.travel_time_csr, indices=[0, 17])
    for i, source in enumerate([0, 17]):
        lengths = nx.single_source_dijkstra_path_length(g, source, weight="travel_time")
        got = {n: d for n, d in enumerate(dist[i]) if np.isfinite(d)}
        assert got.keys() == lengths.keys()
        assert all(got[n] == pytest.approx(lengths[n], abs=1e-9) for n in got)


def test_a_grid_of_sixty_thousand_nodes_keeps_its_ids_apart() -> None:
    """Node ids times the node count overflow 32 bits here: the pair keys must not."""
    side = 250
    x, y = np.meshgrid(np.arange(side) * 100.0, np.arange(side) * 100.0, indexing="ij")
    start = np.c_[x[:-1].ravel(), y[:-1].ravel()]
    across = np.c_[x[:, :-1].ravel(), y[:, :-1].ravel()]
    lines = np.r_[shapely.linestrings(np.stack([start, start + [100.0, 0.0]], axis=1)),
                  shapely.linestrings(np.stack([across, across + [0.0, 100.0]], axis=1))]
    net = build_network(gpd.GeoDataFrame({"class": ["local"] * len(lines)}, geometry=lines,
                                         crs=UTM))
    assert net.n_nodes == side * side and len(net.table) == 2 * len(lines)
    u, v = net.table["u"].to_numpy(np.int64), net.table["v"].to_numpy(np.int64)
    assert u.min() >= 0 and v.max() < net.n_nodes
    assert (np.diff(u * net.n_nodes + v) > 0).all()
    assert net.report.components == [net.n_nodes]
    xy = np.c_[net.node_x, net.node_y]
    assert np.allclose(np.hypot(*(xy[u] - xy[v]).T), 100.0)


def test_an_unsorted_table_gives_the_same_csr() -> None:
    net = build_network(crossed_grid())
    g = net.to_graph()
    shuffled = nx.MultiDiGraph(crs=g.graph["crs"])
    shuffled.add_nodes_from(g.nodes(data=True))
    edges = list(g.edges(keys=True, data=True))
    for i in np.random.default_rng(0).permutation(len(edges)):
        shuffled.add_edge(*edges[i][:3], **edges[i][3])
    back = network_from_graph(shuffled)  # edges in a random order
    assert not back._sorted_by_pair
    relabel = np.asarray(back.node_ids, dtype=np.int64)
    got = back.travel_time_csr.tocoo()
    pairs = sorted(zip(relabel[got.row].tolist(), relabel[got.col].tolist(),
                       np.round(got.data, 9).tolist(), strict=True))
    ref = net.travel_time_csr.tocoo()
    assert pairs == sorted(zip(ref.row.tolist(), ref.col.tolist(),
                               np.round(ref.data, 9).tolist(), strict=True))


def test_networkx_and_scipy_sparse_are_not_imported_at_module_level() -> None:
    tree = ast.parse(Path(net_module.__file__).read_text(encoding="utf-8"))
    top = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    names = {alias.name for node in top if isinstance(node, ast.Import) for alias in node.names}
    modules = {node.module for node in top if isinstance(node, ast.ImportFrom)}
    assert not {"networkx", "scipy", "scipy.sparse"} & (names | modules)
