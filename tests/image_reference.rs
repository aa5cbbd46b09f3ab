//! Specification of image reference parsing (`tagbump::image`), following Docker's
//! distribution reference grammar and normalisation rules.

use proptest::prelude::*;
use tagbump::image::{
    parse_image_and_tag, split_image_string, validate_digest, validate_tag, ImageRef,
    ReferenceError,
};

const SHA256: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn sha512() -> String {
    format!("sha512:{}", "ab".repeat(64))
}

/// One row of the spec table: input → (domain, path, tag, digest) after normalisation.
type Expected<'a> = (String, &'a str, &'a str, Option<&'a str>, Option<&'a str>);

/// Input → (domain, path, tag, digest) after normalisation.
#[test]
fn valid_references_parse_into_normalised_parts() {
    let sha512 = sha512();
    let with_digest = |s: &str, d: &str| format!("{s}@{d}");
    let cases: Vec<Expected> = vec![
        // Docker Hub official images get the library/ namespace.
        ("nginx".into(), "docker.io", "library/nginx", None, None),
        (
            "nginx:1.25".into(),
            "docker.io",
            "library/nginx",
            Some("1.25"),
            None,
        ),
        (
            "nginx:latest".into(),
            "docker.io",
            "library/nginx",
            Some("latest"),
            None,
        ),
        (
            "docker.io/nginx".into(),
            "docker.io",
            "library/nginx",
            None,
            None,
        ),
        (
            "index.docker.io/nginx".into(),
            "docker.io",
            "library/nginx",
            None,
            None,
        ),
        (
            "index.docker.io/library/nginx:1".into(),
            "docker.io",
            "library/nginx",
            Some("1"),
            None,
        ),
        // User repositories on Docker Hub.
        ("user/app".into(), "docker.io", "user/app", None, None),
        (
            "user/app:v2.0.1-rc.1".into(),
            "docker.io",
            "user/app",
            Some("v2.0.1-rc.1"),
            None,
        ),
        (
            "docker.io/user/app".into(),
            "docker.io",
            "user/app",
            None,
            None,
        ),
        (
            "org/team/app".into(),
            "docker.io",
            "org/team/app",
            None,
            None,
        ),
        // Other registries: a first element with '.', ':', uppercase, or localhost.
        (
            "ghcr.io/o/a:main".into(),
            "ghcr.io",
            "o/a",
            Some("main"),
            None,
        ),
        ("ghcr.io/app".into(), "ghcr.io", "app", None, None),
        ("localhost/app".into(), "localhost", "app", None, None),
        (
            "localhost:5000/app:1.0".into(),
            "localhost:5000",
            "app",
            Some("1.0"),
            None,
        ),
        (
            "registry:5000/app".into(),
            "registry:5000",
            "app",
            None,
            None,
        ),
        ("MyRegistry/app".into(), "MyRegistry", "app", None, None),
        (
            "127.0.0.1:5000/team/app".into(),
            "127.0.0.1:5000",
            "team/app",
            None,
            None,
        ),
        ("[::1]:5000/app".into(), "[::1]:5000", "app", None, None),
        (
            "[fe80::1]/app:tag".into(),
            "[fe80::1]",
            "app",
            Some("tag"),
            None,
        ),
        (
            with_digest("registry.example.com:443/team/app", SHA256),
            "registry.example.com:443",
            "team/app",
            None,
            Some(SHA256),
        ),
        // Tag and digest together.
        (
            with_digest("nginx:1.25", SHA256),
            "docker.io",
            "library/nginx",
            Some("1.25"),
            Some(SHA256),
        ),
        (
            with_digest("ghcr.io/o/a", &sha512),
            "ghcr.io",
            "o/a",
            None,
            Some(&sha512),
        ),
        // Separators inside path components.
        ("my.org/app".into(), "my.org", "app", None, None),
        (
            "a_b__c---d/e.f".into(),
            "docker.io",
            "a_b__c---d/e.f",
            None,
            None,
        ),
        // Tags may use uppercase letters and '_' first.
        (
            "app:_Build.42-X".into(),
            "docker.io",
            "library/app",
            Some("_Build.42-X"),
            None,
        ),
        // Without a '/', a colon is always a tag (Docker's rule), even after "localhost".
        (
            "localhost:5000".into(),
            "docker.io",
            "library/localhost",
            Some("5000"),
            None,
        ),
    ];
    for (input, domain, path, tag, digest) in cases {
        let image = ImageRef::parse(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(
            (image.domain(), image.path(), image.tag(), image.digest()),
            (domain, path, tag, digest),
            "{input}"
        );
    }
}

/// Input → an error whose message contains a specific phrase.
#[test]
fn invalid_references_are_rejected_with_a_message_naming_the_rule() {
    let long_tag = "a".repeat(129);
    let long_name = format!("ghcr.io/{}", "a".repeat(248)); // 256 characters
    let long_familiar = "a".repeat(238); // docker.io/library/ + 238 = 256
    let cases: Vec<(String, &str)> = vec![
        ("Nginx".into(), "must be lowercase"),
        ("user/App".into(), "must be lowercase"),
        ("ghcr.io/o/App:1".into(), "must be lowercase"),
        ("user//app".into(), "empty path component"),
        ("user/app/".into(), "empty path component"),
        ("/app".into(), "empty path component"),
        ("ghcr.io/".into(), "the repository name is empty"),
        ("-app".into(), "must start and end with a lowercase letter or digit"),
        ("_app".into(), "must start and end with a lowercase letter or digit"),
        (".app".into(), "must start and end with a lowercase letter or digit"),
        ("app-".into(), "must start and end with a lowercase letter or digit"),
        ("a..b".into(), "invalid separator \"..\""),
        ("a___b".into(), "invalid separator \"___\""),
        ("app+x".into(), "invalid character '+'"),
        (format!("nginx:{long_tag}"), "it is 129 characters long"),
        ("nginx:.hidden".into(), "it starts with '.'"),
        ("nginx:-rc".into(), "it starts with '-'"),
        ("nginx:".into(), "invalid tag \"\" in \"nginx:\": it is empty"),
        ("nginx:v1+2".into(), "it contains '+'"),
        (
            "nginx:v1/2".into(),
            "invalid tag \"v1/2\" in \"nginx:v1/2\": it contains '/'; a tag is up to 128 characters of [A-Za-z0-9_.-], not starting with '.' or '-'",
        ),
        ("nginx@".into(), "a digest is 'algorithm:hex'"),
        ("nginx@sha256:".into(), "exactly 64 lowercase hex digits, this one has 0 characters"),
        (format!("nginx@{}", &SHA256[..SHA256.len() - 1]), "this one has 63 characters"),
        (format!("nginx@{SHA256}0"), "this one has 65 characters"),
        (format!("nginx@{}", SHA256.to_uppercase().replace("SHA256", "sha256")), "found 'A'"),
        (format!("nginx@sha256:{}", "g".repeat(64)), "found 'g'"),
        (format!("nginx@sha512:{}", "a".repeat(64)), "exactly 128 lowercase hex digits"),
        ("nginx@md-:0123456789abcdef0123456789abcdef".into(), "digest algorithm \"md-\""),
        ("nginx@blake3:abc".into(), "at least 32 hex digits"),
        ("".into(), "the reference is empty"),
        ("nginx :1".into(), "whitespace"),
        (" nginx".into(), "whitespace"),
        ("nginx:1\n".into(), "whitespace"),
        ("example.com:abc/app".into(), "port \"abc\" is not a number"),
        ("localhost:/app".into(), "port \"\" is not a number"),
        ("-bad.com/app".into(), "invalid registry domain \"-bad.com\""),
        // A first element with a '.' is a domain, so path separators are not allowed in it.
        ("my_org.io/app".into(), "invalid registry domain \"my_org.io\""),
        ("[::1/app".into(), "closed with ']'"),
        (long_name, "is 256 characters long once normalised; the limit is 255"),
        (long_familiar, "is 256 characters long once normalised"),
        ("a".repeat(64).replace('a', "f"), "image ID"),
        ("nginx@sha256:abc@def".into(), "invalid digest"),
    ];
    for (input, phrase) in cases {
        match ImageRef::parse(&input) {
            Ok(image) => panic!("{input:?} was accepted as {image:?}"),
            Err(e) => {
                let message = e.to_string();
                assert!(
                    message.contains(phrase),
                    "{input:?}: expected {phrase:?} in {message:?}"
                );
                assert!(
                    message.contains(&format!("{input:?}")) || input.len() > 200,
                    "{message:?} does not name {input:?}"
                );
            }
        }
    }
}

#[test]
fn names_at_the_length_limit_are_accepted() {
    let at_limit = format!("ghcr.io/{}", "a".repeat(247));
    assert_eq!(at_limit.len(), 255);
    assert_eq!(ImageRef::parse(&at_limit).map(|i| i.name()), Ok(at_limit));
}

#[test]
fn tags_of_exactly_128_characters_are_accepted() {
    let tag = "v".repeat(128);
    assert_eq!(validate_tag(&tag), Ok(()));
    let image = ImageRef::parse(&format!("nginx:{tag}")).expect("128-char tag");
    assert_eq!(image.tag(), Some(tag.as_str()));
}

#[test]
fn docker_hub_spellings_are_the_same_repository() {
    let spellings = [
        "nginx",
        "docker.io/nginx",
        "docker.io/library/nginx",
        "index.docker.io/nginx",
        "index.docker.io/library/nginx",
        "library/nginx:1.0",
    ];
    let reference = ImageRef::parse("nginx").expect("nginx");
    for s in spellings {
        let image = ImageRef::parse(s).expect(s);
        assert!(reference.same_repository(&image), "{s}");
        assert_eq!(image.name(), "docker.io/library/nginx", "{s}");
        assert_eq!(image.familiar_name(), "nginx", "{s}");
    }
    assert_eq!(
        ImageRef::parse("nginx"),
        ImageRef::parse("index.docker.io/library/nginx")
    );
}

#[test]
fn names_and_familiar_names() {
    for (input, name, familiar) in [
        ("nginx:1", "docker.io/library/nginx", "nginx"),
        ("user/app", "docker.io/user/app", "user/app"),
        (
            "docker.io/library/team/app",
            "docker.io/library/team/app",
            "library/team/app",
        ),
        ("ghcr.io/o/a:main", "ghcr.io/o/a", "ghcr.io/o/a"),
        (
            "localhost:5000/app",
            "localhost:5000/app",
            "localhost:5000/app",
        ),
        ("index.docker.io/user/app", "docker.io/user/app", "user/app"),
        // Dropping docker.io here would turn the first component into a domain.
        (
            "docker.io/my.org/app",
            "docker.io/my.org/app",
            "docker.io/my.org/app",
        ),
        (
            "docker.io/localhost/app",
            "docker.io/localhost/app",
            "docker.io/localhost/app",
        ),
    ] {
        let image = ImageRef::parse(input).expect(input);
        assert_eq!(image.name(), name, "{input}");
        assert_eq!(image.familiar_name(), familiar, "{input}");
    }
}

#[test]
fn display_is_the_familiar_form_and_parses_back_to_an_equal_reference() {
    for (input, displayed) in [
        (
            "index.docker.io/library/nginx:1.25",
            "nginx:1.25".to_string(),
        ),
        ("docker.io/user/app", "user/app".to_string()),
        (
            &format!("ghcr.io/o/a:v1@{SHA256}"),
            format!("ghcr.io/o/a:v1@{SHA256}"),
        ),
    ] {
        let image: ImageRef = input.parse().expect(input);
        assert_eq!(image.to_string(), displayed);
        assert_eq!(ImageRef::parse(&displayed), Ok(image));
    }
}

#[test]
fn same_repository_ignores_tags_and_digests_and_domain_case() {
    let a = ImageRef::parse("ghcr.io/o/a:1").expect("a");
    assert!(a.same_repository(&ImageRef::parse(&format!("ghcr.io/o/a@{SHA256}")).expect("b")));
    assert!(a.same_repository(&ImageRef::parse("GHCR.io/o/a").expect("c")));
    assert!(!a.same_repository(&ImageRef::parse("ghcr.io/o/b:1").expect("d")));
    assert!(!a.same_repository(&ImageRef::parse("docker.io/o/a:1").expect("e")));
}

#[test]
fn matches_name_accepts_any_spelling_of_the_repository_and_nothing_else() {
    let image = ImageRef::parse("nginx:1.25").expect("nginx");
    for candidate in [
        "nginx",
        "library/nginx",
        "docker.io/library/nginx",
        "index.docker.io/nginx",
    ] {
        assert!(image.matches_name(candidate), "{candidate}");
    }
    for candidate in [
        "nginx:1.25",
        "Nginx",
        "nginx/",
        "ghcr.io/nginx",
        "library/nginx2",
        "",
        "nginx@sha256:x",
    ] {
        assert!(!image.matches_name(candidate), "{candidate}");
    }
    let ghcr = ImageRef::parse("ghcr.io/o/a").expect("ghcr");
    assert!(ghcr.matches_name("ghcr.io/o/a"));
    assert!(!ghcr.matches_name("o/a"));
}

#[test]
fn with_tag_replaces_the_tag_and_drops_the_digest() {
    let image = ImageRef::parse(&format!("ghcr.io/o/a:1.0@{SHA256}")).expect("image");
    let bumped = image.with_tag("1.1").expect("valid tag");
    assert_eq!(
        (bumped.name().as_str(), bumped.tag(), bumped.digest()),
        ("ghcr.io/o/a", Some("1.1"), None)
    );
    let err = image.with_tag("1.1/x").expect_err("invalid tag");
    assert!(
        err.to_string()
            .starts_with("invalid tag \"1.1/x\": it contains '/'"),
        "{err}"
    );
}

#[test]
fn parse_image_and_tag_combines_the_two_cli_inputs() {
    let tagged = parse_image_and_tag("ghcr.io/o/a", Some("2.0")).expect("tag added");
    assert_eq!(tagged.tag(), Some("2.0"));
    let untouched = parse_image_and_tag("ghcr.io/o/a:1.0", None).expect("image only");
    assert_eq!(untouched.tag(), Some("1.0"));
    let agreeing = parse_image_and_tag("ghcr.io/o/a:1.0", Some("1.0")).expect("same tag twice");
    assert_eq!(agreeing.tag(), Some("1.0"));
    let pinned =
        parse_image_and_tag(&format!("ghcr.io/o/a@{SHA256}"), Some("2.0")).expect("digest and tag");
    assert_eq!((pinned.tag(), pinned.digest()), (Some("2.0"), Some(SHA256)));

    let conflict = parse_image_and_tag("ghcr.io/o/a:1.0", Some("2.0")).expect_err("conflict");
    assert!(matches!(conflict, ReferenceError::ConflictingTag { .. }));
    assert_eq!(
        conflict.to_string(),
        "conflicting tags for image \"ghcr.io/o/a:1.0\": it already has tag \"1.0\", but tag \"2.0\" was also given"
    );
    assert!(matches!(
        parse_image_and_tag("ghcr.io/o/a", Some("")),
        Err(ReferenceError::Tag { .. })
    ));
    assert!(matches!(
        parse_image_and_tag("Bad/Name", Some("1")),
        Err(ReferenceError::Path { .. })
    ));
}

#[test]
fn validate_tag_and_validate_digest_stand_alone() {
    assert_eq!(validate_tag("v1.2.3_rc-1"), Ok(()));
    let err = validate_tag(".x").expect_err("leading dot");
    assert_eq!(
        err.to_string(),
        "invalid tag \".x\": it starts with '.'; a tag is up to 128 characters of [A-Za-z0-9_.-], not starting with '.' or '-'"
    );
    assert_eq!(validate_digest(SHA256), Ok(()));
    assert_eq!(validate_digest(&sha512()), Ok(()));
    assert_eq!(
        validate_digest(&format!("sha384:{}", "0".repeat(96))),
        Ok(())
    );
    let err = validate_digest("sha256:abc").expect_err("short");
    assert!(
        err.to_string()
            .starts_with("invalid digest \"sha256:abc\": a sha256 digest has exactly 64"),
        "{err}"
    );
    assert!(
        validate_digest(&SHA256[7..]).is_err(),
        "a bare hex string is not a digest"
    );
}

/// The raw split keeps the text exactly as written, and its ranges slice the original.
#[test]
fn split_image_string_returns_ranges_that_slice_the_original_exactly() {
    let s = format!("registry.example.com:443/team/app:v1.2@{SHA256}");
    let raw = split_image_string(&s).expect("valid");
    assert_eq!(raw.name, "registry.example.com:443/team/app");
    let (tag, tag_range) = raw.tag.clone().expect("tag");
    assert_eq!((tag, &s[tag_range.clone()]), ("v1.2", "v1.2"));
    let (digest, digest_range) = raw.digest.clone().expect("digest");
    assert_eq!((digest, &s[digest_range.clone()]), (SHA256, SHA256));
    // Replacing only the tag leaves everything else byte-for-byte.
    let mut bumped = s.clone();
    bumped.replace_range(tag_range, "v1.3");
    assert_eq!(
        bumped,
        format!("registry.example.com:443/team/app:v1.3@{SHA256}")
    );

    // Not normalised: the name stays as the user wrote it.
    let raw = split_image_string("index.docker.io/nginx:1").expect("valid");
    assert_eq!(raw.name, "index.docker.io/nginx");
    assert_eq!(raw.tag, Some(("1", 22..23)));
    assert_eq!(raw.digest, None);

    let raw = split_image_string("[::1]:5000/app").expect("valid");
    assert_eq!(
        (raw.name, raw.tag, raw.digest),
        ("[::1]:5000/app", None, None)
    );

    for invalid in ["", "Nginx:1", "nginx:", "nginx:v1/2", "a//b", " nginx"] {
        assert_eq!(split_image_string(invalid), None, "{invalid:?}");
    }
}

// ---------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------

/// A generated valid reference and the normalised fields it must parse into.
#[derive(Debug, Clone)]
struct Generated {
    text: String,
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

fn path_component() -> impl Strategy<Value = String> {
    let separator = prop_oneof![Just("."), Just("_"), Just("__"), Just("-"), Just("---")];
    (
        prop_oneof![4 => "[a-z0-9]{1,6}", 1 => Just("localhost".to_string())],
        prop::collection::vec((separator, "[a-z0-9]{1,6}"), 0..3),
    )
        .prop_map(|(first, rest)| {
            rest.into_iter().fold(first, |mut acc, (sep, alnum)| {
                acc.push_str(sep);
                acc.push_str(&alnum);
                acc
            })
        })
}

fn domain() -> impl Strategy<Value = Option<String>> {
    let host_component = "[A-Za-z0-9]([A-Za-z0-9-]{0,4}[A-Za-z0-9])?";
    let dotted = prop::collection::vec(host_component, 2..4).prop_map(|c| c.join("."));
    let host = prop_oneof![
        dotted,
        Just("localhost".to_string()),
        Just("docker.io".to_string()),
        Just("index.docker.io".to_string()),
        "\\[[0-9a-f]{0,4}:[0-9a-f:]{0,8}\\]",
    ];
    let port = prop::option::of("[0-9]{1,5}");
    let with_port = (host, port).prop_map(|(h, p)| match p {
        Some(p) => format!("{h}:{p}"),
        None => h,
    });
    // A dot-less host is a domain when it has a port or an uppercase letter.
    let dotless = ("[a-z][a-z0-9]{0,5}", "[0-9]{1,5}").prop_map(|(h, p)| format!("{h}:{p}"));
    let upper = "[A-Z][A-Za-z0-9]{0,5}";
    prop::option::of(prop_oneof![4 => with_port, 1 => dotless, 1 => upper])
}

fn generated_reference() -> impl Strategy<Value = Generated> {
    let tag = prop::option::of(prop_oneof![
        "[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}",
        "[A-Za-z0-9_][A-Za-z0-9_.-]{127}",
    ]);
    let digest = prop::option::of(prop_oneof![
        "[0-9a-f]{64}".prop_map(|h| format!("sha256:{h}")),
        "[0-9a-f]{128}".prop_map(|h| format!("sha512:{h}")),
        "[A-Za-z][A-Za-z0-9]{0,3}([-_+.][A-Za-z][A-Za-z0-9]{0,3})?:[0-9a-fA-F]{32,40}",
    ]);
    (
        domain(),
        path_component(),
        prop::collection::vec(path_component(), 0..3),
        tag,
        digest,
    )
        .prop_filter(
            "a bare first element must not look like a domain",
            |(d, first, rest, _, _)| {
                d.is_some() || rest.is_empty() || (first != "localhost" && !first.contains('.'))
            },
        )
        .prop_map(|(domain, first, rest, tag, digest)| {
            let written_path = std::iter::once(first)
                .chain(rest)
                .collect::<Vec<_>>()
                .join("/");
            let mut text = match &domain {
                Some(d) => format!("{d}/{written_path}"),
                None => written_path.clone(),
            };
            if let Some(t) = &tag {
                text.push(':');
                text.push_str(t);
            }
            if let Some(d) = &digest {
                text.push('@');
                text.push_str(d);
            }
            let domain = match domain.as_deref() {
                None | Some("index.docker.io") => "docker.io".to_string(),
                Some(d) => d.to_string(),
            };
            let path = if domain == "docker.io" && !written_path.contains('/') {
                format!("library/{written_path}")
            } else {
                written_path
            };
            Generated {
                text,
                domain,
                path,
                tag,
                digest,
            }
        })
}

proptest! {
    // Failures are reported with their minimal input; nothing is written into the tree.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_valid_references_parse_into_their_parts_and_round_trip(g in generated_reference()) {
        let image = ImageRef::parse(&g.text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(image.domain(), g.domain.as_str());
        prop_assert_eq!(image.path(), g.path.as_str());
        prop_assert_eq!(image.tag(), g.tag.as_deref());
        prop_assert_eq!(image.digest(), g.digest.as_deref());
        prop_assert_eq!(ImageRef::parse(&image.to_string()), Ok(image.clone()));
        prop_assert!(image.matches_name(&image.name()));
        prop_assert!(image.matches_name(&image.familiar_name()));
    }

    #[test]
    fn split_ranges_slice_the_generated_reference_exactly(g in generated_reference()) {
        let raw = split_image_string(&g.text).ok_or_else(|| TestCaseError::fail("rejected"))?;
        let mut rebuilt = raw.name.to_string();
        prop_assert!(g.text.starts_with(raw.name));
        if let Some((tag, range)) = &raw.tag {
            prop_assert_eq!(&g.text[range.clone()], *tag);
            prop_assert_eq!(Some(*tag), g.tag.as_deref());
            prop_assert_eq!(&g.text[range.start - 1..range.start], ":");
            rebuilt.push(':');
            rebuilt.push_str(tag);
        }
        if let Some((digest, range)) = &raw.digest {
            prop_assert_eq!(&g.text[range.clone()], *digest);
            prop_assert_eq!(Some(*digest), g.digest.as_deref());
            prop_assert_eq!(range.end, g.text.len());
            rebuilt.push('@');
            rebuilt.push_str(digest);
        }
        prop_assert_eq!(raw.tag.is_some(), g.tag.is_some());
        prop_assert_eq!(raw.digest.is_some(), g.digest.is_some());
        prop_assert_eq!(rebuilt, g.text);
    }

    /// Arbitrary text never panics, and whatever parses also splits, consistently.
    #[test]
    fn arbitrary_text_is_parsed_or_rejected_without_panicking(
        s in prop_oneof![any::<String>(), "[a-zA-Z0-9./:@_\\-\\[\\]]{0,40}"]
    ) {
        match ImageRef::parse(&s) {
            Ok(image) => {
                let raw = split_image_string(&s).ok_or_else(|| TestCaseError::fail("parsed but not split"))?;
                prop_assert_eq!(raw.tag.map(|(t, _)| t), image.tag());
                prop_assert_eq!(raw.digest.map(|(d, _)| d), image.digest());
                prop_assert_eq!(ImageRef::parse(&image.to_string()), Ok(image));
            }
            Err(e) => {
                prop_assert!(!e.to_string().is_empty());
                prop_assert!(split_image_string(&s).is_none());
            }
        }
    }
}
