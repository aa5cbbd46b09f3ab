//! Manifests, indexes and image configs as the registry stores them (OCI image spec
//! `manifest.md`, `image-index.md`, `config.md`; Docker's image manifest v2 schema 2
//! and manifest list). Only the fields tagbump reads are modelled.

use std::fmt;

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index (multi-platform).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker image manifest v2 schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list (multi-platform).
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Every media type tagbump accepts, for `Accept`.
pub const ACCEPT: [&str; 4] = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];

/// Whether a media type is an index / manifest list.
pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_LIST
}

/// `os/arch[/variant]`, as `docker --platform` writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// `amd64`, `arm64`, …
    pub architecture: String,
    /// `v8`, `v7`, … if given.
    pub variant: Option<String>,
}

/// A platform [`Platform::parse`] cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid platform {text:?}: use os/arch or os/arch/variant, e.g. linux/arm64")]
pub struct PlatformError {
    /// The text as given.
    pub text: String,
}

impl Platform {
    /// Parses `os/arch[/variant]`.
    ///
    /// # Errors
    ///
    /// [`PlatformError`] for any other form.
    pub fn parse(text: &str) -> Result<Platform, PlatformError> {
        let parts: Vec<&str> = text.split('/').collect();
        let ok =
            |s: &&str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: None,
            }),
            [os, arch, variant] if ok(os) && ok(arch) && ok(variant) => Ok(Platform {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: Some(variant.to_string()),
            }),
            _ => Err(PlatformError {
                text: text.to_string(),
            }),
        }
    }

    /// The platform of a manifest index entry matches this one (a variant not asked
    /// for matches any).
    fn matches(&self, other: &IndexPlatform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && match &self.variant {
                Some(v) => other.variant.as_deref() == Some(v.as_str()),
                None => true,
            }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[derive(serde::Deserialize, Clone, Debug)]
struct IndexPlatform {
    os: String,
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

impl fmt::Display for IndexPlatform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A descriptor in a manifest or index.
#[derive(serde::Deserialize, Clone, Debug)]
pub struct Descriptor {
    /// Its media type.
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    /// Its digest.
    pub digest: String,
    #[serde(default)]
    platform: Option<IndexPlatform>,
}

/// The parts of a manifest or index tagbump reads.
#[derive(serde::Deserialize, Debug)]
pub struct Manifest {
    /// An image manifest's config.
    #[serde(default)]
    pub config: Option<Descriptor>,
    /// An index's children.
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
}

impl Manifest {
    /// Parses manifest JSON.
    pub fn parse(body: &[u8]) -> Result<Manifest, String> {
        serde_json::from_slice(body).map_err(|e| format!("not a manifest: {e}"))
    }

    /// The child of an index for `platform`, or the list of platforms it has.
    pub fn child_for(&self, platform: &Platform) -> Result<&Descriptor, String> {
        let children = self.manifests.as_deref().unwrap_or_default();
        children
            .iter()
            .find(|d| d.platform.as_ref().is_some_and(|p| platform.matches(p)))
            .ok_or_else(|| {
                children
                    .iter()
                    .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
    }
}

/// The `created` time of an image config (RFC 3339), if it has one.
pub fn config_created(body: &[u8]) -> Result<Option<String>, String> {
    #[derive(serde::Deserialize)]
    struct Config {
        #[serde(default)]
        created: Option<String>,
    }
    let c: Config =
        serde_json::from_slice(body).map_err(|e| format!("not an image config: {e}"))?;
    Ok(c.created)
}

/// An RFC 3339 time as (seconds since the epoch, nanoseconds), for ordering;
/// `None` when it is not one.
pub fn parse_rfc3339(text: &str) -> Option<(i64, u32)> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &text[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        let f = &frac[..digits.min(9)];
        nanos = format!("{f:0<9}").parse().ok()?;
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 => {
            let sign = match &rest[..1] {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            sign * (rest.get(1..3)?.parse::<i64>().ok()? * 3600
                + rest.get(4..6)?.parse::<i64>().ok()? * 60)
        }
        _ => return None,
    };
    // Days from civil (Howard Hinnant's algorithm).
    let (y2, m2) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + s - offset, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_are_read_as_docker_writes_them() {
        let p = Platform::parse("linux/arm64/v8").expect("ok");
        assert_eq!(p.to_string(), "linux/arm64/v8");
        assert!(Platform::parse("linux").is_err());
        assert!(Platform::parse("linux//x").is_err());
    }

    #[test]
    fn an_index_child_by_platform() {
        let index = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aa","size":1,"platform":{"os":"linux","architecture":"amd64"}},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:bb","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}"#;
        let m = Manifest::parse(index).expect("parse");
        let arm = Platform::parse("linux/arm64").expect("p");
        assert_eq!(m.child_for(&arm).expect("found").digest, "sha256:bb");
        let s390 = Platform::parse("linux/s390x").expect("p");
        assert_eq!(
            m.child_for(&s390).expect_err("absent"),
            "linux/amd64, linux/arm64/v8"
        );
    }

    #[test]
    fn rfc3339_times_order_across_offsets_and_fractions() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(
            parse_rfc3339("2024-03-01T12:00:00.5Z"),
            Some((1_709_294_400, 500_000_000))
        );
        assert_eq!(
            parse_rfc3339("2024-03-01T14:00:00+02:00"),
            parse_rfc3339("2024-03-01T12:00:00Z")
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
