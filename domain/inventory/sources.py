"""Where a customer's inventory comes from: Datto RMM's regional platforms (the API's base URL)."""

DATTO_PLATFORMS = ("pinotage", "merlot", "concord", "zinfandel", "syrah", "vidal")


def datto_platform_url(platform: str) -> str:
    """`https://{platform}-api.centrastage.net`, the platform's API base."""
    if platform not in DATTO_PLATFORMS:
        raise ValueError(f"unknown Datto RMM platform {platform!r}; one of {', '.join(DATTO_PLATFORMS)}")
    return f"https://{platform}-api.centrastage.net"
