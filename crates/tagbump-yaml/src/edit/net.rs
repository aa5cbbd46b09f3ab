//! The safety net of [`apply`](super::apply): the result must read back as the
//! original with exactly the intended values.

use super::{Creation, EditError};
use crate::verify;

/// The safety net (see [`verify`]). yaml-rust2 reads `new_read` (`new`, or `new` padded
/// by [`crate::lenient::Padded`]), libyaml reads `new` itself. `expected` is the original's data with the edited scalars already substituted.
pub(super) fn check(
    original: &str,
    new: &str,
    new_read: &str,
    mut expected: Vec<verify::Data>,
    creations: &[Creation],
    expected_paths: &[verify::Expected],
) -> Result<(), EditError> {
    let net = |reason: String| EditError::SafetyNet { reason };
    for (doc, at, keys, value, ty) in creations {
        let inserted = expected
            .get_mut(*doc)
            .is_some_and(|d| verify::insert(d, at, keys, value, *ty));
        if !inserted {
            return Err(net(format!("could not model the creation of {at}")));
        }
    }
    let actual = verify::data(new_read, &verify::Substitutions::new())
        .map_err(|e| net(format!("the result does not parse: {e}")))?;
    if actual.len() != expected.len() {
        return Err(net(format!(
            "{} documents after the edit, {} expected",
            actual.len(),
            expected.len()
        )));
    }
    for (n, (a, e)) in actual.iter().zip(&expected).enumerate() {
        if a != e {
            return Err(net(format!("document {n} differs from the intended data")));
        }
    }
    let documents = expected.len();
    // Freed before libyaml builds its own tree.
    drop((actual, expected));
    verify::cross_check(original, new, documents, expected_paths).map_err(net)
}
