//! Which gradient a tap multiplies (METHOD.md section 1).

use serde::{Deserialize, Serialize};

/// Which gradient of an amplified layer is multiplied by its factor k.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// dL/d(output) before the layer's own backward: the layer's parameter gradients and every
    /// gradient flowing to earlier layers scale by k; stacked amplified layers compound (k^n).
    #[default]
    Output,
    /// dL/d(input) only: the layer's own parameter gradients are unchanged, earlier layers scale.
    Input,
    /// The layer's parameter gradients only, after backward: nothing propagates.
    Param,
}

impl Mode {
    /// Every mode, in the order METHOD.md lists them.
    pub const ALL: [Mode; 3] = [Mode::Output, Mode::Input, Mode::Param];

    /// The name used in configs and reports.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Output => "output",
            Mode::Input => "input",
            Mode::Param => "param",
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
