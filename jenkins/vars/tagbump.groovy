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
//   paths          files/directories to search, space-separated (default: all)
//   branch         branch to update (default: the repository's default branch)
//   message        commit message template
//   pr             'true' to open a pull / merge request instead of pushing
//   extraArgs      more tagbump flags, space-separated
//   credentialsId  a "Secret text" credential with the access token (default config-repo-token)
//   tagbumpImage   the image to run (default ghcr.io/tagbump/tagbump:0.1.0)
//
// Arguments reach the shell as environment variables, never pasted into the script, so
// quotes and `$` in them are safe; the token only ever lives in TAGBUMP_TOKEN.
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
  docker.image(args.tagbumpImage ?: 'ghcr.io/tagbump/tagbump:0.1.0').inside('--entrypoint=') {
    withCredentials([string(credentialsId: args.credentialsId ?: 'config-repo-token', variable: 'TAGBUMP_TOKEN')]) {
      withEnv(inputs) {
        sh '''
          set -- image "--repo=$TAGBUMP_INPUT_REPO"
          if [ -n "$TAGBUMP_INPUT_BRANCH" ]; then set -- "$@" "--branch=$TAGBUMP_INPUT_BRANCH"; fi
          if [ -n "$TAGBUMP_INPUT_MESSAGE" ]; then set -- "$@" "--message=$TAGBUMP_INPUT_MESSAGE"; fi
          if [ "$TAGBUMP_INPUT_PR" = "true" ]; then set -- "$@" --pr; fi
          tagbump "$@" $TAGBUMP_INPUT_EXTRA_ARGS -- "$TAGBUMP_INPUT_IMAGE" $TAGBUMP_INPUT_PATHS
        '''
      }
    }
  }
}
