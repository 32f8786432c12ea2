"""Small MobileNetV3-vocabulary search spaces for small images (Fashion-MNIST, 28x28x1).

The paper's space (:meth:`~binas_opt.SearchSpace.mobilenet_v3`) is sized for ImageNet.  The
factories here keep its vocabulary -- stages of inverted-residual blocks, an op per block
(kernel x expansion x squeeze-excite, :func:`~binas_opt.mbconv.arch_def.mbconv_labels` order) and a depth
per stage -- but are small enough to train a supernet, measure accuracy contributions and solve
on two CPU cores in minutes.  Core module: no torch.
"""

from __future__ import annotations

from collections.abc import Sequence

from binas_opt.mbconv.arch_def import mbconv_labels
from binas_opt.model.space import FixedPart, SearchSpace, Stage

__all__ = ["small_mbconv_space", "fashion_mnist_space"]


def small_mbconv_space(
    channels: Sequence[int] = (16, 24, 32),
    strides: Sequence[int] = (2, 2, 1),
    activations: Sequence[str] = ("relu", "hswish", "hswish"),
    depths: Sequence[int] = (1, 2, 3),
    expansions: Sequence[float] = (3, 6),
    kernels: Sequence[int] = (3, 5),
    se: Sequence[bool] = (False, True),
    *,
    in_channels: int = 1,
    input_size: int = 28,
    num_classes: int = 10,
    stem_channels: int = 8,
    last_channels: int = 64,
    head_features: int = 128,
    name: str = "small_mbconv",
) -> SearchSpace:
    """A MobileNetV3-style space with one stage per entry of ``channels``.

    Parameters
    ----------
    channels, strides, activations : sequences of equal length
        Output channels, stride of the first block and activation (``"relu"``/``"hswish"``) of
        every searchable stage.
    depths : sequence of int
        Allowed depths, shared by every stage.
    expansions, kernels, se
        The op vocabulary of every block, in the authors' index order
        (``index = (i_e * len(kernels) + i_k) * len(se) + i_se``).
    in_channels, input_size, num_classes, stem_channels, last_channels, head_features
        The fixed part: a stride-1 3x3 stem, one depthwise-separable block
        (``ds_r1_k3_s1_e1_c{stem_channels}_nre``), the final 1x1 conv (``cn_r1_k1_s1_c{last}``),
        a pooled ``head_features`` layer and the classifier.

    Returns
    -------
    SearchSpace
    """
    n = len(channels)
    if n == 0:
        raise ValueError("small_mbconv_space: channels is empty; give one entry per stage")
    for arg, val in (("strides", strides), ("activations", activations)):
        if len(val) != n:
            raise ValueError(
                f"small_mbconv_space: {arg} has {len(val)} entries, channels has {n}; give one "
                "per stage"
            )
    labels = mbconv_labels(expansions=tuple(expansions), kernels=tuple(kernels), se=tuple(se))
    stages = [
        Stage(tuple(depths), labels, name=f"c{c}", channels=int(c), stride=int(s), activation=a)
        for c, s, a in zip(channels, strides, activations, strict=True)
    ]
    fixed = FixedPart(
        in_channels=int(in_channels),
        stem_channels=int(stem_channels),
        stem_stride=1,
        prefix=(f"ds_r1_k3_s1_e1_c{int(stem_channels)}_nre",),
        suffix=(f"cn_r1_k1_s1_c{int(last_channels)}",),
        head_features=int(head_features),
        num_classes=int(num_classes),
        input_size=int(input_size),
    )
    return SearchSpace(stages, fixed=fixed, name=name)


def fashion_mnist_space(tiny: bool = False) -> SearchSpace:
    """The space used by the Fashion-MNIST pipeline: 3 stages, depths {1, 2, 3}.

    ``tiny=False``: 8 ops per block (expansion {3, 6} x kernel {3, 5} x SE {off, 0.25}),
    72 + 9 decisions, 2.0e8 architectures.  ``tiny=True`` (tests): 2 ops per block (kernel
    {3, 5}, expansion 3, no SE) and narrower stages, 18 + 9 decisions, 2744 architectures.
    """
    if tiny:
        return small_mbconv_space(
            channels=(8, 16, 16), expansions=(3,), kernels=(3, 5), se=(False,),
            stem_channels=8, last_channels=32, head_features=64, name="fashion_mnist_tiny",
        )
    return small_mbconv_space(name="fashion_mnist")
