//! `--data`, `--limit` and `--test-limit` into the sets a run trains on; the loading itself
//! is amp-core's (`amp_core::data::RawData`).

use amp_core::data::{DataSource, RawData};
use anyhow::{bail, Context, Result};

pub use amp_core::data::Data;

/// Reads and decodes the source named by `--data` (`synthetic`, a path, `PATH:coarse`).
pub fn load_raw(source: &str) -> Result<RawData> {
    RawData::load(&DataSource::parse(source)).context("--data")
}

/// One run's sets: `limit` training and `test_limit` test images drawn with `seed`,
/// normalized with the training subset's statistics.
pub fn prepare(
    raw: &RawData,
    seed: u64,
    limit: Option<usize>,
    test_limit: Option<usize>,
) -> Result<Data> {
    check_limits(limit, test_limit)?;
    Ok(raw.prepare(seed, limit, test_limit))
}

/// Refuses a limit of 0 (no image to train or evaluate on).
pub fn check_limits(limit: Option<usize>, test_limit: Option<usize>) -> Result<()> {
    for (flag, value) in [("--limit", limit), ("--test-limit", test_limit)] {
        if value == Some(0) {
            bail!("{flag} 0 leaves no image; give at least 1, or leave it out for all");
        }
    }
    Ok(())
}

/// [`load_raw`] then [`prepare`], for a single run.
pub fn load(
    source: &str,
    seed: u64,
    limit: Option<usize>,
    test_limit: Option<usize>,
) -> Result<Data> {
    check_limits(limit, test_limit)?;
    prepare(&load_raw(source)?, seed, limit, test_limit)
}
