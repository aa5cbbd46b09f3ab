//! Command-line arguments. Every flag maps to a library option; nothing here decides
//! behaviour.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Write a freshly pushed container image tag into a GitOps config repository.
///
/// tagbump edits Helm values, kustomizations, plain manifests and Argo CD Image Updater
/// override files without disturbing anything but the edited values, then (optionally)
/// commits and pushes to the config repository, or opens a pull/merge request.
///
/// Exit codes: 0 success (whether or not anything changed); 1 error (nothing was
/// written or pushed); 2 invalid arguments; 3 nothing changed and --fail-if-unchanged
/// was given; 4 the commit was pushed (with --pr: the bot branch) but a later step
/// failed, e.g. the pull/merge request could not be opened or updated (the output names
/// the pushed branch and commit); 5 with several --repo: some repositories landed the
/// change (or had nothing to change), others failed (1: every one failed).
///
/// With --output json, a failed run also prints one JSON object, with an "error" member
/// ({"message": …, "kind": …}) next to what was done before the error.
#[derive(Debug, Parser)]
#[command(name = "tagbump", version = env!("TAGBUMP_LONG_VERSION"), about, long_about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Update every reference to an image (Helm values, kustomizations, manifests, Argo CD
    /// Applications and .argocd-source-<app>.yaml, Flux image policy markers) under the
    /// given paths — no key paths needed.
    ///
    /// Example: tagbump image ghcr.io/acme/api:v1.5.0 apps/api
    Image(Box<ImageArgs>),
    /// Set explicit key paths in YAML files.
    ///
    /// Arguments are files followed by KEY=VALUE assignments for that file:
    /// tagbump set apps/api/values.yaml image.tag=v1.5.0 apps/web/values.yaml frontend.image.tag=2.0.1
    ///
    /// Keys with dots or slashes are quoted: 'podAnnotations."app.kubernetes.io/version"=1.5.0'.
    ///
    /// A file named twice is one file with all its edits, in order. A key path given twice
    /// for a file counts once when the values agree, and is an error (nothing is written)
    /// when they differ.
    Set(Box<SetArgs>),
    /// Show what every environment of .tagbump.yaml runs: per image, its tag, digest and
    /// places in each environment, and whether they agree
    ///
    /// Reads only: nothing is written, committed or pushed. With --repo the remote's
    /// branch is read (its default branch unless --branch), through the forge's API
    /// or a shallow sparse clone of the environments' paths.
    ///
    /// Example: tagbump status --output markdown >> "$GITHUB_STEP_SUMMARY"
    Status(Box<StatusArgs>),
    /// Promote what one environment of .tagbump.yaml runs into another: every image
    /// both reference (or only those named) takes the source's tag and digest in every
    /// place under the target's paths.
    ///
    /// Lands like `image`: the files in DIR, a commit (--commit, --push), or --repo
    /// (several: each repository on its own, exit code 5 when some failed).
    ///
    /// Example: tagbump promote --to prod
    Promote(Box<PromoteArgs>),
    /// Print shell completions.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

