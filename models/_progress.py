"""The tqdm progress bar of every long-running measurement of ``binas_opt.models``."""

from __future__ import annotations


def progress_bar(total: int, desc: str, enabled: bool, **kwargs):
    """A tqdm bar (a no-op bar when ``enabled`` is false); ``kwargs`` go to tqdm."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, leave=False, dynamic_ncols=True,
                **kwargs)
