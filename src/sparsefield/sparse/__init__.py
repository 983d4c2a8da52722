"""Receptive fields from sparse coding: images, patches, whitening, compression, inference, dictionaries."""