impl Command {
    /// Splits every `--repo` value (and TAGBUMP_REPO) into one URL per line, lines
    /// trimmed and blank lines dropped: a CI input or Tekton param holding a list
    /// reaches tagbump as one value. A URL never holds a line break. A value with no
    /// URL at all (`--repo ""`) stays, to be refused as any bad URL is, never read as
    /// "no --repo" (which would edit the working directory instead).
    pub fn split_repo_lines(&mut self) {
        let repos = match self {
            Command::Image(a) => &mut a.common.git.repo,
            Command::Set(a) => &mut a.common.git.repo,
            Command::Promote(a) => &mut a.common.git.repo,
            Command::Status(a) => &mut a.remote.repo,
            Command::Completions { .. } => return,
        };
        *repos = (repos.iter())
            .flat_map(|value| {
                let urls: Vec<String> = (value.lines())
                    .map(str::trim)
                    .filter(|url| !url.is_empty())
                    .map(str::to_string)
                    .collect();
                if urls.is_empty() {
                    vec![value.clone()]
                } else {
                    urls
                }
            })
            .collect();
    }
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The config repository's checkout (ignored with --repo).
    #[arg(short = 'C', long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// The environments file on this machine (default: .tagbump.yaml in DIR, or of
    /// the branch of --repo). Its paths are relative to the repository root wherever
    /// it is.
    #[arg(long, value_name = "FILE", env = "TAGBUMP_CONFIG")]
    pub config: Option<PathBuf>,
    /// Output format: a table, one JSON object, or a Markdown table (for a pull request
    /// comment or $GITHUB_STEP_SUMMARY).
    #[arg(long, value_enum, default_value = "text")]
    pub output: StatusFormat,
    /// Accepted as by the other commands, so one set of flags serves them all:
    /// `status` never opens a pull request (nor writes anything).
    #[arg(long)]
    pub no_pr: bool,
    #[command(flatten)]
    pub remote: ReadArgs,
}

/// Reading a remote config repository (`status --repo`): the flags of `image` that
/// matter for a read.
#[derive(Debug, Args)]
#[command(next_help_heading = "Remote repository")]
pub struct ReadArgs {
    /// Read this config repository (HTTPS, SSH, git:// or file://) instead of DIR.
    /// Repeatable (or one URL per line): each repository is read in turn, its status
    /// under its URL (JSON: "targets"); the exit code is 5 when some could not be read.
    #[arg(long, value_name = "URL", env = "TAGBUMP_REPO")]
    pub repo: Vec<String>,
    /// The branch to read. Default: the remote's default branch.
    #[arg(long, env = "TAGBUMP_BRANCH", requires = "repo")]
    pub branch: Option<String>,
    /// How the branch is read: through the forge's API, with git (a shallow sparse
    /// clone), or auto: the API for an https:// GitHub or GitLab remote with a token.
    #[arg(long, value_enum, default_value = "auto", env = "TAGBUMP_VIA")]
    pub via: tagbump::land::via::Via,
    /// Name of the environment variable holding the HTTPS / API token (default: as
    /// for `image`).
    #[arg(long, value_name = "NAME")]
    pub token_env: Option<String>,
    /// Authenticate as this GitHub App (needs --github-app-key or TAGBUMP_GITHUB_APP_KEY).
    #[arg(long, value_name = "ID", env = "TAGBUMP_GITHUB_APP_ID")]
    pub github_app_id: Option<String>,
    /// The GitHub App's private key (PEM file).
    #[arg(long, value_name = "FILE")]
    pub github_app_key: Option<PathBuf>,
    /// Username for HTTPS token auth.
    #[arg(long, env = "TAGBUMP_USERNAME")]
    pub username: Option<String>,
    /// SSH private key file.
    #[arg(long, value_name = "FILE", env = "TAGBUMP_SSH_KEY")]
    pub ssh_key: Option<PathBuf>,
    /// CA bundle for HTTPS.
    #[arg(long, value_name = "FILE", env = "TAGBUMP_CA_BUNDLE")]
    pub ca_bundle: Option<PathBuf>,
    /// Forge type. Default: from the repository URL.
    #[arg(long, value_enum)]
    pub forge: Option<tagbump::forge::ForgeKind>,
    /// API base URL (GitHub Enterprise: https://HOST/api/v3, GitLab: https://HOST/api/v4).
    #[arg(long, value_name = "URL", env = "TAGBUMP_API_URL")]
    pub api_url: Option<String>,
    /// The whole read must finish within this time.
    #[arg(long, value_name = "DURATION", default_value = "10m", env = "TAGBUMP_TIMEOUT", value_parser = tagbump::retry::parse_duration)]
    pub timeout: std::time::Duration,
    /// Abandon a network step when the server sends nothing for this long.
    #[arg(long, value_name = "DURATION", default_value = "60s", env = "TAGBUMP_IO_TIMEOUT", value_parser = tagbump::retry::parse_duration)]
    pub io_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The environment to promote into.
    #[arg(long, value_name = "ENV")]
    pub to: String,
    /// The environment to promote from (default, or empty: the target's `from`).
    #[arg(long, value_name = "ENV")]
    pub from: Option<String>,
    /// Only these images (repository names, e.g. ghcr.io/acme/api); each must be
    /// referenced in both environments. Default: every image both reference.
    #[arg(value_name = "IMAGE")]
    pub images: Vec<String>,
    /// The environments file on this machine (default: .tagbump.yaml at the root of
    /// the repository edited: DIR, or the branch of --repo). Its paths are relative to
    /// the repository root wherever it is.
    #[arg(long, value_name = "FILE", env = "TAGBUMP_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// A table.
    Text,
    /// One JSON object on stdout (on failure too, with an "error" member).
    Json,
    /// A Markdown table: a row per image, a column per environment.
    Markdown,
}

