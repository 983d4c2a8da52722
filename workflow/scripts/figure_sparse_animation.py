"""GIF of one run's pixel-space atoms over the epochs, in the atom grid's order."""
from _common import load, start

start(snakemake, keys={"fps": "sparse.figures.animation_fps",
                       "max_atoms": "sparse.figures.animation_atoms",
                       "patch_size": "sparse.patches.size"})

from sparsefield.plots.atoms import write_atom_animation
from sparsefield.sparse.dictionary import DictionaryRun

run = load(DictionaryRun, snakemake.input[0])
write_atom_animation(
    run.phi,
    snakemake.params.patch_size,
    snakemake.output[0],
    fps=snakemake.params.fps,
    max_atoms=snakemake.params.max_atoms,
    order=run.usage_order(),
)
