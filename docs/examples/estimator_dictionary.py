"""The scikit-learn way: DictionaryLearner on whitened natural-image patches.

``sparsefield.sparse.DictionaryLearner`` wraps
``sparsefield.sparse.dictionary.learn_dictionary`` (no compression): ``fit`` learns
unit-norm atoms (``components_``, one per row) from training patches, ``transform``
returns the sparse codes of new patches. Patches are cut from three scikit-image
photographs (no download), ZCA-whitened and scaled to unit norm; held-out patches
from a fourth are coded, and their reconstruction is compared with PCA keeping as
many numbers per patch as the codes' mean number of non-zeros.
"""

import numpy as np
from skimage import data

from sparsefield.sparse import DictionaryLearner
from sparsefield.sparse.images import ImageSet
from sparsefield.sparse.prepare import prepare_patches


def main() -> dict:
    """Run the example; print its results and return them."""
    names = ("camera", "moon", "coins", "coffee")
    images = [data.camera(), data.moon(), data.coins(), data.coffee().mean(axis=2)]
    image_set = ImageSet(images=[np.ascontiguousarray(image / 255.0) for image in images],
                         names=names)
    patches = prepare_patches(image_set, validation_names=["coffee"], patch_size=8,
                              n_train=6000, n_validation=1000, n_correlation=0, seed=1)

    learner = DictionaryLearner(n_components=64, tau=0.1, solver="cd", update="online",
                                n_epochs=4, random_state=0)
    learner.fit(patches.train)
    codes = learner.transform(patches.validation)  # (n_patches, n_components)
    reconstruction = codes @ learner.components_
    error = 0.5 * np.mean(np.sum((patches.validation - reconstruction) ** 2, axis=1))

    # PCA of the training patches with as many components as active codes per patch.
    n_active = float(np.mean(np.count_nonzero(codes, axis=1)))
    k = int(round(n_active))
    _, _, axes = np.linalg.svd(patches.train, full_matrices=False)
    projected = patches.validation @ axes[:k].T @ axes[:k]
    pca_error = 0.5 * np.mean(np.sum((patches.validation - projected) ** 2, axis=1))

    result = {
        "components_shape": learner.components_.shape,
        "n_active": n_active,
        "reconstruction_error": float(error),
        "pca_error": float(pca_error),
    }
    print(f"components_ {result['components_shape']}; {n_active:.1f} active atoms per "
          "held-out patch")
    print(f"reconstruction error {error:.4f} vs PCA with {k} components {pca_error:.4f}")
    return result


if __name__ == "__main__":
    main()
