"""Reading and validating import files (boundaries, TPS, facilities) before they are loaded.

Pure: no database. Callers (CLI, upload form, API) get clean GeoDataFrames in EPSG:4326 and
a list of :class:`~gisdesk.errors.Problem`, or an :class:`~gisdesk.errors.InputRejected`
naming every bad row, and write the rows themselves.
"""
from gisdesk.ingest.boundaries import BoundaryPrep, dissolve_kecamatan, prepare_boundaries
from gisdesk.ingest.points import PointPrep, prepare_points
from gisdesk.ingest.readers import read_vector
from gisdesk.ingest.topology import utm_epsg_for

__all__ = ["BoundaryPrep", "PointPrep", "dissolve_kecamatan", "prepare_boundaries",
           "prepare_points", "read_vector", "utm_epsg_for"]
