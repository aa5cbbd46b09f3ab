//! Bounding alias expansion. An alias stands for a whole copy of its anchored node, so a
//! few hundred bytes of anchors that alias each other ("billion laughs") stand for
//! billions of nodes. The safety net compares data trees in which aliases are expanded;
//! this counter runs over the parser's events first and stops at [`MAX_ALIAS_NODES`]
//! before anything is expanded.

use std::collections::HashMap;

use yaml_rust2::parser::Event;

/// The most nodes that aliases may add to a YAML stream when expanded. Past it the text
/// is refused ([`EditError::AliasBomb`](super::EditError::AliasBomb)): real values files
/// and manifests repeat a few hundred nodes through anchors, while an alias bomb adds
/// billions (nine anchors of nine aliases each make 387 million) and would exhaust memory.
pub const MAX_ALIAS_NODES: u64 = 100_000;

/// The aliases of a stream expand to more than [`MAX_ALIAS_NODES`] nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TooManyAliasNodes;

/// Counts, event by event, the nodes aliases add when expanded.
#[derive(Debug, Default)]
pub(crate) struct AliasCounter {
    /// Expanded size (in nodes) of each anchored node, by anchor id.
    sizes: HashMap<usize, u64>,
    /// Open collections: their anchor id (0 for none) and nodes counted so far.
    open: Vec<(usize, u64)>,
    /// Nodes added by aliases so far.
    added: u64,
}

impl AliasCounter {
    /// Takes the next event of the stream.
    pub(crate) fn event(&mut self, event: &Event) -> Result<(), TooManyAliasNodes> {
        match event {
            Event::Scalar(_, _, anchor, _) => self.node(1, *anchor),
            Event::Alias(id) => {
                let size = self.sizes.get(id).copied().unwrap_or(1);
                self.added = self.added.saturating_add(size);
                if self.added > MAX_ALIAS_NODES {
                    return Err(TooManyAliasNodes);
                }
                self.node(size, 0);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                self.open.push((*anchor, 1));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((anchor, size)) = self.open.pop() {
                    self.node(size, anchor);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn node(&mut self, size: u64, anchor: usize) {
        if anchor > 0 {
            self.sizes.insert(anchor, size);
        }
        if let Some((_, parent)) = self.open.last_mut() {
            *parent = parent.saturating_add(size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events;

    fn added(text: &str) -> Result<u64, TooManyAliasNodes> {
        let mut counter = AliasCounter::default();
        for raw in events(text).expect("parses") {
            counter.event(&raw.event)?;
        }
        Ok(counter.added)
    }

    #[test]
    fn an_alias_adds_the_size_of_its_anchored_node() {
        // &img is a mapping of two entries: 1 + 4 scalars.
        let text = "base: &img\n  repository: api\n  tag: v1\nother: *img\nname: &n x\nalso: *n\n";
        assert_eq!(added(text), Ok(6));
    }

    #[test]
    fn aliases_inside_anchors_multiply() {
        let text = "a: &a [x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b]\n";
        // *a adds 3 nodes; &b is 1 + 3 * 3 = 10 nodes; two *b add 20.
        assert_eq!(added(text), Ok(3 * 3 + 2 * 10));
    }

    #[test]
    fn a_billion_laughs_is_stopped_early() {
        let mut text = String::from("a: &a [x,x,x,x,x,x,x,x,x]\n");
        for (prev, name) in "abcdefgh".chars().zip("bcdefghi".chars()) {
            text.push_str(&format!(
                "{name}: &{name} [{}]\n",
                vec![format!("*{prev}"); 9].join(",")
            ));
        }
        assert_eq!(added(&text), Err(TooManyAliasNodes));
    }
}
