"""Where the exercise content lives, and how to import one step of it in isolation.

Every step's package is called `micrograd` and its modules import each other as
`from micrograd.value import Value`, so two steps cannot simply both be put on sys.path.
`load_solution` imports one step under a unique name and lets `micrograd` point at it only
while that step's modules run their imports.
"""

import importlib
import importlib.util
import sys
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

KINDS = ("reference", "skeletons")
STEPS = (1, 2, 3, 4, 5)
# Import order matters: mlp.py imports micrograd.value, which must already be aliased.
MODULES = ("value", "mlp")
CLASSES = ("Value", "Neuron", "Layer", "MLP")
ALIAS = "micrograd"


def package_dir(kind: str, step: int) -> Path:
    """The `micrograd/` folder of one step of the reference or the skeletons."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if step not in STEPS:
        raise ValueError(f"step must be one of {STEPS}, not {step!r}")
    return REPO / kind / f"step_{step}" / "micrograd"


def unique_name(kind: str, step: int) -> str:
    return f"_mg_{kind}_{step}"


def load_solution(kind: str, step: int) -> types.SimpleNamespace:
    """Import `<kind>/step_<step>/micrograd` as `_mg_<kind>_<step>`; return its classes.

    The result has the attributes Value, Neuron, Layer, MLP that the step defines, plus
    `package` (the imported package). A step is imported once per process: later calls
    return the same classes, while different steps always get classes of their own.
    """
    name = unique_name(kind, step)
    package = sys.modules.get(name)
    if package is None:
        package = import_isolated(name, package_dir(kind, step))
    return _namespace(package)


def import_isolated(name: str, pkg_dir: Path) -> types.ModuleType:
    """Import the package in pkg_dir as `name`; restore any `micrograd` modules afterwards."""
    saved = {key: mod for key, mod in sys.modules.items() if _is_alias(key)}
    for key in saved:
        del sys.modules[key]
    # Keep __pycache__ out of reference/ and skeletons/: skeletons are handed to students.
    saved_bytecode_flag = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    loaded = False
    try:
        package = _exec_package(name, pkg_dir)
        loaded = True
        return package
    finally:
        sys.dont_write_bytecode = saved_bytecode_flag
        for key in [key for key in sys.modules if _is_alias(key)]:
            del sys.modules[key]
        sys.modules.update(saved)
        if not loaded:
            # A half-imported step must not be mistaken for a loaded one on the next call.
            for key in [key for key in sys.modules if key == name or key.startswith(name + ".")]:
                del sys.modules[key]


def _exec_package(name: str, pkg_dir: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(
        name, pkg_dir / "__init__.py", submodule_search_locations=[str(pkg_dir)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {pkg_dir}")
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    sys.modules[ALIAS] = package
    spec.loader.exec_module(package)
    for module in MODULES:
        if (pkg_dir / f"{module}.py").is_file():
            # Imported under the unique name, then aliased so that the step's own
            # `from micrograd.value import Value` finds this very module object.
            sys.modules[f"{ALIAS}.{module}"] = importlib.import_module(f"{name}.{module}")
    return package


def _is_alias(key: str) -> bool:
    return key == ALIAS or key.startswith(ALIAS + ".")


def _namespace(package: types.ModuleType) -> types.SimpleNamespace:
    found: dict[str, object] = {"package": package}
    for module in MODULES:
        submodule = getattr(package, module, None)
        for cls in CLASSES:
            if submodule is not None and hasattr(submodule, cls) and cls not in found:
                found[cls] = getattr(submodule, cls)
    return types.SimpleNamespace(**found)
