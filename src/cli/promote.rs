//! `tagbump promote`: flags → [`tagbump::bump::promote`] (local, a checkout or a
//! remote repository, as `image` lands), and `image`'s report plus the promotion.

use anyhow::Result;
use tagbump::bump::{self, Promote};
use tagbump::environments::PromoteRequest;
use tagbump::plan;

use super::args::PromoteArgs;
use super::output::Report;

/// Promotes as the flags say, filling `report` as it goes.
pub fn promote(
    a: &PromoteArgs,
    env: &dyn Fn(&str) -> Option<String>,
    report: &mut Report,
) -> Result<()> {
    if a.common.git.repo.len() > 1 {
        return Err(super::failure::invalid_input(
            "promote lands in one repository: give --repo once (fan-out is `image` and `set` only)",
        ));
    }
    let mut options = super::land::bump_options(&a.common, plan::Options::default(), env)?;
    // The settings of the pull request; whether one is opened is `Promote::pr`.
    options.pull_request = Some(super::options::pull_request(&a.common));
    let change = Promote {
        request: PromoteRequest {
            to: a.to.clone(),
            from: a.from.clone(),
            images: a.images.clone(),
        },
        config: a.config.clone(),
        pr: match (a.common.pr.pr, a.no_pr) {
            (true, _) => Some(true),
            (false, true) => Some(false),
            (false, false) => None,
        },
    };
    super::land::land(&a.common, report, |destination, events| {
        bump::promote(&change, destination, &options, events)
    })
}
