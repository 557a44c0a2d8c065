"""Refuse truncated or corrupt image files before they are read.

SimpleITK reads a truncated ``.nii.gz`` without complaint and fills the missing part with zeros,
so a cut-off download would become all-background slices, a half prediction or a zeroed image.
Here a ``.gz`` file is streamed to its end (gzip checks the CRC and the length of every member)
and a NIfTI file's data must be as long as its header says. Other formats are left to SimpleITK,
which refuses theirs.
"""

from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from pathlib import Path

from nnunet_weak.errors import WeakDatasetError

_CHUNK = 1 << 20
_NIFTI2_HEADER = 540


def nifti_data_end(header: bytes) -> int | None:
    """Byte offset where a NIfTI-1 or NIfTI-2 file's voxel data ends, from its header; None when
    ``header`` is not a NIfTI header."""
    for order in "<>":
        if len(header) >= 348 and struct.unpack(f"{order}i", header[:4])[0] == 348:
            dim = struct.unpack(f"{order}8h", header[40:56])
            bitpix = struct.unpack(f"{order}h", header[72:74])[0]
            offset = int(struct.unpack(f"{order}f", header[108:112])[0])
            break
        if len(header) >= _NIFTI2_HEADER and struct.unpack(f"{order}i", header[:4])[0] == _NIFTI2_HEADER:
            dim = struct.unpack(f"{order}8q", header[16:80])
            bitpix = struct.unpack(f"{order}h", header[14:16])[0]
            offset = struct.unpack(f"{order}q", header[168:176])[0]
            break
    else:
        return None
    if not 1 <= dim[0] <= 7 or bitpix <= 0:
        return None
    voxels = math.prod(max(int(d), 1) for d in dim[1:dim[0] + 1])
    return max(offset, 348) + math.ceil(voxels * bitpix / 8)


def check_image_file(path: str | os.PathLike) -> None:
    """Raise :class:`WeakDatasetError` naming ``path`` if it is missing, truncated or corrupt."""
    path = Path(path)
    if not path.is_file():
        raise WeakDatasetError(f"{path} not found")
    name = path.name.lower()
    if name.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as stream:
                header = stream.read(_NIFTI2_HEADER)
                length = len(header)
                while chunk := stream.read(_CHUNK):
                    length += len(chunk)
        except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
            raise WeakDatasetError(f"{path} is truncated or corrupt ({e}); copy or download it again") from None
    elif name.endswith(".nii"):
        with open(path, "rb") as stream:
            header = stream.read(_NIFTI2_HEADER)
        length = path.stat().st_size
    else:
        return
    if name.endswith((".nii", ".nii.gz")):
        end = nifti_data_end(header)
        if end is None:
            raise WeakDatasetError(f"{path} is not a NIfTI file (no valid header); copy or export it again")
        if length < end:
            raise WeakDatasetError(f"{path} is truncated: its header promises {end} bytes, it holds {length}; "
                                   "copy or download it again")
