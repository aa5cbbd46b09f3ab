//! What to pass next, for the library errors whose remedy is a flag or a command: the
//! library says what it found, the command line says which of its flags would help.

use tagbump::bump::APP_KEY_VARIABLE as KEY;
use tagbump::bump::{type_name, AppConfigError, AssignmentError, BumpError, FileRole};
use tagbump::image::{split_image_string, ImageRef};
use tagbump::plan::PlanError;
use tagbump::targets::{NameMention, NamePlace};

/// The message of a library error in the command line's words (naming the flag that
/// gives what was missing), for the errors that need one.
pub fn flag_text(cause: &(dyn std::error::Error + 'static)) -> Option<String> {
    let flag = |role: &FileRole| match role {
        FileRole::CaBundle => "--ca-bundle",
        _ => "--ssh-key",
    };
    if let Some(a) = cause.downcast_ref::<AssignmentError>() {
        return match a {
            AssignmentError::EmptyValue { item } => Some(format!(
                "{item:?}: the value is empty; pass --allow-empty to set an empty string"
            )),
            AssignmentError::BeforeAnyFile { .. } => {
                Some(format!("{a} (tagbump set FILE KEY=VALUE…)"))
            }
            AssignmentError::ValueType {
                item,
                value_type,
                why,
            } => Some(format!("{item} (--type {}): {why}", type_name(*value_type))),
            _ => None,
        };
    }
    if let Some(a) = cause.downcast_ref::<AppConfigError>() {
        return Some(match a {
            AppConfigError::KeyWithoutApp => format!("a GitHub App key is given (--github-app-key or {KEY}) but no app: add --github-app-id ID (or TAGBUMP_GITHUB_APP_ID)"),
            AppConfigError::AppWithoutKey => format!("--github-app-id needs the app's private key: --github-app-key FILE, or the PEM itself in {KEY}"),
            AppConfigError::UnreadableKey { path, kind } => format!("--github-app-key {}: cannot read the key file ({kind})", path.display()),
            AppConfigError::BadKey(_) => format!("the GitHub App key (--github-app-key or {KEY})"),
            _ => return None,
        });
    }
    Some(match cause.downcast_ref::<BumpError>()? {
        BumpError::AppNeedsGitHubRepository => "--github-app-id needs an https:// GitHub repository (--repo, or the upstream of the checkout with --push)".to_string(),
        BumpError::AppNotGitHub { host } => format!("--github-app-id works with GitHub only, and {host} is not known as GitHub: pass --forge github for GitHub Enterprise Server"),
        BumpError::UnknownForge { url } => format!("cannot tell which forge hosts {url}: pass --forge github|gitlab"),
        BumpError::PullRequestNeedsToken { api } => format!("--pr needs an API token for {api}: set TAGBUMP_TOKEN, GITHUB_TOKEN or GITLAB_TOKEN (each only for its own forge's host), name one with --token-env, or use a GitHub App (--github-app-id)"),
        BumpError::JobTokenCannotOpenMergeRequest => "--pr cannot use CI_JOB_TOKEN: a GitLab CI/CD job token cannot create, edit or merge merge requests. Set TAGBUMP_TOKEN (a masked CI/CD variable) to a project or group access token with the Developer role and the api scope".to_string(),
        BumpError::JobTokenCannotCommitViaApi => "--via api cannot use CI_JOB_TOKEN: a GitLab CI/CD job token cannot commit through the API. Land with git (--via git or auto; the project must allow Git push requests with job tokens), or set TAGBUMP_TOKEN to a project or group access token (Developer role, api scope)".to_string(),
        BumpError::NoSuchFile { role, path } => format!("{} {}: no such file", flag(role), path.display()),
        BumpError::UnresolvablePath { role, path, .. } => format!("{} {}: cannot resolve the path", flag(role), path.display()),
        _ => return None,
    })
}

/// The advice for the first error in the chain that has one, to follow its message.
pub fn advice(err: &anyhow::Error) -> Option<String> {
    let plan = err.chain().find_map(|c| c.downcast_ref::<PlanError>())?;
    match plan {
        PlanError::SkippedReference { files, .. } => Some(format!(
            "fix {}, or pass --skip-unreadable to update the other files anyway",
            if files.len() == 1 { "it" } else { "them" }
        )),
        PlanError::NameOnly {
            image, mentions, ..
        } => {
            let mut ways: Vec<String> = Vec::new();
            for (file, m) in mentions {
                let way = way_for(image, &file.display().to_string(), m);
                if !ways.contains(&way) {
                    ways.push(way);
                }
            }
            Some(format!("to write it, {}", ways.join("; or ")))
        }
        _ => None,
    }
}

/// What to pass to write the tag where `m` names the image.
fn way_for(image: &ImageRef, file: &str, m: &NameMention) -> String {
    let document = if m.document > 0 {
        format!(" --document {}", m.document)
    } else {
        String::new()
    };
    match &m.place {
        NamePlace::ArgoCdParameter { parameter } => format!(
            "pass --argocd-param {parameter},TAG_PARAMETER naming the application's Helm \
             parameter for the tag (add one if it has none), or --argocd-param {parameter} \
             if the chart reads the whole reference from {parameter}"
        ),
        NamePlace::MapWithoutTag { tag_path } => {
            let (path, value) = match (image.tag(), image.digest()) {
                (None, Some(digest)) => {
                    let map = tag_path.prefix(tag_path.len().saturating_sub(1));
                    (format!("{map}.digest"), digest.to_string())
                }
                (tag, _) => (tag_path.to_string(), tag.unwrap_or("TAG").to_string()),
            };
            format!(
                "run `tagbump set {file} {}{document} --create` if the chart reads the tag there",
                shell_word(&format!("{path}={value}"))
            )
        }
        NamePlace::TemplatedTag { tag_path } => format!(
            "{file}: {tag_path} is templated; run `tagbump set` on the value it is rendered from"
        ),
        NamePlace::Value => {
            let name = split_image_string(&m.value).map_or(m.value.as_str(), |raw| raw.name);
            let mut value = name.to_string();
            if let Some(tag) = image.tag() {
                value.push(':');
                value.push_str(tag);
            }
            if let Some(digest) = image.digest() {
                value.push('@');
                value.push_str(digest);
            }
            format!(
                "run `tagbump set {file} {}{document}`",
                shell_word(&format!("{}={value}", m.path))
            )
        }
    }
}

/// `word` quoted for a POSIX shell when it holds characters the shell would read.
fn shell_word(word: &str) -> String {
    let plain = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use tagbump::yaml::KeyPath;

    fn mention(path: &str, value: &str, place: NamePlace) -> (PathBuf, NameMention) {
        (
            PathBuf::from("values.yaml"),
            NameMention {
                document: 0,
                path: KeyPath::parse(path).expect("path"),
                line: 2,
                value: value.into(),
                place,
            },
        )
    }

    #[test]
    fn each_kind_of_name_only_place_gets_the_flag_or_command_that_writes_it() {
        let image = ImageRef::parse("quay.io/acme/quarkus:1.2").expect("image");
        let err = anyhow::Error::new(PlanError::NameOnly {
            image: Box::new(image),
            mentions: vec![
                mention(
                    "image.name",
                    "quay.io/acme/quarkus",
                    NamePlace::MapWithoutTag {
                        tag_path: KeyPath::parse("image.tag").expect("path"),
                    },
                ),
                mention("env[0].value", "quay.io/acme/quarkus:1.0", NamePlace::Value),
                mention(
                    "spec.source.helm.parameters[0].value",
                    "quay.io/acme/quarkus",
                    NamePlace::ArgoCdParameter {
                        parameter: "image.name".into(),
                    },
                ),
            ],
            skipped: Vec::new(),
            not_searched: Vec::new(),
        });
        assert_eq!(
            advice(&err).expect("advice"),
            "to write it, run `tagbump set values.yaml image.tag=1.2 --create` if the chart \
             reads the tag there; or run `tagbump set values.yaml \
             'env[0].value=quay.io/acme/quarkus:1.2'`; or pass --argocd-param \
             image.name,TAG_PARAMETER naming the application's Helm parameter for the tag \
             (add one if it has none), or --argocd-param image.name if the chart reads the \
             whole reference from image.name"
        );
    }
}
