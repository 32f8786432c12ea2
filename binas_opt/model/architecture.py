"""A point of a search space: a depth per stage and an op index for every block."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from binas_opt.io.serialization import reject_unknown_keys, require
from binas_opt.model.checks import as_int

if TYPE_CHECKING:
    from binas_opt.model.space import SearchSpace

__all__ = ["Architecture"]


@dataclass(frozen=True, init=False)
class Architecture:
    """Depth per stage and an op index for every block (inactive blocks included).

    Parameters
    ----------
    depths : sequence of int
        Number of active blocks of every stage.  Integers: numpy integers and integral floats
        (``2.0``) are read as ints; ``2.5``, bools and strings are refused, never truncated.
    ops : sequence of sequences of int
        ``ops[s][b]`` is the op index of block ``b`` of stage ``s``; blocks ``b >= depths[s]``
        are inactive and their index does not change the network (``canonical()`` sets it to 0).

    Examples
    --------
    >>> a = Architecture(depths=(2, 1), ops=((0, 2, 1), (1, 3)))
    >>> a.canonical()
    Architecture(depths=(2, 1), ops=((0, 2, 0), (1, 0)))
    """

    depths: tuple[int, ...]
    ops: tuple[tuple[int, ...], ...]

    def __init__(self, depths: Sequence[int], ops: Sequence[Sequence[int]]):
        try:
            d = tuple(x if type(x) is int else as_int(x, f"Architecture: depths[{s}]")
                      for s, x in enumerate(depths))
            o = tuple(tuple(v if type(v) is int else as_int(v, f"Architecture: ops[{s}][{b}]")
                            for b, v in enumerate(row)) for s, row in enumerate(ops))
        except TypeError as exc:
            if "Architecture:" in str(exc):
                raise
            raise TypeError(
                "Architecture: depths must be a sequence of ints and ops a sequence of "
                f"sequences of ints, got depths={depths!r}, ops={ops!r}"
            ) from exc
        if len(d) != len(o):
            raise ValueError(
                f"Architecture: {len(d)} depths but {len(o)} op rows; give one per stage"
            )
        object.__setattr__(self, "depths", d)
        object.__setattr__(self, "ops", o)

    def canonical(self) -> Architecture:
        """The same network with the op index of every inactive block set to 0."""
        return Architecture(
            self.depths,
            tuple(
                tuple(v if b < d else 0 for b, v in enumerate(row))
                for d, row in zip(self.depths, self.ops, strict=True)
            ),
        )

    def active_ops(self) -> tuple[tuple[int, ...], ...]:
        """Op indices of the active blocks only."""
        return tuple(row[:d] for d, row in zip(self.depths, self.ops, strict=True))

    def to_dict(self) -> dict[str, Any]:
        return {"depths": list(self.depths), "ops": [list(r) for r in self.ops]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Architecture:
        where = "Architecture.from_dict"
        reject_unknown_keys(d, ("depths", "ops"), where)
        return cls(require(d, "depths", where, "a list of ints, one per stage"),
                   require(d, "ops", where, "a list of per-stage lists of op indices"))

    def to_string(self, space: SearchSpace) -> str:
        """The architecture as a timm / BINAS ``arch_def`` string (MobileNetV3-style spaces)."""
        from binas_opt.mbconv.arch_def import arch_to_string

        return arch_to_string(space, self)

    @classmethod
    def from_string(cls, s: str, space: SearchSpace) -> Architecture:
        """Parse a timm / BINAS ``arch_def`` string into an architecture of ``space``."""
        from binas_opt.mbconv.arch_def import arch_from_string

        return arch_from_string(space, s)
