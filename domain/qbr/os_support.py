"""End of vendor support of operating systems, and the match of an inventory's free-text OS (`Asset.os`) to it.

Sources (the vendors' own lifecycle pages, as of 2026):
* Microsoft Lifecycle: "Windows 10 Home and Pro" / "Windows 10 Enterprise and Education" (per version),
  "Windows 11 Home and Pro" / "Windows 11 Enterprise and Education" (per version), "Windows 10 Enterprise LTSC"
  2016/2019/2021, "Windows 7", "Windows 8.1", "Windows Server 2008/2008 R2/2012/2012 R2/2016/2019/2022/2025"
  (end of extended support; paid ESU is not counted as support);
* Canonical "Ubuntu release cycle" (end of standard support of the LTS releases);
* Debian "LTS" wiki (end of Debian LTS);
* Broadcom KB 89305 "End of General Support for vSphere 6.5 and 6.7", VMware Lifecycle Matrix (ESXi 7.0).
Inventories write the OS in many ways ("Microsoft Windows 10 Pro (10.0.19045)", "Win10 22H2", "Windows Server®
2012 R2 Standard"): `os_support` normalises the text and reads the version from a release name or a build number.
A text it cannot place returns None (unknown is not "supported")."""

import re
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class OsSupport:
    name: str  # as the deck shows it, e.g. "Windows 10 22H2"
    end_of_support: date


# Windows 10/11 feature updates: (home/pro, enterprise/education) end of servicing.
WINDOWS_10 = {
    "1809": (date(2020, 11, 10), date(2021, 5, 11)),
    "1903": (date(2020, 12, 8), date(2020, 12, 8)),
    "1909": (date(2021, 5, 11), date(2022, 5, 10)),
    "2004": (date(2021, 12, 14), date(2021, 12, 14)),
    "20H2": (date(2022, 5, 10), date(2023, 5, 9)),
    "21H1": (date(2022, 12, 13), date(2022, 12, 13)),
    "21H2": (date(2023, 6, 13), date(2024, 6, 11)),
    "22H2": (date(2025, 10, 14), date(2025, 10, 14)),
}
WINDOWS_11 = {
    "21H2": (date(2023, 10, 10), date(2024, 10, 8)),
    "22H2": (date(2024, 10, 8), date(2025, 10, 14)),
    "23H2": (date(2025, 11, 11), date(2026, 11, 10)),
    "24H2": (date(2026, 10, 13), date(2027, 10, 12)),
    "25H2": (date(2027, 10, 12), date(2028, 10, 10)),
}
WINDOWS_10_LTSC = {"2016": date(2026, 10, 13), "2019": date(2029, 1, 9), "2021": date(2027, 1, 12)}
# The build number (10.0.<build>) names the version when the release name is missing.
WINDOWS_10_BUILDS = {"17763": "1809", "18362": "1903", "18363": "1909", "19041": "2004", "19042": "20H2",
                     "19043": "21H1", "19044": "21H2", "19045": "22H2"}  # fmt: skip
WINDOWS_11_BUILDS = {"22000": "21H2", "22621": "22H2", "22631": "23H2", "26100": "24H2", "26200": "25H2"}
WINDOWS_SERVER = {
    "2008": date(2020, 1, 14),
    "2008 R2": date(2020, 1, 14),
    "2012": date(2023, 10, 10),
    "2012 R2": date(2023, 10, 10),
    "2016": date(2027, 1, 12),
    "2019": date(2029, 1, 9),
    "2022": date(2031, 10, 14),
    "2025": date(2034, 10, 10),
}
SERVER_BUILDS = {"6001": "2008", "7601": "2008 R2", "9200": "2012", "9600": "2012 R2", "14393": "2016",
                 "17763": "2019", "20348": "2022", "26100": "2025"}  # fmt: skip
OLD_WINDOWS = {"7": date(2020, 1, 14), "8.1": date(2023, 1, 10)}
UBUNTU = {"16.04": date(2021, 4, 30), "18.04": date(2023, 5, 31), "20.04": date(2025, 5, 31)}
DEBIAN = {"9": date(2022, 6, 30), "10": date(2024, 6, 30), "11": date(2026, 8, 31)}
ESXI = {"6.5": date(2022, 10, 15), "6.7": date(2022, 10, 15), "7.0": date(2025, 10, 2)}
DEBIAN_NAMES = {"stretch": "9", "buster": "10", "bullseye": "11"}


def _normalise(text: str) -> str:
    text = text.lower().replace("®", " ").replace("™", " ").replace("(r)", " ").replace("(tm)", " ")
    text = re.sub(r"\bwin(?=\s?\d)", "windows ", text)  # "Win10", "win 11"
    text = re.sub(r"[_,;/]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _windows_client(text: str, major: str) -> OsSupport | None:
    if major == "10" and (m := re.search(r"\blts[bc]\b\D*(20\d\d)", text)):
        end = WINDOWS_10_LTSC.get(m.group(1))
        return OsSupport(f"Windows 10 LTSC {m.group(1)}", end) if end else None
    versions, builds = (WINDOWS_10, WINDOWS_10_BUILDS) if major == "10" else (WINDOWS_11, WINDOWS_11_BUILDS)
    version = None
    if m := re.search(r"\b(\d\dh[12]|1[5-9]\d\d|2004)\b", text):
        version = m.group(1).upper()
    elif m := re.search(r"\b10\.0\.(\d{5})\b|\bbuild (\d{5})\b", text):
        version = builds.get(m.group(1) or m.group(2))
    if version is None and major == "10":
        # Every Windows 10 version ended on or before 22H2's end: without a version, that date is the latest.
        version = "22H2"
    if version not in versions:
        return None
    enterprise = "enterprise" in text or "education" in text
    return OsSupport(f"Windows {major} {version}", versions[version][1 if enterprise else 0])


def os_support(os_text: str | None) -> OsSupport | None:
    """The end of vendor support of the OS an inventory names; None when the text names none the table knows."""
    if not os_text:
        return None
    text = _normalise(os_text)
    if "windows" in text and "server" in text:
        m = re.search(r"server (20\d\d)( r2)?", text)
        release = f"{m.group(1)}{' R2' if m.group(2) else ''}" if m else None
        if release is None and (b := re.search(r"\b\d+\.\d+\.(\d{4,5})\b|\bbuild (\d{4,5})\b", text)):
            release = SERVER_BUILDS.get(b.group(1) or b.group(2))
        end = WINDOWS_SERVER.get(release) if release else None
        return OsSupport(f"Windows Server {release}", end) if end else None
    if m := re.search(r"\bwindows (10|11)\b", text):
        return _windows_client(text, m.group(1))
    if m := re.search(r"\bwindows (7|8\.1)\b", text):
        return OsSupport(f"Windows {m.group(1)}", OLD_WINDOWS[m.group(1)])
    if m := re.search(r"\bubuntu\D*(\d\d\.04)", text):
        end = UBUNTU.get(m.group(1))
        return OsSupport(f"Ubuntu {m.group(1)} LTS", end) if end else None
    if "debian" in text:
        m = re.search(r"\bdebian\D*?(\d+)\b", text)
        release = m.group(1) if m else next((v for k, v in DEBIAN_NAMES.items() if k in text), None)
        end = DEBIAN.get(release) if release else None
        return OsSupport(f"Debian {release}", end) if end else None
    if m := re.search(r"\besxi?\D*(\d\.\d)", text):
        end = ESXI.get(m.group(1))
        return OsSupport(f"VMware ESXi {m.group(1)}", end) if end else None
    return None
