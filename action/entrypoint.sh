#!/bin/sh
# The GitHub Action's entrypoint: the `action` image (Dockerfile) runs this script, which
# turns the action's inputs into a tagbump argument vector and `exec`s tagbump.
#
# Every input reaches it through action.yml's `runs.env` as TAGBUMP_INPUT_<NAME> (names
# chosen so they never collide with the TAGBUMP_* variables tagbump reads itself).
# Environment values are handed to the container verbatim, so quotes, newlines and `$`
# in inputs are safe. The secrets (TAGBUMP_TOKEN, TAGBUMP_GITHUB_APP_KEY,
# TAGBUMP_REGISTRY_PASSWORD) are read by tagbump itself and never appear here.
#
# It lives in the image, not in action.yml's `runs.args`: runners with container hooks
# (Actions Runner Controller in kubernetes mode) split `runs.args` on spaces, which a
# multi-line `sh -c` script does not survive. tests/action_yml.rs runs this file the way
# the runner runs the image.
#
# Options are passed as `--flag=value` (values may start with `-`), positional arguments
# after `--`. Globbing is off (set -f): list inputs are split into words, never expanded
# against the file system.
set -euf

fail() {
  echo "tagbump action: $*" >&2
  exit 2
}

is_true() {
  case "$1" in
    true | True | TRUE | yes | 1) return 0 ;;
    false | False | FALSE | no | 0 | '') return 1 ;;
    *) fail "expected true or false, got '$1'" ;;
  esac
}

