"""HDBSCAN clusters of incidents in metres: DBSCAN over every radius at once, keeping the
clusters that persist longest, so one eps no longer has to suit town centre and suburb alike.

sklearn's HDBSCAN takes no sample weights, so each distinct location is repeated once per
incident there. That is exactly weighted HDBSCAN (copies sit at distance 0, so they merge
first and count towards cluster sizes), at the cost of working on every incident.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry
from sklearn.cluster import HDBSCAN

from hotspots.cells import check_land, check_positive
from hotspots.dbscan import (
    cluster_outlines,
    distinct_points,
    located_in,
    set_eps,
    set_min_samples,
)
from hotspots.result import HotspotInputError, empty_result, make_result, points_xy

# sklearn's HDBSCAN builds its tree over every incident, in time that grows about with the
# square of their number (bench/bench_hotspots.py: 0.3 s for a borough-year, 19 s for 100k,
# a projected half hour for 1M), so larger selections are refused with a way forward.
MAX_INCIDENTS = 150_000


def hotspot_hdbscan(incidents: pd.DataFrame, area: BaseGeometry,
                    min_cluster_size: int | None = None,
                    min_samples: int | None = None) -> object:
    """Density clusters of every scale as outlined areas (concave hull, buffered).

    count = score = incidents inside the outline.
    """
    check_land(area)
    check_positive("min_cluster_size", min_cluster_size, unit="")
    check_positive("min_samples", min_samples, unit="")
    xy = points_xy(incidents)
    if len(xy) == 0:
        return empty_result("hdbscan", {"min_cluster_size": min_cluster_size,
                                        "min_samples": min_samples},
                            "no incidents match the selection")
    if len(xy) > MAX_INCIDENTS:
        raise HotspotInputError(
            f"HDBSCAN on {len(xy):,} incidents would take many minutes (it works on every "
            f"incident; the limit is {MAX_INCIDENTS:,}): choose fewer months or crime types, "
            "or DBSCAN, which handles millions in seconds")
    unique, weights = distinct_points(xy)
    land = float(area.area)
    scale = set_eps(land, len(unique))
    size_rule = "given" if min_cluster_size else (
        f"3x the even-spread count within {scale:g} m (the mean spacing of locations), "
        "at least 5")
    min_cluster_size = int(min_cluster_size) if min_cluster_size else set_min_samples(
        len(xy), land, scale)
    samples_rule = "given" if min_samples else "equal to min_cluster_size"
    min_samples = int(min_samples) if min_samples else min_cluster_size
    params = {"ranking": "incidents inside each cluster of nearby locations",
              "min_cluster_size": min_cluster_size, "min_cluster_size_rule": size_rule,
              "min_samples": min_samples, "min_samples_rule": samples_rule,
              "distinct_locations": int(len(unique))}
    if len(unique) == 1:
        # One location: HDBSCAN has no hierarchy to build; it is one cluster if big enough.
        labels = np.zeros(1, dtype=int) if weights[0] >= min_cluster_size else np.full(1, -1)
    else:
        expanded = np.repeat(np.arange(len(unique)), weights)
        model = HDBSCAN(min_cluster_size=max(2, min_cluster_size),
                        min_samples=min(min_samples, len(expanded)), copy=True)
        per_incident = model.fit(unique[expanded]).labels_
        # Copies of one location always share a label; read it back per location.
        labels = np.full(len(unique), -1)
        labels[expanded] = per_incident
    outlines = cluster_outlines(unique, labels, pad=scale / 4)
    if not outlines:
        return empty_result("hdbscan", params, f"no cluster of {min_cluster_size} or more "
                            "incidents stands out: lower min_cluster_size")
    counts = np.array([weights[located_in(o, unique)].sum() for o in outlines])
    return make_result(outlines, counts, counts, "hdbscan", params)