#[derive(Debug, Args)]
pub struct ImageArgs {
    /// The image with its new tag and/or digest: REPOSITORY:TAG, REPOSITORY@sha256:…,
    /// or REPOSITORY with --tag.
    pub image: String,
    /// Files or directories to search (relative to --dir, or to the clone with --repo).
    /// Default: the whole tree.
    pub paths: Vec<PathBuf>,
    /// The new tag, when IMAGE has none.
    #[arg(long, env = "TAGBUMP_TAG")]
    pub tag: Option<String>,
    /// Write exactly the fields marked for this Flux image policy
    /// (# {"$imagepolicy": "NAMESPACE:NAME"} and its :tag, :name, :digest forms), and
    /// nothing else. Without it, marked fields are written when their policy's
    /// reference or :name field names IMAGE.
    #[arg(long, value_name = "NAMESPACE:NAME", env = "TAGBUMP_FLUX_POLICY", value_parser = tagbump::targets::FluxPolicy::parse)]
    pub flux_policy: Option<tagbump::targets::FluxPolicy>,
    /// Also set the appVersion of the Chart.yaml of each chart whose values refer to
    /// IMAGE (or of a Chart.yaml named in PATHS).
    #[arg(long, env = "TAGBUMP_APP_VERSION")]
    pub app_version: bool,
    /// Argo CD Helm parameters that hold IMAGE under other names: REPOSITORY_PARAM,TAG_PARAM
    /// (e.g. backend.img.name,backend.img.version), or one PARAM holding the whole
    /// reference. Repeatable. (image.repository / image.name + image.tag pairs and
    /// *.image parameters are found without it.)
    #[arg(long = "argocd-param", value_name = "NAME[,TAG]")]
    pub argocd_params: Vec<String>,
    /// Update the other files even when a file that could not be read (malformed YAML,
    /// too large, not UTF-8) names IMAGE. Without it such a run fails before writing
    /// anything (error kind skipped-reference).
    #[arg(long, env = "TAGBUMP_SKIP_UNREADABLE")]
    pub skip_unreadable: bool,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub argocd: ArgoArgs,
}

