"""Recommendations from the lifecycle, budget and licence sections of a QBR (German or English). Thresholds: any
device or licence counts (one device leaving its warranty is worth a line in the meeting); a product's unused
licences from UNUSED_LICENCES_MIN on."""

from collections import Counter

from domain.qbr.kpis import KpiSet
from domain.qbr.lifecycle import SOON_MONTHS

UNUSED_LICENCES_MIN = 1

TEXTS = {
    "de": {
        "warranty_soon": ("{n} Gerät verlässt in den nächsten {months} Monaten die Garantie: Ersatz oder "
                          "Garantieverlängerung einplanen.",
                          "{n} Geräte verlassen in den nächsten {months} Monaten die Garantie: Ersatz oder "
                          "Garantieverlängerung einplanen."),
        "warranty_expired": ("{n} Gerät hat keine Garantie mehr: der Ersatz ist im Budget {year} eingeplant.",
                             "{n} Geräte haben keine Garantie mehr: der Ersatz ist im Budget {year} eingeplant."),
        "os_unsupported": ("{n} Gerät läuft mit einem Betriebssystem ohne Herstellersupport ({names}): Upgrade "
                           "oder Ersatz dringend planen.",
                           "{n} Geräte laufen mit einem Betriebssystem ohne Herstellersupport ({names}): Upgrade "
                           "oder Ersatz dringend planen."),
        "os_ending": ("{n} Gerät erreicht in den nächsten 12 Monaten das Support-Ende seines Betriebssystems "
                      "({names}): Upgrade einplanen.",
                      "{n} Geräte erreichen in den nächsten 12 Monaten das Support-Ende ihres Betriebssystems "
                      "({names}): Upgrade einplanen."),
        "unused": ("{n} ungenutzte Lizenz {product}: Menge zur nächsten Verlängerung reduzieren.",
                   "{n} ungenutzte Lizenzen {product}: Menge zur nächsten Verlängerung reduzieren."),
        "over": ("{n} Lizenz {product} mehr zugewiesen als gekauft: nachkaufen, um Unterlizenzierung zu vermeiden.",
                 "{n} Lizenzen {product} mehr zugewiesen als gekauft: nachkaufen, um Unterlizenzierung zu "
                 "vermeiden."),
    },
    "en": {
        "warranty_soon": ("{n} device leaves its warranty in the next {months} months: plan its replacement or a "
                          "warranty extension.",
                          "{n} devices leave their warranty in the next {months} months: plan replacements or "
                          "warranty extensions."),
        "warranty_expired": ("{n} device is out of warranty: its replacement is in the {year} budget.",
                             "{n} devices are out of warranty: their replacement is in the {year} budget."),
        "os_unsupported": ("{n} device runs an operating system out of vendor support ({names}): plan an upgrade "
                           "or replacement urgently.",
                           "{n} devices run an operating system out of vendor support ({names}): plan upgrades or "
                           "replacements urgently."),
        "os_ending": ("{n} device reaches the end of support of its operating system within 12 months ({names}): "
                      "plan an upgrade.",
                      "{n} devices reach the end of support of their operating system within 12 months ({names}): "
                      "plan upgrades."),
        "unused": ("{n} unused licence {product}: reduce the quantity at the next renewal.",
                   "{n} unused licences {product}: reduce the quantity at the next renewal."),
        "over": ("{n} licence {product} assigned more than bought: buy more to avoid under-licensing.",
                 "{n} licences {product} assigned more than bought: buy more to avoid under-licensing."),
    },
}  # fmt: skip


def _say(t: dict, key: str, n: int, **values: object) -> str:
    return t[key][0 if n == 1 else 1].format(n=n, **values)


def _names(counts: Counter) -> str:
    return ", ".join(f"{name}: {n}" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def lifecycle_recommendations(kpis: KpiSet, language: str = "de") -> list[str]:
    t = TEXTS["en" if language == "en" else "de"]
    out = []
    life = kpis.lifecycle
    if life is not None:
        if life.warranty_ending_6_months:
            out.append(_say(t, "warranty_soon", life.warranty_ending_6_months, months=SOON_MONTHS))
        if life.warranty_expired:
            out.append(_say(t, "warranty_expired", life.warranty_expired, year=life.as_of.year))
        ended = Counter(d.os_name for d in life.devices if d.os_end_of_support and d.os_end_of_support < life.as_of)
        ending = Counter(d.os_name for d in life.devices if d.os_end_of_support and d.os_end_of_support >= life.as_of)
        if ended:
            out.append(_say(t, "os_unsupported", life.os_unsupported, names=_names(ended)))
        if ending:
            out.append(_say(t, "os_ending", life.os_ending_12_months, names=_names(ending)))
    for line in kpis.licences:
        if line.unused >= UNUSED_LICENCES_MIN:
            out.append(_say(t, "unused", line.unused, product=line.product))
        if line.over_assigned:
            out.append(_say(t, "over", line.over_assigned, product=line.product))
    return out
