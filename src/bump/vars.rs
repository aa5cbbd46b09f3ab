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

/// The branch prefix shared by every PR of the same image: the branch template rendered
/// with the tag part left empty.
pub(super) fn supersede_prefix(branch_template: &str, vars: &BTreeMap<String, String>) -> String {
    let mut v = vars.clone();
    let image_slug = v.get("image_slug").cloned().unwrap_or_default();
    v.insert("slug".into(), format!("{image_slug}/"));
    v.insert("tag_slug".into(), String::new());
    v.insert("tag".into(), String::new());
    template::render(branch_template, &v)
}