/// Writing Argo CD Image Updater's override file instead of searching.
#[derive(Debug, Args)]
#[command(next_help_heading = "Argo CD Image Updater write-back")]
pub struct ArgoArgs {
    /// Write only this application's .argocd-source-<app>.yaml in the one PATH given
    /// (its source directory), exactly as Argo CD Image Updater's git write-back
    /// writes it; values files are not touched. NAMESPACE/NAME for an application
    /// outside Argo CD's namespace (file .argocd-source-<namespace>_<app>.yaml).
    #[arg(long, value_name = "[NAMESPACE/]NAME", env = "TAGBUMP_ARGOCD_APP")]
    pub argocd_app: Option<String>,
    /// Argo CD's own namespace, for the file name of --argocd-app NAMESPACE/NAME.
    #[arg(long, value_name = "NAMESPACE", default_value = "argocd")]
    pub argocd_namespace: String,
    /// The application's kind. Default: Chart.yaml in the directory → helm,
    /// kustomization.yaml → kustomize.
    #[arg(long, value_enum, value_name = "KIND")]
    pub argocd_app_kind: Option<tagbump::argocd_source::AppKind>,
    /// With --argocd-app (Helm): the parameter for the repository.
    #[arg(long, value_name = "PARAM", default_value = "image.name")]
    pub helm_image_name: String,
    /// With --argocd-app (Helm): the parameter for the tag.
    #[arg(long, value_name = "PARAM", default_value = "image.tag")]
    pub helm_image_tag: String,
    /// With --argocd-app (Kustomize): the image name to override (written NAME=IMAGE:TAG).
    #[arg(long, value_name = "NAME")]
    pub kustomize_image_name: Option<String>,
}

