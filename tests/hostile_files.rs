//! Hostile files: files built to exhaust memory or to hang a reader (huge files, FIFOs,
//! devices, names that are not UTF-8). Each must get a clear error and leave every file as
//! it was. (Hostile YAML text, alias bombs and the like, is the editor's:
//! `crates/tagbump-yaml/tests/hostile_yaml.rs`.)

use std::path::{Path, PathBuf};

use tagbump::image::ImageRef;
use tagbump::plan::{plan, FileEdits, Options, PlanError, Request};
use tagbump::yaml::file::{edit_file, read_text_with_limit, FileError, MAX_FILE_BYTES};
use tagbump::yaml::{Edit, EditOptions, KeyPath};

fn set(path: &str, value: &str) -> Vec<Edit> {
    vec![Edit::new(KeyPath::parse(path).expect("valid path"), value)]
}

// 2. Huge files

const VALUES: &str = "image:\n  repository: ghcr.io/acme/api\n  tag: v1\n";

#[test]
fn a_file_over_the_size_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("values.yaml");
    // Sparse: 17 MiB that take no disk, and that must not be read into memory either.
    let file = std::fs::File::create(&path).expect("create");
    file.set_len(MAX_FILE_BYTES + 1024 * 1024).expect("grow");
    let err =
        edit_file(&path, &set("image.tag", "v2"), EditOptions::default()).expect_err("too large");
    assert!(
        matches!(err, FileError::TooLarge { size, limit, .. }
            if size == 17 * 1024 * 1024 && limit == MAX_FILE_BYTES),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: 17 MiB is more than the limit of 16 MiB for a YAML file; refusing to read it",
            path.display()
        )
    );
}

#[test]
fn the_size_limit_can_be_chosen_and_a_file_at_the_limit_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("values.yaml");
    std::fs::write(&path, VALUES).expect("write");
    let size = VALUES.len() as u64;
    assert_eq!(
        read_text_with_limit(&path, size).expect("at the limit"),
        VALUES
    );
    let err = read_text_with_limit(&path, size - 1).expect_err("over the limit");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: {size} bytes is more than the limit of {} bytes for a YAML file; refusing to read it",
            path.display(),
            size - 1
        )
    );
}

// 3. Only regular files

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

fn set_request(file: &str, path: &str, value: &str) -> Request {
    Request::Set {
        files: vec![FileEdits {
            file: PathBuf::from(file),
            edits: set(path, value),
        }],
    }
}

#[cfg(unix)]
#[test]
fn a_fifo_named_like_a_values_file_is_refused_not_read() {
    // Reading a FIFO blocks until a writer comes: without the check this test hangs.
    let dir = tempfile::tempdir().expect("tempdir");
    mkfifo(&dir.path().join("values.yaml"));
    let err = plan(
        dir.path(),
        &set_request("values.yaml", "image.tag", "v2"),
        &Options::default(),
    )
    .expect_err("a FIFO is not a values file");
    assert!(
        matches!(&err, PlanError::File(FileError::NotAFile { kind, .. }) if *kind == "a FIFO (named pipe)"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "values.yaml: not a regular file but a FIFO (named pipe); only regular files (or symbolic links to them) are read"
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_to_a_regular_file_is_edited_but_one_to_a_device_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("real.yaml"), VALUES).expect("write");
    std::os::unix::fs::symlink("real.yaml", dir.path().join("values.yaml")).expect("symlink");
    let planned = plan(
        dir.path(),
        &set_request("values.yaml", "image.tag", "v2"),
        &Options::default(),
    )
    .expect("a link to a regular file is fine");
    assert_eq!(
        planned.files[0].outcome.text,
        VALUES.replace("tag: v1", "tag: v2")
    );

    let err = edit_file(
        Path::new("/dev/zero"),
        &set("a", "b"),
        EditOptions::default(),
    )
    .expect_err("a device is not a values file");
    assert_eq!(
        err.to_string(),
        "/dev/zero: not a regular file but a character device; only regular files (or symbolic links to them) are read"
    );
}

// 3 and 4. What a directory search skips, it reports

#[cfg(unix)]
#[test]
fn searching_a_directory_reports_fifos_and_names_that_are_not_utf8_and_edits_the_rest() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let apps = dir.path().join("apps");
    std::fs::create_dir_all(&apps).expect("mkdir");
    std::fs::write(apps.join("values.yaml"), VALUES).expect("write");
    mkfifo(&apps.join("pipe.yaml"));
    let latin1 = apps.join(std::ffi::OsStr::from_bytes(b"caf\xe9.yaml"));
    std::fs::write(&latin1, VALUES).expect("write");
    let odd_dir = apps.join(std::ffi::OsStr::from_bytes(b"d\xff"));
    std::fs::create_dir(&odd_dir).expect("mkdir");
    std::fs::write(odd_dir.join("values.yaml"), VALUES).expect("write");
    // Not YAML, not reported.
    std::fs::write(
        apps.join(std::ffi::OsStr::from_bytes(b"notes\xe9.txt")),
        "x",
    )
    .expect("write");

    let request = Request::Image {
        image: ImageRef::parse("ghcr.io/acme/api:v2").expect("image"),
        paths: vec![],
    };
    // The file whose name is not UTF-8 holds the image: by default that stops the plan
    // (a directory not walked is only reported).
    let err = plan(dir.path(), &request, &Options::default()).expect_err("it names the image");
    let PlanError::SkippedReference { files, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(
        files,
        &vec![(
            PathBuf::from("apps/caf\u{fffd}.yaml"),
            "the file name is not UTF-8, so it was not searched; rename it".to_string()
        )]
    );
    let options = Options {
        skip_unreadable: true,
        ..Options::default()
    };
    let planned = plan(dir.path(), &request, &options).expect("plan");
    assert_eq!(
        planned.changed_files(),
        vec![PathBuf::from("apps/values.yaml")]
    );
    let skipped: Vec<(String, String)> = planned
        .skipped
        .iter()
        .map(|(p, why)| (p.display().to_string(), why.clone()))
        .collect();
    assert_eq!(
        skipped,
        vec![
            (
                "apps/caf\u{fffd}.yaml".to_string(),
                "the file name is not UTF-8, so it was not searched; rename it".to_string()
            ),
            (
                "apps/d\u{fffd}".to_string(),
                "the directory name is not UTF-8, so it was not searched; rename it".to_string()
            ),
            (
                "apps/pipe.yaml".to_string(),
                "not a regular file but a FIFO (named pipe), so it was not read".to_string()
            ),
        ]
    );
    // Nothing was written by planning; the skipped files are untouched.
    assert_eq!(std::fs::read_to_string(&latin1).expect("read"), VALUES);
}

#[cfg(unix)]
#[test]
fn a_fifo_named_on_the_command_line_of_image_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    mkfifo(&dir.path().join("values.yaml"));
    let request = Request::Image {
        image: ImageRef::parse("ghcr.io/acme/api:v2").expect("image"),
        paths: vec![PathBuf::from("values.yaml")],
    };
    let err = plan(dir.path(), &request, &Options::default()).expect_err("a FIFO");
    assert!(
        matches!(err, PlanError::File(FileError::NotAFile { .. })),
        "{err:?}"
    );
}
