//! Rule 6: a chart's `appVersion` (`Chart.yaml`), only when asked for.

use crate::yaml::model::Node;
use crate::yaml::KeyPath;

use super::scan::{key, Scan};
use super::{TargetError, TargetKind};

impl<'a> Scan<'a, '_> {
    /// The top-level `appVersion` gets the new tag (with
    /// [`super::FindOptions::app_version`], and when the image has a tag). A chart
    /// without one is left alone: the key is not created.
    pub(super) fn app_version(&mut self, root: &'a Node) -> Result<(), TargetError> {
        if !self.options.app_version || self.document != 0 {
            return Ok(());
        }
        let (Some(node), Some(tag)) = (root.get("appVersion"), self.image.tag()) else {
            return Ok(());
        };
        let path = KeyPath::new(vec![key("appVersion")]);
        self.set(TargetKind::AppVersion, node, path, tag.to_string(), None)?;
        Ok(())
    }
}
