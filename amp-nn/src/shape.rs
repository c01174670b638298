//! Output-size arithmetic shared by convolution and pooling.

/// Output length of a convolution/pooling window sweep over `input` elements,
/// PyTorch's `floor((input + 2*padding - kernel) / stride) + 1`.
///
/// Panics with a readable message when the (padded) input is smaller than the
/// kernel: shapes are programmer errors, not recoverable conditions.
pub fn conv_out_dim(input: usize, kernel: usize, stride: usize, padding: usize) -> usize {
    assert!(stride > 0, "stride must be positive");
    assert!(
        input + 2 * padding >= kernel,
        "input size {input} with padding {padding} is smaller than kernel {kernel}"
    );
    (input + 2 * padding - kernel) / stride + 1
}

/// The range `lo..hi` of output positions whose window tap at offset `tap`
/// (`in = out * stride + tap - padding`) lands inside `0..input`.
/// Positions outside the range read padding.
#[inline]
pub(crate) fn valid_out_range(
    out_len: usize,
    input: usize,
    tap: usize,
    stride: usize,
    padding: usize,
) -> (usize, usize) {
    let lo = if padding > tap {
        (padding - tap).div_ceil(stride)
    } else {
        0
    };
    let hi = if input + padding > tap {
        ((input - 1 + padding - tap) / stride + 1).min(out_len)
    } else {
        0
    };
    (lo.min(hi), hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_dim_matches_pytorch_formula() {
        assert_eq!(conv_out_dim(32, 3, 1, 1), 32);
        assert_eq!(conv_out_dim(32, 3, 2, 1), 16);
        assert_eq!(conv_out_dim(7, 3, 2, 0), 3);
        assert_eq!(conv_out_dim(5, 1, 2, 0), 3);
    }

    #[test]
    fn valid_range_brute_force() {
        for input in 1..9 {
            for k in 1..4 {
                for s in 1..3 {
                    for p in 0..3 {
                        if input + 2 * p < k {
                            continue;
                        }
                        let out = conv_out_dim(input, k, s, p);
                        for tap in 0..k {
                            let (lo, hi) = valid_out_range(out, input, tap, s, p);
                            for o in 0..out {
                                let i = (o * s + tap) as isize - p as isize;
                                let inside = i >= 0 && (i as usize) < input;
                                assert_eq!(
                                    inside,
                                    o >= lo && o < hi,
                                    "{input} {k} {s} {p} {tap} {o}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