trim() {
  value=$1
  value=${value#"${value%%[! ]*}"}
  value=${value%"${value##*[! ]}"}
  printf '%s' "$value"
}

command=${TAGBUMP_INPUT_COMMAND:-image}
case "$command" in
  image)
    [ -n "${TAGBUMP_INPUT_IMAGE:-}" ] || fail "input 'image' is required with command: image"
    [ -z "${TAGBUMP_INPUT_ASSIGNMENTS:-}" ] || fail "input 'assignments' belongs to command: set"
    [ -z "${TAGBUMP_INPUT_DOCUMENT:-}" ] || fail "input 'document' belongs to command: set"
    if is_true "${TAGBUMP_INPUT_CREATE:-}"; then fail "input 'create' belongs to command: set"; fi
    [ -z "${TAGBUMP_INPUT_TO:-}${TAGBUMP_INPUT_FROM:-}${TAGBUMP_INPUT_CONFIG:-}" ] || fail "inputs 'to', 'from' and 'config' belong to command: promote (and 'config' to status)"
    set -- image
    [ -z "${TAGBUMP_INPUT_TAG:-}" ] || set -- "$@" "--tag=$TAGBUMP_INPUT_TAG"
    [ -z "${TAGBUMP_INPUT_FLUX_POLICY:-}" ] || set -- "$@" "--flux-policy=$TAGBUMP_INPUT_FLUX_POLICY"
    if is_true "${TAGBUMP_INPUT_APP_VERSION:-}"; then set -- "$@" --app-version; fi
    # One NAME[,TAG] per word: split on whitespace only (globbing is off: set -f).
    for item in ${TAGBUMP_INPUT_ARGOCD_PARAMS:-}; do set -- "$@" "--argocd-param=$item"; done
    if is_true "${TAGBUMP_INPUT_SKIP_UNREADABLE:-}"; then set -- "$@" --skip-unreadable; fi
    if is_true "${TAGBUMP_INPUT_PIN_DIGEST:-}"; then set -- "$@" --pin-digest; fi
    if is_true "${TAGBUMP_INPUT_VERIFY_DIGEST:-}"; then set -- "$@" --verify-digest; fi
    [ -z "${TAGBUMP_INPUT_PLATFORM:-}" ] || set -- "$@" "--platform=$TAGBUMP_INPUT_PLATFORM"
    [ -z "${TAGBUMP_INPUT_STRATEGY:-}" ] || set -- "$@" "--strategy=$TAGBUMP_INPUT_STRATEGY"
    [ -z "${TAGBUMP_INPUT_CONSTRAINT:-}" ] || set -- "$@" "--constraint=$TAGBUMP_INPUT_CONSTRAINT"
    [ -z "${TAGBUMP_INPUT_REGISTRY_CONCURRENCY:-}" ] || set -- "$@" "--registry-concurrency=$TAGBUMP_INPUT_REGISTRY_CONCURRENCY"
    [ -z "${TAGBUMP_INPUT_REGISTRY_USERNAME:-}" ] || set -- "$@" "--registry-username=$TAGBUMP_INPUT_REGISTRY_USERNAME"
    [ -z "${TAGBUMP_INPUT_ARGOCD_APP:-}" ] || set -- "$@" "--argocd-app=$TAGBUMP_INPUT_ARGOCD_APP"
    [ -z "${TAGBUMP_INPUT_ARGOCD_NAMESPACE:-}" ] || set -- "$@" "--argocd-namespace=$TAGBUMP_INPUT_ARGOCD_NAMESPACE"
    [ -z "${TAGBUMP_INPUT_ARGOCD_APP_KIND:-}" ] || set -- "$@" "--argocd-app-kind=$TAGBUMP_INPUT_ARGOCD_APP_KIND"
    [ -z "${TAGBUMP_INPUT_HELM_IMAGE_NAME:-}" ] || set -- "$@" "--helm-image-name=$TAGBUMP_INPUT_HELM_IMAGE_NAME"
    [ -z "${TAGBUMP_INPUT_HELM_IMAGE_TAG:-}" ] || set -- "$@" "--helm-image-tag=$TAGBUMP_INPUT_HELM_IMAGE_TAG"
    [ -z "${TAGBUMP_INPUT_KUSTOMIZE_IMAGE_NAME:-}" ] || set -- "$@" "--kustomize-image-name=$TAGBUMP_INPUT_KUSTOMIZE_IMAGE_NAME"
    # Globs and hosts: split on commas and newlines only (globbing is off: set -f).
    IFS=',
    '
    for item in ${TAGBUMP_INPUT_IGNORE_TAGS:-}; do
      item=$(trim "$item")
      [ -z "$item" ] || set -- "$@" "--ignore-tags=$item"
    done
    for item in ${TAGBUMP_INPUT_INSECURE_REGISTRY:-}; do
      item=$(trim "$item")
      [ -z "$item" ] || set -- "$@" "--insecure-registry=$item"
    done
    # Key files: one per line (a file name may hold commas and spaces).
    IFS='
'
    for item in ${TAGBUMP_INPUT_VERIFY_KEY:-}; do
      item=$(trim "$item")
      [ -z "$item" ] || set -- "$@" "--verify-key=$item"
    done
    unset IFS
    [ -z "${TAGBUMP_INPUT_VERIFY_IDENTITY:-}" ] || set -- "$@" "--verify-identity=$TAGBUMP_INPUT_VERIFY_IDENTITY"
    [ -z "${TAGBUMP_INPUT_VERIFY_ISSUER:-}" ] || set -- "$@" "--verify-issuer=$TAGBUMP_INPUT_VERIFY_ISSUER"
    [ -z "${TAGBUMP_INPUT_TRUSTED_ROOT:-}${TAGBUMP_INPUT_VERIFY_ATTESTATION:-}${TAGBUMP_INPUT_PROVENANCE_SOURCE:-}${TAGBUMP_INPUT_PROVENANCE_REF:-}" ] || set -- "$@" "--trusted-root=$TAGBUMP_INPUT_TRUSTED_ROOT"
    # Attestation types: one per line.
    IFS='