/// Reading the image's registry (OCI distribution API).
#[derive(Debug, Args)]
#[command(next_help_heading = "Registry")]
pub struct RegistryArgs {
    /// Resolve the tag's digest from the registry and write it where the target has room
    /// for it: repo:tag@sha256:… in image strings, a `digest` (or `sha`, the hex alone)
    /// next to a Helm image's `tag`, `digest` in kustomize images[]. For a multi-platform
    /// image the index's digest is written (see --platform).
    #[arg(long, env = "TAGBUMP_PIN_DIGEST")]
    pub pin_digest: bool,
    /// Check the digest given in IMAGE (IMAGE:TAG@sha256:…) against the registry: the
    /// tag must point to it (without a tag, the repository must hold it).
    #[arg(long, env = "TAGBUMP_VERIFY_DIGEST")]
    pub verify_digest: bool,
    /// Require a cosign signature of the digest by this public key (PEM: ECDSA
    /// P-256/P-384, Ed25519, RSA); repeatable, any one key suffices. The tag's digest
    /// is resolved, its `sha256-<hex>.sig` signatures (else the Sigstore bundles among
    /// its OCI referrers, cosign 3's format) checked and the verified digest
    /// written as --pin-digest does; with --strategy the best candidate that verifies
    /// wins. Without the flag: TAGBUMP_VERIFY_KEY, one file per line (blank lines
    /// skipped).
    #[arg(long = "verify-key", value_name = "FILE")]
    pub verify_key: Vec<std::path::PathBuf>,
    /// Require a keyless cosign signature (Fulcio certificate) whose SAN (email or URI)
    /// is ID; `regexp:RE` matches the whole SAN. Needs --verify-issuer. Checked offline
    /// against the trusted root (--trusted-root, default the embedded Sigstore
    /// public-good and GitHub roots): chain, Rekor entry or RFC 3161 timestamp, SCT. With
    /// --verify-key, either suffices.
    /// Without the flag: TAGBUMP_VERIFY_IDENTITY (empty: unset).
    #[arg(long = "verify-identity", value_name = "ID")]
    pub verify_identity: Option<String>,
    /// The OIDC issuer the keyless certificate must name (e.g.
    /// https://token.actions.githubusercontent.com); `regexp:RE` matches it whole.
    /// Without the flag: TAGBUMP_VERIFY_ISSUER (empty: unset).
    #[arg(long = "verify-issuer", value_name = "ISSUER")]
    pub verify_issuer: Option<String>,
    /// A Sigstore trusted_root.json to check keyless signatures against, instead of
    /// the embedded roots (no trust material is fetched).
    /// Without the flag: TAGBUMP_TRUSTED_ROOT (empty: unset).
    #[arg(long = "trusted-root", value_name = "FILE")]
    pub trusted_root: Option<String>,
    /// With --verify-key or --verify-identity: also require an in-toto attestation
    /// (DSSE) of this predicate type for the digest, signed under the same policy, e.g.
    /// https://slsa.dev/provenance/v1 (repeatable: all are required). Read from the
    /// `sha256-<hex>.att` tag, else from OCI referrers holding Sigstore bundles.
    /// Without the flag: TAGBUMP_VERIFY_ATTESTATION, one type per line.
    #[arg(long = "verify-attestation", value_name = "TYPE")]
    pub verify_attestation: Vec<String>,
    /// Require SLSA v1 provenance (implies --verify-attestation
    /// https://slsa.dev/provenance/v1) naming this source repository
    /// (`buildDefinition.externalParameters.workflow.repository`, or a
    /// `resolvedDependencies` uri `git+REPO_URI` followed by `@`, `#` or the end).
    #[arg(long, value_name = "REPO_URI", env = "TAGBUMP_PROVENANCE_SOURCE")]
    pub provenance_source: Option<String>,
    /// Require SLSA v1 provenance naming this ref (the workflow's `ref`, or `@REF` of
    /// a `git+` dependency; with --provenance-source, of that source), e.g.
    /// refs/heads/main.
    #[arg(long, value_name = "REF", env = "TAGBUMP_PROVENANCE_REF")]
    pub provenance_ref: Option<String>,
    /// With --pin-digest / --verify-digest / --strategy digest: the digest of this
    /// platform's image inside a multi-platform index (os/arch[/variant]). With
    /// --strategy newest-build: whose build time counts (default linux/amd64).
    #[arg(long, value_name = "OS/ARCH", env = "TAGBUMP_PLATFORM")]
    pub platform: Option<String>,
    /// Choose the tag from the registry (give IMAGE without a tag): semver (highest
    /// version), newest-build (latest image `created` time), alphabetical (last
    /// name), digest (the current digest of IMAGE:TAG, for mutable tags such as
    /// latest). As Argo CD Image Updater's update strategies; --allow-tags,
    /// --ignore-tags and --constraint filter the candidates.
    #[arg(long, value_enum, value_name = "STRATEGY", env = "TAGBUMP_STRATEGY")]
    pub strategy: Option<tagbump::registry::Strategy>,
    /// With --strategy semver: only versions in this range (1.2.x, ^1.2, ~1.2,
    /// ">=1.2 <2", "1.x || 2.x"; append -0 to allow pre-releases: 2.x-0).
    #[arg(long, value_name = "RANGE", env = "TAGBUMP_CONSTRAINT")]
    pub constraint: Option<String>,
    /// With --strategy: skip tags matching this glob (* and ?); repeatable.
    #[arg(long = "ignore-tags", value_name = "GLOB")]
    pub ignore_tags: Vec<String>,
    /// Registry username; the password is read from TAGBUMP_REGISTRY_PASSWORD. Default:
    /// Docker's config.json (auths, credsStore, credHelpers), else anonymous.
    #[arg(long, value_name = "USER", env = "TAGBUMP_REGISTRY_USERNAME")]
    pub registry_username: Option<String>,
    /// Allow plain HTTP to this registry host (as Docker's insecure-registries);
    /// localhost and 127.0.0.0/8 always may. Repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registry: Vec<String>,
    /// Registry requests in flight at once (manifests, config blobs), 1 to 16; a 429
    /// pauses them all.
    #[arg(
        long,
        value_name = "N",
        env = "TAGBUMP_REGISTRY_CONCURRENCY",
        default_value_t = 8,
        value_parser = clap::value_parser!(u8).range(1..=16)
    )]
    pub registry_concurrency: u8,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// FILE KEY=VALUE… [FILE KEY=VALUE…]…
    #[arg(required = true, num_args = 1.., value_name = "FILE|KEY=VALUE")]
    pub items: Vec<String>,
    /// Add keys that do not exist yet under the deepest existing mapping.
    #[arg(long)]
    pub create: bool,
    /// Only edit this document of multi-document files (0-based); it must have the key.
    /// Default: every document that has the key (documents without it are skipped; an
    /// error only if none has it).
    #[arg(long, value_name = "N")]
    pub document: Option<usize>,
    /// The YAML type of the new values. auto: a plain int, float or bool stays one when
    /// the new value is that type in canonical form (replicas: 1 → 3, enabled: true →
    /// false, ratio: 0.5 → 0.75), anything else is written as a string, quoted where
    /// plain text would read as something else (tag: 1.9 → "1.10"). string, int,
    /// float, bool: that type (int, float and bool written plain); the report names
    /// every change of type.
    #[arg(long = "type", value_enum, value_name = "TYPE", default_value = "auto")]
    pub value_type: tagbump::yaml::ValueType,
    /// Allow KEY= (an empty value); without it an empty value is refused as a likely
    /// mistake (an unset variable).
    #[arg(long)]
    pub allow_empty: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object on stdout (on failure too, with an "error" member).
    Json,
}

