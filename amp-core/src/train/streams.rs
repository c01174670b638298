//! The run's random streams, derived from (seed, epoch, step) rather than drawn from one
//! generator in sequence.
//!
//! A resumed run must draw exactly what the uninterrupted run would have drawn. Deriving each
//! epoch's batch order from (seed, epoch) and each step's augmentation from (seed, epoch,
//! step) makes every draw a pure function of where the run is, so a checkpoint needs no
//! generator state, and a run stopped between two steps continues bit for bit.

use rand::rngs::StdRng;
use rand::SeedableRng;

/// SplitMix64's finalizer: a bijective mix with good avalanche, so nearby inputs give
/// unrelated seeds.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator of epoch `epoch`'s batch order.
pub fn order_rng(seed: u64, epoch: usize) -> StdRng {
    StdRng::seed_from_u64(mix(mix(seed) ^ epoch as u64))
}

/// The generator of the augmentation of step `step` in epoch `epoch`.
pub fn step_rng(seed: u64, epoch: usize, step: usize) -> StdRng {
    // The `!` keeps step streams apart from order streams of the same epoch.
    StdRng::seed_from_u64(mix(mix(mix(seed) ^ epoch as u64) ^ !(step as u64)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    #[test]
    fn streams_are_pure_functions_of_their_position_and_differ_between_positions() {
        assert_eq!(order_rng(3, 1).next_u64(), order_rng(3, 1).next_u64());
        assert_eq!(step_rng(3, 1, 4).next_u64(), step_rng(3, 1, 4).next_u64());
        let firsts = [
            order_rng(3, 1).next_u64(),
            order_rng(3, 2).next_u64(),
            order_rng(4, 1).next_u64(),
            step_rng(3, 1, 0).next_u64(),
            step_rng(3, 1, 1).next_u64(),
            step_rng(3, 2, 0).next_u64(),
        ];
        for i in 0..firsts.len() {
            for j in i + 1..firsts.len() {
                assert_ne!(firsts[i], firsts[j], "streams {i} and {j} coincide");
            }
        }
    }
}
