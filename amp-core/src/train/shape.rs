//! How a batch of images becomes the input shape a model asks for.

use dfdx::shapes::{Const, Shape};

/// An input shape with a runtime batch dimension first, checked against the dataset's
/// image shape (channels, height, width) when a run starts.
pub trait BatchShape: Shape {
    /// The shape of a batch of `n` images of `image` (C, H, W), or why the model cannot take them.
    fn for_batch(n: usize, image: [usize; 3]) -> Result<Self, String>;
}

/// Flattened images, for MLPs: `(batch, C*H*W)`.
impl<const N: usize> BatchShape for (usize, Const<N>) {
    fn for_batch(n: usize, [c, h, w]: [usize; 3]) -> Result<Self, String> {
        if c * h * w != N {
            return Err(format!(
                "the model takes flat inputs of {N} values, the images have {c}x{h}x{w} = {}",
                c * h * w
            ));
        }
        Ok((n, Const))
    }
}

/// Images of a fixed size: `(batch, C, H, W)`.
impl<const C: usize, const H: usize, const W: usize> BatchShape
    for (usize, Const<C>, Const<H>, Const<W>)
{
    fn for_batch(n: usize, [c, h, w]: [usize; 3]) -> Result<Self, String> {
        if [c, h, w] != [C, H, W] {
            return Err(format!(
                "the model takes {C}x{H}x{W} images, the dataset has {c}x{h}x{w}"
            ));
        }
        Ok((n, Const, Const, Const))
    }
}

/// Images of any size with a fixed channel count: `(batch, C, H, W)` with runtime H and W.
impl<const C: usize> BatchShape for (usize, Const<C>, usize, usize) {
    fn for_batch(n: usize, [c, h, w]: [usize; 3]) -> Result<Self, String> {
        if c != C {
            return Err(format!(
                "the model takes images with {C} channels, the dataset has {c}"
            ));
        }
        Ok((n, Const, h, w))
    }
}
