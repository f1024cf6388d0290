"""Writes the Zarr fixtures tests/zarr.rs reads, by zarr-python, each
np.arange(60.0).reshape(6, 10) in chunks of (4, 3):

- data/zarr/v2_arange: Zarr v2, uncompressed;
- data/zarr/v3_zstd_arange: Zarr v3 with zarr-python's default codecs (zstd);
- data/zarr/v2_zstd_arange: Zarr v2 with zarr-python 3's default compressor (zstd);
- data/zarr/v2_blosc_arange: Zarr v2 with zarr-python 2's default (blosc, lz4, shuffle);
- data/zarr/v3_big_endian_arange, data/zarr/v2_big_endian_arange: uncompressed, the
  bytes big-endian (read through zarrs, not straight into blocks as little-endian
  chunks are).

    python3 -m venv .venv && .venv/bin/pip install zarr
    .venv/bin/python scripts/make_zarr_fixture.py
"""
import shutil

import numcodecs
import numpy as np
import zarr
from zarr.codecs import BytesCodec

values = np.arange(60.0).reshape(6, 10)
cases = {
    "data/zarr/v2_arange": dict(zarr_format=2, compressors=None),
    "data/zarr/v3_zstd_arange": dict(zarr_format=3),
    "data/zarr/v2_zstd_arange": dict(zarr_format=2),
    "data/zarr/v2_blosc_arange": dict(
        zarr_format=2, compressors=numcodecs.Blosc(cname="lz4", clevel=5, shuffle=1)),
    "data/zarr/v3_big_endian_arange": dict(
        zarr_format=3, compressors=None, serializer=BytesCodec(endian="big")),
    "data/zarr/v2_big_endian_arange": dict(zarr_format=2, compressors=None, dtype=">f8"),
}
for path, options in cases.items():
    shutil.rmtree(path, ignore_errors=True)
    z = zarr.create_array(store=path, shape=(6, 10), chunks=(4, 3), fill_value=0.0,
                          **{"dtype": "f8", **options})
    z[:] = values
    print(zarr.__version__, path, z.metadata.to_dict().get("codecs", z.metadata.to_dict().get("compressor")))
