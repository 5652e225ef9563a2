"""UK postcodes and postcode districts (outward codes).

A buyer's locality is a list of districts such as ``BD1``–``BD24``; a
supplier is local when one of its sites has a postcode in one of them.
"""

from __future__ import annotations

import re

# The formats Royal Mail issues: A9 9AA, A99 9AA, A9A 9AA, AA9 9AA, AA99 9AA,
# AA9A 9AA; plus GIR 0AA. Inward codes never use C, I, K, M, O or V.
_POSTCODE = re.compile(
    r"^(?P<outward>[A-Z]{1,2}[0-9][0-9A-Z]?|GIR) ?(?P<inward>[0-9][ABD-HJLNP-UW-Z]{2})$"
)
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")
# As people type a district in a list: spaces between the area and the number
# mean nothing ("BD 1" is BD1); a space after the number does ("BD1 4" is part
# of a postcode, not BD14).
_TYPED_DISTRICT = re.compile(r"^(?P<area>[A-Z]{1,2})\s*(?P<number>[0-9][0-9A-Z]?)$")
_RANGE = re.compile(
    r"^(?P<area>[A-Z]{1,2})\s*(?P<start>[0-9]{1,2})\s*[-–]\s*"
    r"(?:(?P<area2>[A-Z]{1,2})\s*)?(?P<end>[0-9]{1,2})$"
)


_DISTRICT_PARTS = re.compile(r"^(?P<area>[A-Z]{1,2})(?P<number>[0-9]+)(?P<suffix>[A-Z]?)$")

# The UK's postcode areas, the letters a postcode starts with: the 121 of
# Great Britain and Northern Ireland and the Crown Dependencies' GY, JE and IM
# (Royal Mail; as listed in Wikipedia's "List of postcode areas in the United
# Kingdom"). Left out: BF (British Forces) and BX (non-geographic), which no
# council's area or supplier's site is in; GIR 0AA is allowed as a whole.
_AREA_LIST = """
    AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW DA DD DE DG
    DH DL DN DT DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM
    IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL
    OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA
    TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE
"""
AREAS = frozenset(_AREA_LIST.split())


def area_of(code: str) -> str:
    """The postcode area of a postcode or district: its leading letters."""
    letters = re.match(r"[A-Z]*", (code or "").strip().upper())
    return letters[0] if letters else ""


class InvalidPostcode(ValueError):
    pass


def normalise_postcode(value: str) -> str:
    """``"bd1 1aa"`` → ``"BD1 1AA"``; raises ``InvalidPostcode`` if it is not one."""
    compact = re.sub(r"\s+", "", (value or "").upper())
    match = _POSTCODE.match(compact)
    if not match:
        raise InvalidPostcode(
            f"Enter a real UK postcode, like BD1 1HY; “{value.strip()}” is not one."
        )
    area = area_of(match["outward"])
    if match["outward"] != "GIR" and area not in AREAS:
        raise InvalidPostcode(
            f"Enter a real UK postcode, like BD1 1HY; in “{value.strip()}”, {area} is not a "
            "UK postcode area."
        )
    return f"{match['outward']} {match['inward']}"


def outward_code(postcode: str) -> str:
    """The district of a postcode: ``"BD1 1HY"`` → ``"BD1"``."""
    return normalise_postcode(postcode).split(" ")[0]


def parse_districts(text: str) -> list[str]:
    """Parse a list such as ``"BD1-BD24, BD97-BD99, LS29"`` into districts.

    Ranges expand within one postcode area. Raises ``ValueError`` naming the
    first part that is not a district or range.
    """
    districts: list[str] = []
    for raw in re.split(r"[,;\n]+", text or ""):
        part = raw.strip().upper()
        if not part:
            continue
        ranged = _RANGE.match(part)
        typed = _TYPED_DISTRICT.match(part)
        if ranged:
            if ranged["area2"] and ranged["area2"] != ranged["area"]:
                raise ValueError(
                    f"“{raw.strip()}” spans two postcode areas: write a range within one, "
                    "like BD1-BD24."
                )
            _check_area(ranged["area"], raw)
            start, end = int(ranged["start"]), int(ranged["end"])
            if end < start:
                raise ValueError(f"“{raw.strip()}” runs backwards: write the lower district first.")
            districts.extend(f"{ranged['area']}{n}" for n in range(start, end + 1))
        elif typed:
            _check_area(typed["area"], raw)
            districts.append(typed["area"] + typed["number"])
        else:
            raise ValueError(
                f"“{raw.strip()}” is not a postcode district or range, like BD7 or BD1-BD24."
            )
    # Keep the order given, without repeats.
    return list(dict.fromkeys(districts))


def _check_area(area: str, raw: str) -> None:
    if area not in AREAS:
        raise ValueError(
            f"“{raw.strip()}” is not a postcode district: {area} is not a UK postcode area."
        )


def district_sort_key(district: str) -> tuple[str, int, str]:
    """A district's place in natural order: by area, then by number, then by
    the letter some London districts carry, so BD2 comes before BD10 and
    EC1A after EC1 (``sorted(districts, key=district_sort_key)``). Text that is
    not a district sorts by its letters, after the districts of its area."""
    text = (district or "").strip().upper()
    parts = _DISTRICT_PARTS.match(text)
    if parts is None:
        return (text, 10**9, "")
    return (parts["area"], int(parts["number"]), parts["suffix"])


def sorted_districts(districts: list[str]) -> list[str]:
    """``districts`` in natural order (``district_sort_key``)."""
    return sorted(districts, key=district_sort_key)


def is_district(text: str) -> bool:
    """Whether ``text`` is written as a postcode district (an outward code) of
    a UK postcode area, like BD7."""
    text = (text or "").strip().upper()
    return bool(_DISTRICT.match(text)) and area_of(text) in AREAS
