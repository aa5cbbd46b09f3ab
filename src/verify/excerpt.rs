//! A value quoted for a message, cut to a length (a leaf: messages of every module use it).

/// `s` quoted for a message, at most `max` characters of it.
pub(crate) fn excerpt(s: &str, max: usize) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        format!("{:?}… ({} bytes)", head, s.len())
    } else {
        format!("{head:?}")
    }
}
