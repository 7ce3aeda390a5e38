"""The official EN 16931 business rules for CII invoices (what XRechnung CII and ZUGFeRD EN 16931 carry): the CEN/TC 434
Schematron compiled to XSLT (validation artefacts release 1.3.16, EUPL 1.2, tests/fixtures/en16931/LICENSE.txt), kept
in the repository so the test command passes from any clean clone, run with saxonche."""

import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from xml.etree import ElementTree

XSLT = Path(__file__).parent / "fixtures" / "en16931" / "EN16931-CII-validation.xslt"
SVRL = "{http://purl.oclc.org/dsdl/svrl}"


@cache
def _stylesheet():  # noqa: ANN202 - compiling the rules takes seconds: once per test session
    from saxonche import PySaxonProcessor

    processor = PySaxonProcessor(license=False)
    return processor, processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(XSLT))


def failed_rules(xml: bytes) -> list[dict]:
    """Every failed rule of the document: id (BR-…), flag (fatal/warning), location, text. Empty: valid."""
    _, executable = _stylesheet()
    with tempfile.NamedTemporaryFile(suffix=".xml") as file:
        file.write(xml)
        file.flush()
        report = executable.transform_to_string(source_file=file.name)
    failed = []
    for node in ElementTree.fromstring(report).iter(f"{SVRL}failed-assert"):
        text = node.find(f"{SVRL}text")
        failed.append({"id": node.get("id"), "flag": node.get("flag"), "location": node.get("location"),
                       "text": "".join(text.itertext()).strip() if text is not None else ""})  # fmt: skip
    return failed


def failed_rules_checker() -> Callable[[bytes], list[dict]]:
    return failed_rules
