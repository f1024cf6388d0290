//! Folding a block a strip of rows at a time, in cache: the strips of a block made on
//! demand (never whole), or of a block already in memory (so a reduction that passes
//! over its values twice reads memory once).

use super::buffers;
use super::layer::{BlockValue, Folder, Region};
use crate::error::BoxError;

/// Elements a strip holds: 256 KB of f64, in L2 cache (smaller strips measured slower,
/// larger ones spill).
pub(crate) const STRIP_ELEMENTS: usize = 32_768;

/// `region` cut into strips of whole rows (along the first axis) of about
/// [`STRIP_ELEMENTS`] elements; a 0-d or empty region is one strip.
pub(crate) fn strips(region: &Region) -> Vec<Vec<(usize, usize)>> {
    let Some(&(start, rows)) = region.first() else {
        return vec![Vec::new()];
    };
    if region.iter().any(|&(_, len)| len == 0) {
        return vec![region.to_vec()];
    }
    let row: usize = region[1..].iter().map(|(_, l)| *l).product();
    let per_strip = (STRIP_ELEMENTS / row.max(1)).max(1);
    (0..rows)
        .step_by(per_strip)
        .map(|at| {
            let mut part = region.to_vec();
            part[0] = (start + at, per_strip.min(rows - at));
            part
        })
        .collect()
}

/// The start of each axis of a region.
fn origin(region: &Region) -> Vec<usize> {
    region.iter().map(|(s, _)| *s).collect()
}

/// Makes `region` a strip at a time with `make` and hands each strip to every folder,
/// then recycles its memory for the next one.
pub(crate) fn fold_made(
    region: &Region,
    make: &dyn Fn(&Region) -> Result<BlockValue, BoxError>,
    folders: &mut [Box<dyn Folder + '_>],
) -> Result<(), BoxError> {
    for part in strips(region) {
        let strip = make(&part)?;
        let at = origin(&part);
        for f in folders.iter_mut() {
            f.fold(&part, &strip, &at)?;
        }
        buffers::recycle_any(strip);
    }
    Ok(())
}

/// Folds `block` (covering `region`, in memory) a strip at a time with `folder`.
pub(crate) fn fold_stored(
    region: &Region,
    block: &BlockValue,
    mut folder: Box<dyn Folder + '_>,
) -> Result<BlockValue, BoxError> {
    let at = origin(region);
    for part in strips(region) {
        folder.fold(&part, block, &at)?;
    }
    folder.finish()
}
