//! A run's edges, one list a node (its dependencies, or its consumers), sized for the
//! common case: in a chain or a fan-in almost every node has exactly one dependency or
//! one consumer, and such a list takes one 4-byte word, where compressed rows took two
//! (an offset and the entry). Ten million such nodes save 40 MB a table.

/// A node's word in [`Adjacency::head`]: its lone neighbour, or one of these.
const NONE: u32 = u32::MAX;
/// Set on a word that locates a longer list in [`Adjacency::spill`].
const MANY: u32 = 1 << 31;
/// A one-entry list not filled in yet (while building the consumers).
const PENDING: u32 = u32::MAX - 1;
/// Node indices and spill offsets stay below this, so no word is ambiguous.
pub(crate) const MAX_INDEX: u32 = MANY - 2;

/// Lists of node indices, one a node.
#[derive(Debug, Default)]
pub(crate) struct Adjacency {
    /// Per node: [`NONE`] (no entry), its lone entry, or `MANY | offset` into `spill`.
    head: Vec<u32>,
    /// Longer lists, each its length then its entries.
    spill: Vec<u32>,
}

impl Adjacency {
    /// Appends the next node's list.
    pub(crate) fn push(&mut self, list: &[u32]) -> Result<(), String> {
        let word = match list {
            [] => NONE,
            &[one] => one,
            _ => {
                let offset = self.spill_offset()?;
                self.spill.push(index(list.len())?);
                self.spill.extend_from_slice(list);
                MANY | offset
            }
        };
        self.head.push(word);
        Ok(())
    }

    /// The lists turned around: node `d` lists each `i` whose list in `from` holds
    /// `d`, in increasing `i`, once per time it holds it. (Every entry of `from` is one
    /// of its nodes, as a graph's dependencies are.)
    pub(crate) fn transpose(from: &Adjacency) -> Result<Adjacency, String> {
        let n = from.len();
        // First the number of entries each node gets, in the head words themselves.
        let mut head = vec![0_u32; n];
        for i in 0..from.len() {
            for &d in from.list(i) {
                head[d as usize] += 1;
            }
        }
        // Then room: a single entry stays in its word, longer lists get spill.
        let mut to = Adjacency {
            head,
            spill: Vec::new(),
        };
        for i in 0..n {
            to.head[i] = match to.head[i] {
                0 => NONE,
                1 => PENDING,
                count => {
                    let offset = to.spill_offset()?;
                    // The length counts up from zero as the entries are filled in.
                    to.spill.push(0);
                    let end = to.spill.len() + count as usize;
                    to.spill.resize(end, 0);
                    MANY | offset
                }
            };
        }
        for i in 0..from.len() {
            let i_word = index(i)?;
            for &d in from.list(i) {
                let word = &mut to.head[d as usize];
                if *word == PENDING {
                    *word = i_word;
                } else {
                    let at = (*word & !MANY) as usize;
                    let filled = &mut to.spill[at];
                    *filled += 1;
                    let slot = at + *filled as usize;
                    to.spill[slot] = i_word;
                }
            }
        }
        Ok(to)
    }

    /// How many nodes have a list.
    pub(crate) fn len(&self) -> usize {
        self.head.len()
    }

    /// Node `i`'s list.
    #[inline]
    pub(crate) fn list(&self, i: usize) -> &[u32] {
        let word = &self.head[i];
        match *word {
            NONE => &[],
            w if w & MANY == 0 => std::slice::from_ref(word),
            w => {
                let at = (w & !MANY) as usize;
                &self.spill[at + 1..at + 1 + self.spill[at] as usize]
            }
        }
    }

    /// Gives back what growing left unused.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.head.shrink_to_fit();
        self.spill.shrink_to_fit();
    }

    /// The same lists in compressed rows: offsets (`len() + 1`) and entries.
    pub(crate) fn to_rows(&self) -> (Vec<u32>, Vec<u32>) {
        let mut start = Vec::with_capacity(self.len() + 1);
        let mut entries = Vec::new();
        start.push(0);
        for i in 0..self.len() {
            entries.extend_from_slice(self.list(i));
            // Within u32: the entries are at most the spill plus one a node.
            start.push(entries.len() as u32);
        }
        (start, entries)
    }

    fn spill_offset(&self) -> Result<u32, String> {
        index(self.spill.len())
    }
}

/// `n` as an index or offset, if it leaves every word unambiguous.
pub(crate) fn index(n: usize) -> Result<u32, String> {
    u32::try_from(n)
        .ok()
        .filter(|&n| n <= MAX_INDEX)
        .ok_or_else(|| format!("a graph of more than {MAX_INDEX} tasks or edges"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_of_every_length_read_back_and_turn_around() {
        let lists: Vec<Vec<u32>> = vec![
            vec![],
            vec![0],
            vec![0, 0],
            vec![1, 2, 0],
            vec![3],
            vec![],
            vec![4, 4, 4, 1],
        ];
        let mut deps = Adjacency::default();
        for l in &lists {
            deps.push(l).unwrap();
        }
        for (i, l) in lists.iter().enumerate() {
            assert_eq!(deps.list(i), &l[..]);
        }
        let consumers = Adjacency::transpose(&deps).unwrap();
        let mut want: Vec<Vec<u32>> = vec![Vec::new(); lists.len()];
        for (i, l) in lists.iter().enumerate() {
            for &d in l {
                want[d as usize].push(i as u32);
            }
        }
        for (d, w) in want.iter().enumerate() {
            assert_eq!(consumers.list(d), &w[..], "consumers of {d}");
        }
        let (start, entries) = deps.to_rows();
        for (i, l) in lists.iter().enumerate() {
            assert_eq!(&entries[start[i] as usize..start[i + 1] as usize], &l[..]);
        }
        // A lone entry takes its word only: no spill for a chain.
        let mut chain = Adjacency::default();
        chain.push(&[]).unwrap();
        for i in 0..100 {
            chain.push(&[i]).unwrap();
        }
        assert!(chain.spill.is_empty());
        assert!(Adjacency::transpose(&chain).unwrap().spill.is_empty());
        assert!(index(MAX_INDEX as usize + 1).is_err());
    }
}
