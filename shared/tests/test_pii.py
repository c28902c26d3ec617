"""Personal data is encrypted at rest, indexable without decryption, masked for display."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from yanxiu.kit.pii import PiiCipher, generate_key, mask_id_number, mask_phone

CIPHER = PiiCipher(generate_key())


def test_encrypted_id_number_round_trips_and_is_not_plaintext() -> None:
    blob = CIPHER.encrypt("370102198001011234", context="teacher.id_number")
    assert b"370102" not in blob
    assert CIPHER.decrypt(blob, context="teacher.id_number") == "370102198001011234"


def test_ciphertext_moved_to_another_column_does_not_decrypt() -> None:
    blob = CIPHER.encrypt("13812345678", context="teacher.phone")
    with pytest.raises(InvalidTag):
        CIPHER.decrypt(blob, context="teacher.id_number")


def test_blind_index_is_deterministic_per_key_and_context() -> None:
    a = CIPHER.blind_index("370102198001011234", context="teacher.id_number")
    assert a == CIPHER.blind_index("370102198001011234", context="teacher.id_number")
    assert a != CIPHER.blind_index("370102198001011234", context="teacher.phone")
    assert a != PiiCipher(generate_key()).blind_index(
        "370102198001011234", context="teacher.id_number"
    )


def test_masks_hide_birth_date_and_middle_digits() -> None:
    assert mask_id_number("37010219800101123X") == "370102********123X"
    assert mask_phone("13812345678") == "138****5678"


def test_key_of_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError):
        PiiCipher("c2hvcnQ=")