'
    for item in ${TAGBUMP_INPUT_VERIFY_ATTESTATION:-}; do
      item=$(trim "$item")
      [ -z "$item" ] || set -- "$@" "--verify-attestation=$item"
    done
    unset IFS
    [ -z "${TAGBUMP_INPUT_PROVENANCE_SOURCE:-}" ] || set -- "$@" "--provenance-source=$TAGBUMP_INPUT_PROVENANCE_SOURCE"
    [ -z "${TAGBUMP_INPUT_PROVENANCE_REF:-}" ] || set -- "$@" "--provenance-ref=$TAGBUMP_INPUT_PROVENANCE_REF"
    ;;
  set)
    [ -n "${TAGBUMP_INPUT_ASSIGNMENTS:-}" ] || fail "input 'assignments' is required with command: set"
    [ -z "${TAGBUMP_INPUT_IMAGE:-}${TAGBUMP_INPUT_TAG:-}${TAGBUMP_INPUT_PATHS:-}${TAGBUMP_INPUT_FLUX_POLICY:-}${TAGBUMP_INPUT_ARGOCD_PARAMS:-}" ] ||
      fail "inputs 'image', 'tag', 'paths', 'flux-policy' and 'argocd-params' belong to command: image"
    if is_true "${TAGBUMP_INPUT_APP_VERSION:-}"; then fail "input 'app-version' belongs to command: image"; fi
    if is_true "${TAGBUMP_INPUT_SKIP_UNREADABLE:-}"; then fail "input 'skip-unreadable' belongs to command: image"; fi
    [ -z "${TAGBUMP_INPUT_STRATEGY:-}${TAGBUMP_INPUT_PLATFORM:-}${TAGBUMP_INPUT_CONSTRAINT:-}${TAGBUMP_INPUT_IGNORE_TAGS:-}${TAGBUMP_INPUT_REGISTRY_CONCURRENCY:-}${TAGBUMP_INPUT_REGISTRY_USERNAME:-}${TAGBUMP_INPUT_INSECURE_REGISTRY:-}${TAGBUMP_INPUT_VERIFY_KEY:-}${TAGBUMP_INPUT_VERIFY_IDENTITY:-}${TAGBUMP_INPUT_VERIFY_ISSUER:-}${TAGBUMP_INPUT_TRUSTED_ROOT:-}${TAGBUMP_INPUT_VERIFY_ATTESTATION:-}${TAGBUMP_INPUT_PROVENANCE_SOURCE:-}${TAGBUMP_INPUT_PROVENANCE_REF:-}" ] ||
      fail "the registry inputs belong to command: image"
    [ -z "${TAGBUMP_INPUT_ARGOCD_APP:-}${TAGBUMP_INPUT_ARGOCD_NAMESPACE:-}${TAGBUMP_INPUT_ARGOCD_APP_KIND:-}${TAGBUMP_INPUT_HELM_IMAGE_NAME:-}${TAGBUMP_INPUT_HELM_IMAGE_TAG:-}${TAGBUMP_INPUT_KUSTOMIZE_IMAGE_NAME:-}" ] ||
      fail "the Argo CD write-back inputs belong to command: image"
    if is_true "${TAGBUMP_INPUT_PIN_DIGEST:-}" || is_true "${TAGBUMP_INPUT_VERIFY_DIGEST:-}"; then fail "inputs 'pin-digest' and 'verify-digest' belong to command: image"; fi
    [ -z "${TAGBUMP_INPUT_TO:-}${TAGBUMP_INPUT_FROM:-}${TAGBUMP_INPUT_CONFIG:-}" ] || fail "inputs 'to', 'from' and 'config' belong to command: promote (and 'config' to status)"
    set -- set
    if is_true "${TAGBUMP_INPUT_CREATE:-}"; then set -- "$@" --create; fi
    [ -z "${TAGBUMP_INPUT_DOCUMENT:-}" ] || set -- "$@" "--document=$TAGBUMP_INPUT_DOCUMENT"
    ;;
  promote)
    [ -n "${TAGBUMP_INPUT_TO:-}" ] || fail "input 'to' is required with command: promote"
    [ -z "${TAGBUMP_INPUT_ASSIGNMENTS:-}" ] || fail "input 'assignments' belongs to command: set"
    [ -z "${TAGBUMP_INPUT_DOCUMENT:-}" ] || fail "input 'document' belongs to command: set"
    if is_true "${TAGBUMP_INPUT_CREATE:-}"; then fail "input 'create' belongs to command: set"; fi
    [ -z "${TAGBUMP_INPUT_TAG:-}${TAGBUMP_INPUT_PATHS:-}${TAGBUMP_INPUT_FLUX_POLICY:-}${TAGBUMP_INPUT_ARGOCD_PARAMS:-}" ] ||
      fail "inputs 'tag', 'paths', 'flux-policy' and 'argocd-params' belong to command: image"
    if is_true "${TAGBUMP_INPUT_APP_VERSION:-}"; then fail "input 'app-version' belongs to command: image"; fi
    if is_true "${TAGBUMP_INPUT_SKIP_UNREADABLE:-}"; then fail "input 'skip-unreadable' belongs to command: image"; fi
    [ -z "${TAGBUMP_INPUT_STRATEGY:-}${TAGBUMP_INPUT_PLATFORM:-}${TAGBUMP_INPUT_CONSTRAINT:-}${TAGBUMP_INPUT_IGNORE_TAGS:-}${TAGBUMP_INPUT_REGISTRY_CONCURRENCY:-}${TAGBUMP_INPUT_REGISTRY_USERNAME:-}${TAGBUMP_INPUT_INSECURE_REGISTRY:-}${TAGBUMP_INPUT_VERIFY_KEY:-}" ] ||
      fail "the registry inputs belong to command: image"
    [ -z "${TAGBUMP_INPUT_ARGOCD_APP:-}${TAGBUMP_INPUT_ARGOCD_NAMESPACE:-}${TAGBUMP_INPUT_ARGOCD_APP_KIND:-}${TAGBUMP_INPUT_HELM_IMAGE_NAME:-}${TAGBUMP_INPUT_HELM_IMAGE_TAG:-}${TAGBUMP_INPUT_KUSTOMIZE_IMAGE_NAME:-}" ] ||
      fail "the Argo CD write-back inputs belong to command: image"
    if is_true "${TAGBUMP_INPUT_PIN_DIGEST:-}" || is_true "${TAGBUMP_INPUT_VERIFY_DIGEST:-}"; then fail "inputs 'pin-digest' and 'verify-digest' belong to command: image"; fi
    set -- promote "--to=$TAGBUMP_INPUT_TO"
    [ -z "${TAGBUMP_INPUT_FROM:-}" ] || set -- "$@" "--from=$TAGBUMP_INPUT_FROM"
    [ -z "${TAGBUMP_INPUT_CONFIG:-}" ] || set -- "$@" "--config=$TAGBUMP_INPUT_CONFIG"
    ;;
  status)
    # Reads only: the inputs that write (commit, pull request, message, …) are not used.
    [ -z "${TAGBUMP_INPUT_IMAGE:-}" ] || fail "input 'image' belongs to command: image (and promote)"
    [ -z "${TAGBUMP_INPUT_ASSIGNMENTS:-}" ] || fail "input 'assignments' belongs to command: set"
    [ -z "${TAGBUMP_INPUT_DOCUMENT:-}" ] || fail "input 'document' belongs to command: set"
    if is_true "${TAGBUMP_INPUT_CREATE:-}"; then fail "input 'create' belongs to command: set"; fi
    [ -z "${TAGBUMP_INPUT_TAG:-}${TAGBUMP_INPUT_PATHS:-}${TAGBUMP_INPUT_FLUX_POLICY:-}${TAGBUMP_INPUT_ARGOCD_PARAMS:-}" ] ||
      fail "inputs 'tag', 'paths', 'flux-policy' and 'argocd-params' belong to command: image"
    if is_true "${TAGBUMP_INPUT_APP_VERSION:-}"; then fail "input 'app-version' belongs to command: image"; fi
    if is_true "${TAGBUMP_INPUT_SKIP_UNREADABLE:-}"; then fail "input 'skip-unreadable' belongs to command: image"; fi
    [ -z "${TAGBUMP_INPUT_STRATEGY:-}${TAGBUMP_INPUT_PLATFORM:-}${TAGBUMP_INPUT_CONSTRAINT:-}${TAGBUMP_INPUT_IGNORE_TAGS:-}${TAGBUMP_INPUT_REGISTRY_CONCURRENCY:-}${TAGBUMP_INPUT_REGISTRY_USERNAME:-}${TAGBUMP_INPUT_INSECURE_REGISTRY:-}${TAGBUMP_INPUT_VERIFY_KEY:-}" ] ||
      fail "the registry inputs belong to command: image"
    [ -z "${TAGBUMP_INPUT_ARGOCD_APP:-}${TAGBUMP_INPUT_ARGOCD_NAMESPACE:-}${TAGBUMP_INPUT_ARGOCD_APP_KIND:-}${TAGBUMP_INPUT_HELM_IMAGE_NAME:-}${TAGBUMP_INPUT_HELM_IMAGE_TAG:-}${TAGBUMP_INPUT_KUSTOMIZE_IMAGE_NAME:-}" ] ||
      fail "the Argo CD write-back inputs belong to command: image"
    if is_true "${TAGBUMP_INPUT_PIN_DIGEST:-}" || is_true "${TAGBUMP_INPUT_VERIFY_DIGEST:-}"; then fail "inputs 'pin-digest' and 'verify-digest' belong to command: image"; fi
    [ -z "${TAGBUMP_INPUT_TO:-}${TAGBUMP_INPUT_FROM:-}" ] || fail "inputs 'to' and 'from' belong to command: promote"
    set -- status
    if is_true "${TAGBUMP_INPUT_NO_PR:-}"; then set -- "$@" --no-pr; fi
    [ -z "${TAGBUMP_INPUT_CONFIG:-}" ] || set -- "$@" "--config=$TAGBUMP_INPUT_CONFIG"
    [ -z "${TAGBUMP_INPUT_DIR:-}" ] || set -- "$@" "--dir=$TAGBUMP_INPUT_DIR"
    # One repository per line (several: each read in turn, its table under its URL).
    IFS='
