"""Files: one tagged JSON path for every object, atomic writes, and lookup-table importers
(:mod:`.lut`, imported on first use)."""

from binas_opt.io.serialization import (
    FORMAT_VERSION,
    atomic_write,
    atomic_write_text,
    from_json_dict,
    load,
    save,
    to_json_dict,
)

__all__ = ["FORMAT_VERSION", "atomic_write", "atomic_write_text", "from_json_dict", "load", "save",
           "to_json_dict"]
