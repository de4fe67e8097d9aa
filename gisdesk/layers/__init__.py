"""The layer registry and everything it drives: one TOML file per layer in ``layers/``.

``registry`` loads and checks the declarations, ``sources`` holds the SQL each layer reads,
``tiles`` serves them as vector tiles, ``exports`` and ``writers`` write them as files. The
map, the OGC API, the exports and the tiles all go through this package.
"""
from gisdesk.layers.registry import (  # noqa: F401  (the registry is the package's face)
    GEOMETRIES, TYPES, Layer, Property, check, load, visible_layers,
)