'
    for item in ${TAGBUMP_INPUT_REPO:-}; do
      item=$(trim "$item")
      [ -z "$item" ] || set -- "$@" "--repo=$item"
    done
    unset IFS
    [ -z "${TAGBUMP_INPUT_BRANCH:-}" ] || set -- "$@" "--branch=$TAGBUMP_INPUT_BRANCH"
    [ -z "${TAGBUMP_INPUT_VIA:-}" ] || set -- "$@" "--via=$TAGBUMP_INPUT_VIA"
    [ -z "${TAGBUMP_INPUT_USERNAME:-}" ] || set -- "$@" "--username=$TAGBUMP_INPUT_USERNAME"
    [ -z "${TAGBUMP_INPUT_SSH_KEY:-}" ] || set -- "$@" "--ssh-key=$TAGBUMP_INPUT_SSH_KEY"
    [ -z "${TAGBUMP_INPUT_CA_BUNDLE:-}" ] || set -- "$@" "--ca-bundle=$TAGBUMP_INPUT_CA_BUNDLE"
    [ -z "${TAGBUMP_INPUT_FORGE:-}" ] || set -- "$@" "--forge=$TAGBUMP_INPUT_FORGE"
    [ -z "${TAGBUMP_INPUT_API_URL:-}" ] || set -- "$@" "--api-url=$TAGBUMP_INPUT_API_URL"
    [ -z "${TAGBUMP_INPUT_TIMEOUT:-}" ] || set -- "$@" "--timeout=$TAGBUMP_INPUT_TIMEOUT"
    [ -z "${TAGBUMP_INPUT_IO_TIMEOUT:-}" ] || set -- "$@" "--io-timeout=$TAGBUMP_INPUT_IO_TIMEOUT"
    if [ -n "${TAGBUMP_INPUT_OUTPUT:-}" ] || [ -z "${GITHUB_STEP_SUMMARY:-}" ]; then
      [ -z "${TAGBUMP_INPUT_OUTPUT:-}" ] || set -- "$@" "--output=$TAGBUMP_INPUT_OUTPUT"
      exec tagbump "$@"
    fi
    # No output asked for: the Markdown table, on stdout and in the job summary.
    table=$(mktemp)
    rc=0
    tagbump "$@" --output=markdown > "$table" || rc=$?
    cat "$table"
    cat "$table" >> "$GITHUB_STEP_SUMMARY"
    rm -f "$table"
    exit "$rc"
    ;;
  *) fail "input 'command' must be image, set, promote or status, not '$command'" ;;
