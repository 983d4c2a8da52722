"""Whitening and compressed dictionary learning on a tiny image set built in memory.

Four photographs that ship inside scikit-image (no download) become an ImageSet;
8 x 8 patches are cut from three of them (training, and correlation patches for the
recovery) and from the fourth (validation), ZCA-whitened and scaled to unit norm. A
dictionary of 64 atoms is learned from compressed measurements y = Phi x (a
block-diagonal Phi with J = 2 blocks, 32 measurements per 64-pixel patch), and the
pixel-space atoms Psi = B A^+ are recovered after every epoch. Prints the losses per
epoch and compares the reconstruction of held-out patches with PCA keeping as many
numbers.
"""

import numpy as np
from skimage import data

from sparsefield.sparse.compression import compression_matrix
from sparsefield.sparse.dictionary import LearningSettings, learn_dictionary
from sparsefield.sparse.images import ImageSet
from sparsefield.sparse.prepare import prepare_patches


def main() -> dict:
    """Run the example; print its results and return them."""
    names = ("camera", "moon", "coins", "coffee")
    images = [data.camera(), data.moon(), data.coins(), data.coffee().mean(axis=2)]
    image_set = ImageSet(images=[np.ascontiguousarray(image / 255.0) for image in images],
                         names=names)
    patches = prepare_patches(image_set, validation_names=["coffee"], patch_size=8,
                              n_train=6000, n_validation=1000, n_correlation=2000, seed=0,
                              zca=True, zca_epsilon=0.01, normalise=True)

    phi = compression_matrix("bdm", n_measurements=32, n_pixels=64, localization=2, seed=0)
    settings = LearningSettings(n_atoms=64, tau=0.1, n_epochs=4, batch_size=100,
                                update="online", solver="cd", tol=1e-3, seed=0)
    run = learn_dictionary(patches.train, settings, compression=phi,
                           validation=patches.validation, correlation=patches.correlation)

    print("epoch  validation loss  reconstruction  PCA (same # numbers)  active atoms")
    for _, row in run.epoch_table().iterrows():
        print(f"{int(row['epoch']):5d}  {row['val_loss']:15.4f}  {row['val_error']:14.4f}  "
              f"{row['pca_error']:20.4f}  {row['n_active']:12.1f}")
    result = {
        "phi_shape": phi.shape,
        "atoms_shape": run.phi[-1].shape,
        "val_loss_first": float(run.val_loss[0]),
        "val_loss_last": float(run.val_loss[-1]),
        "val_error": float(run.val_error[-1]),
        "pca_error": float(run.pca_error[-1]),
    }
    print(f"pixel-space atoms {result['atoms_shape']} from a {result['phi_shape']} "
          f"compression; reconstruction {result['val_error']:.4f} vs PCA "
          f"{result['pca_error']:.4f}")
    return result


if __name__ == "__main__":
    main()
