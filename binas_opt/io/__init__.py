"""Files: one tagged JSON path for every object (:func:`to_plain` for plain JSON types, the
rule for unknown keys in :mod:`binas_opt.io.serialization`), atomic writes, and lookup-table
importers (:mod:`binas_opt.io.lut`, :mod:`binas_opt.io.ofa`, :mod:`binas_opt.io.fbnet`, imported
on first use)."""

from binas_opt.io.serialization import (
    FORMAT_VERSION,
    atomic_write,
    atomic_write_text,
    from_json_dict,
    load,
    reject_unknown_keys,
    save,
    to_json_dict,
    to_plain,
)

__all__ = ["FORMAT_VERSION", "atomic_write", "atomic_write_text", "from_json_dict", "load",
           "reject_unknown_keys", "save", "to_json_dict", "to_plain"]