esac

[ -z "${TAGBUMP_INPUT_DIR:-}" ] || set -- "$@" "--dir=$TAGBUMP_INPUT_DIR"
# One repository per line (several: the change lands in each).
IFS='
'
for item in ${TAGBUMP_INPUT_REPO:-}; do
  item=$(trim "$item")
  [ -z "$item" ] || set -- "$@" "--repo=$item"
done
unset IFS
[ -z "${TAGBUMP_INPUT_JOBS:-}" ] || set -- "$@" "--jobs=$TAGBUMP_INPUT_JOBS"
[ -z "${TAGBUMP_INPUT_VIA:-}" ] || set -- "$@" "--via=$TAGBUMP_INPUT_VIA"
[ -z "${TAGBUMP_INPUT_BRANCH:-}" ] || set -- "$@" "--branch=$TAGBUMP_INPUT_BRANCH"
if is_true "${TAGBUMP_INPUT_COMMIT:-}"; then set -- "$@" --commit; fi
if is_true "${TAGBUMP_INPUT_PUSH:-}"; then set -- "$@" --push; fi
[ -z "${TAGBUMP_INPUT_USERNAME:-}" ] || set -- "$@" "--username=$TAGBUMP_INPUT_USERNAME"
[ -z "${TAGBUMP_INPUT_SSH_KEY:-}" ] || set -- "$@" "--ssh-key=$TAGBUMP_INPUT_SSH_KEY"
[ -z "${TAGBUMP_INPUT_CA_BUNDLE:-}" ] || set -- "$@" "--ca-bundle=$TAGBUMP_INPUT_CA_BUNDLE"
[ -z "${TAGBUMP_INPUT_MESSAGE:-}" ] || set -- "$@" "--message=$TAGBUMP_INPUT_MESSAGE"
[ -z "${TAGBUMP_INPUT_AUTHOR_NAME:-}" ] || set -- "$@" "--author-name=$TAGBUMP_INPUT_AUTHOR_NAME"
[ -z "${TAGBUMP_INPUT_AUTHOR_EMAIL:-}" ] || set -- "$@" "--author-email=$TAGBUMP_INPUT_AUTHOR_EMAIL"
[ -z "${TAGBUMP_INPUT_COMMITTER_NAME:-}" ] || set -- "$@" "--committer-name=$TAGBUMP_INPUT_COMMITTER_NAME"
[ -z "${TAGBUMP_INPUT_COMMITTER_EMAIL:-}" ] || set -- "$@" "--committer-email=$TAGBUMP_INPUT_COMMITTER_EMAIL"
[ -z "${TAGBUMP_INPUT_RETRY_FOR:-}" ] || set -- "$@" "--retry-for=$TAGBUMP_INPUT_RETRY_FOR"
[ -z "${TAGBUMP_INPUT_RETRIES:-}" ] || set -- "$@" "--retries=$TAGBUMP_INPUT_RETRIES"
[ -z "${TAGBUMP_INPUT_TIMEOUT:-}" ] || set -- "$@" "--timeout=$TAGBUMP_INPUT_TIMEOUT"
[ -z "${TAGBUMP_INPUT_IO_TIMEOUT:-}" ] || set -- "$@" "--io-timeout=$TAGBUMP_INPUT_IO_TIMEOUT"
if is_true "${TAGBUMP_INPUT_NO_TRAILERS:-}"; then set -- "$@" --no-trailers; fi
if is_true "${TAGBUMP_INPUT_DRY_RUN:-}"; then set -- "$@" --dry-run; fi
[ -z "${TAGBUMP_INPUT_OUTPUT:-}" ] || set -- "$@" "--output=$TAGBUMP_INPUT_OUTPUT"
if is_true "${TAGBUMP_INPUT_FAIL_IF_UNCHANGED:-}"; then set -- "$@" --fail-if-unchanged; fi
if is_true "${TAGBUMP_INPUT_NO_DOWNGRADE:-}"; then set -- "$@" --no-downgrade; fi
if is_true "${TAGBUMP_INPUT_NO_ALIASED:-}"; then set -- "$@" --no-aliased; fi
[ -z "${TAGBUMP_INPUT_ALLOW_TAGS:-}" ] || set -- "$@" "--allow-tags=$TAGBUMP_INPUT_ALLOW_TAGS"
if is_true "${TAGBUMP_INPUT_PR:-}"; then set -- "$@" --pr; fi
if is_true "${TAGBUMP_INPUT_NO_PR:-}"; then set -- "$@" --no-pr; fi
[ -z "${TAGBUMP_INPUT_PR_BRANCH:-}" ] || set -- "$@" "--pr-branch=$TAGBUMP_INPUT_PR_BRANCH"
[ -z "${TAGBUMP_INPUT_PR_TITLE:-}" ] || set -- "$@" "--pr-title=$TAGBUMP_INPUT_PR_TITLE"
[ -z "${TAGBUMP_INPUT_PR_BODY:-}" ] || set -- "$@" "--pr-body=$TAGBUMP_INPUT_PR_BODY"
if is_true "${TAGBUMP_INPUT_DRAFT:-}"; then set -- "$@" --draft; fi
if is_true "${TAGBUMP_INPUT_AUTO_MERGE:-}"; then set -- "$@" --auto-merge; fi
[ -z "${TAGBUMP_INPUT_MERGE_METHOD:-}" ] || set -- "$@" "--merge-method=$TAGBUMP_INPUT_MERGE_METHOD"
if is_true "${TAGBUMP_INPUT_CLOSE_SUPERSEDED:-}"; then set -- "$@" --close-superseded; fi
[ -z "${TAGBUMP_INPUT_FORGE:-}" ] || set -- "$@" "--forge=$TAGBUMP_INPUT_FORGE"
[ -z "${TAGBUMP_INPUT_API_URL:-}" ] || set -- "$@" "--api-url=$TAGBUMP_INPUT_API_URL"

# Labels may contain spaces: split on commas and newlines only.
IFS=',
'
for item in ${TAGBUMP_INPUT_LABELS:-}; do
  item=$(trim "$item")
  [ -z "$item" ] || set -- "$@" "--label=$item"
done
# User names: split on commas, spaces and newlines.
IFS=' ,
'
for item in ${TAGBUMP_INPUT_REVIEWERS:-}; do set -- "$@" "--reviewer=$item"; done
for item in ${TAGBUMP_INPUT_ASSIGNEES:-}; do set -- "$@" "--assignee=$item"; done

# Positional arguments, split on any whitespace (globbing is off: set -f).
unset IFS
set -- "$@" --
if [ "$command" = image ]; then
  set -- "$@" "$TAGBUMP_INPUT_IMAGE"
  for item in ${TAGBUMP_INPUT_PATHS:-}; do set -- "$@" "$item"; done
elif [ "$command" = promote ]; then
  for item in ${TAGBUMP_INPUT_IMAGE:-}; do set -- "$@" "$item"; done
else
  for item in $TAGBUMP_INPUT_ASSIGNMENTS; do set -- "$@" "$item"; done
fi

exec tagbump "$@"
