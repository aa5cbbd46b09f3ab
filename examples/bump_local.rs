//! Bump an image in a directory (no git) and show what changed as a unified diff.
use tagbump::bump::{self, Destination, Options};
use tagbump::image::ImageRef;
use tagbump::plan::Request;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("values.yaml");
    let before = "image:\n  repository: ghcr.io/acme/api  # built by CI\n  tag: \"1.4.2\"\n";
    std::fs::write(&file, before)?;

    let change = Request::Image {
        image: ImageRef::parse("ghcr.io/acme/api:1.5.0")?,
        paths: vec![], // search the whole directory
    };
    let to = Destination::Directory(dir.path().to_path_buf());
    let outcome = bump::run(&change, &to, &Options::default(), &|_event| {})?;
    assert_eq!(
        outcome.written,
        vec![std::path::PathBuf::from("values.yaml")]
    );

    let after = std::fs::read_to_string(&file)?;
    let diff = similar::TextDiff::from_lines(before, &after);
    print!(
        "{}",
        diff.unified_diff().header("a/values.yaml", "b/values.yaml")
    );
    Ok(())
}
