#!/usr/bin/env python3
"""Builds the `slim` image without a container daemon, then proves it runs on its own.

    python3 .ci/slim-image.py BINARY OUT_DIR

BINARY is a static tagbump (`cargo build --target x86_64-unknown-linux-musl`). The image
is assembled as an OCI image layout (https://github.com/opencontainers/image-spec:
image-layout.md, manifest.md, config.md) in OUT_DIR, from the same description as the
Dockerfile's `slim` stage: the script reads that stage's ENV, LABEL, USER, ENTRYPOINT
and CMD lines, so the two cannot drift apart. The root filesystem holds exactly what the
stage copies: /tagbump, the CA bundle, /etc/passwd and /etc/group for uid 1001, /tmp.

Then it checks the image: the config (user, entrypoint, labels, layer digest), and runs
the binary from the unpacked root filesystem under `chroot` (so nothing from the host is
reachable): `--version`, and `set --dry-run` on a fixture copied into the root. It prints
the image sizes (compressed layer, unpacked) and exits non-zero on any failure.
"""

import gzip
import hashlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
FIXTURE = os.path.join(ROOT, "fixtures", "demo-config-repo")


def fail(msg):
    print(f"slim image: {msg}", file=sys.stderr)
    sys.exit(1)


def slim_stage():
    """ENV / LABEL / USER / ENTRYPOINT / CMD of the Dockerfile's `slim` stage."""
    with open(os.path.join(ROOT, "Dockerfile"), encoding="utf-8") as f:
        text = f.read().replace("\\\n", " ")
    stage, in_slim = {"Env": [], "Labels": {}}, False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("FROM "):
            in_slim = line.endswith(" AS slim")
            continue
        if not in_slim or not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word == "ENV":
            stage["Env"] += [f"{k}={v}" for k, v in pairs(rest)]
        elif word == "LABEL":
            stage["Labels"].update(dict(pairs(rest)))
        elif word == "USER":
            stage["User"] = rest.strip()
        elif word in ("ENTRYPOINT", "CMD"):
            stage["Entrypoint" if word == "ENTRYPOINT" else "Cmd"] = json.loads(rest)
    if "Entrypoint" not in stage:
        fail("the Dockerfile has no `slim` stage with an ENTRYPOINT")
    return stage


def pairs(rest):
    """KEY=VALUE pairs of an ENV / LABEL line (values may be double-quoted)."""
    for word in shlex.split(rest):
        key, sep, value = word.partition("=")
        if not sep:
            fail(f"cannot read `{word}` in the slim stage")
        yield key, value


