"""``nnunet-weak benchmark``: which cheap annotation, and which trainer, buys how much Dice per
annotator hour on a dense nnU-Net dataset.

``protocol`` reads the annotation kinds and budgets (a TOML file), ``cost`` turns a weak dataset's
sidecar into annotator seconds, ``runs`` holds what a run needs (schedules, test split, resuming),
``runner`` drives the stock nnU-Net commands, ``paired`` compares runs case by case and ``report``
writes the table and the plot. ``benchmarks/run.py`` (our own protocols) shares ``runs`` and
``paired``.
"""
