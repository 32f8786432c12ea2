"""Sub-commands of the ``binas-opt`` CLI, one module each.

Every module defines ``NAME`` (the sub-command), ``HELP`` (one line), ``add_arguments(parser)``
and ``run(args) -> int``; :mod:`binas_opt.cli` discovers them, so adding a command never edits a
shared file.
"""
