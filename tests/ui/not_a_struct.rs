use amp_core::amplifiable;

#[amplifiable]
enum Net {
    A,
}

fn main() {}
