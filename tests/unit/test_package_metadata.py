"""The package carries the licence its metadata declares."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_repository_carries_the_apache_2_licence_text() -> None:
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")

    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert "APPENDIX: How to apply the Apache License to your work." in text


def test_the_installed_package_declares_the_licence_and_ships_its_file() -> None:
    metadata = importlib.metadata.metadata("potok")
    distribution = importlib.metadata.distribution("potok")

    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    assert distribution.read_text("licenses/LICENSE") == (ROOT / "LICENSE").read_text(
        encoding="utf-8"
    )
