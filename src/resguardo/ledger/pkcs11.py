"""The log's Ed25519 key inside a PKCS#11 token (an HSM, a smart card, SoftHSM2): the
private key never leaves the token, which signs with CKM_EDDSA.

A token is named by a URI in the style of RFC 7512:

    pkcs11:module-path=/usr/lib/softhsm/libsofthsm2.so;token=resguardo;object=checkpoints;
        pin-source=/etc/resguardo/token.pin;state=/var/lib/resguardo/signer.json

`module-path` is the token's PKCS#11 library, `token` its label, `object` the label of
the key pair (default `checkpoints`), `pin-source` a file holding the user PIN, and
`state` the file where the size and root last signed are kept (the signer signs only
checkpoints that extend them). It needs the `python-pkcs11` package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .keys import SIG_TYPE_ED25519, Verifier
from .signer import ExtendingSigner, SignerRefused

DEFAULT_OBJECT = "checkpoints"
_KNOWN = {"module-path", "token", "object", "pin-source", "state"}


def parse_uri(uri: str) -> dict[str, str]:
    """The attributes of a pkcs11: URI; SignerRefused naming what is wrong."""
    if not uri.startswith("pkcs11:"):
        raise SignerRefused("a PKCS#11 URI starts with 'pkcs11:'")
    found: dict[str, str] = {}
    for part in uri.removeprefix("pkcs11:").split(";"):
        name, sep, value = part.strip().partition("=")
        if not part.strip():
            continue
        if not sep or name not in _KNOWN:
            raise SignerRefused(f"unknown PKCS#11 URI attribute {part!r}; known: "
                                f"{', '.join(sorted(_KNOWN))}")
        found[name] = value
    for required in ("module-path", "token", "pin-source", "state"):
        if not found.get(required):
            raise SignerRefused(f"the PKCS#11 URI needs {required}=")
    found.setdefault("object", DEFAULT_OBJECT)
    return found


class TokenKey:
    """An Ed25519 key pair in a PKCS#11 token, named after the log's origin."""

    def __init__(self, module: str, token: str, label: str, pin: str, name: str) -> None:
        try:
            import pkcs11
        except ImportError:
            raise SignerRefused("the python-pkcs11 package is not installed") from None
        self._pkcs11: Any = pkcs11
        try:
            self._token = pkcs11.lib(module).get_token(token_label=token)
        except (OSError, RuntimeError, pkcs11.PKCS11Error) as exc:
            raise SignerRefused(f"cannot open token {token!r} with {module}: {exc!r}") from None
        self.label = label
        self.pin = pin
        self.name = name
        with self._token.open(user_pin=pin) as session:
            public = self._key(session, pkcs11.ObjectClass.PUBLIC_KEY)
            point = bytes(public[pkcs11.Attribute.EC_POINT])
        # CKA_EC_POINT holds the 32-byte key inside a DER OCTET STRING (or bare).
        self._verifier = Verifier(name, SIG_TYPE_ED25519, point[-32:])

    def _key(self, session: Any, object_class: Any) -> Any:
        try:
            return session.get_key(object_class=object_class, label=self.label)
        except (self._pkcs11.NoSuchKey, self._pkcs11.MultipleObjectsReturned):
            raise SignerRefused(f"the token holds no single key labelled {self.label!r}"
                                ) from None

    def verifier(self) -> Verifier:
        return self._verifier

    def sign(self, message: bytes) -> bytes:
        pkcs11 = self._pkcs11
        try:
            with self._token.open(user_pin=self.pin) as session:
                private = self._key(session, pkcs11.ObjectClass.PRIVATE_KEY)
                return bytes(private.sign(message, mechanism=pkcs11.Mechanism.EDDSA))
        except pkcs11.PKCS11Error as exc:
            raise SignerRefused(f"the token did not sign: {exc!r}") from None


def token_signer(uri: str, origin: str) -> ExtendingSigner:
    """The checkpoint signer of a token named by `uri`, for the log `origin`."""
    attrs = parse_uri(uri)
    try:
        pin = Path(attrs["pin-source"]).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SignerRefused(f"cannot read the PIN file {attrs['pin-source']}: "
                            f"{exc.strerror}") from None
    key = TokenKey(attrs["module-path"], attrs["token"], attrs["object"], pin, origin)
    return ExtendingSigner(key, Path(attrs["state"]))