#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Show a unified diff and write, commit and push nothing.
    #[arg(long, env = "TAGBUMP_DRY_RUN")]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text", env = "TAGBUMP_OUTPUT")]
    pub output: OutputFormat,
    /// Also append the step outputs (changed=…, commit-sha=…, branch=…, pushed=…, via=…,
    /// verified=…, files=…, pr-number=…, pr-url=…) to this file, as for GitHub's $GITHUB_OUTPUT (Tekton
    /// results, GitLab dotenv reports).
    #[arg(long, value_name = "FILE", env = "TAGBUMP_OUTPUTS_FILE")]
    pub outputs_file: Option<PathBuf>,
    /// Exit with code 3 when nothing changed.
    #[arg(long)]
    pub fail_if_unchanged: bool,
    /// Work in this directory (a local checkout) instead of the current one. Ignored
    /// with --repo.
    #[arg(short = 'C', long, value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// Refuse to move a tag to a lower semantic version.
    #[arg(long, env = "TAGBUMP_NO_DOWNGRADE")]
    pub no_downgrade: bool,
    /// Refuse an edit that would also change other values through YAML aliases (a value
    /// under an `&anchor` that is used as `*anchor` elsewhere). Without it such edits are
    /// made and the other paths reported.
    #[arg(long, env = "TAGBUMP_NO_ALIASED")]
    pub no_aliased: bool,
    /// Refuse new tags that do not match this regular expression.
    #[arg(long, value_name = "REGEX", env = "TAGBUMP_ALLOW_TAGS")]
    pub allow_tags: Option<String>,
    #[command(flatten)]
    pub git: GitArgs,
    #[command(flatten)]
    pub pr: PrArgs,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Git")]
