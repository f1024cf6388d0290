use dask::prelude::*;

#[derive(Clone)]
struct Settings {
    scale: f64,
}

#[delayed(pure)]
fn scaled(x: i64, settings: Settings) -> f64 {
    x as f64 * settings.scale
}

fn main() {
    let _ = scaled(1, Settings { scale: 2.0 });
}
