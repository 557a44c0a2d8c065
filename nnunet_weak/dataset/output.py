"""Write a folder completely or not at all, never over or inside what a command reads."""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from nnunet_weak.dataset.folders import dataset_id
from nnunet_weak.errors import WeakDatasetError


def check_output_path(output: str | os.PathLike, reads: Iterable[str | os.PathLike] = (),
                      replaces: bool = False) -> None:
    """Refuse an ``output`` folder that is an existing file, or that is or lies inside a folder the command
    reads. A command that ``replaces`` the output folder as a whole (a dataset) may also not write a
    folder that holds an input or shares an input dataset's id."""
    output = Path(output).absolute()
    if output.exists() and not output.is_dir():
        raise WeakDatasetError(f"output {output} is an existing file, not a folder; choose a folder path")
    target = output.resolve()
    for source in reads:
        source = Path(source).resolve()
        if target == source or source in target.parents or (replaces and target in source.parents):
            raise WeakDatasetError(f"output {output} would overwrite or nest in the input {source}; "
                                   "write to a new folder")
        if not replaces:
            continue
        same_id = dataset_id(output.name)
        if same_id is not None and same_id == dataset_id(source.name):
            raise WeakDatasetError(f"output {output.name} has the dataset id {same_id} of its input "
                                   f"{source.name}; nnU-Net needs unique ids: pick another id for the output")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(path: Path) -> None:
    """Tidy what interrupted runs (killed processes) left beside ``path``: half-written
    ``.<name>.partial-PID`` folders are removed; a ``.<name>.old-PID`` folder is the previous content
    and is put back where ``path`` is missing, else removed. Each action is reported on stderr."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(partial|old)-(\d+)$")
    if not path.parent.is_dir():
        return
    leftovers = sorted(((m.group(1), int(m.group(2)), p) for p in path.parent.iterdir()
                        if (m := pattern.match(p.name))), key=lambda item: item[0] != "old")
    for kind, pid, folder in leftovers:
        if pid == os.getpid() or _alive(pid):
            continue
        if kind == "old" and not path.exists():
            folder.rename(path)
            print(f"note: restored {path} from {folder.name}, left by an interrupted run (process {pid})",
                  file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
            print(f"note: removed {folder}, left by an interrupted run (process {pid})", file=sys.stderr)


@contextmanager
def atomic_output_dir(path: str | os.PathLike, overwrite: bool = False,
                      reads: Iterable[str | os.PathLike] = ()) -> Iterator[Path]:
    """Yield a temporary sibling folder that becomes ``path`` only if the block succeeds.

    An existing ``path`` is refused unless ``overwrite``; it is replaced only after the new
    content is complete, so a failure (bad case, Ctrl-C) never leaves a half-written dataset.
    ``reads``: folders the command reads, which ``path`` may not overwrite or nest in.
    """
    path = Path(path).absolute()
    check_output_path(path, reads, replaces=True)
    clean_leftovers(path)
    if path.exists() and not overwrite:
        raise WeakDatasetError(f"Output folder {path} already exists. Choose another folder or pass --overwrite.")
    created = next((p for p in reversed(path.parents) if not p.exists()), None)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.partial-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(created or tmp, ignore_errors=True)  # the parents this call made go too
        raise
    if path.exists():
        old = path.parent / f".{path.name}.old-{os.getpid()}"
        path.rename(old)
        tmp.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(path)
