//! Experiment configs.
