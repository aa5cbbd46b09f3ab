// Jenkins shared-library step `tagbump(...)`: write a freshly pushed image tag into a
// GitOps config repository, in the tagbump image.
//
// Load the library (Manage Jenkins → System → Global Trusted Pipeline Libraries, name
// `tagbump`, source https://github.com/tagbump/tagbump.git, library path `jenkins/`), then:
//
//   @Library('tagbump@v0.1.0') _
//   tagbump(image: "${env.IMAGE}:${env.IMAGE_TAG}", repo: env.CONFIG_REPO, paths: 'apps/api')
//
// Arguments (only image and repo are required):
//   image          the image with its new tag
//   repo           the config repository's clone URL
//   paths          files/directories to search, one per line (default: all)
//   branch         branch to update (default: the repository's default branch)
//   message        commit message template
//   pr             'true' to open a pull / merge request instead of pushing
//   extraArgs      more tagbump arguments, one per line (e.g. "--no-downgrade\n--label=deploy")
//   credentialsId  a "Secret text" credential with the access token (default config-repo-token)
//   tagbumpImage   the image to run (default ghcr.io/tagbump/tagbump:0.1.0)
//
// Arguments reach the shell as environment variables, never pasted into the script, so
// quotes and `$` in them are safe; lists are split on newlines only and never globbed.
//
// The token never travels on a command line. The Docker Pipeline plugin runs each step
// inside `docker.image(…).inside` as `docker exec --env NAME=VALUE … <container> …`
// (WithContainerStep's launcher decorator), so a variable bound by withCredentials
// inside the container block would sit in the agent's process list. Instead the token
// is written, on the agent, by a shell built-in (printf) into a file only the agent's
// user can read, in the workspace's @tmp directory, which `.inside` mounts into the
// container at the same path; the step in the container reads it with the shell's
// `read` into TAGBUMP_TOKEN, the environment of tagbump itself, and the file is removed
// afterwards whatever happens.
def call(Map args = [:]) {
  for (required in ['image', 'repo']) {
    if (!args[required]) {
      error("tagbump: the argument '${required}' is required")
    }
  }
  def inputs = [
    "TAGBUMP_INPUT_IMAGE=${args.image}",
    "TAGBUMP_INPUT_REPO=${args.repo}",
    "TAGBUMP_INPUT_PATHS=${args.paths ?: ''}",
    "TAGBUMP_INPUT_BRANCH=${args.branch ?: ''}",
    "TAGBUMP_INPUT_MESSAGE=${args.message ?: ''}",
    "TAGBUMP_INPUT_PR=${args.pr ?: 'false'}",
    "TAGBUMP_INPUT_EXTRA_ARGS=${args.extraArgs ?: ''}",
  ]
  def tokenFile = "${pwd(tmp: true)}/tagbump-token-${env.BUILD_NUMBER ?: 'run'}"
  withEnv(["TAGBUMP_TOKEN_FILE=${tokenFile}"]) {
    try {
      // On the agent (not in the container): the secret reaches this shell through its
      // environment, and printf is a built-in, so no command line ever holds it.
      withCredentials([string(credentialsId: args.credentialsId ?: 'config-repo-token', variable: 'TAGBUMP_SECRET')]) {
        sh '''
          set +x
          umask 077
          printf '%s' "$TAGBUMP_SECRET" > "$TAGBUMP_TOKEN_FILE"
        '''
      }
      docker.image(args.tagbumpImage ?: 'ghcr.io/tagbump/tagbump:0.1.0').inside('--entrypoint=') {
        withEnv(inputs) {
          sh '''
            set +x
            set -euf
            IFS= read -r TAGBUMP_TOKEN < "$TAGBUMP_TOKEN_FILE" || [ -n "${TAGBUMP_TOKEN:-}" ]
            export TAGBUMP_TOKEN
            rm -f "$TAGBUMP_TOKEN_FILE"
            set -- image "--repo=$TAGBUMP_INPUT_REPO"
            if [ -n "$TAGBUMP_INPUT_BRANCH" ]; then set -- "$@" "--branch=$TAGBUMP_INPUT_BRANCH"; fi
            if [ -n "$TAGBUMP_INPUT_MESSAGE" ]; then set -- "$@" "--message=$TAGBUMP_INPUT_MESSAGE"; fi
            if [ "$TAGBUMP_INPUT_PR" = "true" ]; then set -- "$@" --pr; fi
            IFS='
'
            for arg in $TAGBUMP_INPUT_EXTRA_ARGS; do set -- "$@" "$arg"; done
            set -- "$@" -- "$TAGBUMP_INPUT_IMAGE"
            for path in $TAGBUMP_INPUT_PATHS; do set -- "$@" "$path"; done
            unset IFS
            tagbump "$@"
          '''
        }
      }
    } finally {
      sh 'rm -f "$TAGBUMP_TOKEN_FILE"'
    }
  }
}
