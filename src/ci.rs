//! What the CI system that runs tagbump tells about the pipeline: source commit and a
//! link back to the run, for commit trailers and PR bodies. GitHub Actions, GitLab CI,
//! Jenkins and Tekton (through the variables its tasks usually set) are recognised.

use std::collections::BTreeMap;

/// The pipeline that triggered the bump.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pipeline {
    /// `github-actions`, `gitlab-ci`, `jenkins`, `tekton`.
    pub system: Option<String>,
    /// Commit of the application repository that was built.
    pub source_commit: Option<String>,
    /// The application repository (`owner/name` or URL).
    pub source_repo: Option<String>,
    /// Link to the run.
    pub url: Option<String>,
}

impl Pipeline {
    /// Reads the pipeline from environment variables through `get` (pass
    /// `|k| std::env::var(k).ok()` in real use).
    pub fn detect(get: impl Fn(&str) -> Option<String>) -> Pipeline {
        let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        if non_empty("GITHUB_ACTIONS").is_some() {
            let server =
                non_empty("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into());
            let repo = non_empty("GITHUB_REPOSITORY");
            let url = match (&repo, non_empty("GITHUB_RUN_ID")) {
                (Some(r), Some(id)) => Some(format!("{server}/{r}/actions/runs/{id}")),
                _ => None,
            };
            return Pipeline {
                system: Some("github-actions".into()),
                source_commit: non_empty("GITHUB_SHA"),
                source_repo: repo,
                url,
            };
        }
        if non_empty("GITLAB_CI").is_some() {
            return Pipeline {
                system: Some("gitlab-ci".into()),
                source_commit: non_empty("CI_COMMIT_SHA"),
                source_repo: non_empty("CI_PROJECT_PATH"),
                url: non_empty("CI_PIPELINE_URL").or_else(|| non_empty("CI_JOB_URL")),
            };
        }
        if non_empty("JENKINS_URL").is_some()
            || non_empty("BUILD_URL").is_some() && non_empty("JENKINS_HOME").is_some()
        {
            return Pipeline {
                system: Some("jenkins".into()),
                source_commit: non_empty("GIT_COMMIT"),
                source_repo: non_empty("GIT_URL"),
                url: non_empty("BUILD_URL"),
            };
        }
        if non_empty("TEKTON_PIPELINE_RUN").is_some() || non_empty("TEKTON_TASK_RUN").is_some() {
            return Pipeline {
                system: Some("tekton".into()),
                source_commit: non_empty("TEKTON_SOURCE_COMMIT")
                    .or_else(|| non_empty("GIT_COMMIT")),
                source_repo: non_empty("TEKTON_SOURCE_REPO").or_else(|| non_empty("GIT_URL")),
                url: non_empty("TEKTON_PIPELINE_RUN_URL")
                    .or_else(|| non_empty("TEKTON_PIPELINE_RUN")),
            };
        }
        Pipeline::default()
    }

    /// `Key: value` trailers for the commit message.
    pub fn trailers(&self) -> Vec<(String, String)> {
        let mut t = Vec::new();
        if let Some(c) = &self.source_commit {
            let v = match &self.source_repo {
                Some(r) => format!("{r}@{c}"),
                None => c.clone(),
            };
            t.push(("Source-Commit".to_string(), v));
        }
        if let Some(u) = &self.url {
            t.push(("Pipeline".to_string(), u.clone()));
        }
        t
    }

    /// Template variables: `source_commit`, `source_repo`, `pipeline_url`, `ci`.
    pub fn vars(&self, vars: &mut BTreeMap<String, String>) {
        let mut put = |k: &str, v: &Option<String>| {
            vars.insert(k.to_string(), v.clone().unwrap_or_default());
        };
        put("source_commit", &self.source_commit);
        put("source_repo", &self.source_repo);
        put("pipeline_url", &self.url);
        put("ci", &self.system);
    }
}

/// Appends trailers to a commit message, after one blank line.
pub fn with_trailers(message: &str, trailers: &[(String, String)]) -> String {
    let mut m = message.trim_end().to_string();
    if trailers.is_empty() {
        m.push('\n');
        return m;
    }
    m.push_str("\n\n");
    for (k, v) in trailers {
        m.push_str(&format!("{k}: {v}\n"));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn github_actions() {
        let p = Pipeline::detect(env(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SHA", "abc123"),
            ("GITHUB_REPOSITORY", "acme/api"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_SERVER_URL", "https://github.com"),
        ]));
        assert_eq!(
            p.trailers(),
            vec![
                ("Source-Commit".to_string(), "acme/api@abc123".to_string()),
                (
                    "Pipeline".to_string(),
                    "https://github.com/acme/api/actions/runs/42".to_string()
                )
            ]
        );
    }

    #[test]
    fn gitlab_jenkins_tekton_and_none() {
        let gl = Pipeline::detect(env(&[
            ("GITLAB_CI", "true"),
            ("CI_COMMIT_SHA", "f00"),
            ("CI_PIPELINE_URL", "https://gitlab.example/p/-/pipelines/7"),
        ]));
        assert_eq!(gl.system.as_deref(), Some("gitlab-ci"));
        assert_eq!(
            gl.url.as_deref(),
            Some("https://gitlab.example/p/-/pipelines/7")
        );
        let j = Pipeline::detect(env(&[
            ("JENKINS_URL", "https://ci/"),
            ("BUILD_URL", "https://ci/job/x/3/"),
            ("GIT_COMMIT", "b4d"),
        ]));
        assert_eq!(j.trailers()[0].1, "b4d");
        let t = Pipeline::detect(env(&[
            ("TEKTON_PIPELINE_RUN", "build-run-x"),
            ("GIT_COMMIT", "c0de"),
        ]));
        assert_eq!(t.system.as_deref(), Some("tekton"));
        assert_eq!(Pipeline::detect(env(&[])), Pipeline::default());
    }

    #[test]
    fn trailers_follow_a_blank_line() {
        let m = with_trailers("bump api to v2\n", &[("Pipeline".into(), "u".into())]);
        assert_eq!(m, "bump api to v2\n\nPipeline: u\n");
        assert_eq!(with_trailers("x", &[]), "x\n");
    }
}
