"""Writes data/zarr/v2_arange, the Zarr v2 fixture tests/zarr.rs reads:
np.arange(60.0).reshape(6, 10) in chunks of (4, 3), by zarr-python.

    python3 -m venv .venv && .venv/bin/pip install zarr
    .venv/bin/python scripts/make_zarr_fixture.py
"""
import shutil

import numpy as np
import zarr

path = "data/zarr/v2_arange"
shutil.rmtree(path, ignore_errors=True)
z = zarr.create_array(store=path, shape=(6, 10), chunks=(4, 3), dtype="f8",
                      zarr_format=2, compressors=None, fill_value=0.0)
z[:] = np.arange(60.0).reshape(6, 10)
print(zarr.__version__, path)
