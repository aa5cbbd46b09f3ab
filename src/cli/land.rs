//! Running a change through the porcelain: the flags every command has as
//! [`tagbump::bump`] options, the destination, and the report filled from the run's
//! events.

use std::cell::RefCell;

use anyhow::{Context, Result};

use super::args::CommonArgs;
use super::failure::invalid_input;
use super::output::Report;
use tagbump::bump::{self, Event, Recorder};
use tagbump::plan;
use tagbump::policy::TagPolicy;

/// The run's options: `options` holds what the command's own flags ask for; the flags
/// every command has are added here.
pub fn bump_options(
    common: &CommonArgs,
    options: plan::Options,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<bump::Options> {
    let options = plan::Options {
        refuse_aliased: common.no_aliased,
        policy: TagPolicy {
            no_downgrade: common.no_downgrade,
            allow_tags: common
                .allow_tags
                .as_deref()
                .map(tagbump::registry::strategy::allow_regex)
                .transpose()
                .context("invalid --allow-tags regular expression")?,
        },
        ..options
    };
    if common.pr.wanted() && common.git.repo.is_empty() {
        return Err(invalid_input(
            "--pr needs --repo URL (the config repository to open the pull request in)",
        ));
    }
    super::options::options(common, options, env)
}

/// Runs `go` on the destination the flags name, printing its log and filling `report`
/// from its events and result.
pub fn land(
    common: &CommonArgs,
    report: &mut Report,
    go: impl FnOnce(&bump::Destination, &dyn Fn(Event<'_>)) -> Result<bump::Outcome, bump::BumpError>,
) -> Result<()> {
    let destination = super::options::destination(common);
    let recorder = RefCell::new(Recorder::default());
    let result = go(&destination, &|event| {
        match &event {
            Event::Log(line) => eprintln!("tagbump: {line}"),
            Event::Way(choice) => eprintln!("tagbump: {}", super::advice::way_line(choice)),
            Event::Token(selection) => {
                for line in super::advice::token_lines(selection) {
                    eprintln!("tagbump: {line}");
                }
            }
            Event::Warning(line) => eprintln!("tagbump: warning: {line}"),
            Event::Secret(token) => super::failure::hide_secrets(vec![(*token).clone()]),
            _ => {}
        }
        recorder.borrow_mut().take(&event);
    });
    *report = recorder.into_inner().finish(&result, common.dry_run);
    result.map(drop).map_err(anyhow::Error::new)
}