def layer_tar(binary, passwd, group):
    """The root filesystem as a reproducible tar (sorted, mtime 0, owner root)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:

        def add(name, data=None, mode=0o644, kind=tarfile.REGTYPE):
            info = tarfile.TarInfo(name)
            info.mode, info.mtime, info.type = mode, 0, kind
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)

        for d in ("etc", "etc/ssl", "etc/ssl/certs"):
            add(d, mode=0o755, kind=tarfile.DIRTYPE)
        add("etc/group", group)
        add("etc/passwd", passwd)
        with open(CA_BUNDLE, "rb") as f:
            add("etc/ssl/certs/ca-certificates.crt", f.read())
        with open(binary, "rb") as f:
            add("tagbump", f.read(), mode=0o755)
        add("tmp", mode=0o1777, kind=tarfile.DIRTYPE)
    return buf.getvalue()


def blob(out, data, media_type):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(out, "blobs", "sha256")
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, digest), "wb") as f:
        f.write(data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": len(data)}


def build(binary, out):
    stage = slim_stage()
    dockerfile = open(os.path.join(ROOT, "Dockerfile"), encoding="utf-8").read()
    passwd = re.search(r"echo '(tagbump:x:1001:1001:[^']*)' > /rootfs/etc/passwd", dockerfile)
    group = re.search(r"echo '(tagbump:x:1001:[^']*)' > /rootfs/etc/group", dockerfile)
    if not passwd or not group:
        fail("the Dockerfile's build stage writes no passwd/group entry for uid 1001")
    tar = layer_tar(binary, (passwd[1] + "\n").encode(), (group[1] + "\n").encode())
    layer = gzip.compress(tar, mtime=0)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    layer_desc = blob(out, layer, "application/vnd.oci.image.layer.v1.tar+gzip")
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {k: stage[k] for k in ("User", "Env", "Entrypoint", "Cmd", "Labels") if k in stage},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(tar).hexdigest()}"]},
        "history": [{"created_by": "tagbump .ci/slim-image.py (the Dockerfile's slim stage)"}],
    }
    config_desc = blob(out, json.dumps(config, sort_keys=True).encode(), "application/vnd.oci.image.config.v1+json")
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_desc,
        "layers": [layer_desc],
    }
    manifest_desc = blob(out, json.dumps(manifest, sort_keys=True).encode(), "application/vnd.oci.image.manifest.v1+json")
    manifest_desc["annotations"] = {"org.opencontainers.image.ref.name": "slim"}
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [manifest_desc]}, f)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return len(tar), len(layer) + config_desc["size"] + manifest_desc["size"]


def read_blob(out, desc):
    with open(os.path.join(out, "blobs", "sha256", desc["digest"].split(":", 1)[1]), "rb") as f:
        data = f.read()
    if f"sha256:{hashlib.sha256(data).hexdigest()}" != desc["digest"] or len(data) != desc["size"]:
        fail(f"blob {desc['digest']} does not match its descriptor")
    return data


def check(out):
    """Reads the layout back as a runtime would, checks the config, runs the binary."""
    index = json.load(open(os.path.join(out, "index.json")))
    manifest = json.loads(read_blob(out, index["manifests"][0]))
    config = json.loads(read_blob(out, manifest["config"]))
    cfg = config["config"]
    expect = {
        "User": "1001:1001",
        "Entrypoint": ["/tagbump"],
    }
    for key, want in expect.items():
        if cfg.get(key) != want:
            fail(f"config {key} is {cfg.get(key)!r}, want {want!r}")
    if "TAGBUMP_VIA=api" not in cfg.get("Env", []) or f"SSL_CERT_FILE={CA_BUNDLE}" not in cfg.get("Env", []):
        fail(f"config Env lacks TAGBUMP_VIA=api or SSL_CERT_FILE: {cfg.get('Env')}")
    if not cfg.get("Labels", {}).get("org.opencontainers.image.title"):
        fail("config has no org.opencontainers.image.title label")
    layer = gzip.decompress(read_blob(out, manifest["layers"][0]))
    if config["rootfs"]["diff_ids"] != [f"sha256:{hashlib.sha256(layer).hexdigest()}"]:
        fail("the layer's diff_id does not match")

    with tempfile.TemporaryDirectory() as rootfs:
        os.chmod(rootfs, 0o755)  # the image's `/`, which the non-root user must traverse
        with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
            names = sorted(tar.getnames())
            tar.extractall(rootfs, filter="tar") if hasattr(tarfile, "data_filter") else tar.extractall(rootfs)
        want = ["etc", "etc/group", "etc/passwd", "etc/ssl", "etc/ssl/certs", "etc/ssl/certs/ca-certificates.crt", "tagbump", "tmp"]
        if names != want:
            fail(f"the root filesystem holds {names}, want exactly {want}")
        shutil.copytree(FIXTURE, os.path.join(rootfs, "tmp", "config-repo"))
        env = {k: v for k, v in (e.split("=", 1) for e in cfg["Env"])}
        user = cfg["User"].split(":")

        chroot, unshare = shutil.which("chroot"), shutil.which("unshare")
        if not chroot:
            fail("chroot (coreutils) is needed to run the image")

        def run(*args):
            # The process gets exactly the image's environment (no PATH: none is needed).
            cmd = [chroot, f"--userspec={user[0]}:{user[1]}", rootfs, *cfg["Entrypoint"], *args]
            if os.geteuid() != 0:
                if not unshare:
                    fail("not root and no unshare: cannot chroot")
                cmd = [unshare, "--map-root-user", chroot, rootfs, *cfg["Entrypoint"], *args]
            os.chmod(os.path.join(rootfs, "tmp", "config-repo"), 0o777)
            for d, _, files in os.walk(os.path.join(rootfs, "tmp", "config-repo")):
                os.chmod(d, 0o777)
                for f in files:
                    os.chmod(os.path.join(d, f), 0o666)
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
            if done.returncode != 0:
                fail(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
            return done.stdout

        version = run("--version").strip()
        if not version.startswith("tagbump "):
            fail(f"--version printed {version!r}")
        diff = run("image", "ghcr.io/acme/api:9.9.9", "-C", "/tmp/config-repo", "--dry-run")
        if "-    newTag: 1.4.2\n+    newTag: 9.9.9\n" not in diff:
            fail(f"the dry run shows no new tag:\n{diff}")
        print(f"slim image: ran `{version}` and a dry run from the unpacked image, as uid {user[0]}")


def main():
    if len(sys.argv) != 3:
        fail("usage: python3 .ci/slim-image.py BINARY OUT_DIR")
    binary, out = sys.argv[1], sys.argv[2]
    unpacked, compressed = build(binary, out)
    check(out)
    print(f"slim image: {out} (OCI layout), {compressed / 1e6:.2f} MB compressed, {unpacked / 1e6:.2f} MB unpacked")


if __name__ == "__main__":
    main()
