//! Squared-norm accumulators that a device may keep in its own memory.
//!
//! A training step measures many gradients (every tapped layer's output gradient, every
//! layer's parameter gradients). Reading each sum back as it is computed would make a GPU wait
//! for the host once per layer; instead each device adds into a [`NormAcc`] slot, and the whole
//! vector is read with one [`NormAcc::take`] per step: on `Cpu` a plain vector, on `Cuda` a
//! device buffer copied back in one transfer.

use std::any::Any;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// Accumulators a device keeps in its own memory for a [`NormAcc`].
pub trait DeviceNorms: Any + Send + Sync {
    /// The accumulated values, reset to zero (one transfer and synchronisation).
    fn take(&self) -> Vec<f64>;
    /// For downcasting to the device's own type.
    fn as_any(&self) -> &dyn Any;
}

/// `slots` squared-norm accumulators, summed by whichever device measures into them.
pub struct NormAcc {
    host: Mutex<Vec<f64>>,
    device: OnceLock<Arc<dyn DeviceNorms>>,
}

impl std::fmt::Debug for NormAcc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NormAcc")
            .field("slots", &self.slots())
            .field("on_device", &self.device.get().is_some())
            .finish()
    }
}

impl NormAcc {
    /// `slots` zeroed accumulators.
    pub fn new(slots: usize) -> Self {
        Self {
            host: Mutex::new(vec![0.0; slots]),
            device: OnceLock::new(),
        }
    }

    /// Number of accumulators.
    pub fn slots(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<f64>> {
        self.host.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `v` to slot `slot` on the host (slots past the end are ignored).
    pub fn add(&self, slot: usize, v: f64) {
        if let Some(a) = self.lock().get_mut(slot) {
            *a += v;
        }
    }

    /// The device-side accumulators, created by `init` (given the slot count) on first use.
    pub fn device<N: DeviceNorms>(&self, init: impl FnOnce(usize) -> N) -> Option<&N> {
        self.device
            .get_or_init(|| Arc::new(init(self.slots())))
            .as_any()
            .downcast_ref()
    }

    /// Every slot's sum (host and device parts), reset to zero for the next step.
    pub fn take(&self) -> Vec<f64> {
        let mut out: Vec<f64> = {
            let mut host = self.lock();
            let zeros = vec![0.0; host.len()];
            std::mem::replace(&mut *host, zeros)
        };
        if let Some(dev) = self.device.get() {
            for (o, d) in out.iter_mut().zip(dev.take()) {
                *o += d;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in device that sums into its own vector, as a GPU buffer would.
    struct Fake(Mutex<Vec<f64>>);
    impl DeviceNorms for Fake {
        fn take(&self) -> Vec<f64> {
            let mut v = self.0.lock().unwrap();
            let n = v.len();
            std::mem::replace(&mut *v, vec![0.0; n])
        }
        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    #[test]
    fn host_and_device_parts_add_up_and_reset() {
        let acc = NormAcc::new(3);
        acc.add(0, 1.5);
        acc.add(2, 4.0);
        acc.add(7, 100.0); // past the end: ignored
        let dev = acc.device(|n| Fake(Mutex::new(vec![0.0; n]))).unwrap();
        dev.0.lock().unwrap()[2] += 0.25;
        assert_eq!(acc.take(), vec![1.5, 0.0, 4.25]);
        assert_eq!(acc.take(), vec![0.0, 0.0, 0.0]);
        // The same device part is found again; another type is not.
        assert!(acc.device(|n| Fake(Mutex::new(vec![9.0; n]))).is_some());
        assert_eq!(acc.take(), vec![0.0; 3]);
    }
}
