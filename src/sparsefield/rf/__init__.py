"""Receptive fields from spikes: binning, Poisson ML fits, separation, STA, simulation."""
