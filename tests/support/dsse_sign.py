"""A DSSE signer independent of tagbump, for the attestation tests.

Reads a PEM private key (made by OpenSSL) and a payload file and prints a DSSE envelope
(secure-systems-lab/dsse envelope.md) whose one signature is over the pre-authentication
encoding of protocol.md:

    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

computed here, signed with Python's `cryptography` (ECDSA P-256 with SHA-256, DER, as
cosign signs with a key pair).

    dsse_sign.py envelope KEY.pem PAYLOAD_TYPE PAYLOAD_FILE   -> envelope JSON
    dsse_sign.py bundle   KEY.pem PAYLOAD_TYPE PAYLOAD_FILE   -> Sigstore bundle v0.3 JSON

The bundle (sigstore/protobuf-specs `dev.sigstore.bundle.v1.Bundle`, media type
application/vnd.dev.sigstore.bundle.v0.3+json) carries the envelope with a public-key
hint and no transparency-log entry, as `cosign attest --key … --tlog-upload=false
--new-bundle-format` writes it.
"""

import base64
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


def pae(payload_type: bytes, body: bytes) -> bytes:
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(body), body)


def main() -> None:
    mode, key_path, payload_type, payload_path = sys.argv[1:5]
    with open(key_path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        sys.exit("only ECDSA keys are used by these tests")
    with open(payload_path, "rb") as f:
        body = f.read()
    signature = key.sign(pae(payload_type.encode(), body), ec.ECDSA(hashes.SHA256()))
    envelope = {
        "payloadType": payload_type,
        "payload": base64.b64encode(body).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(signature).decode()}],
    }
    if mode == "envelope":
        out = envelope
    elif mode == "bundle":
        out = {
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {"publicKey": {"hint": ""}, "tlogEntries": []},
            "dsseEnvelope": envelope,
        }
    else:
        sys.exit(f"unknown mode {mode}")
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main()
