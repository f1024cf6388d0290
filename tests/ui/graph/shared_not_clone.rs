use dask::prelude::*;

struct Big(Vec<u8>);

#[delayed]
fn make(n: usize) -> Big {
    Big(vec![0; n])
}

fn main() {
    // `big` is read by two nodes, so each gets a clone: the error points at the readers.
    let _plan = graph! {
        let big = make(3);
        let a = { big.0.len() };
        let b = { big.0.len() + 1 };
        (a, b)
    };
}
