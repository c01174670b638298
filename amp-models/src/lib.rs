//! Amplifiable models.
