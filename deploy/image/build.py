#!/usr/bin/env python3
"""Builds the operator's container image as an OCI image layout, without a daemon, a registry or root.

The base is Debian bookworm's own packages, pinned per architecture with their sha256 in packages.lock next to
this file: they are downloaded with `apt-get download` into the build cache (apt's sources, lists and cache are
the recipe's own, so that a normal user on any machine with apt, whatever its own sources and package lists,
can build it; the lock's sha256 is what the downloads are trusted by), checked, and unpacked into one layer
with the CA bundle, passwd/group for uid 65532, nsswitch.conf, the packages' dpkg status (for image scanners)
and the release binary. The same inputs give the same
digest as any user: entries are sorted, owned by 0:0, dated SOURCE_DATE_EPOCH (the lock's date), and gzip
writes no timestamp.

Usage:
  build.py --binary target/release/bucket-access-operator --out target/image [--cache DIR] [--arch amd64]
  build.py --refresh-lock            # pin the versions Debian serves now (a stale lock fails and says this)

Prints the image manifest's digest (sha256:...) on stdout.
"""

import argparse
import gzip
import hashlib
import io
import json
import lzma
import os
import pathlib
import subprocess
import sys
import tarfile

HERE = pathlib.Path(__file__).resolve().parent
LOCK = HERE / "packages.lock"
PACKAGES = ["base-files", "netbase", "tzdata", "ca-certificates", "libc6", "libgcc-s1"]
ARCHES = ["amd64", "arm64"]
SUITES = [("http://deb.debian.org/debian", "bookworm"), ("http://deb.debian.org/debian", "bookworm-updates"),
          ("http://deb.debian.org/debian-security", "bookworm-security")]
KEYRING = pathlib.Path("/usr/share/keyrings/debian-archive-keyring.gpg")
# What the image does not need of those packages.
DROPPED = ("usr/share/doc/", "usr/share/man/", "usr/share/lintian/", "usr/share/locale/", "usr/share/info/",
           "usr/sbin/", "usr/bin/", "sbin/", "bin/", "etc/ld.so.conf.d/", "usr/share/ca-certificates/")
BINARY = "usr/local/bin/bucket-access-operator"
UID = 65532


def fail(message):
    print(f"build.py: {message}", file=sys.stderr)
    sys.exit(1)


def read_lock():
    """(epoch, [(name, version, arch, sha256)]) from packages.lock."""
    epoch, packages = None, []
    for line in LOCK.read_text().splitlines():
        line = line.strip()
        if line.startswith("# SOURCE_DATE_EPOCH="):
            epoch = int(line.split("=", 1)[1])
        if not line or line.startswith("#"):
            continue
        name, version, arch, sha = line.split()
        packages.append((name, version, arch, sha))
    if epoch is None or not packages:
        fail(f"{LOCK} has no SOURCE_DATE_EPOCH line or no package")
    return epoch, packages


def apt(cache, *args, signed=False, cwd=None):
    """apt-get with the recipe's own sources (Debian bookworm, both architectures), lists and cache: the
    machine's own sources, preferences and package lists play no part. Downloads are trusted by the lock's
    sha256; refreshing the lock (`signed`) checks the archive's signatures with Debian's keyring."""
    apt_dir = cache / "apt"
    lists = apt_dir / "lists"
    archives = apt_dir / "cache" / "archives"
    empty = apt_dir / "empty"
    for d in (lists / "partial", archives / "partial", empty):
        d.mkdir(parents=True, exist_ok=True)
    if signed and not KEYRING.exists():
        fail(f"refreshing the lock checks Debian's signatures with {KEYRING} (package debian-archive-keyring)")
    trust = f"signed-by={KEYRING}" if signed else "trusted=yes"
    sources = apt_dir / ("sources-signed.list" if signed else "sources.list")
    sources.write_text("".join(f"deb [arch={','.join(ARCHES)} {trust}] {url} {suite} main\n" for url, suite in SUITES))
    user = os.environ.get("USER") or ("root" if os.geteuid() == 0 else "nobody")
    options = ["-q", "-o", f"Dir::State::Lists={lists}", "-o", f"Dir::Cache={apt_dir / 'cache'}",
               "-o", f"Dir::Etc::SourceList={sources}", "-o", f"Dir::Etc::SourceParts={empty}",
               "-o", f"Dir::Etc::Preferences={empty / 'none'}", "-o", f"Dir::Etc::PreferencesParts={empty}",
               "-o", "APT::Architectures::=amd64", "-o", "APT::Architectures::=arm64",
               "-o", "Debug::NoLocking=1", "-o", f"APT::Sandbox::User={user}"]
    return subprocess.run(["apt-get", *options, *args], cwd=cwd or cache / "debs", capture_output=True, text=True)