pub struct GitArgs {
    /// Clone this config repository (HTTPS, SSH, git:// or file://), edit, commit and push.
    /// Repeatable (or one URL per line, as TAGBUMP_REPO or a CI input holds a list): the
    /// change lands in each repository on its own, --jobs at once, each with its own
    /// retries and pull request; the output has one entry per repository (JSON:
    /// "targets"), and the exit code is 5 when some landed and some failed.
    #[arg(long, value_name = "URL", env = "TAGBUMP_REPO")]
    pub repo: Vec<String>,
    /// With several --repo: how many repositories are worked on at once.
    #[arg(long, value_name = "N", default_value_t = tagbump::bump::DEFAULT_CONCURRENCY as u16, env = "TAGBUMP_JOBS", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// How the change lands with --repo: through the forge's API (no clone; the forge
    /// makes the commit, Verified on GitHub), with git (clone, commit, push), or auto:
    /// the API for an https:// GitHub or GitLab remote with a token, git otherwise.
    #[arg(long, value_enum, default_value = "auto", env = "TAGBUMP_VIA")]
    pub via: tagbump::land::via::Via,
    /// Branch to update. Default: the remote's default branch (with --repo).
    #[arg(long, env = "TAGBUMP_BRANCH")]
    pub branch: Option<String>,
    /// In a local checkout (without --repo): commit the changed files.
    #[arg(long)]
    pub commit: bool,
    /// In a local checkout: commit and push to the branch's upstream.
    #[arg(long)]
    pub push: bool,
    /// Name of the environment variable holding the HTTPS / API token, sent to whatever
    /// host --repo names. Default: the first set of TAGBUMP_TOKEN (any host),
    /// GITHUB_TOKEN (only the GitHub host of the run: github.com or $GITHUB_SERVER_URL),
    /// GITLAB_TOKEN (only gitlab.com or $CI_SERVER_HOST), CI_JOB_TOKEN (only
    /// $CI_SERVER_HOST) that belongs to the repository's host.
    #[arg(long, value_name = "NAME")]
    pub token_env: Option<String>,
    /// Authenticate as this GitHub App (app ID or client ID): tagbump mints an installation
    /// token for the --repo repository, used for git and the API instead of any token
    /// variable (and only for that repository's GitHub host). Needs --github-app-key.
    #[arg(long, value_name = "ID", env = "TAGBUMP_GITHUB_APP_ID")]
    pub github_app_id: Option<String>,
    /// The GitHub App's private key (PEM file). Or put the PEM itself in
    /// TAGBUMP_GITHUB_APP_KEY.
    #[arg(long, value_name = "FILE")]
    pub github_app_key: Option<PathBuf>,
    /// Username for HTTPS token auth. Default: x-access-token (GitHub), oauth2 (GitLab),
    /// gitlab-ci-token (CI_JOB_TOKEN).
    #[arg(long, env = "TAGBUMP_USERNAME")]
    pub username: Option<String>,
    /// SSH private key file (otherwise the SSH agent / GIT_SSH_COMMAND / ~/.ssh).
    #[arg(long, value_name = "FILE", env = "TAGBUMP_SSH_KEY")]
    pub ssh_key: Option<PathBuf>,
    /// CA bundle for HTTPS (self-hosted forges with a private CA).
    #[arg(long, value_name = "FILE", env = "TAGBUMP_CA_BUNDLE")]
    pub ca_bundle: Option<PathBuf>,
    /// Commit message template. Placeholders: {image} {tag} {digest} {summary} {files}
    /// {source_commit} {source_repo} {pipeline_url} {image_slug} {tag_slug} {slug}
    /// ({slug} is {image_slug}/{tag_slug}).
    #[arg(long, value_name = "TEMPLATE", env = "TAGBUMP_MESSAGE")]
    pub message: Option<String>,
    /// Author name. Default: GIT_AUTHOR_NAME, else "tagbump".
    #[arg(long, env = "GIT_AUTHOR_NAME")]
    pub author_name: Option<String>,
    /// Author email. Default: GIT_AUTHOR_EMAIL, else "tagbump@localhost".
    #[arg(long, env = "GIT_AUTHOR_EMAIL")]
    pub author_email: Option<String>,
    /// Committer name. Default: GIT_COMMITTER_NAME, else the author.
    #[arg(long, env = "GIT_COMMITTER_NAME")]
    pub committer_name: Option<String>,
    /// Committer email. Default: GIT_COMMITTER_EMAIL, else the author's.
    #[arg(long, env = "GIT_COMMITTER_EMAIL")]
    pub committer_email: Option<String>,
    /// How long to keep trying when another pipeline pushed first (or the connection
    /// dropped): each lost race fetches the new tip and re-applies the edit, with
    /// jittered exponential backoff. E.g. 90s, 3m, 1h.
    #[arg(long, value_name = "DURATION", default_value = "3m", env = "TAGBUMP_RETRY_FOR", value_parser = tagbump::retry::parse_duration)]
    pub retry_for: std::time::Duration,
    /// Also give up after N attempts, even with --retry-for time left. Default: no limit.
    #[arg(long, value_name = "N", env = "TAGBUMP_RETRIES")]
    pub retries: Option<u32>,
    /// The whole run must finish within this time, retries included.
    #[arg(long, value_name = "DURATION", default_value = "10m", env = "TAGBUMP_TIMEOUT", value_parser = tagbump::retry::parse_duration)]
    pub timeout: std::time::Duration,
    /// Abandon a network step (clone, fetch, push) when the server sends nothing for
    /// this long; also the connect timeout.
    #[arg(long, value_name = "DURATION", default_value = "60s", env = "TAGBUMP_IO_TIMEOUT", value_parser = tagbump::retry::parse_duration)]
    pub io_timeout: std::time::Duration,
    /// Do not add Source-Commit / Pipeline trailers from the CI environment.
    #[arg(long)]
    pub no_trailers: bool,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Pull / merge requests")]
pub struct PrArgs {
    /// Push to a branch and open a pull request (GitHub) / merge request (GitLab)
    /// instead of pushing to the target branch. Needs --repo.
    #[arg(long, env = "TAGBUMP_PR")]
    pub pr: bool,
    /// Open no pull request: push to the branch itself (with --repo), even for an
    /// environment with `pr: true` (promote); wins over --pr and TAGBUMP_PR. Accepted
    /// by every command, also without --repo, so that one set of flags serves them all.
    #[arg(long, env = "TAGBUMP_NO_PR")]
    pub no_pr: bool,
    /// Branch name template for --pr. Placeholders as for --message.
    #[arg(long, value_name = "TEMPLATE", default_value = "tagbump/{slug}")]
    pub pr_branch: String,
    /// Forge type. Default: from the repository URL.
    #[arg(long, value_enum)]
    pub forge: Option<tagbump::forge::ForgeKind>,
    /// API base URL (GitHub Enterprise: https://HOST/api/v3, GitLab: https://HOST/api/v4).
    #[arg(long, value_name = "URL", env = "TAGBUMP_API_URL")]
    pub api_url: Option<String>,
    /// PR title template.
    #[arg(long, value_name = "TEMPLATE")]
    pub pr_title: Option<String>,
    /// PR body template; {changes} lists each change.
    #[arg(long, value_name = "TEMPLATE")]
    pub pr_body: Option<String>,
    /// Label to add (repeatable).
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// Reviewer to request (repeatable).
    #[arg(long = "reviewer", value_name = "USER")]
    pub reviewers: Vec<String>,
    /// Assignee (repeatable).
    #[arg(long = "assignee", value_name = "USER")]
    pub assignees: Vec<String>,
    /// Open the PR as a draft.
    #[arg(long)]
    pub draft: bool,
    /// Enable auto-merge (GitHub; a PR that is already mergeable is merged now) /
    /// auto-merge (GitLab; merges at once when there is no pipeline). Only the pushed
    /// commit is merged.
    #[arg(long)]
    pub auto_merge: bool,
    /// How --auto-merge merges. Default: the repository's (GitHub: the first allowed
    /// of merge, squash, rebase; GitLab: the project's merge method and squash option).
    #[arg(long, value_enum, value_name = "METHOD")]
    pub merge_method: Option<tagbump::forge::MergeMethod>,
    /// Close older open tagbump PRs for the same image that this one supersedes, and
    /// delete their branches (only those holding just tagbump's commit).
    #[arg(long)]
    pub close_superseded: bool,
}

impl PrArgs {
    /// Whether a pull request was asked for: `Some(true)` for --pr (or TAGBUMP_PR),
    /// `Some(false)` for --no-pr (which wins over TAGBUMP_PR), `None` for neither.
    pub fn asked(&self) -> Option<bool> {
        match (self.pr, self.no_pr) {
            (_, true) => Some(false),
            (true, false) => Some(true),
            (false, false) => None,
        }
    }

    /// Whether this run opens a pull request (promote adds the environment's `pr`).
    pub fn wanted(&self) -> bool {
        self.asked() == Some(true)
    }
}
