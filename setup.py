"""Cython extensions, compiled with OpenMP where the compiler supports it."""

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import warnings
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

EXTENSIONS = sorted(str(p.with_suffix("")).replace(os.sep, ".")
                    for p in Path("fastmf/_ext").glob("*.pyx"))


def openmp_flags():
    """Return (compile, link) flags for OpenMP, or empty lists after warning that it is absent."""
    if sys.platform == "win32":
        return ["/openmp"], []
    if sys.platform == "darwin":
        candidates = [(["-Xpreprocessor", "-fopenmp"], ["-lomp"])]
    else:
        candidates = [(["-fopenmp"], ["-fopenmp"])]
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    env_flags = os.environ.get("CFLAGS", "").split(), os.environ.get("LDFLAGS", "").split()
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "t.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void){return omp_get_max_threads() < 1;}\n")
        for cflags, lflags in candidates:
            cmd = (cc.split() + env_flags[0] + cflags + [src, "-o", os.path.join(tmp, "t")]
                   + env_flags[1] + lflags)
            if subprocess.run(cmd, capture_output=True).returncode == 0:
                return cflags, lflags
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    warnings.warn("the C compiler has no OpenMP: fastmf's Cython kernels will run on one thread",
                  stacklevel=1)
    return [], []


def extensions():
    cflags, lflags = openmp_flags()
    mods = [
        Extension(name, [name.replace(".", os.sep) + ".pyx"],
                  include_dirs=[np.get_include()],
                  extra_compile_args=["-O3"] + cflags if sys.platform != "win32" else cflags,
                  extra_link_args=lflags,
                  define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")])
        for name in EXTENSIONS
    ]
    return cythonize(mods, language_level=3, compiler_directives={
        "boundscheck": False, "wraparound": False, "cdivision": True, "initializedcheck": False,
    })


setup(ext_modules=extensions() if EXTENSIONS else [])
