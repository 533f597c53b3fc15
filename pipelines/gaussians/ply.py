"""The standard 3DGS ``.ply`` layout, as 3DGS viewers, nerfstudio and gsplat read it.

One ``vertex`` element, binary little-endian float32 properties in this order::

    x y z                      centre (world)
    nx ny nz                   unused (zeros)
    f_dc_0 f_dc_1 f_dc_2       degree-0 SH coefficient (R, G, B)
    f_rest_0 ... f_rest_{3(K-1)-1}   higher SH coefficients, channel-major: all of R, then G, then B
    opacity                    logit of the opacity
    scale_0 scale_1 scale_2    log standard deviations
    rot_0 rot_1 rot_2 rot_3    rotation quaternion w, x, y, z (not necessarily normalised)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from lionlora.errors import InputError
from lionlora.io.files import atomic_path
from lionlora.pipelines.gaussians.model import Gaussians
from lionlora.pipelines.gaussians.sh import degree_of

_PLY_TYPES = {
    "float": "f4",
    "float32": "f4",
    "double": "f8",
    "float64": "f8",
    "uchar": "u1",
    "uint8": "u1",
    "char": "i1",
    "int8": "i1",
    "short": "i2",
    "int16": "i2",
    "ushort": "u2",
    "uint16": "u2",
    "int": "i4",
    "int32": "i4",
    "uint": "u4",
    "uint32": "u4",
}


def property_names(sh_degree: int) -> list[str]:
    """The vertex properties of a 3DGS ``.ply`` with SH degree ``sh_degree``."""
    n_rest = 3 * ((sh_degree + 1) ** 2 - 1)
    return (
        ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
        + [f"f_rest_{i}" for i in range(n_rest)]
        + ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]
    )


def write_ply(path: str | Path, gaussians: Gaussians) -> Path:
    """Write ``gaussians`` as a binary 3DGS ``.ply`` (atomically)."""
    g = gaussians.to("cpu")
    n = len(g)
    rest = g.shN.detach().transpose(1, 2).reshape(n, 3 * g.shN.shape[1])  # [N, 3, K-1] -> channel-major
    cols = [
        g.means,
        torch.zeros(n, 3),
        g.sh0.detach().reshape(n, 3),
        rest,
        g.opacities.detach()[:, None],
        g.scales,
        g.quats,
    ]
    data = torch.cat([c.detach().float() for c in cols], 1).numpy().astype("<f4")
    names = property_names(g.sh_degree)
    header = (
        "\n".join(
            [
                "ply",
                "format binary_little_endian 1.0",
                f"element vertex {n}",
                *[f"property float {p}" for p in names],
                "end_header",
            ]
        )
        + "\n"
    )
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(header.encode("ascii"))
        fh.write(np.ascontiguousarray(data).tobytes())
    return path


def _read_header(fh, path: Path) -> tuple[str, int, list[tuple[str, str]]]:
    if fh.readline().strip() != b"ply":
        raise InputError(path, "", "a PLY file (starting with 'ply')")
    fmt, count, props, element = None, None, [], None
    while True:
        line = fh.readline()
        if not line:
            raise InputError(path, "header", "a PLY header ending with 'end_header'", got="end of file")
        tok = line.decode("ascii", "replace").split()
        if not tok or tok[0] in ("comment", "obj_info"):
            continue
        if tok[0] == "end_header":
            break
        if tok[0] == "format":
            fmt = tok[1]
        elif tok[0] == "element":
            element = tok[1]
            if element == "vertex":
                count = int(tok[2])
            elif count is None or len(tok) < 3 or int(tok[2]) != 0:
                raise InputError(path, f"element {element}", "only a 'vertex' element (3DGS layout)")
        elif tok[0] == "property" and element == "vertex":
            if tok[1] == "list" or tok[1] not in _PLY_TYPES:
                raise InputError(path, f"property {tok[-1]}", "a scalar numeric property", got=tok[1])
            props.append((tok[2], _PLY_TYPES[tok[1]]))
    if fmt not in ("binary_little_endian", "binary_big_endian"):
        raise InputError(path, "format", "binary_little_endian or binary_big_endian", got=fmt)
    if count is None:
        raise InputError(path, "element vertex", "a vertex element", got="missing")
    return fmt, count, props


def read_ply(path: str | Path) -> Gaussians:
    """Read a 3DGS ``.ply`` (any SH degree 0..3) into :class:`Gaussians` (float32, CPU).

    Raises:
        InputError: not a binary PLY, no vertex, a property of the 3DGS layout missing, truncated data.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "", "an existing 3DGS .ply file", got="no such file")
    with open(path, "rb") as fh:
        fmt, count, props = _read_header(fh, path)
        endian = "<" if fmt == "binary_little_endian" else ">"
        dtype = np.dtype([(name, endian + t) for name, t in props])
        raw = fh.read()
    if count < 1:
        raise InputError(path, "element vertex", "at least one Gaussian (vertex)", got=count)
    if len(raw) < count * dtype.itemsize:
        raise InputError(
            path, "vertex", f"{count} vertices of {dtype.itemsize} bytes", got=f"{len(raw)} bytes (truncated file?)"
        )
    v = np.frombuffer(raw, dtype=dtype, count=count)
    names = set(dtype.names)
    n_rest = len([p for p in names if p.startswith("f_rest_")])
    try:
        degree = degree_of(1 + n_rest // 3) if n_rest % 3 == 0 else -1
    except ValueError:
        degree = -1
    if degree < 0:
        raise InputError(path, "f_rest_*", "3 * ((degree + 1)^2 - 1) coefficients for an SH degree 0..3", got=n_rest)
    missing = [p for p in property_names(degree) if p not in names and p not in ("nx", "ny", "nz")]
    if missing:
        raise InputError(path, f"property {missing[0]}", "the 3DGS vertex properties", got="missing")

    def cols(*keys: str) -> torch.Tensor:
        if not keys:
            return torch.zeros(count, 0)
        return torch.from_numpy(np.stack([v[k].astype(np.float32) for k in keys], 1))

    k_rest = n_rest // 3
    rest = cols(*[f"f_rest_{i}" for i in range(n_rest)]).reshape(count, 3, k_rest).transpose(1, 2)
    g = Gaussians(
        means=cols("x", "y", "z"),
        scales=cols("scale_0", "scale_1", "scale_2"),
        quats=cols("rot_0", "rot_1", "rot_2", "rot_3"),
        opacities=cols("opacity")[:, 0],
        sh0=cols("f_dc_0", "f_dc_1", "f_dc_2")[:, None, :],
        shN=rest.contiguous(),
    )
    finite = torch.isfinite(torch.cat([t.reshape(count, -1) for t in g.params().values()], 1)).all(1)
    if not bool(finite.all()):
        raise InputError(path, "vertex", "finite values", got=f"{int((~finite).sum())} vertices with NaN/inf")
    return g
