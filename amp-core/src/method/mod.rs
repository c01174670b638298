//! The amplification method (METHOD.md sections 3 and 4).