def update(cache, signed=False):
    done = apt(cache, "update", signed=signed)
    if done.returncode != 0:
        fail(f"apt-get update failed:\n{done.stderr}")


def fetch(cache, name, version, arch, sha):
    """The .deb of name=version, downloaded once and checked against the lock."""
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    path = debs / f"{name}_{version.replace(':', '%3a')}_{arch}.deb"
    if not path.exists():
        got = apt(cache, "download", f"{name}:{arch}={version}")
        if got.returncode != 0:
            update(cache)
            got = apt(cache, "download", f"{name}:{arch}={version}")
        if got.returncode != 0:
            fail(f"cannot download {name}:{arch}={version} from Debian: if apt says it has no such version, "
                 f"the lock is stale (Debian keeps only the newest point release): refresh it with "
                 f"`python3 deploy/image/build.py --refresh-lock` and commit deploy/image/packages.lock.\n"
                 f"{got.stderr.strip()}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha:
        path.unlink()
        fail(f"{name}={version}: sha256 {digest}, the lock says {sha}; the download was removed")
    return path


def deb_member(path, prefix):
    """The member of a .deb (an ar archive) whose name starts with `prefix` (`data.tar`, `control.tar`), as a
    tarfile."""
    blob = path.read_bytes()
    if not blob.startswith(b"!<arch>\n"):
        fail(f"{path}: not a Debian package")
    at = 8
    while at + 60 <= len(blob):
        header = blob[at:at + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        body = blob[at + 60:at + 60 + size]
        at += 60 + size + (size % 2)
        if name.startswith(prefix):
            if name.endswith(".xz"):
                body = lzma.decompress(body)
            elif name.endswith(".gz"):
                body = gzip.decompress(body)
            elif not name.endswith(".tar"):
                fail(f"{path}: {name} is not xz, gzip or plain")
            return tarfile.open(fileobj=io.BytesIO(body))
    fail(f"{path}: no {prefix} archive")


def normal(name):
    return name.removeprefix("./").rstrip("/")


def entries(debs, binary):
    """Every path of the image: (TarInfo, bytes or None), keyed by path."""
    files = {}

    def add_dir(path, mode=0o755):
        info = tarfile.TarInfo(path)
        info.type, info.mode = tarfile.DIRTYPE, mode
        files[path] = (info, None)

    def add_file(path, data, mode=0o644):
        parts = path.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent not in files:
                add_dir(parent)
        info = tarfile.TarInfo(path)
        info.size, info.mode = len(data), mode
        files[path] = (info, data)

    certificates = []
    status = []
    for deb in debs:
        control = deb_member(deb, "control.tar")
        status.append(control.extractfile("./control").read())
        archive = deb_member(deb, "data.tar")
        for member in archive.getmembers():
            path = normal(member.name)
            if not path:
                continue
            if path.startswith("usr/share/ca-certificates/mozilla/") and member.isfile():
                certificates.append((path, archive.extractfile(member).read()))
            if any(path.startswith(d) or path + "/" == d for d in DROPPED):
                continue
            info = tarfile.TarInfo(path)
            # No setuid or setgid bit in the image.
            mode = member.mode & ~0o6000
            if member.isdir():
                add_dir(path, mode)
            elif member.issym():
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, member.linkname, 0o777
                files[path] = (info, None)
            elif member.isfile():
                add_file(path, archive.extractfile(member).read(), mode)
            else:
                fail(f"{deb.name}: `{path}` is a hard link or a device, which the image does not take")
    if not certificates:
        fail("ca-certificates brought no certificate")
    bundle = b"".join(data if data.endswith(b"\n") else data + b"\n" for _, data in sorted(certificates))
    add_file("etc/ssl/certs/ca-certificates.crt", bundle)
    add_file("etc/passwd", f"root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:{UID}:{UID}:nonroot:/home/nonroot:/sbin/nologin\n".encode())
    add_file("etc/group", f"root:x:0:\nnonroot:x:{UID}:\n".encode())
    # Names are looked up in /etc/hosts first (pods' hostAliases, localhost), then DNS.
    add_file("etc/nsswitch.conf", b"passwd: files\ngroup: files\nhosts: files dns\nnetworks: files\n")
    # What image scanners read to know the packages (one control file each, as distroless keeps them).
    for control in status:
        name = next(l.split(b":", 1)[1].strip() for l in control.splitlines() if l.startswith(b"Package:"))
        add_file(f"var/lib/dpkg/status.d/{name.decode()}", control)
    add_dir("home/nonroot", 0o700)
    add_dir("tmp", 0o1777)
    add_file(BINARY, binary.read_bytes(), 0o755)
    return files


def layer(files, epoch):
    """The layer's tar: sorted, owned by 0:0 (the home by 65532), dated `epoch`."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            info, data = files[path]
            info.mtime = epoch
            info.uid = info.gid = UID if path.startswith("home/nonroot") else 0
            info.uname = info.gname = ""
            info.pax_headers = {}
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def blob(out, data):
    digest = hashlib.sha256(data).hexdigest()
    path = out / "blobs" / "sha256" / digest
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return f"sha256:{digest}", len(data)


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def build(binary, out, cache, arch):
    epoch, packages = read_lock()
    chosen = [(n, v, a, s) for n, v, a, s in packages if a in (arch, "all")]
    missing = sorted(set(PACKAGES) - {n for n, _, _, _ in chosen})
    if missing:
        fail(f"the lock has no {arch} row for {', '.join(missing)}: refresh it with --refresh-lock")
    debs = [fetch(cache, n, v, a, s) for n, v, a, s in chosen]
    tar = layer(entries(debs, binary), epoch)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9, filename="") as gz:
        gz.write(tar)
    out.mkdir(parents=True, exist_ok=True)
    layer_digest, layer_size = blob(out, buffer.getvalue())
    config = {
        "architecture": arch,
        "os": "linux",
        "config": {
            "User": f"{UID}:{UID}",
            "Entrypoint": [f"/{BINARY}"],
            "Cmd": ["run", "--log-json"],
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],
            "WorkingDir": "/",
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
    }
    config_digest, config_size = blob(out, canonical(config))
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                   "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest,
                    "size": layer_size}],
    }
    manifest_digest, manifest_size = blob(out, canonical(manifest))
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
                       "size": manifest_size, "platform": {"architecture": arch, "os": "linux"}}],
    }
    (out / "index.json").write_bytes(canonical(index))
    (out / "oci-layout").write_bytes(canonical({"imageLayoutVersion": "1.0.0"}))
    return manifest_digest


def refresh_lock(cache):
    """Pins the versions Debian serves now for every architecture, with their sha256 (the archive's
    signatures checked)."""
    (cache / "debs").mkdir(parents=True, exist_ok=True)
    update(cache, signed=True)
    lines = set()
    for arch in ARCHES:
        for name in PACKAGES:
            # From an empty directory: apt prints no address for a file it finds already downloaded.
            shown = apt(cache, "download", "--print-uris", f"{name}:{arch}", signed=True,
                        cwd=cache / "apt" / "empty")
            if shown.returncode != 0:  # an architecture-independent package
                shown = apt(cache, "download", "--print-uris", f"{name}:all", signed=True,
                            cwd=cache / "apt" / "empty")
            if shown.returncode != 0:
                fail(f"apt-get download --print-uris {name}:{arch}: {shown.stderr}")
            uri = [l for l in shown.stdout.splitlines() if l.startswith("'")]
            if not uri:
                fail(f"{name}:{arch}: no download address")
            fields = uri[0].split()
            if not fields[3].startswith("SHA256:"):
                fail(f"{name}:{arch}: apt gives no SHA256 ({fields[3]})")
            filename, sha = fields[1], fields[3].split(":", 1)[1]
            _, version, pkg_arch = filename[:-4].split("_")
            lines.add(f"{name} {version.replace('%3a', ':')} {pkg_arch} {sha}")
    lines = sorted(lines)
    epoch = int(subprocess.run(["date", "+%s"], capture_output=True, text=True).stdout)
    header = ("# Debian bookworm packages of the operator's image: name version arch sha256.\n"
              "# Refresh (Debian keeps only the newest point release): python3 deploy/image/build.py --refresh-lock\n"
              f"# SOURCE_DATE_EPOCH={epoch}\n")
    LOCK.write_text(header + "\n".join(lines) + "\n")
    print(f"wrote {LOCK}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", type=pathlib.Path)
    parser.add_argument("--out", type=pathlib.Path)
    parser.add_argument("--cache", type=pathlib.Path,
                        default=pathlib.Path.home() / ".cache" / "bucket-access-operator" / "image")
    parser.add_argument("--arch", default="amd64")
    parser.add_argument("--refresh-lock", action="store_true")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.refresh_lock:
        refresh_lock(args.cache.resolve())
        return
    if not args.binary or not args.out:
        parser.error("--binary and --out are needed")
    print(build(args.binary, args.out, args.cache.resolve(), args.arch))


if __name__ == "__main__":
    main()
