//! The placeholders of the commit message, branch and pull-request templates.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::CommitTemplate;
use crate::ci::{self, Pipeline};
use crate::git::CommitInfo;
use crate::plan::Request;
use crate::template;

/// `{image}`, `{tag}`, `{slug}`, … for `request`, with the pipeline's.
pub(super) fn template_vars(request: &Request, pipeline: &Pipeline) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    pipeline.vars(&mut vars);
    match request {
        Request::Image { image, .. } => {
            let tag = image
                .tag()
                .map(str::to_string)
                .or_else(|| image.digest().map(str::to_string))
                .unwrap_or_default();
            vars.insert("mode".into(), "image".into());
            vars.insert("image".into(), image.familiar_name());
            vars.insert("tag".into(), tag.clone());
            vars.insert(
                "digest".into(),
                image.digest().unwrap_or_default().to_string(),
            );
            vars.insert("image_slug".into(), template::slug(&image.familiar_name()));
            vars.insert("tag_slug".into(), template::slug(&tag));
        }
        Request::Set { files } => {
            let values: Vec<String> = files
                .iter()
                .flat_map(|f| f.edits.iter().map(|e| e.value.clone()))
                .collect();
            let first = files
                .first()
                .map(|f| f.file.display().to_string())
                .unwrap_or_default();
            vars.insert("mode".into(), "set".into());
            vars.insert("image".into(), first.clone());
            vars.insert("tag".into(), values.join(","));
            vars.insert("digest".into(), String::new());
            vars.insert("image_slug".into(), template::slug(&first));
            vars.insert("tag_slug".into(), template::slug(&values.join("-")));
        }
    }
    vars.insert("summary".into(), request.summary());
    let slug = format!(
        "{}/{}",
        vars.get("image_slug").cloned().unwrap_or_default(),
        vars.get("tag_slug").cloned().unwrap_or_default()
    );
    vars.insert("slug".into(), slug);
    vars
}

/// The default commit subject (and pull-request title) for `request`.
pub fn default_subject(request: &Request) -> String {
    match request {
        Request::Image { .. } => "chore(deploy): bump {image} to {tag}".to_string(),
        Request::Set { .. } => "chore(deploy): set {summary}".to_string(),
    }
}

/// The commit's message template (rendered per attempt, with `{files}`) and identities.
pub(super) fn commit_info(
    commit: &CommitTemplate,
    pipeline: &Pipeline,
    default_message: String,
) -> CommitInfo {
    let template_text = commit.message.clone().unwrap_or(default_message);
    let trailers = if commit.trailers {
        pipeline.trailers()
    } else {
        Vec::new()
    };
    CommitInfo {
        message: ci::with_trailers(&template_text, &trailers),
        author: commit.author.clone(),
        committer: commit.committer.clone(),
    }
}

/// The only paths the edit reads or writes, so the clone can check out just these:
/// `set`'s files, `image`'s explicit paths. `None` (the whole tip) when `image` searches
/// the root, or when a path is absolute or climbs with `..` (the plan then reports it).
pub(super) fn sparse_paths(request: &Request) -> Option<Vec<PathBuf>> {
    let paths: Vec<PathBuf> = match request {
        Request::Set { files } => files.iter().map(|f| f.file.clone()).collect(),
        Request::Image { paths, .. } if !paths.is_empty() => paths.clone(),
        Request::Image { .. } => return None,
    };
    let relative = paths.iter().all(|p| {
        p.components().all(|c| {
            matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        })
    });
    relative.then_some(paths)
}

/// The branch prefix shared by every PR of the same family (the same image, or the same
/// promotion pair): the branch template rendered up to its first placeholder that
/// changes from one run to the next (`{tag}`, `{tag_slug}`, `{digest}`, the tag half of
/// `{slug}`, `{source_commit}`, `{pipeline_url}`, `{summary}`, `{files}`). Why not, when
/// the template has no such placeholder (every run reuses one branch, updated in place:
/// nothing can be superseded, and a prefix would also match longer names such as
/// `promote-staging-to-production`), or when nothing precedes it (that prefix would
/// take in every open PR).
pub(super) fn supersede_prefix(
    branch_template: &str,
    vars: &BTreeMap<String, String>,
) -> Result<String, &'static str> {
    const CUT: &str = "\u{0}";
    let mut v = vars.clone();
    for key in [
        "tag",
        "tag_slug",
        "digest",
        "source_commit",
        "pipeline_url",
        "summary",
        "files",
    ] {
        v.insert(key.into(), CUT.into());
    }
    // `{slug}` is `{image_slug}/{tag_slug}` for a bump; a promotion's names its pair.
    if vars.get("mode").is_some_and(|m| m != "promote") {
        let image_slug = vars.get("image_slug").cloned().unwrap_or_default();
        v.insert("slug".into(), format!("{image_slug}/{CUT}"));
    }
    let rendered = template::render(branch_template, &v);
    match rendered.split_once(CUT) {
        None => Err("every run of this change uses the same branch, updated in place"),
        Some(("", _)) => Err("the branch template starts with a part that changes per run, so no prefix names this change's older branches"),
        Some((prefix, _)) => Ok(prefix.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        (pairs.iter())
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn an_image_bump_is_superseded_by_the_branches_of_its_other_tags() {
        let image = vars(&[
            ("mode", "image"),
            ("image_slug", "ghcr-io-acme-api"),
            ("tag_slug", "1-5-0"),
            ("slug", "ghcr-io-acme-api/1-5-0"),
            ("tag", "1.5.0"),
            ("source_commit", "5e6f7a8b"),
        ]);
        let prefix = |template: &str| supersede_prefix(template, &image);
        assert_eq!(
            prefix("tagbump/{slug}"),
            Ok("tagbump/ghcr-io-acme-api/".into())
        );
        assert_eq!(
            prefix("deploy/{image_slug}-{source_commit}"),
            Ok("deploy/ghcr-io-acme-api-".into())
        );
        assert_eq!(
            prefix("bump-{image_slug}-{tag}"),
            Ok("bump-ghcr-io-acme-api-".into())
        );
        assert!(
            prefix("{tag}/{image_slug}").is_err(),
            "no prefix: every PR would match"
        );
        assert!(
            prefix("tagbump/{image_slug}").is_err(),
            "one branch, updated in place"
        );
    }

    #[test]
    fn a_promotion_is_superseded_only_through_a_per_run_branch() {
        // As a promotion's job has them: no tag, the pair's slug.
        let mut pair = vars(&[("mode", "promote"), ("tag", ""), ("tag_slug", "")]);
        crate::bump::promote::pair_vars(&mut pair, "staging", "prod");
        assert_eq!(
            supersede_prefix("tagbump/{slug}", &pair),
            Err("every run of this change uses the same branch, updated in place"),
            "promote-staging-to-prod must not take in promote-staging-to-production"
        );
        assert_eq!(
            supersede_prefix("release/{from}-to-{to}/{source_commit}", &pair),
            Ok("release/staging-to-prod/".into())
        );
    }
}
