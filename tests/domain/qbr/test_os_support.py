"""The end-of-support table read from inventory texts as RMMs and people write them."""

from datetime import date

import pytest

from domain.qbr.os_support import os_support


@pytest.mark.parametrize(
    ("text", "name", "end"),
    [
        ("Microsoft Windows 10 Pro (10.0.19045)", "Windows 10 22H2", date(2025, 10, 14)),
        ("Win10 22H2", "Windows 10 22H2", date(2025, 10, 14)),
        ("Windows 10 Pro", "Windows 10 22H2", date(2025, 10, 14)),  # no version: the last one's end
        ("Windows 10 Enterprise 21H2", "Windows 10 21H2", date(2024, 6, 11)),
        ("Windows 10 Pro 21H2", "Windows 10 21H2", date(2023, 6, 13)),
        ("Windows 10 Enterprise LTSC 2019", "Windows 10 LTSC 2019", date(2029, 1, 9)),
        ("Windows 11 Pro 23H2", "Windows 11 23H2", date(2025, 11, 11)),
        ("Windows 11 Enterprise 10.0.22631", "Windows 11 23H2", date(2026, 11, 10)),
        ("Microsoft Windows Server® 2012 R2 Standard", "Windows Server 2012 R2", date(2023, 10, 10)),
        ("windows server 2016 datacenter", "Windows Server 2016", date(2027, 1, 12)),
        ("Windows Server Standard 10.0.17763", "Windows Server 2019", date(2029, 1, 9)),
        ("Windows Server 2008 R2 SP1", "Windows Server 2008 R2", date(2020, 1, 14)),
        ("Windows 7 Professional", "Windows 7", date(2020, 1, 14)),
        ("Ubuntu 20.04.6 LTS", "Ubuntu 20.04 LTS", date(2025, 5, 31)),
        ("Debian GNU/Linux 11 (bullseye)", "Debian 11", date(2026, 8, 31)),
        ("Debian buster", "Debian 10", date(2024, 6, 30)),
        ("VMware ESXi 7.0.3", "VMware ESXi 7.0", date(2025, 10, 2)),
    ],
)
def test_known_systems(text, name, end):
    support = os_support(text)
    assert support is not None and (support.name, support.end_of_support) == (name, end)


@pytest.mark.parametrize("text", [None, "", "Windows 11", "macOS 14.5", "iOS 17", "Debian 12 bookworm", "Linux"])
def test_unknown_systems_are_not_guessed(text):
    assert os_support(text) is None
