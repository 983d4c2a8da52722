"""Validation loss (pixel space, comparable) and training loss (compressed space) per run."""
from _common import load, start

start(snakemake)

import numpy as np

from sparsefield.plots.sparse import loss_curves_figure
from sparsefield.plots.style import save_figure
from sparsefield.sparse.dictionary import DictionaryRun

runs = {
    name: load(DictionaryRun, path)
    for name, path in zip(snakemake.params.runs, snakemake.input, strict=True)
}


def curves(field):
    return {
        name: (np.arange(1, len(run.val_loss) + 1), getattr(run, field))
        for name, run in runs.items()
    }


save_figure(
    loss_curves_figure(curves("val_loss"), "½‖x − Ψb‖² + τ‖b‖₁ per patch",
                       "Validation loss, pixel space (held-out images)"),
    snakemake.output.val,
    dpi=snakemake.params.dpi,
)
save_figure(
    loss_curves_figure(curves("train_loss"), "½‖y − Θb‖² + τ‖b‖₁ per patch",
                       "Training loss, compressed space (not comparable across schemes)"),
    snakemake.output.train,
    dpi=snakemake.params.dpi,
)
