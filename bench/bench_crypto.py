"""Encryption at rest and blind indexes: 1,000,000 ID numbers, µs per value, beside the raw primitives.

The synthetic population encrypts about 7 million values; this says what that costs. Floors:
  * AESGCM.encrypt / decrypt of the same bytes with a precomputed nonce (no token framing, no UTF-8),
  * os.urandom(12) per value (our nonce source for single calls),
  * a keyed HMAC-SHA256 state copied per value (what the blind index does), and hmac.digest one-shot.

    uv run python bench/bench_crypto.py [--values 1000000]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import random
import time
from collections.abc import Callable
from datetime import date, timedelta

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from civicgrid.core.crypto import Keyring
from civicgrid.core.idnumber import make_id_number, regions

CONTEXT = "person.id_number"


def _time(label: str, count: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    per_value = seconds / count * 1e6
    print(f"  {label:<46} {seconds:7.2f} s   {per_value:6.2f} µs/value")
    return per_value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--values", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.values
    rng = random.Random(1)
    codes = sorted(code for code, region in regions().items() if region.level == "county")
    started = time.perf_counter()
    ids = [
        make_id_number(rng.choice(codes), date(1930, 1, 1) + timedelta(days=rng.randrange(33_000)), rng.randrange(1000))
        for _ in range(n)
    ]
    print(f"{n:,} ID numbers made in {time.perf_counter() - started:.1f} s")
    keyring = Keyring.generate(["k20261129"])
    encoded = [value.encode() for value in ids]
    aad = CONTEXT.encode()

    print("ours")
    tokens: list[bytes] = []
    enc = _time(
        "Keyring.encrypt (one call per value)",
        n,
        lambda: tokens.extend(keyring.encrypt(v, context=CONTEXT) for v in ids),
    )
    many: list[bytes] = []
    enc_many = _time("Keyring.encrypt_many", n, lambda: many.extend(keyring.encrypt_many(ids, context=CONTEXT)))
    plain: list[str] = []
    dec = _time("Keyring.decrypt", n, lambda: plain.extend(keyring.decrypt(t, context=CONTEXT) for t in tokens))
    assert plain == ids
    idx = _time("Keyring.blind_index", n, lambda: [keyring.blind_index(v, context=CONTEXT) for v in ids])
    idx_many = _time("Keyring.blind_index_many", n, lambda: keyring.blind_index_many(ids, context=CONTEXT))

    print("floors")
    aead = AESGCM(os.urandom(32))
    nonce = os.urandom(12)
    raw_tokens: list[bytes] = []
    raw_enc = _time(
        "AESGCM.encrypt (fixed nonce, bytes in)",
        n,
        lambda: raw_tokens.extend(aead.encrypt(nonce, v, aad) for v in encoded),
    )
    raw_dec = _time("AESGCM.decrypt", n, lambda: [aead.decrypt(nonce, t, aad) for t in raw_tokens])
    _time("os.urandom(12)", n, lambda: [os.urandom(12) for _ in range(n)])
    state = hmac.new(os.urandom(32), aad + b"\0", hashlib.sha256)

    def hmac_copy() -> None:
        for v in encoded:
            mac = state.copy()
            mac.update(v)
            mac.hexdigest()

    raw_idx = _time("hmac state.copy + update + hexdigest", n, hmac_copy)
    key = os.urandom(32)
    _time(
        "hmac.digest one-shot (key, context+value)",
        n,
        lambda: [hmac.digest(key, aad + b"\0" + v, "sha256") for v in encoded],
    )

    print(
        f"summary: encrypt {enc:.2f} µs ({enc_many:.2f} batched; floor {raw_enc:.2f}), decrypt {dec:.2f} µs "
        f"(floor {raw_dec:.2f}), blind index {idx:.2f} µs ({idx_many:.2f} batched; floor {raw_idx:.2f}); "
        f"token {len(tokens[0])} bytes; 7 M values encrypted + indexed ≈ {7e6 * (enc_many + idx_many) / 1e6:.0f} s"
    )


if __name__ == "__main__":
    main()
