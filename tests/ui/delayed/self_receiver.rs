use dask::prelude::*;

struct Counter(i64);

impl Counter {
    #[delayed]
    fn bump(&self, by: i64) -> i64 {
        self.0 + by
    }
}

fn main() {}
