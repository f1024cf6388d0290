//! Folding reductions a tile at a time, in the order that reads each input tile once.
//!
//! `(x + x.t()).mean()` folds block `(i, j)` of `x + x.t()` from `x[i, j]` and the
//! transpose of `x[j, i]`, and block `(j, i)` from the same two blocks the other way
//! round. Folded a strip of rows at a time, one of the two is always read down its
//! columns: a scalar loop that waits on memory for every row, once for each of the two
//! blocks that read it. Instead, the planner makes both blocks in one task (see
//! `lower.rs`) and both reductions fold square tiles: tile `(p, q)` of one reads tiles
//! `(p, q)` and `(q, p)` of the inputs, exactly what tile `(q, p)` of the other reads,
//! so the two are folded one after the other while those input tiles are in cache.
//!
//! Tiles are cut at the same global multiples of [`TILE`] in every block, so a tile
//! read through a transpose is a tile of its input too. Only reductions whose parts
//! may come in any order and shape are folded so (`Streaming::any_order`).

use super::layer::Region;
use std::collections::HashMap;
use std::hash::Hash;

/// The side of a tile: two 128 x 128 tiles of f64 and their results (128 KB each) stay
/// in a core's L2 cache.
pub(crate) const TILE: usize = 128;

/// `region` cut along every axis at the multiples of [`TILE`] (global coordinates),
/// row-major.
pub(crate) fn tiles(region: &Region) -> Vec<Vec<(usize, usize)>> {
    let cuts: Vec<Vec<(usize, usize)>> = region
        .iter()
        .map(|&(start, len)| {
            let end = start + len;
            let mut pieces = Vec::new();
            let mut at = start;
            while at < end {
                let next = ((at / TILE + 1) * TILE).min(end);
                pieces.push((at, next - at));
                at = next;
            }
            if pieces.is_empty() {
                pieces.push((start, 0));
            }
            pieces
        })
        .collect();
    let mut out = vec![Vec::new()];
    for axis in &cuts {
        out = out
            .into_iter()
            .flat_map(|prefix: Vec<(usize, usize)>| {
                axis.iter().map(move |&piece| {
                    let mut tile = prefix.clone();
                    tile.push(piece);
                    tile
                })
            })
            .collect();
    }
    out
}

/// The order to fold the tiles of several readers, `footprints[m][t]` saying what tile
/// `t` of reader `m` reads: reader by reader, tile by tile, except that each tile
/// brings along at once every other tile whose footprint is the same. Every tile comes
/// exactly once, as `(reader, tile)`.
pub(crate) fn paired_order<F: Hash + Eq>(footprints: &[Vec<F>]) -> Vec<(usize, usize)> {
    let mut first_seen: Vec<&F> = Vec::new();
    let mut by_footprint: HashMap<&F, Vec<(usize, usize)>> = HashMap::new();
    for (m, reader) in footprints.iter().enumerate() {
        for (t, print) in reader.iter().enumerate() {
            by_footprint
                .entry(print)
                .or_insert_with(|| {
                    first_seen.push(print);
                    Vec::new()
                })
                .push((m, t));
        }
    }
    first_seen
        .iter()
        .flat_map(|f| by_footprint.remove(f).unwrap_or_default())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_are_cut_at_global_multiples_and_cover_the_region() {
        let region = [(1000, 300), (120, 20)];
        let cut = tiles(&region);
        let rows: Vec<(usize, usize)> = cut.iter().map(|t| t[0]).collect();
        let cols: Vec<(usize, usize)> = cut.iter().map(|t| t[1]).collect();
        // Rows 1000..1300 cut at 1024 and 1152 and 1280; columns 120..140 at 128.
        assert_eq!(
            rows,
            [1000, 1000, 1024, 1024, 1152, 1152, 1280, 1280]
                .iter()
                .zip([24, 24, 128, 128, 128, 128, 20, 20])
                .map(|(&s, l)| (s, l))
                .collect::<Vec<_>>()
        );
        assert_eq!(cols[..2], [(120, 8), (128, 12)]);
        let covered: usize = cut.iter().map(|t| t[0].1 * t[1].1).sum();
        assert_eq!(covered, 300 * 20);
        // An empty axis is one empty tile; a 0-d region one tile.
        assert_eq!(tiles(&[(5, 0), (0, 3)]), vec![vec![(5, 0), (0, 3)]]);
        assert_eq!(tiles(&[]), vec![Vec::<(usize, usize)>::new()]);
    }

    #[test]
    fn mirrored_tiles_come_together_and_every_tile_once() {
        // Two readers of a 2 x 2 grid of tiles; reader 1 reads its tile (p, q) where
        // reader 0 reads (q, p); reader 0's (0, 1) and (1, 0) read the same too.
        let grid = |_: usize| {
            vec![
                vec![(0, 1), (0, 1)],
                vec![(0, 1), (1, 1)],
                vec![(1, 1), (0, 1)],
                vec![(1, 1), (1, 1)],
            ]
        };
        let prints: Vec<Vec<(usize, usize)>> = [grid(0), grid(1)]
            .iter()
            .map(|tiles| {
                tiles
                    .iter()
                    .map(|t| {
                        let (p, q) = (t[0].0, t[1].0);
                        (p.min(q), p.max(q))
                    })
                    .collect()
            })
            .collect();
        let order = paired_order(&prints);
        assert_eq!(
            order,
            [
                (0, 0),
                (1, 0),
                (0, 1),
                (0, 2),
                (1, 1),
                (1, 2),
                (0, 3),
                (1, 3)
            ]
        );
    }
}
