"""The token file warning agrees with the layout the installer makes (root:kiosk 0640)."""

from __future__ import annotations

import os

import pytest

from sync.daemon import token_file_exposure


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o400, 0o440])
def test_the_installers_modes_raise_no_warning(tmp_path, mode):
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    os.chmod(token, mode)
    assert token_file_exposure(token) is None


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o666, 0o601])
def test_a_token_other_users_can_reach_is_named_with_the_fix(tmp_path, mode):
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    os.chmod(token, mode)
    warning = token_file_exposure(token)
    assert warning == f"token file {token} can be read by other users: 'chmod 640 {token}'"


def test_a_token_its_group_can_change_is_named_with_the_fix(tmp_path):
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    os.chmod(token, 0o660)
    assert token_file_exposure(token) == (
        f"token file {token} can be changed by its group: 'chmod 640 {token}'"
    )
