//! `tagbump promote`: flags → [`tagbump::bump::promote`] (local, a checkout or a
//! remote repository, as `image` lands), and `image`'s report plus the promotion.

use std::process::ExitCode;

use anyhow::Result;
use tagbump::bump::{self, Promote};
use tagbump::environments::PromoteRequest;
use tagbump::outputs::CiEnv;
use tagbump::plan;

use super::args::PromoteArgs;
use super::finish::finish;
use super::output::Report;

/// Promotes as the flags say, filling `report` as it goes.
pub fn promote(
    a: &PromoteArgs,
    env: &dyn Fn(&str) -> Option<String>,
    report: &mut Report,
) -> Result<()> {
    let options = options(a, env)?;
    let change = change(a);
    super::land::land(&a.common, report, |destination, events| {
        bump::promote(&change, destination, &options, events)
    })
}

/// Several `--repo`: each lands the promotion on its own ([`bump::promote_many`]).
pub fn fan_out(a: &PromoteArgs, env: &dyn Fn(&str) -> Option<String>) -> ExitCode {
    match options(a, env) {
        Ok(options) => super::fanout::promote(&change(a), &options, &a.common, env),
        Err(error) => finish(Err(error), Report::default(), &a.common, &CiEnv::from_env()),
    }
}

fn options(a: &PromoteArgs, env: &dyn Fn(&str) -> Option<String>) -> Result<bump::Options> {
    let mut options = super::land::bump_options(&a.common, plan::Options::default(), env)?;
    // The settings of the pull request; whether one is opened is `Promote::pr`.
    options.pull_request = Some(super::options::pull_request(&a.common));
    Ok(options)
}

fn change(a: &PromoteArgs) -> Promote {
    Promote {
        request: PromoteRequest {
            to: a.to.clone(),
            from: a.from.clone().filter(|from| !from.is_empty()),
            images: a.images.clone(),
        },
        config: a.config.clone(),
        pr: a.common.pr.asked(),
    }
}
