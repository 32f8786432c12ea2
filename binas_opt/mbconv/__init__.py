"""MobileNetV3 (MBConv) specifics: op labels, timm ``arch_def`` strings, analytic parameter and
MAC counts, and the named spaces built from them."""
