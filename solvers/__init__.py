"""Backends of :func:`binas_opt.solve`, one module per backend (imported lazily by the registry)."""
