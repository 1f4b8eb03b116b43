"""Load a user's labeling functions from a ``.py`` file or a dotted module name."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from labelgate.errors import LabelingError
from labelgate.labeling.applier import check_lfs
from labelgate.labeling.lf import LabelingFunction


def load_lfs(lf_module: str) -> list[LabelingFunction]:
    """The LFs of ``lf_module``: its ``LFS`` list when it defines one, else every module-level
    LabelingFunction in definition order."""
    module = _import(lf_module)
    declared = getattr(module, "LFS", None)
    if declared is not None:
        lfs = list(declared)
    else:
        lfs = [value for value in vars(module).values() if isinstance(value, LabelingFunction)]
    if not lfs:
        raise LabelingError(f"{lf_module} defines no labeling functions (decorate them with @labeling_function())")
    check_lfs(lfs)
    return lfs


def lf_source_sha256(lf_module: str) -> str | None:
    """The SHA-256 of the file that defines ``lf_module`` (run lineage); None when it has no source file."""
    source = getattr(_import(lf_module), "__file__", None)
    return hashlib.sha256(Path(source).read_bytes()).hexdigest() if source and Path(source).is_file() else None


def lf_source_path(lf_module: str) -> Path | None:
    """The file that defines ``lf_module``; None when it has no source file."""
    source = getattr(_import(lf_module), "__file__", None)
    return Path(source) if source and Path(source).is_file() else None


def _import(lf_module: str) -> ModuleType:
    if lf_module.endswith(".py") or "/" in lf_module:
        path = Path(lf_module)
        if not path.is_file():
            raise LabelingError(f"LF module file not found: {lf_module}")
        # A stable name per file, registered in sys.modules so worker processes can unpickle its LFs.
        name = "labelgate_lfs_" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
        if name in sys.modules:
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[name]
            raise LabelingError(f"could not load LF module {lf_module}: {type(exc).__name__}: {exc}") from exc
        return module
    try:
        return importlib.import_module(lf_module)
    except ImportError as exc:
        raise LabelingError(f"could not import LF module '{lf_module}': {exc}") from exc
