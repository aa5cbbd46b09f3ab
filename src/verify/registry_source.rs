//! Reading cosign's signature objects from the registry, through the registry
//! client's pool, auth and timeouts: the signature manifest by its tag, a payload blob
//! by its digest, each with a size cap.

use reqwest::{Method, StatusCode};

use crate::registry::manifest::{DOCKER_MANIFEST, OCI_MANIFEST};
use crate::registry::{Client, RegistryError};

/// A blob, or its absence (`404`).
pub(super) enum Fetched {
    Found(Vec<u8>),
    NotFound,
}

/// `host/repository:tag`, for messages.
pub(super) fn location(client: &Client, tag: &str) -> String {
    let endpoint = client.endpoint();
    format!("{}/{}:{tag}", endpoint.host, endpoint.repository)
}

/// `GET /v2/<repository>/manifests/<tag>` accepting the OCI and Docker image manifest
/// types; `None` on `404`.
pub(super) fn signature_manifest(
    client: &Client,
    tag: &str,
    max: u64,
) -> Result<Option<Vec<u8>>, RegistryError> {
    let step = format!("reading the signatures at tag {tag:?}");
    let answer = client.call_capped(
        Method::GET,
        &format!("manifests/{tag}"),
        &[OCI_MANIFEST, DOCKER_MANIFEST],
        &step,
        max,
    )?;
    if answer.status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    client.expect_ok(&answer, &step)?;
    Ok(Some(answer.body))
}

/// `GET /v2/<repository>/blobs/<digest>` (`digest` already checked to be
/// `sha256:<64 hex>`), at most `max` bytes.
pub(super) fn payload_blob(
    client: &Client,
    digest: &str,
    max: u64,
) -> Result<Fetched, RegistryError> {
    let step = format!("reading the signed payload {digest}");
    let answer = client.call_capped(Method::GET, &format!("blobs/{digest}"), &[], &step, max)?;
    if answer.status == StatusCode::NOT_FOUND {
        return Ok(Fetched::NotFound);
    }
    client.expect_ok(&answer, &step)?;
    Ok(Fetched::Found(answer.body))
}
