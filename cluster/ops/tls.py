"""A local certificate authority for ``stui-cluster up --tls`` (trustme, on cryptography).

One CA, and one certificate for ``127.0.0.1`` and ``localhost`` shared by every node and by
HAProxy (they all serve loopback). Only the CA's certificate is kept (``tls/ca.pem``, for the
clients' ``--ca``); its private key is never written, so nothing can issue more certificates
from it. The leaf's key files are mode 0600. Certificates live a year; ``up --tls`` makes new
ones when they are missing.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import attrs
import trustme

from .secrets_files import write_private

HOSTS = ("127.0.0.1", "localhost")


@attrs.frozen
class TlsFiles:
    ca: str  # CA certificate (PEM): what clients trust
    cert: str  # the nodes' certificate chain (PEM)
    key: str  # the nodes' private key (PEM, 0600)
    combined: str  # key + chain in one file, for HAProxy's "crt" (0600)

    @classmethod
    def in_dir(cls, directory: Path) -> TlsFiles:
        return cls(
            ca=str(directory / "ca.pem"),
            cert=str(directory / "node.pem"),
            key=str(directory / "node.key"),
            combined=str(directory / "haproxy.pem"),
        )

    def exist(self) -> bool:
        return all(Path(p).is_file() for p in (self.ca, self.cert, self.key, self.combined))


def make_local_tls(directory: Path, hosts: tuple[str, ...] = HOSTS) -> TlsFiles:
    """Make (or reuse) the CA and the certificate in ``directory``."""
    files = TlsFiles.in_dir(directory)
    if files.exist():
        return files
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="STUI Cluster local CA")
    leaf = ca.issue_cert(
        *hosts,
        not_after=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=365),
    )
    Path(files.ca).write_bytes(ca.cert_pem.bytes())
    Path(files.cert).write_bytes(b"".join(pem.bytes() for pem in leaf.cert_chain_pems))
    write_private(Path(files.key), leaf.private_key_pem.bytes().decode())
    write_private(Path(files.combined), leaf.private_key_and_cert_chain_pem.bytes().decode())
    return files
